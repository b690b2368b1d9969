"""Counting the fridge: what the books expect, what was counted, and the differences.

The expected number of vials of a lot is derived, never stored: the last
count of that lot (or nothing), plus what receipts brought in since (the
shipment's lines corrected by the receipt's discrepancies), less the vials
that left the fridge since (opened, or discarded unopened). A count records,
per lot, what the books expected and what was counted; a difference is
kept, not corrected silently, and the next expectation starts from the
count. The count is queued for the hub as one ``stock_count`` record.

Counting is for the site manager (`ManagerRequired` otherwise).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.logistics import (
    DiscrepancyKind,
    Receipt,
    ReceiptDiscrepancy,
    ShipmentLine,
    StockCount,
    StockCountLine,
)
from app.local_db.models.stock import Lot, Vial, VialEvent, VialEventKind
from app.local_db.unit_of_work import session_scope
from app.services.errors import ClinicalError, UnknownVaccine
from app.services.workplace import audit, site_here, staff_member
from app.sync.outbox import record_change
from app.sync.wire_forms import stock_count_payload
from domain.catalogue import UnknownProduct
from domain.clock import Clock
from domain.data import load_rules

LotKey = tuple[str, str]
"""(GTIN-14, lot number)."""


class CountError(ClinicalError):
    code: ClassVar[str] = "stock_count.error"
    template: ClassVar[str] = "The stock count could not be recorded."


class CountNegative(CountError):
    code: ClassVar[str] = "stock_count.negative"
    template: ClassVar[str] = (
        "Lot {lot} was counted as {vials} vials. A count is zero or more: count again."
    )


class CountDuplicateLot(CountError):
    code: ClassVar[str] = "stock_count.duplicate_lot"
    template: ClassVar[str] = (
        "Lot {lot} appears twice in this count. Add its vials up into one line."
    )


class CountEmpty(CountError):
    code: ClassVar[str] = "stock_count.empty"
    template: ClassVar[str] = "The count has no lines. Count at least one lot."


@dataclass(frozen=True)
class ExpectedStock:
    """What the books say is in the fridge of one lot."""

    product_code: str
    gtin: str
    lot_number: str
    expiry_date: date | None
    expected_vials: int


@dataclass(frozen=True)
class CountedLot:
    """Vials of one lot found in the fridge."""

    gtin: str
    lot_number: str
    counted_vials: int
    note: str | None = None


@dataclass(frozen=True)
class CountDifference:
    """One counted lot against the books."""

    gtin: str
    lot_number: str
    expected_vials: int
    counted_vials: int

    @property
    def difference(self) -> int:
        """Counted minus expected: negative when vials are missing."""
        return self.counted_vials - self.expected_vials


@dataclass(frozen=True)
class CountResult:
    """The recorded count with every line's difference."""

    count_id: uuid.UUID
    counted_at: datetime
    lines: tuple[CountDifference, ...]

    @property
    def differences(self) -> tuple[CountDifference, ...]:
        return tuple(line for line in self.lines if line.difference != 0)


def _last_counts(session: Session) -> dict[LotKey, tuple[datetime, int]]:
    found: dict[LotKey, tuple[datetime, int]] = {}
    rows = session.execute(
        sa.select(StockCountLine.gtin, StockCountLine.lot_number, StockCount.counted_at,
                  StockCountLine.counted_vials)
        .join(StockCount, StockCount.id == StockCountLine.stock_count_id)
        .order_by(StockCount.counted_at, StockCount.id)
    )  # fmt: skip
    for gtin, lot, at, vials in rows:
        found[(gtin, lot)] = (at, vials)
    return found


def _received(session: Session) -> list[tuple[LotKey, datetime, int]]:
    """(lot, when, vials) that receipts brought into the fridge."""
    moves: list[tuple[LotKey, datetime, int]] = []
    for received_at, gtin, lot, vials in session.execute(
        sa.select(Receipt.received_at, ShipmentLine.gtin, ShipmentLine.lot_number,
                  ShipmentLine.vial_count)
        .join(ShipmentLine, ShipmentLine.shipment_id == Receipt.shipment_id)
    ):  # fmt: skip
        moves.append(((gtin, lot), received_at, vials))
    for received_at, kind, wrong_gtin, wrong_lot, expected, got in session.execute(
        sa.select(Receipt.received_at, ReceiptDiscrepancy.kind, ReceiptDiscrepancy.gtin,
                  ReceiptDiscrepancy.lot_number, ReceiptDiscrepancy.expected_vials,
                  ReceiptDiscrepancy.received_vials)
        .join(Receipt, Receipt.id == ReceiptDiscrepancy.receipt_id)
    ):  # fmt: skip
        if wrong_gtin is None or wrong_lot is None:
            continue
        key = (wrong_gtin, wrong_lot)
        if kind in (DiscrepancyKind.MISSING, DiscrepancyKind.DAMAGED):
            moves.append((key, received_at, -(expected - got)))
        elif kind in (DiscrepancyKind.EXTRA, DiscrepancyKind.WRONG_LOT):
            moves.append((key, received_at, got - expected))
    return moves


def _left(session: Session) -> list[tuple[LotKey, datetime]]:
    """(lot, when) for each vial that left the fridge: opened, or discarded unopened."""
    first_out = (
        sa.select(VialEvent.vial_id, sa.func.min(VialEvent.occurred_at).label("at"))
        .where(VialEvent.kind.in_([VialEventKind.OPENED, VialEventKind.DISCARDED]))
        .group_by(VialEvent.vial_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(Vial.gtin, Vial.lot_number, first_out.c.at).join(
            first_out, first_out.c.vial_id == Vial.id
        )
    )
    return [((gtin, lot), at) for gtin, lot, at in rows]


def expected_vials(session: Session) -> dict[LotKey, int]:
    """Vials of each lot the books say are in the fridge now (see the module)."""
    counts = _last_counts(session)
    totals: dict[LotKey, int] = defaultdict(int)
    for key, (_, vials) in counts.items():
        totals[key] = vials
    for key, at, vials in _received(session):
        if key not in counts or at > counts[key][0]:
            totals[key] += vials
    for key, at in _left(session):
        if key not in counts or at > counts[key][0]:
            totals[key] -= 1
    return dict(totals)


def expected_stock(engine: Engine) -> list[ExpectedStock]:
    """The books' stock of every lot ever held here (zero included), by expiry."""
    catalogue = load_rules().catalogue
    with session_scope(engine, write=False) as session:
        expiry = {
            (gtin, lot): day
            for gtin, lot, day in session.execute(
                sa.select(Lot.gtin, Lot.lot_number, Lot.expiry_date)
            )
        }
        expiry.update(
            {
                (gtin, lot): day
                for gtin, lot, day in session.execute(
                    sa.select(ShipmentLine.gtin, ShipmentLine.lot_number, ShipmentLine.expiry_date)
                )
            }
        )
        rows = []
        for (gtin, lot), vials in expected_vials(session).items():
            product = catalogue.get(_product_id(gtin) or "")
            rows.append(
                ExpectedStock(
                    product.id if product else "", gtin, lot, expiry.get((gtin, lot)), vials
                )
            )
    return sorted(rows, key=lambda r: (r.expiry_date or date.max, r.gtin, r.lot_number))


def _product_id(gtin: str) -> str | None:
    try:
        return load_rules().catalogue.by_gtin(gtin).id
    except (UnknownProduct, ValueError):
        return None


def record_count(
    engine: Engine,
    clock: Clock,
    actor: uuid.UUID,
    counted: Sequence[CountedLot],
    *,
    note: str | None = None,
    complete: bool = False,
) -> CountResult:
    """Record a count of the listed lots (`complete`: every other lot held was counted as 0).

    Raises `CountEmpty`, `CountNegative`, `CountDuplicateLot`, `UnknownVaccine`,
    or `ManagerRequired` when `actor` is not a site manager.
    """
    seen: set[LotKey] = set()
    products: dict[LotKey, str] = {}
    for line in counted:
        key = (line.gtin.zfill(14), line.lot_number)
        if line.counted_vials < 0:
            raise CountNegative(lot=line.lot_number, vials=line.counted_vials)
        if key in seen:
            raise CountDuplicateLot(lot=line.lot_number)
        seen.add(key)
        product = _product_id(key[0])
        if product is None:
            raise UnknownVaccine(gtin=key[0])
        products[key] = product
    with session_scope(engine) as session:
        site = site_here(session)
        staff = staff_member(session, actor, manager=True)
        expected = expected_vials(session)
        lines = list(counted)
        if complete:
            for key, vials in sorted(expected.items()):
                if key not in seen and vials != 0:
                    lines.append(CountedLot(key[0], key[1], 0, "not found in the count"))
                    products[key] = _product_id(key[0]) or ""
        if not lines:
            raise CountEmpty()
        now = clock.now()
        count = StockCount(
            origin_site_id=site.site_id, created_at=now, created_by=actor, counted_at=now, note=note
        )
        session.add(count)
        session.flush()
        rows = []
        for line in lines:
            key = (line.gtin.zfill(14), line.lot_number)
            row = StockCountLine(
                origin_site_id=site.site_id,
                created_at=now,
                created_by=actor,
                stock_count_id=count.id,
                product_code=products[key],
                gtin=key[0],
                lot_number=key[1],
                expected_vials=max(expected.get(key, 0), 0),
                counted_vials=line.counted_vials,
                note=line.note,
            )
            session.add(row)
            rows.append(row)
        session.flush()
        record_change(session, "stock_count", count.id, stock_count_payload(count, rows), now=now)
        result = tuple(
            CountDifference(
                row.gtin, row.lot_number, expected.get((row.gtin, row.lot_number), 0),
                row.counted_vials,
            )
            for row in rows
        )  # fmt: skip
        audit(
            session, site, staff, now, "stock.counted", "stock_counts", count.id,
            lots=len(rows), differences=sum(1 for r in result if r.difference),
        )  # fmt: skip
        return CountResult(count.id, now, result)
