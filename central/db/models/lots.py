"""Lots, recalls, vials and what happened to each vial.

A lot is identified by GTIN + lot number from the carton's GS1 DataMatrix;
GTINs are stored as GTIN-14 (shorter GTINs left-padded with zeros), so the
same product scanned from an EAN-13 or a GTIN-14 symbol is one key. A vial is
a lot plus the serial number of its own label. A vial's state is the fold of
its append-only events.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import (
    ACTOR_LENGTH,
    PAYLOAD_HASH_LENGTH,
    PRODUCT_ID_LENGTH,
    Base,
    CentralRecord,
    SyncedRecord,
    one_of,
)
from central.db.enums import VialEventKind
from central.db.types import UUID, UTCDateTime

GS1_LOT_LENGTH = 20
"""GS1 application identifiers 10 (batch/lot) and 21 (serial) hold up to 20 characters."""


class Lot(CentralRecord, Base):
    """A manufacturer's lot of one product, known from its delivery."""

    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("gtin", "lot_number"),
        CheckConstraint("length(gtin) = 14", name="gtin_14"),
    )

    gtin: Mapped[str] = mapped_column(String(14))
    lot_number: Mapped[str] = mapped_column(String(GS1_LOT_LENGTH))
    product_id: Mapped[str] = mapped_column(String(PRODUCT_ID_LENGTH))
    expiry: Mapped[date] = mapped_column(Date)


class Recall(CentralRecord, Base):
    """A lot withdrawn centrally: every scan of its vials is refused from then on.

    Lifting a recall (a mistaken recall) sets ``lifted_at``; the row stays.
    """

    __tablename__ = "recalls"
    __table_args__ = (
        CheckConstraint(
            "(lifted_at IS NULL AND lifted_by IS NULL)"
            " OR (lifted_at IS NOT NULL AND lifted_by IS NOT NULL)",
            name="lifted_by_someone",
        ),
    )

    lot_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("lots.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))


class Vial(SyncedRecord, Base):
    """One vial, born at the site that received it."""

    __tablename__ = "vials"
    __table_args__ = (UniqueConstraint("lot_id", "serial"),)

    lot_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("lots.id"))
    serial: Mapped[str] = mapped_column(String(GS1_LOT_LENGTH))
    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"), index=True)


class VialEvent(SyncedRecord, Base):
    """Something that happened to a vial. Append-only.

    A discard always gives a reason (expired, broken, time after opening
    exceeded, recalled). A ``dose_drawn`` event may name the dose it was for.
    """

    __tablename__ = "vial_events"
    __append_only__ = True
    __table_args__ = (
        one_of("kind", VialEventKind),
        CheckConstraint("kind <> 'discarded' OR reason IS NOT NULL", name="discard_has_reason"),
        Index("ix_vial_events_timeline", "vial_id", "occurred_at"),
    )

    vial_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("vials.id"))
    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    dose_record_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("dose_records.id"))
    payload_hash: Mapped[str] = mapped_column(String(PAYLOAD_HASH_LENGTH))
