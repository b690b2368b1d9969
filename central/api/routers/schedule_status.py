"""A citizen's scheduling status, for central staff."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict

from central.api.deps import HubDep, StaffDep
from central.api.errors import negotiate_language, responses
from central.scheduling.status import schedule_status

router = APIRouter(prefix="/v1/citizens", tags=["scheduling"])


class BookedSlotView(BaseModel):
    """The appointment a booked citizen holds."""

    model_config = ConfigDict(frozen=True)

    appointment_id: uuid.UUID
    site_code: str
    site_name: str
    day: date
    slot_start: time
    product_id: str
    dose_number: int


class ScheduleStatusView(BaseModel):
    """Where a citizen stands: ``booked`` (see `appointment`), ``not_booked``
    (see `reason`, a scheduler reason code, and `rule`, the eligibility rule
    for ineligible citizens), ``waiting`` (for the next run), ``complete`` (series done) or
    ``withdrawn``. `message` is in
    the language of ``Accept-Language``."""

    model_config = ConfigDict(frozen=True)

    citizen_id: uuid.UUID
    state: Literal["booked", "not_booked", "waiting", "withdrawn", "complete"]
    message: str
    appointment: BookedSlotView | None = None
    reason: str | None = None
    rule: str | None = None
    decided_at: datetime | None = None


@router.get(
    "/{citizen_id}/schedule-status",
    response_model=ScheduleStatusView,
    responses=responses(400, 401, 403, 404, 426),
    summary="A citizen's appointment, or why there is none",
)
def get_schedule_status(
    citizen_id: uuid.UUID,
    _principal: StaffDep,
    hub: HubDep,
    accept_language: Annotated[str | None, Header()] = None,
) -> ScheduleStatusView:
    """The coming appointment, or the reason of the latest scheduler run. For central staff."""
    status = schedule_status(hub, citizen_id, negotiate_language(accept_language))
    return ScheduleStatusView(
        citizen_id=status.citizen_id,
        state=status.state.value,
        message=status.message,
        appointment=(
            BookedSlotView(**vars(status.appointment)) if status.appointment is not None else None
        ),
        reason=status.reason,
        rule=status.rule,
        decided_at=status.decided_at,
    )
