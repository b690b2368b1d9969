"""The roster of a day: who is booked here, for what, and how far they have got.

`load_roster(engine, clock, day)` reads one day; `today_and_tomorrow(engine,
clock)` the two days the site works from, both from the local store (offline).
Rows are frozen values for a table model; the UI filters them itself.

An appointment's status is derived from its append-only events by
precedence, not by arrival order (`domain.appointment_status`): ``done`` >
``checked_in`` > ``no_show`` > ``rescheduled`` = ``cancelled`` =
``rebook_requested`` > ``scheduled``, ties going to the latest clinical time;
no event at all reads as scheduled. A hub cancellation that crosses a
check-in still shows the person as checked in.

One SELECT loads the whole day: appointments joined to their citizen, with
the deciding event's kind as a correlated subquery answered from the events'
index (no query per row from Python).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.appointments import Appointment, AppointmentEvent
from app.local_db.models.citizens import Citizen
from app.local_db.unit_of_work import session_scope
from app.services.workplace import local_day, local_zone
from domain.appointment_status import (
    STATUS_PRECEDENCE,
    AppointmentStatus,
    StatusEvent,
    derive_status,
)
from domain.clock import Clock
from domain.jmbg import mask_jmbg

#: Statuses on which the person may still be checked in or vaccinated.
OPEN_STATUSES: Final = frozenset({AppointmentStatus.SCHEDULED, AppointmentStatus.CHECKED_IN})

#: Statuses that take the appointment off the day's bookings.
GONE_STATUSES: Final = frozenset(
    {
        AppointmentStatus.CANCELLED,
        AppointmentStatus.RESCHEDULED,
        AppointmentStatus.REBOOK_REQUESTED,
    }
)


def _rank_expression() -> sa.ColumnElement[int]:
    """SQL: the precedence rank of one event row (`domain.appointment_status`)."""
    return sa.case(
        *((AppointmentEvent.kind == kind, rank) for kind, rank in STATUS_PRECEDENCE.items()),
        else_=-1,
    )


def _deciding_kind() -> sa.ScalarSelect[str]:
    """SQL, correlated to an appointment row: the kind of the event that decides its status.

    Same order as `domain.appointment_status.deciding_event`: precedence, then
    clinical time, then id, highest first. A correlated subquery rather than a
    join against a ranked table: SQLite answers it from the
    (appointment_id, ...) index per row, where a join against a window-function
    subquery would scan the whole ranked set for every appointment.
    """
    return (
        sa.select(AppointmentEvent.kind)
        .where(AppointmentEvent.appointment_id == Appointment.id)
        .order_by(
            _rank_expression().desc(),
            AppointmentEvent.occurred_at.desc(),
            AppointmentEvent.id.desc(),
        )
        .limit(1)
        .correlate(Appointment)
        .scalar_subquery()
    )


def appointment_status(session: Session, appointment_id: uuid.UUID) -> AppointmentStatus:
    """The current status of one appointment, in `session`'s transaction."""
    events = session.execute(
        sa.select(AppointmentEvent.kind, AppointmentEvent.occurred_at, AppointmentEvent.id).where(
            AppointmentEvent.appointment_id == appointment_id
        )
    )
    return derive_status(
        StatusEvent(str(kind), occurred_at, str(event_id)) for kind, occurred_at, event_id in events
    )


@dataclass(frozen=True)
class RosterRow:
    """One appointment of the day, as the roster table shows it.

    `slot_start` is local time at the site. `jmbg_masked` hides the last six
    digits (`domain.jmbg.mask_jmbg`); a foreigner without JMBG shows 13 stars.
    """

    appointment_id: uuid.UUID
    citizen_id: uuid.UUID
    slot_start: datetime
    family_name: str
    given_name: str
    jmbg_masked: str
    product_code: str
    dose_number: int
    status: AppointmentStatus
    walk_in: bool

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


@dataclass(frozen=True)
class RosterCounts:
    """Counts the roster header shows.

    `booked`: appointments that still stand (not cancelled or rescheduled away).
    """

    booked: int
    checked_in: int
    done: int
    no_show: int
    cancelled: int


@dataclass(frozen=True)
class Roster:
    """One day's appointments at this site, by slot time then name."""

    day: date
    rows: tuple[RosterRow, ...]
    counts: RosterCounts


def count_rows(rows: tuple[RosterRow, ...]) -> RosterCounts:
    """The header counts of `rows`."""
    by_status = Counter(row.status for row in rows)
    gone = sum(by_status[status] for status in GONE_STATUSES)
    return RosterCounts(
        booked=len(rows) - gone,
        checked_in=by_status[AppointmentStatus.CHECKED_IN],
        done=by_status[AppointmentStatus.DONE],
        no_show=by_status[AppointmentStatus.NO_SHOW],
        cancelled=gone,
    )


def read_roster(session: Session, day: date) -> Roster:
    """The roster of `day` in `session`'s transaction (one query)."""
    zone = local_zone(session)
    query = (
        sa.select(
            Appointment.id,
            Appointment.citizen_id,
            Appointment.slot_start,
            Citizen.family_name_latin,
            Citizen.given_name_latin,
            Citizen.jmbg,
            Appointment.product_code,
            Appointment.dose_number,
            _deciding_kind(),
            Citizen.walk_in,
        )
        .join(Citizen, Citizen.id == Appointment.citizen_id)
        .where(Appointment.day == day)
        .order_by(Appointment.slot_start, Citizen.family_name_latin, Citizen.given_name_latin)
    )
    rows = tuple(
        RosterRow(
            appointment_id=appointment_id,
            citizen_id=citizen_id,
            slot_start=slot_start.astimezone(zone),
            family_name=family,
            given_name=given,
            jmbg_masked=mask_jmbg(jmbg or ""),
            product_code=product,
            dose_number=dose_number,
            status=AppointmentStatus(kind) if kind else AppointmentStatus.SCHEDULED,
            walk_in=walk_in,
        )
        for (
            appointment_id,
            citizen_id,
            slot_start,
            family,
            given,
            jmbg,
            product,
            dose_number,
            kind,
            walk_in,
        ) in session.execute(query)
    )
    return Roster(day, rows, count_rows(rows))


def load_roster(engine: Engine, clock: Clock, day: date | None = None) -> Roster:
    """The roster of `day` (default: today at the site), read offline from the store."""
    with session_scope(engine, write=False) as session:
        return read_roster(session, day or local_day(session, clock))


def site_today(engine: Engine, clock: Clock) -> date:
    """Today's calendar day at the site (its time zone, as pulled from the hub)."""
    with session_scope(engine, write=False) as session:
        return local_day(session, clock)


def today_and_tomorrow(engine: Engine, clock: Clock) -> tuple[Roster, Roster]:
    """Today's and tomorrow's rosters, from one consistent snapshot."""
    with session_scope(engine, write=False) as session:
        today = local_day(session, clock)
        return read_roster(session, today), read_roster(session, today + timedelta(days=1))
