"""Finding lots and the recalls in force on them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import Lot, Recall
from central.stock.errors import LotAmbiguous, LotRecalled, StockNotFound


def find_lot(session: Session, lot_number: str, gtin: str | None = None) -> Lot:
    """The lot with this number (and GTIN, needed only when the number is ambiguous).

    Raises `StockNotFound` or `LotAmbiguous`.
    """
    query = select(Lot).where(Lot.lot_number == lot_number)
    if gtin is not None:
        query = query.where(Lot.gtin == gtin.zfill(14))
    found = session.scalars(query).all()
    if not found:
        raise StockNotFound(thing="lot", key=lot_number)
    if len(found) > 1:
        raise LotAmbiguous(lot_number=lot_number, gtins=", ".join(sorted(f.gtin for f in found)))
    return found[0]


def recalls_in_force(session: Session, at: datetime) -> dict[uuid.UUID, Recall]:
    """Recalls not lifted and already effective at `at`, by lot id."""
    rows = session.scalars(
        select(Recall).where(Recall.lifted_at.is_(None), Recall.effective_at <= at)
    )
    return {recall.lot_id: recall for recall in rows}


def refuse_recalled(session: Session, lot: Lot, at: datetime) -> None:
    """Raise `LotRecalled` if a recall of `lot` is in force at `at`."""
    recall = session.scalar(
        select(Recall).where(
            Recall.lot_id == lot.id, Recall.lifted_at.is_(None), Recall.effective_at <= at
        )
    )
    if recall is not None:
        raise LotRecalled(lot_number=lot.lot_number, reason=recall.reason)
