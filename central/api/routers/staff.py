"""Central staff: log in, log out, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from central.api.deps import HubDep, RequestId, StaffDep, anonymous
from central.api.errors import responses
from central.services import staff
from domain.wire import StaffLoginRequest, StaffSession, StaffView

router = APIRouter(prefix="/v1/staff", tags=["staff"])


@router.post(
    "/login",
    response_model=StaffSession,
    responses=responses(400, 401, 426),
    dependencies=[Depends(anonymous)],
    summary="Log in as central staff",
)
def login(body: StaffLoginRequest, hub: HubDep, request_id: RequestId) -> StaffSession:
    """A bearer token for the staff member, valid for a working day."""
    return staff.login(hub, body, request_id=request_id)


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    responses=responses(400, 401, 403, 426),
    summary="Log out (revoke this token)",
)
def logout(principal: StaffDep, hub: HubDep) -> Response:
    """The token used for this call stops working at once."""
    staff.logout(hub, principal)
    return Response(status_code=204)


@router.get(
    "/me",
    response_model=StaffView,
    responses=responses(400, 401, 403, 426),
    summary="The calling staff member",
)
def me(principal: StaffDep, hub: HubDep) -> StaffView:
    """The account the token belongs to."""
    return staff.me(hub, principal)
