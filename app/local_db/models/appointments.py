"""Appointments at this site and their append-only events.

An appointment's status is never stored: it is the kind of its deciding
event by the precedence of `domain.appointment_status` (done > checked in >
no-show > rescheduled, cancelled, rebook requested > scheduled; then the
latest), so replicas agree whatever order the events reached them in (see
`app.sync.appointment_status`). Events cannot be
changed or deleted (SQLite triggers, see migration 0001).

``day`` is the local (Europe/Belgrade) calendar day of the slot, stored so the
roster of a day is one index range, whatever the UTC offset of ``slot_start``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.local_db.models.base import Base, BornAnywhere, enum_type


class Appointment(BornAnywhere, Base):
    """A booked slot for one citizen, one product and one dose number."""

    __tablename__ = "appointments"
    __table_args__ = (
        sa.Index(None, "day", "slot_start"),
        sa.Index(None, "citizen_id"),
        sa.CheckConstraint("dose_number >= 1", name="dose_number_positive"),
        sa.CheckConstraint("slot_minutes > 0", name="slot_minutes_positive"),
    )

    citizen_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("citizens.id"))
    site_id: Mapped[uuid.UUID]
    day: Mapped[date]
    slot_start: Mapped[datetime]
    slot_minutes: Mapped[int]
    product_code: Mapped[str] = mapped_column(sa.String(64))
    dose_number: Mapped[int]


class AppointmentEventKind(enum.StrEnum):
    """What happened to an appointment."""

    SCHEDULED = "scheduled"
    CHECKED_IN = "checked_in"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    #: The citizen asks to be booked again; the hub's next scheduler run does it.
    REBOOK_REQUESTED = "rebook_requested"


class AppointmentEvent(BornAnywhere, Base):
    """One change of an appointment's status (append-only)."""

    __tablename__ = "appointment_events"
    __table_args__ = (sa.Index(None, "appointment_id", "hlc"),)

    appointment_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("appointments.id"))
    kind: Mapped[AppointmentEventKind] = mapped_column(
        enum_type(AppointmentEventKind, "appointment_event_kind")
    )
    #: When it happened in the world (clinical time).
    occurred_at: Mapped[datetime]
    #: Orders events from several writers; the latest is the status.
    hlc: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    #: For ``done``: the dose given. For ``rescheduled``: see ``details``.
    dose_record_id: Mapped[uuid.UUID | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
