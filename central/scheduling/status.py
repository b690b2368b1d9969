"""A citizen's scheduling status: the coming appointment, or why there is none.

Answered from the database alone, in this order:

1. withdrawn: the citizen withdrew the registration;
2. booked: the citizen's earliest standing appointment (scheduled or
   checked in) from today on at its site;
3. not booked: the latest run's decision for the citizen (its reason, and
   for an ineligible citizen the rule's code), unless an appointment was
   made after that decision (it was then cancelled, missed or marked for
   rebooking, and the next run books again);
4. complete: the citizen's standing doses complete the series under the
   rules in force today (nothing left to book);
5. waiting: no run has decided about the citizen since.

`message` says what it means for a person, in the language asked for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from central.db import Appointment, AuditLog, Citizen, Site
from central.scheduling.demand import HOLDS_PLACE, Demand, effective_doses
from central.scheduling.errors import UnknownCitizen
from central.scheduling.run import UNBOOKED_ACTION
from central.services.appointments import latest_kind, local_today, status_from
from central.services.context import Hub
from domain.data import rules_in_force
from domain.i18n import Language, translate
from scheduler import Reason

CAMPAIGN_ZONE: Final = ZoneInfo("Europe/Belgrade")
"""Whose calendar day "today" is when no site is involved."""


class State(StrEnum):
    """Where a citizen stands."""

    BOOKED = "booked"
    NOT_BOOKED = "not_booked"
    WAITING = "waiting"
    WITHDRAWN = "withdrawn"
    COMPLETE = "complete"


@dataclass(frozen=True)
class BookedSlot:
    """The appointment a booked citizen holds."""

    appointment_id: uuid.UUID
    site_code: str
    site_name: str
    day: date
    slot_start: time
    product_id: str
    dose_number: int


@dataclass(frozen=True)
class ScheduleStatus:
    """The answer; `appointment` for booked, `reason` (and `rule`) for not booked."""

    citizen_id: uuid.UUID
    state: State
    message: str
    appointment: BookedSlot | None = None
    reason: str | None = None
    rule: str | None = None
    decided_at: datetime | None = None


_MESSAGES = {
    State.BOOKED: (
        "scheduling.status.booked",
        "Booked: {day} at {time}, site {site}, vaccine {product}, dose {dose}.",
    ),
    State.WAITING: (
        "scheduling.status.waiting",
        "The citizen is waiting to be scheduled and gets an appointment in a coming run.",
    ),
    State.COMPLETE: (
        "scheduling.status.complete",
        "The citizen has had every dose of the series; there is nothing to book.",
    ),
    State.WITHDRAWN: (
        "scheduling.status.withdrawn",
        "The citizen withdrew the registration and is not scheduled.",
    ),
}


def schedule_status(hub: Hub, citizen_id: uuid.UUID, language: Language = "en") -> ScheduleStatus:
    """Where `citizen_id` stands (see the module docstring). Raises `UnknownCitizen`."""
    now = hub.clock.now()
    with hub.read_sessions() as session:
        citizen = session.get(Citizen, citizen_id)
        if citizen is None:
            raise UnknownCitizen(citizen_id=str(citizen_id))
        if citizen.withdrawn_at is not None:
            return _simple(citizen_id, State.WITHDRAWN, language)
        rows = session.execute(
            select(Appointment, Site, latest_kind())
            .join(Site, Site.id == Appointment.site_id)
            .where(Appointment.citizen_id == citizen_id)
            .order_by(Appointment.day, Appointment.slot_start)
        ).all()
        for appointment, site, kind in rows:
            if status_from(kind) in HOLDS_PLACE and appointment.day >= local_today(site, now):
                slot = BookedSlot(
                    appointment_id=appointment.id,
                    site_code=site.code,
                    site_name=site.name,
                    day=appointment.day,
                    slot_start=appointment.slot_start,
                    product_id=appointment.product_id,
                    dose_number=appointment.dose_number,
                )
                code, template = _MESSAGES[State.BOOKED]
                text = translate(
                    code,
                    language,
                    template,
                    day=slot.day.isoformat(),
                    time=slot.slot_start.strftime("%H:%M"),
                    site=f"{site.code} {site.name}",
                    product=slot.product_id,
                    dose=slot.dose_number,
                )
                return ScheduleStatus(citizen_id, State.BOOKED, text, appointment=slot)
        decision = session.execute(
            select(AuditLog.occurred_at, AuditLog.after)
            .where(
                AuditLog.entity_table == Citizen.__tablename__,
                AuditLog.entity_id == str(citizen_id),
                AuditLog.action == UNBOOKED_ACTION,
            )
            .order_by(AuditLog.occurred_at.desc(), AuditLog.id.desc())
            .limit(1)
        ).one_or_none()
        last_made = session.scalar(
            select(func.max(Appointment.created_at)).where(Appointment.citizen_id == citizen_id)
        )
        if decision is None or (last_made is not None and last_made >= decision[0]):
            doses = effective_doses(session, citizen_id).get(citizen_id, [])
            today = now.astimezone(CAMPAIGN_ZONE).date()
            answer = Demand(rules_in_force(today), today).answer(
                citizen.birth_date,
                citizen.priority_group,
                citizen.conditions or (),
                citizen.vaccine_preferences or (),
                doses,
            )
            state = State.COMPLETE if answer is None else State.WAITING
            return _simple(citizen_id, state, language)
    decided_at, after = decision
    reason = Reason(after["reason"])
    rule = after.get("rule")
    text = translate(reason.message_code, language, reason.description)
    if rule:
        text = f"{text} ({rule})"
    return ScheduleStatus(
        citizen_id,
        State.NOT_BOOKED,
        text,
        reason=reason.value,
        rule=rule,
        decided_at=decided_at,
    )


def _simple(citizen_id: uuid.UUID, state: State, language: Language) -> ScheduleStatus:
    code, template = _MESSAGES[state]
    return ScheduleStatus(citizen_id, state, translate(code, language, template))
