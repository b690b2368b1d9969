"""FastAPI dependencies: the hub, who is calling, and the protocol window.

Every /v1 route depends on exactly one of `anonymous`, `site`, `staff`,
`staff_admin` or `site_or_staff`; each of them authenticates the bearer
token (if the route takes one), counts the request against the caller's
rate limit (`central.services.principals.guard`) and checks the
``Imuno-Protocol`` header: a version outside the accepted window is refused
with 426 from anyone; sites must send the header (400 without it), staff
tools may leave it out.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Header, Request, Security
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from central.api.errors import ProtocolMissing, ProtocolUnsupported
from central.services.context import Hub
from central.services.errors import (
    AdminOnly,
    FieldProblem,
    HubError,
    InvalidRequest,
    SiteOnly,
    StaffOnly,
    Unauthenticated,
)
from central.services.principals import Principal, SitePrincipal, StaffPrincipal, guard
from domain.wire import MAX_PROTOCOL_VERSION, MIN_PROTOCOL_VERSION, PROTOCOL_HEADER

bearer: Final = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description=(
        "A site credential (from POST /v1/enrol, prefix 'imuno_site_') or a staff token "
        "(from POST /v1/staff/login, prefix 'imuno_staff_')."
    ),
)

ProtocolHeader = Annotated[
    int | None,
    Header(
        alias=PROTOCOL_HEADER,
        ge=0,
        le=1_000_000,
        description=(
            f"The client's wire-protocol version; accepted: {MIN_PROTOCOL_VERSION}"
            f"-{MAX_PROTOCOL_VERSION}. Required from sites."
        ),
    ),
]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


# Trivial dependencies are coroutines: FastAPI runs a plain function in the
# thread pool, a hop that costs more than the function.


async def get_hub(request: Request) -> Hub:
    """The process's `Hub`."""
    hub = request.app.state.hub
    assert isinstance(hub, Hub)
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class UnknownQueryParameter(HubError):
    code = "request.unknown_query_parameter"
    template = (
        "The address has a parameter '{name}' that this request does not take "
        "(a typo?). Remove it; the accepted ones are: {accepted}."
    )


def _declared_query(route: APIRoute) -> frozenset[str]:
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(param.alias for param in dependant.query_params)
        pending.extend(dependant.dependencies)
    return frozenset(names)


def _known_query_only(request: Request) -> None:
    """Refuse query parameters the route does not declare.

    A mistyped filter (``?site=`` for ``?site_code=``) would otherwise be
    ignored silently and the caller would act on an unfiltered list.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    declared = _declared_query(route)
    unknown = [name for name in request.query_params if name not in declared]
    if unknown:
        accepted = ", ".join(sorted(declared)) or "none"
        raise InvalidRequest(
            [
                FieldProblem(name or "(empty)", UnknownQueryParameter(name=name, accepted=accepted))
                for name in dict.fromkeys(unknown)
            ]
        )


def _check_window(version: int | None) -> None:
    if version is not None and not MIN_PROTOCOL_VERSION <= version <= MAX_PROTOCOL_VERSION:
        raise ProtocolUnsupported(
            minimum=MIN_PROTOCOL_VERSION, maximum=MAX_PROTOCOL_VERSION, version=version
        )


def _authenticate(
    request: Request, hub: Hub, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    principal = guard(hub, credentials.credentials if credentials else None, _client(request))
    if principal is None:
        raise Unauthenticated()
    request.state.principal = principal.label
    return principal


def anonymous(request: Request, hub: HubDep, protocol: ProtocolHeader = None) -> None:
    """A public route: counted against the caller's address."""
    _known_query_only(request)
    _check_window(protocol)
    guard(hub, None, _client(request))


def site_enrolment(request: Request, hub: HubDep, protocol: ProtocolHeader = None) -> None:
    """The enrolment route: public, but spoken by site clients, so the header is required."""
    _known_query_only(request)
    _check_window(protocol)
    guard(hub, None, _client(request))
    if protocol is None:
        raise ProtocolMissing()


def site_or_staff(
    request: Request, hub: HubDep, credentials: Credentials, protocol: ProtocolHeader = None
) -> Principal:
    """Any authenticated caller."""
    _known_query_only(request)
    _check_window(protocol)
    principal = _authenticate(request, hub, credentials)
    if isinstance(principal, SitePrincipal) and protocol is None:
        raise ProtocolMissing()
    return principal


def site(
    request: Request, hub: HubDep, credentials: Credentials, protocol: ProtocolHeader = None
) -> SitePrincipal:
    """A site, by its credential."""
    principal = site_or_staff(request, hub, credentials, protocol)
    if not isinstance(principal, SitePrincipal):
        raise SiteOnly()
    return principal


def staff(
    request: Request, hub: HubDep, credentials: Credentials, protocol: ProtocolHeader = None
) -> StaffPrincipal:
    """A central staff member, any role."""
    principal = site_or_staff(request, hub, credentials, protocol)
    if not isinstance(principal, StaffPrincipal):
        raise StaffOnly()
    return principal


def staff_admin(
    request: Request, hub: HubDep, credentials: Credentials, protocol: ProtocolHeader = None
) -> StaffPrincipal:
    """A central staff member with the central_admin role."""
    principal = staff(request, hub, credentials, protocol)
    if not principal.is_admin:
        raise AdminOnly()
    return principal


async def request_id(request: Request) -> str | None:
    """The id the request middleware gave this request."""
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


SiteDep = Annotated[SitePrincipal, Depends(site)]
StaffDep = Annotated[StaffPrincipal, Depends(staff)]
AdminDep = Annotated[StaffPrincipal, Depends(staff_admin)]
AnyDep = Annotated[Principal, Depends(site_or_staff)]
RequestId = Annotated[str | None, Depends(request_id)]
