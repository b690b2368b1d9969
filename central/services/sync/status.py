"""Every site's sync health, for central staff (dashboard, ``imuno-hub sites status``).

Per site: last push and pull (hub clock), the outbox backlog it reported,
its last error, client version, clock offset and whether it is flagged, and
how many of its records wait in quarantine and how many conflicts of its
citizens are open.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.db import ConflictLog, Quarantine, Site, SiteSyncStatus
from central.services.context import Hub
from domain.sync_wire import SiteSyncRow, SyncStatusList


def sync_status_rows(session: Session) -> SyncStatusList:
    """One row per site, by site code; sites that never synced have empty fields."""
    quarantined: dict[uuid.UUID | None, int] = dict(
        session.execute(
            select(Quarantine.site_id, func.count())
            .where(Quarantine.resolved_at.is_(None))
            .group_by(Quarantine.site_id)
        ).all()
    )
    conflicts: dict[uuid.UUID | None, int] = dict(
        session.execute(
            select(ConflictLog.lost_origin_site_id, func.count())
            .where(ConflictLog.resolved_at.is_(None))
            .group_by(ConflictLog.lost_origin_site_id)
        ).all()
    )
    rows = session.execute(
        select(Site, SiteSyncStatus)
        .outerjoin(SiteSyncStatus, SiteSyncStatus.site_id == Site.id)
        .order_by(Site.code)
    ).all()
    items = []
    for site, status in rows:
        items.append(
            SiteSyncRow(
                site_code=site.code,
                last_push_at=status.last_push_at if status else None,
                last_pull_at=status.last_pull_at if status else None,
                backlog=status.backlog if status else None,
                last_error=status.last_error if status else None,
                client_version=status.client_version if status else None,
                clock_offset_ms=status.clock_offset_ms if status else None,
                clock_flagged=bool(status.clock_flagged) if status else False,
                quarantined=quarantined.get(site.id, 0),
                open_conflicts=conflicts.get(site.id, 0),
            )
        )
    return SyncStatusList(items=items)


def sync_status(hub: Hub) -> SyncStatusList:
    """`sync_status_rows` in a read transaction."""
    with hub.read_sessions() as session:
        return sync_status_rows(session)
