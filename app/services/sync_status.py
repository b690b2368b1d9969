"""What the sync state looks like to the people at the site (status bar, sync panel).

`sync_overview(engine)` reads one consistent snapshot of ``sync_state``
and the outbox: the last successful round, records waiting, the last error,
and the hub's clock offset; `sync_history(engine, limit)` lists the latest
rounds from ``sync_log``. Both only read; the rounds themselves are run by
`app.sync.worker.SyncWorker`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.local_db.models.sync import OutboxEntry, SyncRound, SyncState
from app.local_db.unit_of_work import session_scope

#: A workstation clock further than this from the hub's is shown as a warning:
#: clinical times are recorded on this clock.
CLOCK_SKEW_WARNING: Final = timedelta(minutes=2)


@dataclass(frozen=True)
class SyncOverview:
    """The site's sync state at one moment."""

    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    waiting: int
    oldest_waiting_at: datetime | None
    #: Hub clock minus this computer's clock, from the last round that reached the hub.
    hub_clock_offset_ms: int | None

    @property
    def clock_skewed(self) -> bool:
        """True when this computer's clock differs from the hub's by more than the limit."""
        if self.hub_clock_offset_ms is None:
            return False
        return abs(self.hub_clock_offset_ms) > CLOCK_SKEW_WARNING / timedelta(milliseconds=1)

    @property
    def last_round_failed(self) -> bool:
        """True when the most recent attempt failed after the last success (or with none)."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or self.last_error_at > self.last_success_at


@dataclass(frozen=True)
class SyncRoundRow:
    """One round in the sync history, newest first."""

    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    pushed: int
    pulled: int
    error: str | None


def sync_overview(engine: Engine) -> SyncOverview:
    """The current sync state; a never-synced store gives an overview with no times."""
    with session_scope(engine, write=False) as session:
        state = session.get(SyncState, 1)
        waiting, oldest = session.execute(
            sa.select(sa.func.count(OutboxEntry.seq), sa.func.min(OutboxEntry.created_at))
        ).one()
    return SyncOverview(
        last_success_at=state.last_success_at if state else None,
        last_error=state.last_error if state else None,
        last_error_at=state.last_error_at if state else None,
        waiting=int(waiting),
        oldest_waiting_at=_aware(oldest),
        hub_clock_offset_ms=state.hub_clock_offset_ms if state else None,
    )


def sync_history(engine: Engine, *, limit: int = 50) -> tuple[SyncRoundRow, ...]:
    """The latest `limit` sync rounds, newest first."""
    with session_scope(engine, write=False) as session:
        rounds = session.scalars(
            sa.select(SyncRound).order_by(SyncRound.started_at.desc()).limit(limit)
        ).all()
        return tuple(
            SyncRoundRow(
                started_at=r.started_at,
                finished_at=r.finished_at,
                outcome=r.outcome.value if r.outcome is not None else None,
                pushed=r.pushed,
                pulled=r.pulled,
                error=r.error,
            )
            for r in rounds
        )


def _aware(value: datetime | None) -> datetime | None:
    # An aggregate (min) bypasses the column type, so SQLite hands back naive UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
