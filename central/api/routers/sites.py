"""Sites: enrolment, the calling site's own record and credential, the site list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from central.api.deps import AnyDep, HubDep, RequestId, SiteDep, site_enrolment
from central.api.errors import responses
from central.services import enrolment, sites
from central.services.errors import OtherSite
from central.services.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from central.services.principals import SitePrincipal
from domain.wire import (
    SITE_CODE_PATTERN,
    CredentialIssued,
    EnrolRequest,
    EnrolResponse,
    SiteInfo,
    SiteList,
)

router = APIRouter(tags=["sites"])
SiteCode = Annotated[str, Path(pattern=SITE_CODE_PATTERN, description="The site's code.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
]


@router.post(
    "/v1/enrol",
    response_model=EnrolResponse,
    responses=responses(400, 401, 426),
    dependencies=[Depends(site_enrolment)],
    summary="Enrol a site with its one-time code",
)
def enrol(
    body: EnrolRequest, request: Request, hub: HubDep, request_id: RequestId
) -> EnrolResponse:
    """Exchange a one-time enrolment code for the site's credential.

    The credential is in the answer once and never again; enrolling revokes
    the site's earlier credentials. A used, expired or unknown code is
    refused with 400 and its own error code.
    """
    signer = getattr(request.app.state, "csr_signer", None)
    return enrolment.enrol(hub, body, signer=signer, request_id=request_id)


@router.get(
    "/v1/site",
    response_model=SiteInfo,
    responses=responses(400, 401, 403, 426),
    summary="The calling site's own record",
)
def own_site(principal: SiteDep, hub: HubDep) -> SiteInfo:
    """The site the credential belongs to."""
    return sites.site_info(sites.get_site(hub, principal.site_code))


@router.post(
    "/v1/site/credential/rotate",
    response_model=CredentialIssued,
    responses=responses(400, 401, 403, 426),
    summary="Rotate the calling site's credential",
)
def rotate_credential(principal: SiteDep, hub: HubDep, request_id: RequestId) -> CredentialIssued:
    """A new credential for the site. The one used for this call keeps working
    until the new one is first used, so a lost answer never locks a site out."""
    return enrolment.rotate_credential(hub, principal, request_id=request_id)


@router.get(
    "/v1/sites",
    response_model=SiteList,
    responses=responses(400, 401, 403, 426),
    summary="List sites",
)
def list_sites(
    _principal: AnyDep,
    hub: HubDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> SiteList:
    """Every site, by code, a page at a time. For sites and staff."""
    return sites.list_sites(hub, limit=limit, cursor=cursor)


@router.get(
    "/v1/sites/{code}",
    response_model=SiteInfo,
    responses=responses(400, 401, 403, 404, 426),
    summary="Read one site",
)
def get_site(code: SiteCode, principal: AnyDep, hub: HubDep) -> SiteInfo:
    """One site: for staff, or for the site itself."""
    if isinstance(principal, SitePrincipal) and principal.site_code != code:
        raise OtherSite()
    return sites.site_info(sites.get_site(hub, code))
