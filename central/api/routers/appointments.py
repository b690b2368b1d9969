"""Appointments for central staff: read, list, cancel, reschedule, mark for rebooking."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from central.api.deps import AdminDep, AnyDep, HubDep, RequestId, StaffDep
from central.api.errors import responses
from central.api.routers.sites import Cursor, Limit
from central.services import appointments
from central.services.pagination import DEFAULT_PAGE_SIZE
from domain.wire import (
    SITE_CODE_PATTERN,
    AppointmentList,
    AppointmentView,
    CancelRequest,
    RebookRequest,
    RescheduleRequest,
)

router = APIRouter(prefix="/v1/appointments", tags=["appointments"])


@router.get(
    "",
    response_model=AppointmentList,
    responses=responses(400, 401, 403, 404, 426),
    summary="List appointments",
)
def list_appointments(
    _principal: StaffDep,
    hub: HubDep,
    site_code: Annotated[str | None, Query(pattern=SITE_CODE_PATTERN)] = None,
    day: Annotated[date | None, Query(alias="date")] = None,
    citizen_id: uuid.UUID | None = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> AppointmentList:
    """Appointments matching the filters, by day, slot and id. For central staff."""
    return appointments.list_appointments(
        hub, site_code=site_code, day=day, citizen_id=citizen_id, limit=limit, cursor=cursor
    )


@router.get(
    "/{appointment_id}",
    response_model=AppointmentView,
    responses=responses(400, 401, 403, 404, 426),
    summary="Read an appointment with its history",
)
def get_appointment(appointment_id: uuid.UUID, principal: AnyDep, hub: HubDep) -> AppointmentView:
    """For central staff, and for the site the appointment is at."""
    return appointments.get_appointment(hub, appointment_id, principal)


@router.post(
    "/{appointment_id}/cancel",
    response_model=AppointmentView,
    responses=responses(400, 401, 403, 404, 409, 426),
    summary="Cancel an appointment",
)
def cancel(
    appointment_id: uuid.UUID,
    body: CancelRequest,
    principal: AdminDep,
    hub: HubDep,
    request_id: RequestId,
) -> AppointmentView:
    """Cancel, recording the reason. Needs the central_admin role."""
    return appointments.cancel(hub, appointment_id, body.reason, principal, request_id=request_id)


@router.post(
    "/{appointment_id}/rebook",
    response_model=AppointmentView,
    responses=responses(400, 401, 403, 404, 409, 426),
    summary="Mark an appointment for rebooking",
)
def rebook(
    appointment_id: uuid.UUID,
    body: RebookRequest,
    principal: AdminDep,
    hub: HubDep,
    request_id: RequestId,
) -> AppointmentView:
    """The scheduler books the person again; the reason is recorded."""
    return appointments.mark_for_rebooking(
        hub, appointment_id, body.reason, principal, request_id=request_id
    )


@router.post(
    "/{appointment_id}/reschedule",
    response_model=AppointmentView,
    responses=responses(400, 401, 403, 404, 409, 426),
    summary="Move an appointment to another slot or site",
)
def reschedule(
    appointment_id: uuid.UUID,
    body: RescheduleRequest,
    principal: AdminDep,
    hub: HubDep,
    request_id: RequestId,
) -> AppointmentView:
    """Returns the new appointment; the old one is marked rescheduled and names it."""
    return appointments.reschedule(hub, appointment_id, body, principal, request_id=request_id)
