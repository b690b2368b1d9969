"""Booking what sites report as stock movements: receipts and vial events.

Sites push receipts, receipt discrepancies and vial events
(`central.services.sync`); each fact moves vials at the hub once:

- a receipt and its discrepancies: see `central.stock.receipts.book_receipt`;
- a vial ``opened`` event: one vial leaves the site's fridge for
  ``administered`` (its doses are tracked by the vial's events);
- a ``discarded`` event of a vial never opened: one vial from the site to
  ``waste`` (an opened vial already left the fridge when it was opened);
- a stock count of a lot: the difference between what was counted and what
  the site's books expected moves between the site and ``unaccounted``
  (vials missing go there; vials found come from there), for a person to
  explain.

Every movement references the fact that caused it, so booking is idempotent:
`book_vial_event` and `book_receipt` may be called by the push handlers as
each fact lands, and `settle` sweeps up whatever is not booked yet (after a
handler that did not book, or facts loaded in bulk). Positions are always
the sums of movements; nothing here edits a count.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Exists, and_, exists, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from central.db import (
    MovementKind,
    Receipt,
    ReceiptDiscrepancy,
    StockCount,
    StockMovement,
    Vial,
    VialEvent,
)
from central.stock.locations import ADMINISTERED, UNACCOUNTED, WASTE, site_location
from central.stock.movements import Move, record_moves
from central.stock.receipts import book_receipt

VIAL_EVENTS = VialEvent.__tablename__


@dataclass(frozen=True)
class Settled:
    """How many facts `settle` booked."""

    receipts: int
    vial_events: int
    stock_counts: int = 0


def _booked(
    table: str, column: ColumnElement[uuid.UUID] | InstrumentedAttribute[uuid.UUID]
) -> Exists:
    return exists().where(
        and_(StockMovement.reference_table == table, StockMovement.reference_id == column)
    )


def book_vial_event(session: Session, event_id: uuid.UUID, *, at: datetime) -> list[StockMovement]:
    """Book one vial event as a movement if it moves a vial; return what was written.

    Idempotent. Raises `LookupError` for an unknown event id.
    """
    event = session.get(VialEvent, event_id)
    if event is None:
        raise LookupError(f"no vial event {event_id}")
    already = session.scalar(
        select(StockMovement.id)
        .where(StockMovement.reference_table == VIAL_EVENTS, StockMovement.reference_id == event.id)
        .limit(1)
    )
    if already is not None:
        return []
    vial = session.get(Vial, event.vial_id)
    assert vial is not None
    fridge = site_location(event.site_id)
    if event.kind == "opened":
        move = Move(
            MovementKind.ADMINISTERED, fridge, ADMINISTERED, vial.lot_id, 1, VIAL_EVENTS, event.id
        )
    elif event.kind == "discarded":
        opened = session.scalar(
            select(VialEvent.id)
            .where(VialEvent.vial_id == vial.id, VialEvent.kind == "opened")
            .limit(1)
        )
        if opened is not None:
            return []
        move = Move(MovementKind.DISCARD, fridge, WASTE, vial.lot_id, 1, VIAL_EVENTS, event.id)
    else:
        return []
    return record_moves(
        session, [move], at=event.occurred_at, actor=event.created_by,
        origin_site_id=event.origin_site_id, stored_at=at,
    )  # fmt: skip


def book_stock_count(session: Session, count_id: uuid.UUID, *, at: datetime) -> list[StockMovement]:
    """Book a counted difference as a ``count_adjustment`` movement (none when it matched).

    Idempotent. A count without the books' expectation moves nothing: there is
    no difference to book. Raises `LookupError` for an unknown count id.
    """
    count = session.get(StockCount, count_id)
    if count is None:
        raise LookupError(f"no stock count {count_id}")
    if count.expected_vials is None or count.expected_vials == count.counted_vials:
        return []
    table = StockCount.__tablename__
    already = session.scalar(
        select(StockMovement.id)
        .where(StockMovement.reference_table == table, StockMovement.reference_id == count.id)
        .limit(1)
    )
    if already is not None:
        return []
    fridge = site_location(count.site_id)
    difference = count.counted_vials - count.expected_vials
    source, target = (UNACCOUNTED, fridge) if difference > 0 else (fridge, UNACCOUNTED)
    move = Move(
        MovementKind.COUNT_ADJUSTMENT,
        source,
        target,
        count.lot_id,
        abs(difference),
        table,
        count.id,
    )
    return record_moves(
        session, [move], at=count.counted_at, actor=count.created_by,
        origin_site_id=count.origin_site_id, stored_at=at,
    )  # fmt: skip


def settle(session: Session, *, at: datetime) -> Settled:
    """Book every receipt, discrepancy and vial event not booked yet. Does not commit."""
    unbooked_receipts = session.scalars(
        select(Receipt.id).where(~_booked(Receipt.__tablename__, Receipt.id))
    ).all()
    found = aliased(ReceiptDiscrepancy)
    with_new_discrepancies = session.scalars(
        select(found.receipt_id)
        .where(~_booked(ReceiptDiscrepancy.__tablename__, found.id))
        .distinct()
    ).all()
    receipts = sorted(set(unbooked_receipts) | set(with_new_discrepancies))
    for receipt_id in receipts:
        book_receipt(session, receipt_id, at=at)
    events = session.scalars(
        select(VialEvent.id)
        .where(VialEvent.kind.in_(["opened", "discarded"]))
        .where(~_booked(VIAL_EVENTS, VialEvent.id))
        .order_by(VialEvent.occurred_at, VialEvent.id)
    ).all()
    booked = sum(1 for event_id in events if book_vial_event(session, event_id, at=at))
    counts = session.scalars(
        select(StockCount.id)
        .where(StockCount.expected_vials.is_not(None))
        .where(StockCount.expected_vials != StockCount.counted_vials)
        .where(~_booked(StockCount.__tablename__, StockCount.id))
        .order_by(StockCount.counted_at, StockCount.id)
    ).all()
    adjusted = sum(1 for count_id in counts if book_stock_count(session, count_id, at=at))
    return Settled(len(unbooked_receipts), booked, adjusted)
