"""Dose records: immutable clinical facts, corrected only by new facts.

A dose record is never updated or deleted (SQLite triggers refuse it). A
mistake is corrected in one transaction by

1. a `DoseVoid` naming the wrong record and why (itself append-only; a dose
   is voided at most once, ``dose_id`` is unique), and, when the dose was in
   fact given with other details,
2. a new `DoseRecord` whose ``voids_dose_id`` names the record it replaces.

The double-dose guard. What must hold is "at most one *live* (unvoided) dose
per citizen and dose number". A partial unique index cannot say it: a row's
voided state lives in another table, and immutable rows cannot carry a
``voided`` flag that changes. A unique index over (citizen, dose number,
``voids_dose_id``) lets a second original in once the first is voided by a
void with no replacement. So a ``BEFORE INSERT`` trigger
(``dose_records_no_double_dose``) refuses a dose when a live dose with the same
citizen and number exists; SQLite runs the check and the insert as one
statement under the single writer lock, so no race slips between them. A
second trigger requires a replacement's ``voids_dose_id`` to be voided already.

Both guard only doses born at this site (``origin_site_id`` equal to the
enrolled site, or any dose before enrolment). A dose pulled from the hub is a
fact the world already holds: if another site gave a second dose 1 while both
were offline, the replica must store it, or the pull would stop forever and the
nurse here would not see it; the hub flags such pairs for review.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.local_db.models.base import Base, BornAtSite, enum_type


class InjectionSite(enum.StrEnum):
    """Where the needle went."""

    LEFT_DELTOID = "left_deltoid"
    RIGHT_DELTOID = "right_deltoid"
    LEFT_THIGH = "left_thigh"
    RIGHT_THIGH = "right_thigh"


class DoseRecord(BornAtSite, Base):
    """One dose given to one citizen (immutable)."""

    __tablename__ = "dose_records"
    __table_args__ = (
        sa.Index(None, "citizen_id", "dose_number"),
        sa.Index(None, "administered_at"),
        sa.CheckConstraint("dose_number >= 1", name="dose_number_positive"),
    )

    citizen_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("citizens.id"))
    #: The appointment it fulfils, if any (not a foreign key: a dose pulled from
    #: another site names an appointment this replica never had).
    appointment_id: Mapped[uuid.UUID | None]
    product_code: Mapped[str] = mapped_column(sa.String(64))
    gtin: Mapped[str] = mapped_column(sa.String(14))
    lot_number: Mapped[str] = mapped_column(sa.String(20))
    #: The vial drawn from (not a foreign key, for the same reason).
    vial_id: Mapped[uuid.UUID | None]
    dose_number: Mapped[int]
    #: Clinical time: when the needle went in.
    administered_at: Mapped[datetime]
    injection_site: Mapped[InjectionSite] = mapped_column(
        enum_type(InjectionSite, "injection_site")
    )
    #: Copied from the user so certificates and replicas read without the user table.
    vaccinator_name: Mapped[str] = mapped_column(sa.String(200))
    notes: Mapped[str | None] = mapped_column(sa.String(1000))
    #: The record this one corrects; that record must already be voided.
    voids_dose_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("dose_records.id"), unique=True
    )


class DoseVoid(BornAtSite, Base):
    """The statement that a dose record was wrong (append-only)."""

    __tablename__ = "dose_voids"

    dose_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("dose_records.id"), unique=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    #: When the mistake was established (clinical time of the correction).
    voided_at: Mapped[datetime]
