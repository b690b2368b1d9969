"""Receipts: a site taking in a shipment, booked as stock movements.

A receipt and its discrepancies are facts a site records (usually offline)
and pushes; `book_receipt` turns whatever of them the hub holds into
movements, and may be called again as more discrepancies arrive: each fact
is booked once (its movements reference it), so a re-call books only what
is new.

- The receipt moves every shipment line from ``transit:<shipment>`` to the
  site.
- ``short`` (sent ``expected``, arrived ``received``): the missing vials go
  back to the shipment's road, where they stay visible until found.
- ``damaged`` (arrived ``expected``, usable ``received``): the broken ones go
  from the site to waste.
- ``over`` and ``wrong_lot`` (``received`` more than ``expected``): the extra
  vials come from ``unaccounted`` (nobody knows where they were missed), so
  a person sees them. A wrong lot the hub never delivered has no lot row and
  stays a discrepancy only.
- ``temperature``: no movement; the site decides per vial and discards with
  a reason.

`record_receipt` is the hub's own entry (central staff keying in a delivery
note): it checks that the counts add up before writing anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import (
    DiscrepancyKind,
    Lot,
    MovementKind,
    Receipt,
    ReceiptDiscrepancy,
    Shipment,
    ShipmentLine,
    StockMovement,
)
from central.db.enums import ShipmentKind
from central.services.context import Hub
from central.services.records import audit
from central.stock.errors import (
    LotNotShipped,
    QuantityNotPositive,
    ReceiptQuantityMismatch,
    ShipmentForOtherSite,
    ShipmentNotInTransit,
    ShipmentReceivedAlready,
)
from central.stock.locations import UNACCOUNTED, WASTE, site_location, transit_location
from central.stock.movements import Move, lock_stock, record_moves
from central.stock.shipments import find_shipment
from central.stock.sites import find_site
from domain.ids import uuid7
from domain.wire import payload_hash


@dataclass(frozen=True)
class ReceivedLot:
    """What arrived of one shipped lot: usable, damaged, missing and extra vials.

    They add up when ``received + damaged + missing - extra`` equals what was sent.
    """

    gtin: str
    lot_number: str
    received_vials: int
    damaged_vials: int = 0
    missing_vials: int = 0
    extra_vials: int = 0


@dataclass(frozen=True)
class WrongLot:
    """Vials of a lot that was not in the shipment at all."""

    gtin: str
    lot_number: str
    vials: int


@dataclass(frozen=True)
class ReceiptView:
    """A recorded receipt and its discrepancies (kind, lot number, expected, received)."""

    id: uuid.UUID
    shipment_id: uuid.UUID
    received_at: datetime
    discrepancies: tuple[tuple[str, str | None, int | None, int | None], ...]


def _booked(session: Session, table: str, record_id: uuid.UUID) -> bool:
    return (
        session.scalar(
            select(StockMovement.id)
            .where(StockMovement.reference_table == table, StockMovement.reference_id == record_id)
            .limit(1)
        )
        is not None
    )


def book_receipt(session: Session, receipt_id: uuid.UUID, *, at: datetime) -> list[StockMovement]:
    """Book the receipt and its discrepancies as movements, once each; return the new ones.

    Idempotent: call it after storing a receipt and after each of its
    discrepancies. Does not commit. Raises `LookupError` for an unknown
    receipt id (a programming error: store the receipt first).
    """
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise LookupError(f"no receipt {receipt_id}")
    shipment = session.get(Shipment, receipt.shipment_id)
    assert shipment is not None
    site = site_location(receipt.site_id)
    road = transit_location(shipment.id)
    written: list[StockMovement] = []
    if not _booked(session, Receipt.__tablename__, receipt.id):
        lines = session.scalars(select(ShipmentLine).where(ShipmentLine.shipment_id == shipment.id))
        moves = [
            Move(
                MovementKind.RECEIPT,
                road,
                site,
                line.lot_id,
                line.quantity_vials,
                Receipt.__tablename__,
                receipt.id,
            )
            for line in lines
        ]
        written += record_moves(
            session, moves, at=receipt.received_at, actor=receipt.created_by,
            origin_site_id=receipt.origin_site_id, stored_at=at,
        )  # fmt: skip
    discrepancies = session.scalars(
        select(ReceiptDiscrepancy)
        .where(ReceiptDiscrepancy.receipt_id == receipt.id)
        .order_by(ReceiptDiscrepancy.id)
    ).all()
    for found in discrepancies:
        move = _discrepancy_move(found, site, road)
        if move is None or _booked(session, ReceiptDiscrepancy.__tablename__, found.id):
            continue
        written += record_moves(
            session, [move], at=receipt.received_at, actor=found.created_by,
            origin_site_id=found.origin_site_id, stored_at=at,
        )  # fmt: skip
    return written


def _discrepancy_move(found: ReceiptDiscrepancy, site: str, road: str) -> Move | None:
    if found.lot_id is None:
        return None
    expected, received = found.expected_vials or 0, found.received_vials or 0
    table = ReceiptDiscrepancy.__tablename__
    if found.kind == DiscrepancyKind.SHORT and expected > received:
        return Move(
            MovementKind.RECEIPT, site, road, found.lot_id, expected - received, table, found.id
        )
    if found.kind == DiscrepancyKind.DAMAGED and expected > received:
        return Move(
            MovementKind.DISCARD, site, WASTE, found.lot_id, expected - received, table, found.id
        )
    if found.kind in (DiscrepancyKind.OVER, DiscrepancyKind.WRONG_LOT) and received > expected:
        return Move(
            MovementKind.RECEIPT,
            UNACCOUNTED,
            site,
            found.lot_id,
            received - expected,
            table,
            found.id,
        )
    return None


def record_receipt(
    hub: Hub,
    reference: str,
    *,
    site_code: str,
    lots: Sequence[ReceivedLot],
    actor: str,
    wrong_lots: Sequence[WrongLot] = (),
    cold_chain_ok: bool = True,
    note: str | None = None,
) -> ReceiptView:
    """Record that `site_code` took in shipment `reference`, and book it.

    Every lot of the shipment must be accounted for. Raises `StockNotFound`,
    `ShipmentForOtherSite`, `ShipmentNotInTransit` (a return),
    `ShipmentReceivedAlready`, `LotNotShipped`, `QuantityNotPositive` (a negative count) or
    `ReceiptQuantityMismatch`.
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        lock_stock(session)
        site = find_site(session, site_code)
        shipment = find_shipment(session, reference)
        if shipment.site_id != site.id:
            raise ShipmentForOtherSite(shipment=reference)
        if shipment.kind == ShipmentKind.RETURN.value:
            raise ShipmentNotInTransit(shipment=reference)
        if session.scalar(select(Receipt.id).where(Receipt.shipment_id == shipment.id)):
            raise ShipmentReceivedAlready(shipment=reference)
        sent = {
            (lot.gtin, lot.lot_number): (lot, line.quantity_vials)
            for line, lot in session.execute(
                select(ShipmentLine, Lot)
                .join(Lot, Lot.id == ShipmentLine.lot_id)
                .where(ShipmentLine.shipment_id == shipment.id)
            )
        }
        counted = {(c.gtin.zfill(14), c.lot_number): c for c in lots}
        for key, c in counted.items():
            if min(c.received_vials, c.damaged_vials, c.missing_vials, c.extra_vials) < 0:
                raise QuantityNotPositive(
                    quantity=min(c.received_vials, c.damaged_vials, c.missing_vials, c.extra_vials)
                )
            if key not in sent:
                raise LotNotShipped(lot_number=c.lot_number, shipment=reference)
        for key, (lot, vials) in sent.items():
            c = counted.get(key, ReceivedLot(lot.gtin, lot.lot_number, 0))
            accounted = c.damaged_vials + c.missing_vials - c.extra_vials
            if c.received_vials + accounted != vials:
                raise ReceiptQuantityMismatch(
                    lot_number=lot.lot_number,
                    sent=vials,
                    received=c.received_vials,
                    accounted=accounted,
                )
        for wrong in wrong_lots:
            if wrong.vials <= 0:
                raise QuantityNotPositive(quantity=wrong.vials)
        receipt_id = uuid7()
        body = {
            "id": str(receipt_id),
            "shipment_id": str(shipment.id),
            "received_at": now.isoformat(),
            "lots": [c.__dict__ for c in lots],
            "wrong_lots": [w.__dict__ for w in wrong_lots],
            "cold_chain_ok": cold_chain_ok,
            "note": note,
        }
        receipt = Receipt(
            id=receipt_id,
            shipment_id=shipment.id,
            site_id=site.id,
            received_at=now,
            note=note,
            payload_hash=payload_hash(body),
            origin_site_id=None,
            stored_at=now,
            created_at=now,
            created_by=actor,
        )
        session.add(receipt)
        session.flush()
        found: list[ReceiptDiscrepancy] = []

        def add(
            kind: DiscrepancyKind,
            lot_id: uuid.UUID | None,
            expected: int,
            received: int,
            text: str | None = None,
        ) -> None:
            found.append(
                ReceiptDiscrepancy(
                    receipt_id=receipt.id, lot_id=lot_id, kind=kind.value, expected_vials=expected,
                    received_vials=received, note=text, origin_site_id=None, stored_at=now,
                    created_at=now, created_by=actor,
                )
            )  # fmt: skip

        for key, (lot, vials) in sent.items():
            c = counted.get(key, ReceivedLot(lot.gtin, lot.lot_number, 0))
            if c.missing_vials:
                add(DiscrepancyKind.SHORT, lot.id, vials, vials - c.missing_vials)
            if c.extra_vials:
                add(DiscrepancyKind.OVER, lot.id, vials, vials + c.extra_vials)
            if c.damaged_vials:
                arrived = c.received_vials + c.damaged_vials
                add(DiscrepancyKind.DAMAGED, lot.id, arrived, c.received_vials)
        for wrong in wrong_lots:
            known = session.scalar(
                select(Lot.id).where(
                    Lot.gtin == wrong.gtin.zfill(14), Lot.lot_number == wrong.lot_number
                )
            )
            add(
                DiscrepancyKind.WRONG_LOT, known, 0, wrong.vials, f"{wrong.gtin} {wrong.lot_number}"
            )
        if not cold_chain_ok:
            add(DiscrepancyKind.TEMPERATURE, None, 0, 0, "cold chain broken on the road")
        session.add_all(found)
        session.flush()
        book_receipt(session, receipt.id, at=now)
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="stock.receipt_recorded",
            entity=receipt,
            site_id=site.id,
        )
        return ReceiptView(
            receipt.id,
            shipment.id,
            now,
            tuple(
                (d.kind, _lot_number(session, d.lot_id), d.expected_vials, d.received_vials)
                for d in found
            ),
        )


def _lot_number(session: Session, lot_id: uuid.UUID | None) -> str | None:
    if lot_id is None:
        return None
    lot = session.get(Lot, lot_id)
    return lot.lot_number if lot is not None else None
