"""Standby lists for leftover vial doses, as the hub's scheduler sent them.

When the last vial a session opens has doses left, the site calls in the
citizens on that session's standby list, in ``position`` order (1 first).
The hub writes the lists with each scheduling run and sends a site the lists
of its own sessions; the site only mirrors them. A newer run's lists
supersede older ones: readers take the latest ``run_id`` (UUIDv7, so later
runs sort later) for a day and product.
"""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.local_db.models.base import Base, ReplicaOfHub


class StandbyEntry(ReplicaOfHub, Base):
    """One citizen on the standby list of one day and product at this site (replica)."""

    __tablename__ = "standby_entries"
    __table_args__ = (
        sa.Index(None, "day", "product_code", "run_id", "position"),
        sa.CheckConstraint("position >= 1", name="position_positive"),
    )

    run_id: Mapped[uuid.UUID]
    day: Mapped[date]
    product_code: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int]
    citizen_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("citizens.id"))
