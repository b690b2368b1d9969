"""What the sync engine keeps: the outbox, the pull cursor and the history of rounds.

The outbox row of a change is written in the same local transaction as the
change (DESIGN.md, sync rule 4) and deleted only once the hub acknowledged it.
``seq`` orders the outbox: it is an AUTOINCREMENT integer, so it follows commit
order under SQLite's single writer, never goes back when the wall clock does,
and is never reused after acknowledged rows are deleted. ``id`` is the change's
own UUIDv7, which the hub uses to recognise a re-sent change.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.local_db.models.base import Base, enum_type
from domain.ids import uuid7


class OutboxOp(enum.StrEnum):
    """The kind of change a row carries to the hub."""

    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


class OutboxEntry(Base):
    """A change waiting to be pushed to the hub."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index(None, "table_name", "record_id"), {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid7)
    table_name: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[uuid.UUID]
    op: Mapped[OutboxOp] = mapped_column(enum_type(OutboxOp, "outbox_op"))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(2000))


class SyncState(Base):
    """The one row of sync progress."""

    __tablename__ = "sync_state"
    __table_args__ = (sa.CheckConstraint("id = 1", name="singleton"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    #: The hub's change-log position after the last page stored (opaque to the site).
    pull_cursor: Mapped[str | None] = mapped_column(sa.String(200))
    last_push_at: Mapped[datetime | None]
    last_pull_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(2000))
    last_error_at: Mapped[datetime | None]
    #: Hub clock minus local clock, from the last round (milliseconds).
    hub_clock_offset_ms: Mapped[int | None]
    #: Highest HLC timestamp issued or seen here, so the clock survives restarts.
    hlc_high_water: Mapped[str | None] = mapped_column(sa.String(64))
    trust_list_version: Mapped[str | None] = mapped_column(sa.String(64))
    revocation_list_version: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime | None]


class SyncOutcome(enum.StrEnum):
    """How a sync round ended."""

    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"


class SyncRound(Base):
    """One sync round, kept for the manager's sync screen and for support."""

    __tablename__ = "sync_log"
    __table_args__ = (sa.Index(None, "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[SyncOutcome | None] = mapped_column(enum_type(SyncOutcome, "sync_outcome"))
    pushed: Mapped[int] = mapped_column(default=0)
    pulled: Mapped[int] = mapped_column(default=0)
    cursor_before: Mapped[str | None] = mapped_column(sa.String(200))
    cursor_after: Mapped[str | None] = mapped_column(sa.String(200))
    hub_clock_offset_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.String(2000))
