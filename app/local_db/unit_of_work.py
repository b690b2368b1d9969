"""Short transactions over the site store: one `session_scope` per use case.

A write scope opens with ``BEGIN IMMEDIATE`` (see `app.local_db.engine`), so
the use case holds the single write lock from its first statement: everything
it does, the change and its outbox row alike, commits together or not at all.
A read scope (``write=False``) reads one consistent snapshot, never takes the
lock, and fails if anything tries to write in it.

Keep scopes short: while a write scope is open, every other writer waits
(up to `BUSY_TIMEOUT_MS`). Do network and printing outside them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.engine import read_only
from app.local_db.guards import guard_error


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """A session committed when the block ends normally, rolled back when it raises.

    Objects stay usable after the commit (``expire_on_commit=False``), so a
    use case can return what it wrote. A trigger's refusal (double dose,
    change to an append-only fact) is raised as its `SiteStoreError`.
    A read scope ends its transaction without committing; what it loaded
    stays readable.
    """
    bind = engine if write else read_only(engine)
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            if write:
                session.commit()
            # A read scope just closes: its objects stay readable, where a
            # rollback would expire them.
        except sa.exc.DBAPIError as exc:
            session.rollback()
            translated = guard_error(exc)
            if translated is not None:
                raise translated from exc
            raise
        except BaseException:
            session.rollback()
            raise
