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
names ``high`` and the last seq served, and every entry up to ``high`` is
committed (the counter hands seqs out in commit order) and never changes
(the log is append-only), so a site may resume an interrupted bootstrap
with the token it stored, and a change committed during the bootstrap
comes with the pulls after ``high``, once.

Cost. Which records a page holds depends on the whole log up to ``high``
(a record's first appearance), so finding them means grouping every entry
for the site: a fraction of a second for 150,000 entries, once per page.
That list is a pure function of (database, site, ``high``), for the reason
above, so it is computed once and kept (`_Keys`, a few bytes per record, a
bounded number of snapshots per process); a hub process that lacks it (a
restart, another worker) computes it again and finds the same. (A hub
database restored from a backup is a different log: restart the hub
processes, as after any restore.) A page is
then one read by primary key. The answer is written as JSON text straight
from the stored payloads (``payload`` read as text: JSON on SQLite, jsonb
on PostgreSQL), without decoding them and encoding them again.
"""

from __future__ import annotations

import json
import threading
import uuid
from array import array
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import pydantic_core
from sqlalchemy import Text, bindparam, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from central.db import ChangeLog, ChangeLogCounter, ChangeOp, SiteSyncStatus
from central.services.context import Hub
from central.services.sync.cursor import Cursor, CursorInvalid
from domain.sync_wire import SNAPSHOT_PAGE, SnapshotPage

_VERSION = "s1"

KEPT_SNAPSHOTS: Final = 16
"""Snapshots whose record list a hub process keeps (about 16 bytes per record each)."""


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


@dataclass(frozen=True)
class _Keys:
    """Every record of one snapshot: where it first appeared and its last upsert.

    ``first`` ascending; ``last[i]`` is the seq of the entry served for the
    record that first appeared at ``first[i]``.
    """

    first: array[int]
    last: array[int]

    def page(self, after: int, limit: int) -> tuple[list[int], list[int], bool]:
        """The first seqs and last seqs of up to `limit` records after `after`; more left?"""
        start = bisect_right(self.first, after)
        end = min(start + limit, len(self.first))
        return list(self.first[start:end]), list(self.last[start:end]), end < len(self.first)


_kept: OrderedDict[tuple[str, uuid.UUID, int], _Keys] = OrderedDict()
_kept_lock = threading.Lock()


def _snapshot_keys(session: Session, site_id: uuid.UUID, high: int) -> _Keys:
    """The snapshot's records, from the process's store or grouped from the log."""
    name = (session.connection().engine.url.render_as_string(), site_id, high)
    with _kept_lock:
        keys = _kept.get(name)
        if keys is not None:
            _kept.move_to_end(name)
            return keys
    pairs = session.execute(
        select(func.min(ChangeLog.seq), func.max(ChangeLog.seq))
        .where(
            or_(ChangeLog.audience_site_id == site_id, ChangeLog.audience_site_id.is_(None)),
            ChangeLog.seq <= high,
            ChangeLog.op == ChangeOp.UPSERT.value,
        )
        .group_by(ChangeLog.table_name, ChangeLog.record_id)
    )
    ordered = sorted((first, last) for first, last in pairs)  # plain tuples: Rows compare slowly
    keys = _Keys(array("q", (p[0] for p in ordered)), array("q", (p[1] for p in ordered)))
    with _kept_lock:
        _kept[name] = keys
        while len(_kept) > KEPT_SNAPSHOTS:
            _kept.popitem(last=False)
    return keys


_Entry = tuple[int, str, uuid.UUID, str, uuid.UUID | None, str | None, str | None]
"""seq, table, record id, op, origin site, hlc, payload as JSON text."""


def _entries(session: Session, seqs: list[int]) -> dict[int, _Entry]:
    """The change-log entries `seqs`, by seq, with the payload as its stored JSON text."""
    if not seqs:
        return {}
    # The numbers inline: thousands of placeholders cost the driver more to parse.
    wanted: BindParameter[int] = bindparam("seqs", seqs, expanding=True, literal_execute=True)
    return {
        seq: (seq, table, record_id, op, origin, hlc, payload)
        for seq, table, record_id, op, origin, hlc, payload in session.execute(
            select(
                ChangeLog.seq,
                ChangeLog.table_name,
                ChangeLog.record_id,
                ChangeLog.op,
                ChangeLog.origin_site_id,
                ChangeLog.hlc,
                cast(ChangeLog.payload, Text),
            ).where(ChangeLog.seq.in_(wanted))
        )
    }


def _text(value: str | None) -> str:
    return "null" if value is None else json.dumps(value)


def _uuid_text(value: uuid.UUID | None) -> str:
    return "null" if value is None else f'"{value}"'


def snapshot_page_json(
    session: Session, site_id: uuid.UUID, token_text: str | None, *, limit: int, now: datetime
) -> bytes:
    """The next page of the site's snapshot as the JSON of a `SnapshotPage` (UTF-8).

    The first page when `token_text` is None. Raises `CursorInvalid` for a
    token the hub did not issue (or one ahead of the log). Records the
    site's pull time in its sync status.
    """
    limit = max(1, min(limit, SNAPSHOT_PAGE))
    last_seq = session.scalar(select(ChangeLogCounter.last_seq)) or 0
    token = SnapshotToken.decode(token_text) if token_text else SnapshotToken(last_seq)
    if token.high > last_seq:
        raise CursorInvalid()  # entries up to it may still change: not a token of ours
    firsts, lasts, has_more = _snapshot_keys(session, site_id, token.high).page(token.after, limit)
    rows = _entries(session, lasts)
    changes = ",".join(
        f'{{"seq":{seq},"table":{_text(table)},"record_id":{_uuid_text(record_id)},'
        f'"op":{_text(op)},"origin_site_id":{_uuid_text(origin)},"hlc":{_text(hlc)},'
        f'"payload":{payload or "null"}}}'
        for seq, table, record_id, op, origin, hlc, payload in (rows[last] for last in lasts)
    )
    rest = pydantic_core.to_json(
        {
            "next_token": SnapshotToken(token.high, firsts[-1]).encode() if has_more else None,
            "cursor": Cursor(token.high).encode(),
            "hub_time": now,
        }
    )
    _record(session, site_id, now)
    return b'{"changes":[' + changes.encode("utf-8") + b"]," + rest[1:]


def snapshot_page(
    session: Session, site_id: uuid.UUID, token_text: str | None, *, limit: int, now: datetime
) -> SnapshotPage:
    """`snapshot_page_json`, read as a site reads it."""
    return SnapshotPage.model_validate_json(
        snapshot_page_json(session, site_id, token_text, limit=limit, now=now)
    )


def _record(session: Session, site_id: uuid.UUID, now: datetime) -> None:
    status = session.get(SiteSyncStatus, site_id)
    if status is None:
        status = SiteSyncStatus(site_id=site_id, clock_flagged=False, updated_at=now)
        session.add(status)
    status.last_pull_at = now
    status.updated_at = now


def snapshot_json(hub: Hub, site_id: uuid.UUID, token: str | None, *, limit: int) -> bytes:
    """`snapshot_page_json` in its own transaction, committed: the HTTP answer's body."""
    with hub.sessions() as session, session.begin():
        return snapshot_page_json(session, site_id, token, limit=limit, now=hub.clock.now())


def snapshot(hub: Hub, site_id: uuid.UUID, token: str | None, *, limit: int) -> SnapshotPage:
    """`snapshot_json`, read as a site reads it (for in-process transports)."""
    return SnapshotPage.model_validate_json(snapshot_json(hub, site_id, token, limit=limit))
