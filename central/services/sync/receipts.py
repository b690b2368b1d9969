"""Pushed receipts: a site taking in a shipment. Append-only.

The shipment is found by its id when the site had pulled the notice, else
by the delivery note's reference. It must be addressed to the pushing site
(an allocation or a transfer to it): a receipt of another site's shipment,
or of a shipment the hub does not know, is quarantined with the reason. A
shipment is received once; a second receipt of it (another id) is
quarantined for central staff rather than counted twice.

The change log returns the receipt to its own site only (for a restore).
"""

from __future__ import annotations

from sqlalchemy import select

from central.db import Receipt, Shipment
from central.services.sync.append_only import actor, echo, parse, resent
from central.services.sync.kinds import ApplyContext, Outcome
from central.stock.receipts import book_receipt
from domain.sync_wire import ReceiptPayload, RecordStatus, WireRecord
from domain.wire import payload_hash

TABLE = "receipts"
RETURN_KIND = "return"
"""Shipments of this kind go from a site to the warehouse: no site receives them."""


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Store one pushed receipt, or say why not."""
    digest = payload_hash(record.payload)
    session = ctx.session
    existing = session.get(Receipt, record.id)
    answer = resent(existing.payload_hash if existing else None, digest, "a receipt")
    if answer is not None:
        return answer
    receipt = parse(ReceiptPayload, record)
    if isinstance(receipt, Outcome):
        return receipt
    if receipt.shipment_id is not None:
        shipment = session.get(Shipment, receipt.shipment_id)
    else:
        shipment = session.scalar(
            select(Shipment).where(Shipment.reference == receipt.shipment_reference)
        )
    if shipment is None:
        return Outcome.quarantined(
            "unknown_shipment",
            f"no shipment {receipt.shipment_id or receipt.shipment_reference} at the hub",
        )
    if shipment.site_id != ctx.site_id or shipment.kind == RETURN_KIND:
        return Outcome.quarantined(
            "other_site_shipment", f"shipment {shipment.id} is not addressed to this site"
        )
    earlier = session.scalar(select(Receipt.id).where(Receipt.shipment_id == shipment.id))
    if earlier is not None:
        return Outcome.quarantined(
            "already_received", f"shipment {shipment.id} was already received ({earlier})"
        )
    session.add(
        Receipt(
            id=receipt.id,
            shipment_id=shipment.id,
            site_id=ctx.site_id,
            received_at=receipt.received_at,
            note=receipt.note,
            payload_hash=digest,
            origin_site_id=ctx.site_id,
            created_at=receipt.created_at,
            created_by=actor(receipt.received_by, ctx.site_id),
            stored_at=ctx.now,
        )
    )
    session.flush()
    # Stock positions follow the receipt at once (movements from transit to the site).
    book_receipt(session, receipt.id, at=ctx.now)
    return Outcome(RecordStatus.APPLIED, changes=(echo(ctx, TABLE, record),))
