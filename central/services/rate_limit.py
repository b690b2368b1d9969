"""Requests per minute per credential, counted in the database.

A fixed-window counter per key (``site:<credential id>``, ``staff:<token
id>``, ``anon:<client address>``): one row per key holding the current
window's number and its hit count, bumped by one atomic upsert
(``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``) in the same transaction
that authenticates the request. Because the count lives in the database,
several worker processes (or hosts) over one PostgreSQL enforce one limit;
nothing is kept in process memory. Each key touches only its own row, so
sites never contend with each other.

A fixed window lets a client send up to twice the limit across a window
boundary; that is accepted for a limit meant to stop runaway clients and
brute force, not to meter fairly. A worker whose clock lags sees an older
window number; the upsert never moves a row's window backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Final

from sqlalchemy import Table, bindparam, case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from central.db.models import RateLimitCounter
from central.db.models.security import RATE_LIMIT_KEY_LENGTH

KEY_LENGTH: Final = RATE_LIMIT_KEY_LENGTH
WINDOW_SECONDS: Final = 60
STALE_WINDOWS: Final = 24 * 60
"""Rows of keys unseen for this many windows (a day) are deleted at start-up."""

_table = RateLimitCounter.__table__
assert isinstance(_table, Table)
rate_limit_counters: Final[Table] = _table


@cache
def _upsert(dialect: str) -> Any:
    """The counting statement for `dialect`, built once (building costs more than running)."""
    table = rate_limit_counters
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(key=bindparam("key"), window_no=bindparam("window_no"), hits=1)
    newer = statement.excluded.window_no > table.c.window_no
    return statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "hits": case((newer, 1), else_=table.c.hits + 1),
            "window_no": case((newer, statement.excluded.window_no), else_=table.c.window_no),
        },
    ).returning(table.c.hits)


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one counted request."""

    allowed: bool
    limit: int
    hits: int
    retry_after: int
    """Seconds until the window ends (when not allowed)."""


class RateLimiter:
    """Counts requests per key in fixed windows of `window_seconds`."""

    def __init__(self, window_seconds: int = WINDOW_SECONDS) -> None:
        if window_seconds < 1:
            raise ValueError("window_seconds must be at least 1")
        self.window_seconds = window_seconds

    def window_of(self, now: datetime) -> int:
        """The number of the window `now` falls in."""
        return int(now.timestamp()) // self.window_seconds

    def hit(self, session: Session, key: str, limit: int, now: datetime) -> RateDecision:
        """Count one request for `key` in the session's transaction.

        A `limit` of 0 means unlimited: nothing is counted. Does not commit.
        """
        if limit <= 0:
            return RateDecision(allowed=True, limit=0, hits=0, retry_after=0)
        window = self.window_of(now)
        statement = _upsert(session.get_bind().dialect.name)
        parameters = {"key": key[:KEY_LENGTH], "window_no": window}
        hits = int(session.execute(statement, parameters).scalar_one())
        window_end = (window + 1) * self.window_seconds
        retry_after = max(1, window_end - int(now.timestamp()))
        return RateDecision(allowed=hits <= limit, limit=limit, hits=hits, retry_after=retry_after)

    def forget_stale(self, session: Session, now: datetime) -> int:
        """Delete the rows of keys not seen for `STALE_WINDOWS` windows; return how many."""
        oldest = self.window_of(now) - STALE_WINDOWS
        result = session.execute(
            delete(rate_limit_counters).where(rate_limit_counters.c.window_no < oldest)
        )
        return int(getattr(result, "rowcount", 0) or 0)
