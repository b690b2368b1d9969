"""Shipments to this site, what arrived, and stock counts.

Shipments are the hub's (replica). Receipts and counts are the site's facts,
append-only like doses: a wrong receipt is answered by a new discrepancy or a
new count, not by editing. A receipt names its shipment by id when the
shipment notice had been pulled and always by the delivery note's reference,
so a truck can be received while the site is offline.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.local_db.models.base import Base, BornAtSite, ReplicaOfHub, enum_type


class Shipment(ReplicaOfHub, Base):
    """Vials the hub dispatched to this site (replica)."""

    __tablename__ = "shipments"

    reference: Mapped[str] = mapped_column(sa.String(64), unique=True)
    site_id: Mapped[uuid.UUID]
    dispatched_at: Mapped[datetime]
    expected_on: Mapped[date]


class ShipmentLine(ReplicaOfHub, Base):
    """One lot and quantity in a shipment (replica)."""

    __tablename__ = "shipment_lines"
    __table_args__ = (sa.CheckConstraint("vial_count > 0", name="vial_count_positive"),)

    shipment_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("shipments.id"), index=True)
    product_code: Mapped[str] = mapped_column(sa.String(64))
    gtin: Mapped[str] = mapped_column(sa.String(14))
    lot_number: Mapped[str] = mapped_column(sa.String(20))
    expiry_date: Mapped[date]
    vial_count: Mapped[int]


class Receipt(BornAtSite, Base):
    """A delivery taken in at this site (append-only)."""

    __tablename__ = "receipts"

    shipment_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    shipment_reference: Mapped[str] = mapped_column(sa.String(64))
    #: Physical time the delivery was taken in.
    received_at: Mapped[datetime]
    cold_chain_ok: Mapped[bool]
    note: Mapped[str | None] = mapped_column(sa.String(1000))


class DiscrepancyKind(enum.StrEnum):
    """How a delivery differed from its shipment notice."""

    MISSING = "missing"
    EXTRA = "extra"
    DAMAGED = "damaged"
    WRONG_LOT = "wrong_lot"
    TEMPERATURE_EXCURSION = "temperature_excursion"


class ReceiptDiscrepancy(BornAtSite, Base):
    """One difference found at receipt (append-only)."""

    __tablename__ = "receipt_discrepancies"
    __table_args__ = (
        sa.CheckConstraint("expected_vials >= 0", name="expected_vials_not_negative"),
        sa.CheckConstraint("received_vials >= 0", name="received_vials_not_negative"),
    )

    receipt_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("receipts.id"), index=True)
    kind: Mapped[DiscrepancyKind] = mapped_column(enum_type(DiscrepancyKind, "discrepancy_kind"))
    gtin: Mapped[str | None] = mapped_column(sa.String(14))
    lot_number: Mapped[str | None] = mapped_column(sa.String(20))
    expected_vials: Mapped[int]
    received_vials: Mapped[int]
    note: Mapped[str | None] = mapped_column(sa.String(1000))


class StockCount(BornAtSite, Base):
    """A physical count of the fridge (append-only)."""

    __tablename__ = "stock_counts"
    __table_args__ = (sa.Index(None, "counted_at"),)

    counted_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(sa.String(1000))


class StockCountLine(BornAtSite, Base):
    """Vials counted of one lot in one count (append-only)."""

    __tablename__ = "stock_count_lines"
    __table_args__ = (
        sa.UniqueConstraint("stock_count_id", "gtin", "lot_number"),
        sa.CheckConstraint("counted_vials >= 0", name="counted_vials_not_negative"),
    )

    stock_count_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("stock_counts.id"))
    product_code: Mapped[str] = mapped_column(sa.String(64))
    gtin: Mapped[str] = mapped_column(sa.String(14))
    lot_number: Mapped[str] = mapped_column(sa.String(20))
    #: What the store's vial events said should be there, at the time of the count.
    expected_vials: Mapped[int | None]
    counted_vials: Mapped[int]
    note: Mapped[str | None] = mapped_column(sa.String(1000))
