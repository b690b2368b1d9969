"""Appointments, what happened to them, and the doses given.

Clinical facts are append-only (sync rule 2): appointment events and dose
records are never updated or deleted (database triggers enforce it); a
correction is a new row. Each carries two times: when it happened (clinical
time, from the recording device's clock) and when it was recorded
(``created_at``) and stored at the hub (``stored_at``).

``payload_hash`` is the hex SHA-256 of the record's canonical wire form. A
re-sent record with the same id and hash is a no-op; the same id with another
hash is quarantined and reported, never dropped.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import (
    PAYLOAD_HASH_LENGTH,
    PRODUCT_ID_LENGTH,
    Base,
    CentralRecord,
    SyncedRecord,
    one_of,
)
from central.db.enums import AppointmentEventKind, DoseRecordKind, InjectionSite, SchedulerRunStatus
from central.db.types import UUID, UTCDateTime, json_document


class SchedulerRun(CentralRecord, Base):
    """One run of the scheduler: its inputs' versions and what it decided.

    ``created_at`` is when it started. ``summary`` holds the counts booked and
    not booked by reason; per-citizen reasons are for the run's report.
    """

    __tablename__ = "scheduler_runs"
    __table_args__ = (one_of("status", SchedulerRunStatus),)

    status: Mapped[str] = mapped_column(String(16))
    rules_version: Mapped[str] = mapped_column(String(40))
    horizon_start: Mapped[date] = mapped_column(Date)
    horizon_end: Mapped[date] = mapped_column(Date)
    parameters: Mapped[dict[str, Any]] = mapped_column(json_document())
    summary: Mapped[dict[str, Any] | None] = mapped_column(json_document())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class Appointment(SyncedRecord, Base):
    """A booked slot: citizen, site, local day and time, product, dose number.

    ``day`` and ``slot_start`` are the site's local calendar day and wall-clock
    time (the site's ``timezone``), as printed on the roster. The status is
    not stored: it is the fold of the appointment's events. Appointments made
    by the scheduler name its run; ones made at a site (walk-in, rebooking)
    have none. ``replaces_appointment_id`` links a rebooking to the original.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("dose_number >= 1", name="dose_number_positive"),
        Index("ix_appointments_roster", "site_id", "day", "slot_start"),
    )

    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("citizens.id"), index=True)
    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"))
    day: Mapped[date] = mapped_column(Date)
    slot_start: Mapped[time] = mapped_column(Time)
    product_id: Mapped[str] = mapped_column(String(PRODUCT_ID_LENGTH))
    dose_number: Mapped[int] = mapped_column(Integer)
    scheduler_run_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("scheduler_runs.id"), index=True
    )
    replaces_appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("appointments.id")
    )


class AppointmentEvent(SyncedRecord, Base):
    """Something that happened to an appointment. Append-only.

    ``occurred_at`` is the clinical time; ``created_by`` is the actor (a nurse,
    the scheduler, the portal). A ``rescheduled`` event names the new
    appointment.
    """

    __tablename__ = "appointment_events"
    __append_only__ = True
    __table_args__ = (
        one_of("kind", AppointmentEventKind),
        Index("ix_appointment_events_timeline", "appointment_id", "occurred_at"),
    )

    appointment_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("appointments.id"))
    kind: Mapped[str] = mapped_column(String(24))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    new_appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("appointments.id")
    )
    payload_hash: Mapped[str] = mapped_column(String(PAYLOAD_HASH_LENGTH))


class DoseRecord(SyncedRecord, Base):
    """A dose given: the immutable clinical fact. Append-only.

    A mistake is fixed by a new record voiding this one: a ``correction``
    states the right facts, a ``retraction`` says no dose was given (and
    repeats the voided facts). Both name the voided record and give a reason.
    ``administered_at`` is the clinical time on the nurse's workstation clock.
    """

    __tablename__ = "dose_records"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint("dose_number >= 1", name="dose_number_positive"),
        one_of("kind", DoseRecordKind),
        one_of("injection_site", InjectionSite),
        CheckConstraint(
            "(kind = 'administered' AND voids_dose_id IS NULL AND correction_reason IS NULL)"
            " OR (kind <> 'administered' AND voids_dose_id IS NOT NULL"
            " AND correction_reason IS NOT NULL)",
            name="void_has_target_and_reason",
        ),
        CheckConstraint("voids_dose_id <> id", name="void_not_self"),
        Index("ix_dose_records_site_day", "site_id", "administered_at"),
    )

    kind: Mapped[str] = mapped_column(String(16), default=DoseRecordKind.ADMINISTERED)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("citizens.id"), index=True)
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("appointments.id"))
    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"))
    nurse_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("site_users.id"))
    product_id: Mapped[str] = mapped_column(String(PRODUCT_ID_LENGTH))
    lot_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("lots.id"), index=True)
    vial_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("vials.id"))
    dose_number: Mapped[int] = mapped_column(Integer)
    administered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    injection_site: Mapped[str] = mapped_column(String(16))
    voids_dose_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("dose_records.id"), index=True
    )
    correction_reason: Mapped[str | None] = mapped_column(Text)
    payload_hash: Mapped[str] = mapped_column(String(PAYLOAD_HASH_LENGTH))
