"""Pushed stock counts: a physical count of a site's fridge, with its lines. Append-only.

A count is one record on the wire; the hub stores one ``stock_counts`` row
per line (one lot each), under the line's id, every row keeping the whole
count's payload hash. Each line's lot must be known at the hub, or the whole
count is quarantined: half a count is not a count.

A count is recognised again by its lines, and by its id through its echo in
the change log (a count re-sent under the same id with other lines is
quarantined, not stored twice).

The change log returns the count to its own site only (for a restore).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from central.db import Lot, StockCount
from central.services.sync.append_only import actor, echo, echoed_payload_hash, parse, resent
from central.services.sync.kinds import ApplyContext, Outcome
from central.stock.site_facts import book_stock_count
from domain.sync_wire import RecordStatus, StockCountPayload, WireRecord
from domain.wire import payload_hash

TABLE = "stock_counts"


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Store one pushed count (a row per line), or say why not."""
    digest = payload_hash(record.payload)
    session = ctx.session
    answer = resent(echoed_payload_hash(ctx, TABLE, record.id), digest, "a stock count")
    if answer is not None:
        return answer
    count = parse(StockCountPayload, record)
    if isinstance(count, Outcome):
        return count
    line_ids = [line.id for line in count.lines]
    if len(set(line_ids)) != len(line_ids):
        return Outcome.quarantined("invalid_payload", "two lines of the count have the same id")
    clash = session.scalar(select(StockCount.id).where(StockCount.id.in_(line_ids)).limit(1))
    if clash is not None:
        return Outcome.quarantined(
            "conflicting_payload", f"line {clash} of this count is already stored in another count"
        )
    lots: dict[tuple[str, str], uuid.UUID] = {}
    for line in count.lines:
        lot_id = session.scalar(
            select(Lot.id).where(Lot.gtin == line.gtin, Lot.lot_number == line.lot_number)
        )
        if lot_id is None:
            return Outcome.quarantined(
                "unknown_lot",
                f"lot {line.lot_number} of GTIN {line.gtin} is not known at the hub",
            )
        lots[(line.gtin, line.lot_number)] = lot_id
    for line in count.lines:
        note = "\n".join(text for text in (count.note, line.note) if text) or None
        session.add(
            StockCount(
                id=line.id,
                site_id=ctx.site_id,
                lot_id=lots[(line.gtin, line.lot_number)],
                counted_at=count.counted_at,
                counted_vials=line.counted_vials,
                expected_vials=line.expected_vials,
                note=note,
                payload_hash=digest,
                origin_site_id=ctx.site_id,
                created_at=count.created_at,
                created_by=actor(count.counted_by, ctx.site_id),
                stored_at=ctx.now,
            )
        )
    session.flush()
    # A counted difference is booked as an adjustment at once.
    for line in count.lines:
        book_stock_count(session, line.id, at=ctx.now)
    return Outcome(RecordStatus.APPLIED, changes=(echo(ctx, TABLE, record),))
