"""Noticing an outbox that stopped draining.

A site can look healthy (rounds run, pulls succeed) while its outbox does
not drain: a batch the hub keeps refusing, a bug. The watchdog compares the
oldest waiting change's age with a limit and reports it, for the manager's
sync screen and the hub's status (the backlog travels with each push).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from app.local_db.unit_of_work import session_scope
from app.sync import outbox

DEFAULT_STALL_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class OutboxHealth:
    """How the outbox is doing at one moment."""

    backlog: int
    oldest_age: timedelta | None
    stalled: bool


def check_outbox(
    engine: Engine, now: datetime, *, stall_after: timedelta = DEFAULT_STALL_AFTER
) -> OutboxHealth:
    """The outbox's size and age; ``stalled`` when its oldest change waits longer than allowed."""
    with session_scope(engine, write=False) as session:
        backlog = outbox.backlog(session)
        oldest = outbox.oldest_waiting(session)
    age = now - oldest if oldest is not None else None
    return OutboxHealth(backlog, age, age is not None and age > stall_after)
