"""The stock flow: purchase order -> delivery -> allocation -> shipment -> receipt.

Stock positions are never stored: the number of vials of a lot at a location
is the sum of movements into it minus the sum of movements out of it. The two
covering indexes on (location, lot, quantity) let both sums be answered from
the indexes alone on either engine.

Locations are text, one of:

- ``supplier``: outside the system (the source of deliveries);
- ``warehouse``: the central warehouse;
- ``transit:<shipment uuid>``: vials on the road in one shipment;
- ``site:<site uuid>``: a vaccination site's fridge;
- ``waste``: discarded (expired, broken, recalled);
- ``administered``: used up giving doses.

Quantities are whole vials; doses drawn from an open vial are tracked by vial
events, not here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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
from central.db.enums import (
    AllocationStatus,
    DiscrepancyKind,
    MovementKind,
    PurchaseOrderStatus,
    ShipmentKind,
)
from central.db.types import UUID, UTCDateTime, json_document

LOCATION_LENGTH = 64


class PurchaseOrder(CentralRecord, Base):
    """An order of vaccine from a supplier."""

    __tablename__ = "purchase_orders"
    __table_args__ = (one_of("status", PurchaseOrderStatus),)

    number: Mapped[str] = mapped_column(String(40), unique=True)
    supplier: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    ordered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PurchaseOrderLine(CentralRecord, Base):
    """How many vials of one product (GTIN) an order asks for."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("purchase_order_id", "line_number"),
        CheckConstraint("line_number >= 1", name="line_number_positive"),
        CheckConstraint("quantity_vials > 0", name="quantity_positive"),
    )

    purchase_order_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("purchase_orders.id"))
    line_number: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(String(PRODUCT_ID_LENGTH))
    gtin: Mapped[str] = mapped_column(String(14))
    quantity_vials: Mapped[int] = mapped_column(Integer)


class Delivery(CentralRecord, Base):
    """Vials arriving at the central warehouse; its lots enter by stock movements.

    The movements of a delivery have ``reference_table = 'deliveries'`` and
    ``reference_id`` = this id.
    """

    __tablename__ = "deliveries"

    purchase_order_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("purchase_orders.id"), index=True
    )
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivery_note: Mapped[str | None] = mapped_column(String(80))


class StockMovement(SyncedRecord, Base):
    """Vials of one lot moving from one location to another. Append-only.

    ``reference_table``/``reference_id`` name what caused the movement (a
    delivery, shipment, receipt, vial event or stock count).
    """

    __tablename__ = "stock_movements"
    __append_only__ = True
    __table_args__ = (
        one_of("kind", MovementKind),
        CheckConstraint("quantity_vials > 0", name="quantity_positive"),
        CheckConstraint("from_location <> to_location", name="locations_differ"),
        Index("ix_stock_movements_inflow", "to_location", "lot_id", "quantity_vials"),
        Index("ix_stock_movements_outflow", "from_location", "lot_id", "quantity_vials"),
        Index("ix_stock_movements_reference", "reference_table", "reference_id"),
    )

    kind: Mapped[str] = mapped_column(String(24))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_location: Mapped[str] = mapped_column(String(LOCATION_LENGTH))
    to_location: Mapped[str] = mapped_column(String(LOCATION_LENGTH))
    lot_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("lots.id"))
    quantity_vials: Mapped[int] = mapped_column(Integer)
    reference_table: Mapped[str | None] = mapped_column(String(64))
    reference_id: Mapped[uuid.UUID | None] = mapped_column(UUID)


class Allocation(CentralRecord, Base):
    """A plan to send stock to sites, proposed (by a person or from a scheduler
    run) and then approved by central staff before shipments are made."""

    __tablename__ = "allocations"
    __table_args__ = (
        one_of("status", AllocationStatus),
        CheckConstraint(
            "status <> 'approved' OR (approved_at IS NOT NULL AND approved_by IS NOT NULL)",
            name="approval_recorded",
        ),
    )

    status: Mapped[str] = mapped_column(String(16))
    scheduler_run_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("scheduler_runs.id")
    )
    for_day: Mapped[date | None] = mapped_column(Date)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The proposal's inputs (NULL for allocations written by hand or by the demo):
    # the days of appointments it covers and the safety margin it added.
    horizon_start: Mapped[date | None] = mapped_column(Date)
    horizon_days: Mapped[int | None] = mapped_column(Integer)
    safety_margin_percent: Mapped[int | None] = mapped_column(Integer)
    #: Doses needed and vials short per site and product, as proposed.
    summary: Mapped[dict[str, Any] | None] = mapped_column(json_document())


class AllocationLine(CentralRecord, Base):
    """Vials of a product (optionally a chosen lot) planned for one site."""

    __tablename__ = "allocation_lines"
    __table_args__ = (CheckConstraint("quantity_vials > 0", name="quantity_positive"),)

    allocation_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("allocations.id"), index=True)
    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"))
    product_id: Mapped[str] = mapped_column(String(PRODUCT_ID_LENGTH))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("lots.id"))
    quantity_vials: Mapped[int] = mapped_column(Integer)
    #: What the proposal computed before any adjustment (NULL: a line added by hand).
    proposed_vials: Mapped[int | None] = mapped_column(Integer)
    #: The earliest appointment day the line serves: its lot must not expire before it.
    first_day: Mapped[date | None] = mapped_column(Date)


class Shipment(CentralRecord, Base):
    """Vials on the road: warehouse -> site, site -> site, or site -> warehouse.

    ``site_id`` is the site concerned: the destination of an allocation
    shipment or a transfer, the sender of a return. ``from_site_id`` is the
    sender of a transfer. ``reference`` is printed on the delivery note and
    scanned or typed at receipt (NULL only for rows written before it existed).
    """

    __tablename__ = "shipments"
    __table_args__ = (
        one_of("kind", ShipmentKind),
        CheckConstraint(
            "(kind = 'transfer') = (from_site_id IS NOT NULL)", name="transfer_has_sender"
        ),
    )

    kind: Mapped[str] = mapped_column(String(16), default=ShipmentKind.ALLOCATION.value)
    reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    from_site_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("sites.id"))
    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"), index=True)
    allocation_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("allocations.id"))
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ShipmentLine(CentralRecord, Base):
    """How many vials of one lot a shipment carries."""

    __tablename__ = "shipment_lines"
    __table_args__ = (
        UniqueConstraint("shipment_id", "lot_id"),
        CheckConstraint("quantity_vials > 0", name="quantity_positive"),
    )

    shipment_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("shipments.id"))
    lot_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("lots.id"))
    quantity_vials: Mapped[int] = mapped_column(Integer)


class Receipt(SyncedRecord, Base):
    """A site's acknowledgement that a shipment arrived. Append-only.

    ``received_at`` is when the site took the shipment in (clinical time).
    """

    __tablename__ = "receipts"
    __append_only__ = True

    shipment_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("shipments.id"), index=True)
    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    payload_hash: Mapped[str] = mapped_column(String(PAYLOAD_HASH_LENGTH))


class ReceiptDiscrepancy(SyncedRecord, Base):
    """One way a received shipment differed from what was sent. Append-only."""

    __tablename__ = "receipt_discrepancies"
    __append_only__ = True
    __table_args__ = (
        one_of("kind", DiscrepancyKind),
        CheckConstraint("expected_vials >= 0", name="expected_not_negative"),
        CheckConstraint("received_vials >= 0", name="received_not_negative"),
    )

    receipt_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("receipts.id"), index=True)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("lots.id"))
    kind: Mapped[str] = mapped_column(String(16))
    expected_vials: Mapped[int | None] = mapped_column(Integer)
    received_vials: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)


class StockCount(SyncedRecord, Base):
    """A physical count of one lot at a site. Append-only.

    ``expected_vials`` is the derived position the site saw when counting; a
    difference leads to a ``count_adjustment`` movement.
    """

    __tablename__ = "stock_counts"
    __append_only__ = True
    __table_args__ = (
        CheckConstraint("counted_vials >= 0", name="counted_not_negative"),
        Index("ix_stock_counts_site_time", "site_id", "counted_at"),
    )

    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"))
    lot_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("lots.id"))
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    counted_vials: Mapped[int] = mapped_column(Integer)
    expected_vials: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    payload_hash: Mapped[str] = mapped_column(String(PAYLOAD_HASH_LENGTH))
