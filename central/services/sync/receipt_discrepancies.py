"""Pushed receipt discrepancies: how a received shipment differed. Append-only.

The receipt must be at the hub and the pushing site's own (the site pushes a
receipt before its discrepancies). The lot is resolved when the hub knows it;
a wrong lot the hub never delivered is kept with its GTIN and lot number in
the change log's payload.

The change log returns the discrepancy to its own site only (for a restore).
"""

from __future__ import annotations

from sqlalchemy import select

from central.db import Lot, Receipt, ReceiptDiscrepancy
from central.services.sync.append_only import (
    actor,
    echo,
    echoed_payload_hash,
    parse,
    resent,
)
from central.services.sync.kinds import ApplyContext, Outcome
from central.stock.receipts import book_receipt
from domain.sync_wire import ReceiptDiscrepancyPayload, RecordStatus, WireRecord
from domain.wire import payload_hash

TABLE = "receipt_discrepancies"


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Store one pushed discrepancy, or say why not."""
    digest = payload_hash(record.payload)
    session = ctx.session
    existing = session.get(ReceiptDiscrepancy, record.id)
    if existing is not None:
        # The row keeps no hash of its own: compare with its echo's payload.
        stored = echoed_payload_hash(ctx, TABLE, record.id) or "(no echo)"
        answer = resent(stored, digest, "a receipt discrepancy")
        if answer is not None:
            return answer
    found = parse(ReceiptDiscrepancyPayload, record)
    if isinstance(found, Outcome):
        return found
    receipt = session.get(Receipt, found.receipt_id)
    if receipt is None:
        return Outcome.quarantined("unknown_receipt", f"no receipt {found.receipt_id} at the hub")
    if receipt.site_id != ctx.site_id:
        return Outcome.quarantined("other_site_receipt", "the receipt belongs to another site")
    lot_id = None
    if found.gtin is not None and found.lot_number is not None:
        lot_id = session.scalar(
            select(Lot.id).where(Lot.gtin == found.gtin, Lot.lot_number == found.lot_number)
        )
    session.add(
        ReceiptDiscrepancy(
            id=found.id,
            receipt_id=found.receipt_id,
            lot_id=lot_id,
            kind=found.kind,
            expected_vials=found.expected_vials,
            received_vials=found.received_vials,
            note=found.note,
            origin_site_id=ctx.site_id,
            created_at=found.created_at,
            created_by=actor(None, ctx.site_id),
            stored_at=ctx.now,
        )
    )
    session.flush()
    # Re-booking the receipt books this discrepancy's movement (idempotent).
    book_receipt(session, found.receipt_id, at=ctx.now)
    return Outcome(RecordStatus.APPLIED, changes=(echo(ctx, TABLE, record),))
