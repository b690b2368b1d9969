"""Deliveries: cartons of vaccine arriving at the central warehouse.

Each carton is scanned (its GS1 DataMatrix gives GTIN, lot and expiry) and
its vials counted. Cartons of one lot are added up; each lot enters the
warehouse by one ``delivery`` movement (supplier -> warehouse) referencing
the delivery. A lot seen for the first time is created and announced to
every site (`central.services.sync.publish`).

Refused, with nothing written: a GTIN of no product in the catalogue, a lot
already expired (or expiring the day it arrives), a lot known with another
expiry, a count of no vials, a product the purchase order does not order,
and more vials than the order has left to deliver.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import (
    Delivery,
    Lot,
    MovementKind,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from central.services.context import Hub
from central.services.records import announce, audit
from central.services.sync.publish import stock_changes
from central.stock.catalogue import stock_catalogue
from central.stock.errors import (
    DeliveryExceedsOrder,
    LabelIncomplete,
    LotExpired,
    LotExpiryMismatch,
    OrderNotOpen,
    ProductNotOrdered,
    QuantityNotPositive,
    QuantityTooLarge,
)
from central.stock.locations import SUPPLIER, WAREHOUSE
from central.stock.movements import Move, record_moves
from central.stock.purchase_orders import delivered_by_product, find_order
from domain.gs1 import Gs1Label, parse_gs1

MAX_LOT_VIALS: Final = 100_000_000
"""More vials of one lot than any delivery brings (and within a 32-bit count)."""


@dataclass(frozen=True)
class Carton:
    """A counted carton: its label's GTIN (GTIN-14), lot and expiry, and its vials."""

    gtin: str
    lot_number: str
    expiry: date
    vials: int


@dataclass(frozen=True)
class DeliveredLot:
    """What one lot of a delivery brought."""

    lot_id: uuid.UUID
    product_id: str
    gtin: str
    lot_number: str
    expiry: date
    vials: int
    new_lot: bool


@dataclass(frozen=True)
class DeliveryView:
    """A delivery as recorded."""

    id: uuid.UUID
    purchase_order: str | None
    delivered_at: datetime
    note: str | None
    lots: tuple[DeliveredLot, ...]


def carton_from_label(label: Gs1Label, vials: int) -> Carton:
    """A carton from its parsed label. Raises `LabelIncomplete` without lot or expiry."""
    if label.lot is None:
        raise LabelIncomplete(missing="lot number (AI 10)")
    if label.expiry_date is None:
        raise LabelIncomplete(missing="expiry date (AI 17)")
    return Carton(label.gtin.zfill(14), label.lot, label.expiry_date, vials)


def carton_from_scan(text: str, vials: int) -> Carton:
    """A carton from the scanned or typed element string (see `domain.gs1.parse_gs1`).

    Raises the `domain.gs1.Gs1Error` of a bad scan, or `LabelIncomplete`.
    """
    return carton_from_label(parse_gs1(text), vials)


def receive_delivery(
    hub: Hub,
    cartons: Sequence[Carton],
    *,
    actor: str,
    purchase_order: str | None = None,
    note: str | None = None,
) -> DeliveryView:
    """Take cartons into the warehouse as one delivery; return what was recorded.

    Raises `QuantityNotPositive`, `domain.catalogue.UnknownGtin` /
    `InvalidGtin`, `LotExpired`, `LotExpiryMismatch`, and with an order
    `StockNotFound`, `OrderNotOpen`, `ProductNotOrdered` or
    `DeliveryExceedsOrder`.
    """
    if not cartons:
        raise QuantityNotPositive(quantity=0)
    catalogue = stock_catalogue()
    now = hub.clock.now()
    today = now.date()
    by_lot: dict[tuple[str, str], int] = defaultdict(int)
    expiry: dict[tuple[str, str], date] = {}
    products: dict[tuple[str, str], str] = {}
    for carton in cartons:
        if carton.vials <= 0:
            raise QuantityNotPositive(quantity=carton.vials)
        product = catalogue.by_gtin(carton.gtin)
        key = (carton.gtin.zfill(14), carton.lot_number)
        if carton.expiry <= today:
            raise LotExpired(lot_number=carton.lot_number, expiry=carton.expiry.isoformat())
        if key in expiry and expiry[key] != carton.expiry:
            raise LotExpiryMismatch(
                lot_number=carton.lot_number,
                known=expiry[key].isoformat(),
                given=carton.expiry.isoformat(),
            )
        expiry[key] = carton.expiry
        products[key] = product.id
        by_lot[key] += carton.vials
        if by_lot[key] > MAX_LOT_VIALS:
            raise QuantityTooLarge(
                quantity=by_lot[key], lot_number=carton.lot_number, maximum=MAX_LOT_VIALS
            )
    with hub.sessions() as session, session.begin():
        order_id = None
        if purchase_order is not None:
            order_id = _check_order(session, purchase_order, by_lot, products)
        delivery = Delivery(
            purchase_order_id=order_id,
            delivered_at=now,
            delivery_note=note,
            created_at=now,
            created_by=actor,
        )
        session.add(delivery)
        session.flush()
        delivered: list[DeliveredLot] = []
        new_lots: list[Lot] = []
        moves: list[Move] = []
        for key, vials in by_lot.items():
            lot, new = _lot(session, key, expiry[key], products[key], now, actor)
            if new:
                new_lots.append(lot)
            moves.append(
                Move(
                    MovementKind.DELIVERY,
                    SUPPLIER,
                    WAREHOUSE,
                    lot.id,
                    vials,
                    "deliveries",
                    delivery.id,
                )
            )
            delivered.append(
                DeliveredLot(
                    lot.id, lot.product_id, lot.gtin, lot.lot_number, lot.expiry, vials, new
                )
            )
        record_moves(session, moves, at=now, actor=actor)
        if order_id is not None and purchase_order is not None:
            _close_if_complete(session, purchase_order, now)
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="stock.delivery_received",
            entity=delivery,
            after={"lots": {f"{g}/{n}": v for (g, n), v in by_lot.items()}},
        )
        announce(session, stock_changes(session, new_lots), now)
        return DeliveryView(delivery.id, purchase_order, now, note, tuple(delivered))


def _check_order(
    session: Session,
    number: str,
    by_lot: dict[tuple[str, str], int],
    products: dict[tuple[str, str], str],
) -> uuid.UUID:
    order = find_order(session, number)
    if order.status != PurchaseOrderStatus.PLACED:
        raise OrderNotOpen(order=number, status=order.status)
    ordered: dict[str, int] = defaultdict(int)
    for product_id, vials in session.execute(
        select(PurchaseOrderLine.product_id, PurchaseOrderLine.quantity_vials).where(
            PurchaseOrderLine.purchase_order_id == order.id
        )
    ):
        ordered[product_id] += vials
    arriving: dict[str, int] = defaultdict(int)
    for key, vials in by_lot.items():
        arriving[products[key]] += vials
    delivered = delivered_by_product(session, order.id)
    for product_id, vials in arriving.items():
        if product_id not in ordered:
            raise ProductNotOrdered(order=number, product=product_id)
        already = delivered.get(product_id, 0)
        if already + vials > ordered[product_id]:
            raise DeliveryExceedsOrder(
                order=number,
                product=product_id,
                ordered=ordered[product_id],
                delivered=already,
                arriving=vials,
            )
    return order.id


def _close_if_complete(session: Session, number: str, now: datetime) -> None:
    order = find_order(session, number)
    session.flush()
    delivered = delivered_by_product(session, order.id)
    ordered: dict[str, int] = defaultdict(int)
    for product_id, vials in session.execute(
        select(PurchaseOrderLine.product_id, PurchaseOrderLine.quantity_vials).where(
            PurchaseOrderLine.purchase_order_id == order.id
        )
    ):
        ordered[product_id] += vials
    if all(delivered.get(p, 0) >= v for p, v in ordered.items()):
        order.status = PurchaseOrderStatus.DELIVERED.value
        order.updated_at = now


def _lot(
    session: Session, key: tuple[str, str], expiry: date, product_id: str, now: datetime, actor: str
) -> tuple[Lot, bool]:
    gtin, number = key
    lot = session.scalar(select(Lot).where(Lot.gtin == gtin, Lot.lot_number == number))
    if lot is not None:
        if lot.expiry != expiry:
            raise LotExpiryMismatch(
                lot_number=number, known=lot.expiry.isoformat(), given=expiry.isoformat()
            )
        return lot, False
    lot = Lot(
        gtin=gtin,
        lot_number=number,
        product_id=product_id,
        expiry=expiry,
        created_at=now,
        created_by=actor,
    )
    session.add(lot)
    session.flush()
    return lot, True
