"""Serving a site the change-log entries that concern it, in commit order.

Committed change-log seqs are gap-free and in commit order (see
`central.db.change_log`), so every entry up to the counter's value read at
the start of a pull is committed and visible: a page reads the counter first,
then the entries with ``cursor < seq <= counter`` for the site or for every
site. Entries the site itself originated are left out (it has them), except
up to the cursor's ``own_until`` after a restore from a backup. A cursor
older than the one the site last reported is answered with `SequenceGap`
(the site was restored from a backup).

The next cursor is the last entry's seq when the page is full, else the
counter value read: entries for other sites between are skipped for good.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from central.db import ChangeLog, ChangeLogCounter, SiteSyncStatus
from central.services.context import Hub
from central.services.sync.cursor import Cursor
from central.services.sync.push import last_acknowledged_seq, sequence_gap
from domain.sync_wire import MAX_PULL_PAGE, PulledChange, PullPage


def pull_page(
    session: Session, site_id: uuid.UUID, cursor_text: str | None, *, limit: int, now: datetime
) -> PullPage:
    """The next page after the cursor; records the site's position in its sync status."""
    cursor = Cursor.decode(cursor_text)
    limit = max(1, min(limit, MAX_PULL_PAGE))
    _check_not_restored(session, site_id, cursor)
    high = session.scalar(select(ChangeLogCounter.last_seq)) or 0
    rows = _page_rows(session, site_id, cursor, high, limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_seq = rows[-1].seq if has_more else high
    own_until = cursor.own_until if cursor.own_until > next_seq else 0
    _record_pull(session, site_id, cursor.seq, now)
    return PullPage(
        changes=[
            PulledChange(
                seq=row.seq,
                table=row.table_name,
                record_id=row.record_id,
                op=row.op,
                origin_site_id=row.origin_site_id,
                hlc=row.hlc,
                payload=row.payload,
            )
            for row in rows
        ],
        next_cursor=Cursor(next_seq, own_until).encode(),
        has_more=has_more,
        hub_time=now,
    )


def _page_rows(
    session: Session, site_id: uuid.UUID, cursor: Cursor, high: int, count: int
) -> list[ChangeLog]:
    """The first `count` entries after the cursor up to `high` for this site or every site.

    The site's own entries and everyone's are two ranges of the (audience,
    seq) index: each is read in seq order up to `count` rows and the two are
    merged, so a page costs the same at the start of a long log as at its
    end (an OR of the two would make the database gather and sort every
    matching entry after the cursor).
    """
    # Own entries come back only after a restore (own_until > 0).
    own_filter = (
        [and_(ChangeLog.origin_site_id == site_id, ChangeLog.seq <= cursor.own_until)]
        if cursor.own_until
        else []
    )
    not_own = or_(
        ChangeLog.origin_site_id.is_(None), ChangeLog.origin_site_id != site_id, *own_filter
    )
    seqs: list[int] = []
    for audience in (ChangeLog.audience_site_id == site_id, ChangeLog.audience_site_id.is_(None)):
        seqs.extend(
            session.scalars(
                select(ChangeLog.seq)
                .where(audience, ChangeLog.seq > cursor.seq, ChangeLog.seq <= high, not_own)
                .order_by(ChangeLog.seq)
                .limit(count)
            )
        )
    wanted = sorted(seqs)[:count]
    if not wanted:
        return []
    return list(
        session.scalars(select(ChangeLog).where(ChangeLog.seq.in_(wanted)).order_by(ChangeLog.seq))
    )


def _check_not_restored(session: Session, site_id: uuid.UUID, cursor: Cursor) -> None:
    """A cursor older than the one the site last said it had stored: restored from a backup."""
    status = session.get(SiteSyncStatus, site_id)
    if status is None or not status.pull_cursor or cursor.own_until:
        return
    if cursor.seq < status.pull_cursor:
        raise sequence_gap(session, last_acknowledged_seq(session, site_id))


def _record_pull(session: Session, site_id: uuid.UUID, stored_seq: int, now: datetime) -> None:
    status = session.get(SiteSyncStatus, site_id)
    if status is None:
        status = SiteSyncStatus(site_id=site_id, clock_flagged=False, updated_at=now)
        session.add(status)
    status.last_pull_at = now
    # The cursor the site says it has stored (not the one served: that page
    # may never reach the site's disk).
    status.pull_cursor = stored_seq
    status.updated_at = now


def pull(hub: Hub, site_id: uuid.UUID, cursor: str | None, *, limit: int) -> PullPage:
    """`pull_page` in its own transaction, committed."""
    with hub.sessions() as session, session.begin():
        return pull_page(session, site_id, cursor, limit=limit, now=hub.clock.now())
