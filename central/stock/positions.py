"""Stock positions, always summed from movements.

A position is the vials of one lot at one location: movements into the
location minus movements out of it. Both sums run on the covering indexes
``ix_stock_movements_inflow`` (to_location, lot_id, quantity_vials) and
``ix_stock_movements_outflow`` (from_location, lot_id, quantity_vials), so a
query for a location prefix (every site, ``site:%``) or for one location is
answered from the indexes alone on both engines.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select, text, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from central.db import StockMovement


@dataclass(frozen=True)
class Position:
    """Vials of one lot at one location."""

    location: str
    lot_id: uuid.UUID
    vials: int


def _filter(
    column: InstrumentedAttribute[str],
    lot_column: InstrumentedAttribute[uuid.UUID],
    location: str | None,
    prefix: str | None,
    lot_ids: Iterable[uuid.UUID] | None,
) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if location is not None:
        conditions.append(column == location)
    if prefix is not None:
        # A range instead of LIKE: uses the index under any collation.
        conditions.append(and_(column >= prefix, column < prefix[:-1] + chr(ord(prefix[-1]) + 1)))
    if lot_ids is not None:
        conditions.append(lot_column.in_(list(lot_ids)))
    return and_(*conditions) if conditions else true()


def positions(
    session: Session,
    *,
    location: str | None = None,
    prefix: str | None = None,
    lot_ids: Iterable[uuid.UUID] | None = None,
    include_zero: bool = False,
) -> dict[tuple[str, uuid.UUID], int]:
    """Vials by (location, lot), for one location, a location prefix, or all.

    Zero positions are left out unless `include_zero`. A negative position
    (more left than ever arrived) is returned as it is: it means a movement
    is missing, and hiding it would hide the error.
    """
    lots = list(lot_ids) if lot_ids is not None else None
    if session.connection().dialect.name == "postgresql":
        # Compiling the aggregate with JIT costs more than it saves (about a tenth of
        # the time over ten million movements); off for the rest of this transaction.
        session.execute(text("SET LOCAL jit = off"))
    inflow = (
        select(
            StockMovement.to_location, StockMovement.lot_id, func.sum(StockMovement.quantity_vials)
        )
        .where(_filter(StockMovement.to_location, StockMovement.lot_id, location, prefix, lots))
        .group_by(StockMovement.to_location, StockMovement.lot_id)
    )
    outflow = (
        select(
            StockMovement.from_location,
            StockMovement.lot_id,
            func.sum(StockMovement.quantity_vials),
        )
        .where(_filter(StockMovement.from_location, StockMovement.lot_id, location, prefix, lots))
        .group_by(StockMovement.from_location, StockMovement.lot_id)
    )
    totals: dict[tuple[str, uuid.UUID], int] = defaultdict(int)
    for where, lot_id, vials in session.execute(inflow):
        totals[(where, lot_id)] += int(vials)
    for where, lot_id, vials in session.execute(outflow):
        totals[(where, lot_id)] -= int(vials)
    if include_zero:
        return dict(totals)
    return {key: vials for key, vials in totals.items() if vials != 0}


def position_list(
    session: Session, *, location: str | None = None, prefix: str | None = None
) -> list[Position]:
    """`positions` as values, ordered by location and lot."""
    found = positions(session, location=location, prefix=prefix)
    return [Position(where, lot, vials) for (where, lot), vials in sorted(found.items())]


def on_hand(session: Session, location: str, lot_id: uuid.UUID) -> int:
    """Vials of `lot_id` at `location` now."""
    return positions(session, location=location, lot_ids=[lot_id], include_zero=True).get(
        (location, lot_id), 0
    )
