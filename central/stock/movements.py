"""Moving vials: the only way a stock position changes.

A movement is an append-only row; a position is the sum of movements (see
`central.stock.positions`). Writers that check a position before moving
vials out of it first take `lock_stock`, so two transactions cannot both see
the same vials and both take them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from central.db import MovementKind, StockMovement
from central.stock.errors import QuantityNotPositive

_ADVISORY_KEY: Final = 0x5_70C_4ED
"""PostgreSQL advisory-lock key of stock writers (any fixed number)."""


@dataclass(frozen=True)
class Move:
    """Vials of one lot going from one location to another, and why."""

    kind: MovementKind
    from_location: str
    to_location: str
    lot_id: uuid.UUID
    vials: int
    reference_table: str | None = None
    reference_id: uuid.UUID | None = None


def lock_stock(session: Session) -> None:
    """Serialise stock writers until the transaction ends.

    PostgreSQL: a transaction-level advisory lock. SQLite: the hub's write
    transactions begin IMMEDIATE and already hold the database's write lock.
    """
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY})


def record_moves(
    session: Session,
    moves: list[Move],
    *,
    at: datetime,
    actor: str,
    origin_site_id: uuid.UUID | None = None,
    stored_at: datetime | None = None,
) -> list[StockMovement]:
    """Add one `StockMovement` per move to the session (flushed, not committed).

    `at` is when the vials moved; `stored_at` the hub's clock (defaults to
    `at`). Raises `QuantityNotPositive` for a move of no vials.
    """
    rows: list[StockMovement] = []
    for move in moves:
        if move.vials <= 0:
            raise QuantityNotPositive(quantity=move.vials)
        rows.append(
            StockMovement(
                kind=move.kind.value,
                occurred_at=at,
                from_location=move.from_location,
                to_location=move.to_location,
                lot_id=move.lot_id,
                quantity_vials=move.vials,
                reference_table=move.reference_table,
                reference_id=move.reference_id,
                origin_site_id=origin_site_id,
                stored_at=stored_at or at,
                created_at=at,
                created_by=actor,
            )
        )
    session.add_all(rows)
    session.flush()
    return rows
