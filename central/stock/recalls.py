"""Recalling a lot: from now on no site may ship, receive or use its vials.

The recall is announced to every site in the change log (with the lot's
GTIN and number), so each site's next pull brings it; the site then refuses
the lot at scan, lists the vials to quarantine and the citizens who already
had a dose from it (`app.services.recalls`). Stock is not moved: the vials
stay where they are, in quarantine, until they are returned or destroyed.
A recall made by mistake is lifted (the row stays, with who lifted it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from central.db import Lot, Recall
from central.services.context import Hub
from central.services.records import audit
from central.services.sync.publish import publish
from central.stock.errors import AlreadyRecalled, NotRecalled
from central.stock.lots import find_lot


@dataclass(frozen=True)
class RecallView:
    """A recall of one lot."""

    id: uuid.UUID
    lot_id: uuid.UUID
    gtin: str
    lot_number: str
    product_id: str
    expiry: date
    reason: str
    effective_at: datetime
    lifted_at: datetime | None


def _view(recall: Recall, lot: Lot) -> RecallView:
    return RecallView(
        recall.id,
        lot.id,
        lot.gtin,
        lot.lot_number,
        lot.product_id,
        lot.expiry,
        recall.reason,
        recall.effective_at,
        recall.lifted_at,
    )


def recall_lot(
    hub: Hub, lot_number: str, *, reason: str, actor: str, gtin: str | None = None
) -> RecallView:
    """Recall a lot now and announce it to every site.

    Raises `StockNotFound`, `LotAmbiguous` or `AlreadyRecalled`.
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        lot = find_lot(session, lot_number, gtin)
        standing = session.scalar(
            select(Recall).where(Recall.lot_id == lot.id, Recall.lifted_at.is_(None))
        )
        if standing is not None:
            raise AlreadyRecalled(lot_number=lot_number, since=standing.effective_at.isoformat())
        recall = Recall(
            lot_id=lot.id, reason=reason, effective_at=now, created_at=now, created_by=actor
        )
        session.add(recall)
        session.flush()
        audit(session, occurred_at=now, actor=actor, action="stock.lot_recalled", entity=recall)
        publish(session, [recall], now)
        return _view(recall, lot)


def lift_recall(hub: Hub, lot_number: str, *, actor: str, gtin: str | None = None) -> RecallView:
    """Lift the recall in force on a lot (a mistaken recall) and announce it.

    Raises `StockNotFound`, `LotAmbiguous` or `NotRecalled`.
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        lot = find_lot(session, lot_number, gtin)
        recall = session.scalar(
            select(Recall).where(Recall.lot_id == lot.id, Recall.lifted_at.is_(None))
        )
        if recall is None:
            raise NotRecalled(lot_number=lot_number)
        recall.lifted_at = now
        recall.lifted_by = actor
        session.flush()
        audit(session, occurred_at=now, actor=actor, action="stock.recall_lifted", entity=recall)
        publish(session, [recall], now)
        return _view(recall, lot)


def list_recalls(hub: Hub) -> list[RecallView]:
    """Every recall, newest first."""
    with hub.read_sessions() as session:
        rows = session.execute(
            select(Recall, Lot)
            .join(Lot, Lot.id == Recall.lot_id)
            .order_by(Recall.effective_at.desc())
        ).all()
        return [_view(recall, lot) for recall, lot in rows]
