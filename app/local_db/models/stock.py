"""Lots, vials, vial events and recalls.

Vials name their lot by GS1 natural key (GTIN + lot number), exactly as the
carton's DataMatrix does, rather than by a foreign key: a site offline for days
must be able to receive and use vials of a lot whose record it has not pulled
yet. A vial's state (received, opened, doses drawn, discarded) is a fold over
its append-only events. A recall names the lot the same way, so it applies at
every scan even before the lot itself has been replicated.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.local_db.models.base import Base, BornAtSite, ReplicaOfHub, enum_type


class Lot(ReplicaOfHub, Base):
    """A manufacturer's lot known to the hub (replica)."""

    __tablename__ = "lots"
    __table_args__ = (sa.UniqueConstraint("gtin", "lot_number"),)

    product_code: Mapped[str] = mapped_column(sa.String(64))
    gtin: Mapped[str] = mapped_column(sa.String(14))
    lot_number: Mapped[str] = mapped_column(sa.String(20))
    expiry_date: Mapped[date]
    manufacturer: Mapped[str] = mapped_column(sa.String(200))


class Vial(BornAtSite, Base):
    """One physical vial, registered when first scanned here."""

    __tablename__ = "vials"
    __table_args__ = (
        sa.UniqueConstraint("gtin", "serial"),
        sa.Index(None, "gtin", "lot_number"),
        sa.CheckConstraint("doses_per_vial >= 1", name="doses_per_vial_positive"),
    )

    gtin: Mapped[str] = mapped_column(sa.String(14))
    lot_number: Mapped[str] = mapped_column(sa.String(20))
    serial: Mapped[str] = mapped_column(sa.String(20))
    expiry_date: Mapped[date]
    product_code: Mapped[str] = mapped_column(sa.String(64))
    doses_per_vial: Mapped[int]
    #: The receipt that brought it in, when it came with one.
    receipt_id: Mapped[uuid.UUID | None]


class VialEventKind(enum.StrEnum):
    """What happened to a vial."""

    RECEIVED = "received"
    OPENED = "opened"
    DOSE_DRAWN = "dose_drawn"
    DISCARDED = "discarded"


class VialEvent(BornAtSite, Base):
    """One thing that happened to a vial (append-only)."""

    __tablename__ = "vial_events"
    __table_args__ = (sa.Index(None, "vial_id", "occurred_at"),)

    vial_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("vials.id"))
    kind: Mapped[VialEventKind] = mapped_column(enum_type(VialEventKind, "vial_event_kind"))
    #: Clinical time of the event.
    occurred_at: Mapped[datetime]
    #: For ``dose_drawn``: the dose record it went into.
    dose_record_id: Mapped[uuid.UUID | None]
    #: For ``discarded``: why (expired, broken, open too long, recalled, ...).
    reason: Mapped[str | None] = mapped_column(sa.String(500))


class Recall(ReplicaOfHub, Base):
    """A lot the hub has withdrawn; scans of it are refused while it is in force."""

    __tablename__ = "recalls"
    __table_args__ = (sa.Index(None, "gtin", "lot_number"),)

    gtin: Mapped[str] = mapped_column(sa.String(14))
    lot_number: Mapped[str] = mapped_column(sa.String(20))
    product_code: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(500))
    recalled_at: Mapped[datetime]
    #: Set by the hub when the recall is lifted; NULL while in force.
    lifted_at: Mapped[datetime | None]
