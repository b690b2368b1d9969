"""Bootstrapping a new site: a snapshot of what concerns it, instead of the whole log.

A site with no pull cursor would otherwise replay every change-log entry
addressed to it or to every site, each version of each record. The snapshot
is that same log compacted: for every record, its last upsert up to a fixed
position ``high`` (the counter's value when the snapshot began), served in
the order the records first appeared in the log, so a citizen comes before
its appointments and a dose after the dose it corrects, as in a replay.
Applying the snapshot and then pulling from ``high`` on therefore leaves the
site as a replay from the start would (tested), whatever tables other
modules announce (sites, catalogue and rules, lots, recalls, users,
shipments): the snapshot knows no table by name.

Deletes are left out as a replay leaves them (sites keep what they hold).
Unlike a pull, the snapshot includes the site's own records: a site
starting from nothing has none of them.

Pages are keyed by the first-appearance seq, so they are stable: the token
names ``high`` and the last seq served, and the log is append-only, so a
site may resume an interrupted bootstrap with the token it stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from central.db import ChangeLog, ChangeLogCounter, ChangeOp, SiteSyncStatus
from central.services.context import Hub
from central.services.sync.cursor import Cursor, CursorInvalid
from domain.sync_wire import SNAPSHOT_PAGE, PulledChange, SnapshotPage

_VERSION = "s1"


@dataclass(frozen=True)
class SnapshotToken:
    """Where a snapshot stands: its fixed end ``high`` and the last first-seq served."""

    high: int
    after: int = 0

    def encode(self) -> str:
        return f"{_VERSION}.{self.high}.{self.after}"

    @classmethod
    def decode(cls, text: str) -> SnapshotToken:
        parts = text.split(".")
        if len(parts) != 3 or parts[0] != _VERSION or not all(p.isdigit() for p in parts[1:]):
            raise CursorInvalid()
        return cls(int(parts[1]), int(parts[2]))


def snapshot_page(
    session: Session, site_id: uuid.UUID, token_text: str | None, *, limit: int, now: datetime
) -> SnapshotPage:
    """The next page of the site's snapshot (the first page when `token_text` is None)."""
    limit = max(1, min(limit, SNAPSHOT_PAGE))
    if token_text:
        token = SnapshotToken.decode(token_text)
    else:
        token = SnapshotToken(session.scalar(select(ChangeLogCounter.last_seq)) or 0)
    records = (
        select(
            func.min(ChangeLog.seq).label("first_seq"),
            func.max(ChangeLog.seq).label("last_seq"),
        )
        .where(
            or_(ChangeLog.audience_site_id == site_id, ChangeLog.audience_site_id.is_(None)),
            ChangeLog.seq <= token.high,
            ChangeLog.op == ChangeOp.UPSERT.value,
        )
        .group_by(ChangeLog.table_name, ChangeLog.record_id)
        .subquery()
    )
    keys = session.execute(
        select(records.c.first_seq, records.c.last_seq)
        .where(records.c.first_seq > token.after)
        .order_by(records.c.first_seq)
        .limit(limit + 1)
    ).all()
    has_more = len(keys) > limit
    keys = keys[:limit]
    # Plain rows, not ORM objects: a page is thousands of entries only read.
    latest = {
        row.seq: row
        for row in session.execute(
            select(
                ChangeLog.seq,
                ChangeLog.table_name,
                ChangeLog.record_id,
                ChangeLog.op,
                ChangeLog.origin_site_id,
                ChangeLog.hlc,
                ChangeLog.payload,
            ).where(ChangeLog.seq.in_([last for _, last in keys]))
        )
    }
    changes = [
        PulledChange(
            seq=row.seq,
            table=row.table_name,
            record_id=row.record_id,
            op=row.op,
            origin_site_id=row.origin_site_id,
            hlc=row.hlc,
            payload=row.payload,
        )
        for row in (latest[last] for _, last in keys)
    ]
    _record(session, site_id, now)
    return SnapshotPage(
        changes=changes,
        next_token=SnapshotToken(token.high, keys[-1][0]).encode() if has_more else None,
        cursor=Cursor(token.high).encode(),
        hub_time=now,
    )


def _record(session: Session, site_id: uuid.UUID, now: datetime) -> None:
    status = session.get(SiteSyncStatus, site_id)
    if status is None:
        status = SiteSyncStatus(site_id=site_id, clock_flagged=False, updated_at=now)
        session.add(status)
    status.last_pull_at = now
    status.updated_at = now


def snapshot(hub: Hub, site_id: uuid.UUID, token: str | None, *, limit: int) -> SnapshotPage:
    """`snapshot_page` in its own transaction, committed."""
    with hub.sessions() as session, session.begin():
        return snapshot_page(session, site_id, token, limit=limit, now=hub.clock.now())
