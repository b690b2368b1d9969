"""Bootstrapping a new site store from the hub's snapshot instead of replaying the log.

A store that has never pulled (no cursor) asks the hub for its snapshot
(`central.services.sync.snapshot`): the latest state of every record that
concerns the site, in pages, then the pull cursor to continue from. Each
page is applied in one write transaction together with the token of the
next page (kept in the ``settings`` row `SNAPSHOT_TOKEN_SETTING`), and the
last page together with the pull cursor: an interrupted bootstrap resumes
where it stopped, and the cursor is only ever stored with everything before
it (sync rule 5). The network is never waited on inside a transaction.

Pages are applied by the same appliers as pulled pages, in chunks
(`app.sync.apply_chunks`), so a snapshot leaves the store as a replay
would; only the cost differs.

A transport that cannot serve snapshots (an older hub, a test double) is
bootstrapped by replaying the log, as before.
"""

from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Final, Protocol, runtime_checkable

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.site import Setting
from app.local_db.models.sync import SyncState
from app.local_db.unit_of_work import session_scope
from app.sync.apply import ApplyReport
from app.sync.apply_chunks import apply_in_chunks
from domain.clock import Clock
from domain.sync_wire import SNAPSHOT_PAGE, SnapshotPage

log = logging.getLogger("imuno.site.sync")

SNAPSHOT_TOKEN_SETTING: Final = "sync.snapshot_token"  # noqa: S105 - a settings key
"""The token of the next snapshot page while a bootstrap is under way."""


@runtime_checkable
class SnapshotSource(Protocol):
    """A transport that can serve the hub's snapshot."""

    def snapshot(self, token: str | None, limit: int) -> SnapshotPage | None:
        """A page of this site's snapshot (the first when `token` is None).

        None: the hub does not serve snapshots (an older version); replay the log.
        """
        ...


def needs_bootstrap(session: Session) -> tuple[bool, str | None]:
    """Whether the store has never pulled, and the token to resume a bootstrap with."""
    state = session.get(SyncState, 1)
    if state is not None and state.pull_cursor:
        return False, None
    token = session.get(Setting, SNAPSHOT_TOKEN_SETTING)
    return True, (str(token.value) if token is not None and token.value else None)


def bootstrap(
    engine: Engine,
    source: SnapshotSource,
    site_id: uuid.UUID,
    clock: Clock,
    *,
    page_size: int = SNAPSHOT_PAGE,
) -> ApplyReport | None:
    """Fill a store that has never pulled from the hub's snapshot.

    None if it had pulled, or the hub serves no snapshot (the log is replayed).

    Returns what the pages did. Raises what the transport raises (`SyncError`);
    pages already stored stay, and the next call resumes after them.
    """
    with session_scope(engine, write=False) as session:
        fresh, token = needs_bootstrap(session)
    if not fresh:
        return None
    total = ApplyReport()
    while True:
        with _collector_paused():
            page = source.snapshot(token, page_size)
            if page is None:
                return None
            now = clock.now()
            with session_scope(engine) as session:
                report = apply_in_chunks(session, site_id, page.changes, now)
                _store_position(session, page, now)
        total.applied += report.applied
        total.unchanged += report.unchanged
        total.skipped.extend(report.skipped)
        if page.next_token is None:
            log.info("bootstrapped from the hub's snapshot: %s records", total.applied)
            return total
        token = page.next_token


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a page is read and applied.

    A page is thousands of records, each a few dicts and strings; allocating
    them sets off the collector's youngest-generation pass over and over,
    which took a fifth of a bootstrap (measured: 50,000 citizens, about 2 s
    of 10 CPU seconds). Reference counting frees nearly all of it anyway;
    whatever forms a cycle is collected once the collector is on again,
    between pages.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _store_position(session: Session, page: SnapshotPage, now: datetime) -> None:
    token = session.get(Setting, SNAPSHOT_TOKEN_SETTING)
    if page.next_token is not None:
        if token is None:
            session.add(
                Setting(key=SNAPSHOT_TOKEN_SETTING, value=page.next_token, updated_at=now,
                        updated_by=None)
            )  # fmt: skip
        else:
            token.value, token.updated_at = page.next_token, now
        return
    if token is not None:
        session.delete(token)
    state = session.get(SyncState, 1)
    if state is None:
        state = SyncState(id=1)
        session.add(state)
    state.pull_cursor = page.cursor
    state.last_pull_at = now
    state.updated_at = now
