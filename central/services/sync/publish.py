"""Bringing hub-made stock rows to the sites: lots, recalls, shipments.

The hub announces what sites must pull by appending change-log entries in
the transaction that makes the change (`central.services.records.announce`,
the mechanism every hub service uses; the scheduler bulk-writes the same
entries). This module gives those entries for stock rows, in the wire forms
of `domain.sync_wire` (`LotPayload`, `RecallPayload`, `ShipmentPayload`),
which the sites' `app.sync.apply` understands:

- a lot goes to every site (the catalogue of lots with their expiry);
- a recall goes to every site, and again when it is lifted;
- a shipment goes to the site it is addressed to (an allocation or a
  transfer to it), with all its lines; announce it again whenever it or its
  lines change (dispatch, cancellation). Returns (site -> warehouse) are not
  announced: no site receives them.

Usage, last in the transaction that created or changed the rows::

    publish(session, [lot, recall, shipment], now)

or merge `stock_changes(session, rows)` into the caller's own `announce`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import ChangeOp, Lot, NewChange, Recall, Shipment, ShipmentLine
from central.services.records import announce
from domain.data import load_rules
from domain.sync_wire import LotPayload, RecallPayload, ShipmentLinePayload, ShipmentPayload

UNANNOUNCED_SHIPMENT_KINDS: Final = frozenset({"return"})
"""Shipment kinds no site receives (site -> warehouse)."""

StockRow = Lot | Recall | Shipment


def _manufacturer(product_id: str) -> str:
    product = load_rules().catalogue.get(product_id)
    return product.manufacturer if product is not None else ""


def lot_payload(lot: Lot) -> LotPayload:
    """The wire form of a lot."""
    return LotPayload(
        id=lot.id,
        gtin=lot.gtin,
        lot_number=lot.lot_number,
        product_code=lot.product_id,
        expiry_date=lot.expiry,
        manufacturer=_manufacturer(lot.product_id),
        created_at=lot.created_at,
    )


def recall_payload(session: Session, recall: Recall) -> RecallPayload:
    """The wire form of a recall (its lot's GTIN and number looked up)."""
    lot = session.get_one(Lot, recall.lot_id)
    return RecallPayload(
        id=recall.id,
        lot_id=lot.id,
        gtin=lot.gtin,
        lot_number=lot.lot_number,
        product_code=lot.product_id,
        reason=recall.reason,
        effective_at=recall.effective_at,
        lifted_at=recall.lifted_at,
        created_at=recall.created_at,
    )


def shipment_payload(session: Session, shipment: Shipment) -> ShipmentPayload:
    """The wire form of a shipment with its lines (as now in the session)."""
    session.flush()
    lines = session.execute(
        select(ShipmentLine, Lot)
        .join(Lot, Lot.id == ShipmentLine.lot_id)
        .where(ShipmentLine.shipment_id == shipment.id)
        .order_by(ShipmentLine.id)
    ).all()
    return ShipmentPayload(
        id=shipment.id,
        reference=shipment.reference or str(shipment.id),
        kind=shipment.kind,
        site_id=shipment.site_id,
        from_site_id=shipment.from_site_id,
        dispatched_at=shipment.dispatched_at,
        expected_at=shipment.expected_at,
        cancelled_at=shipment.cancelled_at,
        lines=[
            ShipmentLinePayload(
                id=line.id,
                lot_id=lot.id,
                product_code=lot.product_id,
                gtin=lot.gtin,
                lot_number=lot.lot_number,
                expiry_date=lot.expiry,
                quantity_vials=line.quantity_vials,
            )
            for line, lot in lines
        ],
        created_at=shipment.created_at,
    )


def _change(
    table: str, payload: BaseModel, record_id: uuid.UUID, audience: uuid.UUID | None
) -> NewChange:
    return NewChange(
        table_name=table,
        record_id=record_id,
        op=ChangeOp.UPSERT,
        payload=payload.model_dump(mode="json"),
        audience_site_id=audience,
        origin_site_id=None,
    )


def stock_changes(session: Session, rows: Iterable[StockRow]) -> list[NewChange]:
    """The change-log entries announcing `rows` to the sites concerned, in order."""
    changes: list[NewChange] = []
    for row in rows:
        if isinstance(row, Lot):
            changes.append(_change("lots", lot_payload(row), row.id, None))
        elif isinstance(row, Recall):
            changes.append(_change("recalls", recall_payload(session, row), row.id, None))
        elif row.kind not in UNANNOUNCED_SHIPMENT_KINDS:
            payload = shipment_payload(session, row)
            changes.append(_change("shipments", payload, row.id, row.site_id))
    return changes


def publish(session: Session, rows: Sequence[StockRow], now: datetime) -> None:
    """Announce `rows` to the sites. Call last in the transaction (it takes the
    change-log lock), after the rows and a shipment's lines are added."""
    announce(session, stock_changes(session, rows), now)
