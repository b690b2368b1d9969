"""Purchase orders: vials of products ordered from one manufacturer.

An order is placed when created (or kept as a draft), takes deliveries until
every line is delivered (status ``delivered``), and may be cancelled while
nothing has arrived. How much of a line was delivered is summed from the
delivery movements of the order's deliveries, never stored.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.db import (
    Delivery,
    Lot,
    MovementKind,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    StockMovement,
)
from central.services.context import Hub
from central.services.records import audit
from central.stock.catalogue import stock_catalogue
from central.stock.errors import (
    DuplicateOrderNumber,
    OrderNotOpen,
    QuantityNotPositive,
    StockNotFound,
)


@dataclass(frozen=True)
class OrderLine:
    """Vials of one product to order."""

    product_id: str
    vials: int


@dataclass(frozen=True)
class OrderLineView:
    """A line of an order with what has arrived of it."""

    line_number: int
    product_id: str
    gtin: str
    ordered_vials: int
    delivered_vials: int


@dataclass(frozen=True)
class PurchaseOrderView:
    """A purchase order as central staff see it."""

    id: uuid.UUID
    number: str
    supplier: str
    status: str
    ordered_at: datetime | None
    lines: tuple[OrderLineView, ...]


def create_purchase_order(
    hub: Hub,
    *,
    number: str,
    lines: Sequence[OrderLine],
    actor: str,
    supplier: str | None = None,
    place: bool = True,
) -> PurchaseOrderView:
    """Create an order (placed now, or a draft) and return it.

    `supplier` defaults to the manufacturer of the first product. Raises
    `domain.catalogue.UnknownProduct`, `QuantityNotPositive` or
    `DuplicateOrderNumber`.
    """
    catalogue = stock_catalogue()
    products = [catalogue.by_id(line.product_id) for line in lines]
    for line in lines:
        if line.vials <= 0:
            raise QuantityNotPositive(quantity=line.vials)
    if not lines:
        raise QuantityNotPositive(quantity=0)
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        if session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.number == number)):
            raise DuplicateOrderNumber(order=number)
        order = PurchaseOrder(
            number=number,
            supplier=supplier or products[0].manufacturer,
            status=(PurchaseOrderStatus.PLACED if place else PurchaseOrderStatus.DRAFT).value,
            ordered_at=now if place else None,
            updated_at=now,
            created_at=now,
            created_by=actor,
        )
        session.add(order)
        session.flush()
        for n, (line, product) in enumerate(zip(lines, products, strict=True), start=1):
            session.add(
                PurchaseOrderLine(
                    purchase_order_id=order.id,
                    line_number=n,
                    product_id=product.id,
                    gtin=product.gtins[0],
                    quantity_vials=line.vials,
                    created_at=now,
                    created_by=actor,
                )
            )
        audit(session, occurred_at=now, actor=actor, action="stock.order_created", entity=order)
        session.flush()
        return order_view(session, order)


def find_order(session: Session, number: str) -> PurchaseOrder:
    """The order with this number. Raises `StockNotFound`."""
    order = session.scalar(select(PurchaseOrder).where(PurchaseOrder.number == number))
    if order is None:
        raise StockNotFound(thing="purchase order", key=number)
    return order


def delivered_by_product(session: Session, order_id: uuid.UUID) -> dict[str, int]:
    """Vials delivered against the order so far, by product."""
    rows = session.execute(
        select(Lot.product_id, func.sum(StockMovement.quantity_vials))
        .join(Lot, Lot.id == StockMovement.lot_id)
        .join(Delivery, Delivery.id == StockMovement.reference_id)
        .where(
            StockMovement.kind == MovementKind.DELIVERY.value,
            StockMovement.reference_table == "deliveries",
            Delivery.purchase_order_id == order_id,
        )
        .group_by(Lot.product_id)
    )
    return {product: int(vials) for product, vials in rows}


def order_view(session: Session, order: PurchaseOrder) -> PurchaseOrderView:
    """The order with its lines and deliveries so far."""
    lines = session.scalars(
        select(PurchaseOrderLine)
        .where(PurchaseOrderLine.purchase_order_id == order.id)
        .order_by(PurchaseOrderLine.line_number)
    ).all()
    delivered = defaultdict(int, delivered_by_product(session, order.id))
    views = []
    for line in lines:
        # Several lines of one product share its deliveries in line order.
        got = min(delivered[line.product_id], line.quantity_vials)
        delivered[line.product_id] -= got
        views.append(
            OrderLineView(line.line_number, line.product_id, line.gtin, line.quantity_vials, got)
        )
    return PurchaseOrderView(
        order.id, order.number, order.supplier, order.status, order.ordered_at, tuple(views)
    )


def purchase_order(hub: Hub, number: str) -> PurchaseOrderView:
    """One order by number. Raises `StockNotFound`."""
    with hub.read_sessions() as session:
        return order_view(session, find_order(session, number))


def list_purchase_orders(hub: Hub) -> list[PurchaseOrderView]:
    """Every order, newest first."""
    with hub.read_sessions() as session:
        orders = session.scalars(
            select(PurchaseOrder).order_by(PurchaseOrder.created_at.desc(), PurchaseOrder.number)
        ).all()
        return [order_view(session, order) for order in orders]


def cancel_purchase_order(hub: Hub, number: str, *, actor: str) -> PurchaseOrderView:
    """Cancel an order nothing has been delivered against.

    Raises `StockNotFound` or `OrderNotOpen` (delivered, cancelled, or
    something already arrived).
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        order = find_order(session, number)
        if order.status not in (PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.PLACED) or (
            delivered_by_product(session, order.id)
        ):
            raise OrderNotOpen(order=number, status=order.status)
        order.status = PurchaseOrderStatus.CANCELLED.value
        order.updated_at = now
        audit(session, occurred_at=now, actor=actor, action="stock.order_cancelled", entity=order)
        session.flush()
        return order_view(session, order)
