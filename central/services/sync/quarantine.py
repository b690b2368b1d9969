"""Quarantined pushes, for central staff: list them, retry them, dismiss them.

A record the hub would not apply is kept whole with its reason (sync rule 2),
and the site was told. Many reasons pass: a dose arrives for a citizen the
hub learns of later, a lot is entered centrally after the site scanned it, a
walk-in's identity is merged. A retry applies the stored record again,
exactly as its push would have (the kind's handler, in a savepoint, as the
site that pushed it), and closes the entry when it applies or turns out to
be at the hub already. Retrying many at once repeats passes over the
still-quarantined ones while a pass applies something, so a dose waiting for
its citizen in the same set goes through after the citizen. Records that can
never apply as sent (another payload under the same id, a malformed payload,
another site's record) are dismissed by a person with a note saying why.
Every retry and dismissal is in the audit trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Final

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import NewChange, Quarantine, Site, append_changes
from central.services.context import Hub
from central.services.errors import Conflict, NotFound
from central.services.pagination import DEFAULT_PAGE_SIZE, newest_first
from central.services.records import audit
from central.services.sync.kinds import ApplyContext, Outcome
from central.services.sync.push import apply_record
from domain.review_wire import (
    Dismissal,
    QuarantineList,
    QuarantineView,
    RetryFilter,
    RetryReport,
    RetryResult,
    RetryStatus,
)
from domain.sync_wire import RecordStatus, WireRecord

RETRYABLE_REASONS: Final = frozenset(
    {"jmbg_taken", "refused_by_database", "username_taken", "vial_serial_taken"}
)
"""Reasons besides ``unknown_*`` that a later state of the hub may remove."""


def retryable(reason_code: str) -> bool:
    """Whether a record quarantined for `reason_code` may apply on a later retry."""
    return reason_code.startswith("unknown_") or reason_code in RETRYABLE_REASONS


class UnknownQuarantined(NotFound):
    code: ClassVar[str] = "review.unknown_quarantined"
    template: ClassVar[str] = (
        "There is no quarantined record {quarantine_id}. "
        "List the quarantine and use an id from there."
    )


class QuarantineClosed(Conflict):
    code: ClassVar[str] = "review.quarantine_closed"
    template: ClassVar[str] = (
        "This quarantined record was already closed by {resolved_by} ({resolution}). Nothing to do."
    )


def _view(row: Quarantine, site_code: str) -> QuarantineView:
    payload = row.payload if isinstance(row.payload, dict) else {}
    return QuarantineView(
        id=row.id,
        site_code=site_code,
        kind=str(payload.get("kind", row.table_name)),
        record_id=row.record_id,
        reason_code=row.reason_code,
        detail=row.detail,
        received_at=row.received_at,
        payload=row.payload,
        retryable=retryable(row.reason_code),
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        resolution=row.resolution,
    )


def list_quarantined(
    session: Session,
    *,
    open_only: bool = True,
    site_code: str | None = None,
    reason_code: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> QuarantineList:
    """Quarantined records newest first, filtered by site and reason."""
    query = select(Quarantine, Site.code).join(Site, Site.id == Quarantine.site_id)
    if open_only:
        query = query.where(Quarantine.resolved_at.is_(None))
    if site_code is not None:
        query = query.where(Site.code == site_code)
    if reason_code is not None:
        query = query.where(Quarantine.reason_code == reason_code)
    page, next_cursor = newest_first(session, query, Quarantine.id, limit=limit, cursor=cursor)
    return QuarantineList(items=[_view(row, code) for row, code in page], next_cursor=next_cursor)


def _apply_again(session: Session, row: Quarantine, hub: Hub) -> Outcome:
    """The stored record through its kind's handler, in a savepoint, as its site pushed it."""
    try:
        record = WireRecord.model_validate(row.payload)
    except ValidationError as exc:
        return Outcome.quarantined("invalid_payload", str(exc)[:2000])
    return apply_record(ApplyContext(session, row.site_id, hub.clock.now()), record)


def _open_row(session: Session, quarantine_id: uuid.UUID) -> Quarantine:
    row = session.get(Quarantine, quarantine_id, with_for_update=True)
    if row is None:
        raise UnknownQuarantined(quarantine_id=str(quarantine_id))
    if row.resolved_at is not None:
        raise QuarantineClosed(resolved_by=row.resolved_by or "?", resolution=row.resolution or "")
    return row


def _close(
    session: Session,
    row: Quarantine,
    resolution: str,
    action: str,
    actor: str,
    now: datetime,
    request_id: str | None,
) -> None:
    """Mark `row` resolved as `resolution`, with its audit-trail entry."""
    row.resolved_at = now
    row.resolved_by = actor
    row.resolution = resolution
    audit(
        session,
        occurred_at=now,
        actor=actor,
        action=action,
        entity_table="quarantine",
        entity_id=str(row.id),
        site_id=row.site_id,
        before={"reason_code": row.reason_code},
        after={"resolution": resolution},
        request_id=request_id,
    )


def _retry_rows(
    hub: Hub, session: Session, rows: Sequence[Quarantine], actor: str, request_id: str | None
) -> RetryReport:
    now = hub.clock.now()
    results: dict[uuid.UUID, RetryResult] = {}
    changes: list[NewChange] = []
    waiting = list(rows)
    while waiting:
        still: list[Quarantine] = []
        for row in waiting:
            outcome = _apply_again(session, row, hub)
            if outcome.status is RecordStatus.QUARANTINED:
                still.append(row)
                results[row.id] = RetryResult(
                    id=row.id,
                    status=RetryStatus.STILL_QUARANTINED,
                    reason_code=outcome.reason,
                    detail=outcome.detail,
                )
                continue
            changes.extend(outcome.changes)
            applied = outcome.status is RecordStatus.APPLIED
            resolution = "applied on retry" if applied else "already at the hub on retry"
            _close(session, row, resolution, "quarantine.retry", actor, now, request_id)
            results[row.id] = RetryResult(
                id=row.id,
                status=RetryStatus.APPLIED if applied else RetryStatus.DUPLICATE,
                reason_code=None,
                detail=None,
            )
        if len(still) == len(waiting):
            break  # a pass that applied nothing: the rest wait for something else
        waiting = still
    for row in waiting:
        result = results[row.id]
        row.reason_code = result.reason_code or row.reason_code
        row.detail = result.detail or row.detail
    session.flush()
    append_changes(session, changes, now)
    return RetryReport(items=[results[row.id] for row in rows])


def retry_one(
    hub: Hub, quarantine_id: uuid.UUID, *, actor: str, request_id: str | None = None
) -> RetryResult:
    """Apply one open quarantined record again; commit; say what happened."""
    with hub.sessions() as session, session.begin():
        row = _open_row(session, quarantine_id)
        return _retry_rows(hub, session, [row], actor, request_id).items[0]


def retry_matching(
    hub: Hub, wanted: RetryFilter, *, actor: str, request_id: str | None = None
) -> RetryReport:
    """Apply again every open retryable record that `wanted` selects, oldest first; commit."""
    with hub.sessions() as session, session.begin():
        query = select(Quarantine).where(Quarantine.resolved_at.is_(None))
        if wanted.reason_code is not None:
            query = query.where(Quarantine.reason_code == wanted.reason_code)
        if wanted.site_code is not None:
            query = query.join(Site, Site.id == Quarantine.site_id).where(
                Site.code == wanted.site_code
            )
        rows = [
            row
            for row in session.scalars(
                query.order_by(Quarantine.received_at, Quarantine.id).with_for_update()
            )
            if retryable(row.reason_code)
        ][: wanted.limit]
        return _retry_rows(hub, session, rows, actor, request_id)


def dismiss(
    hub: Hub,
    quarantine_id: uuid.UUID,
    dismissal: Dismissal,
    *,
    actor: str,
    request_id: str | None = None,
) -> QuarantineView:
    """Close one open quarantined record without applying it; commit; return it."""
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        row = _open_row(session, quarantine_id)
        resolution = f"dismissed: {dismissal.note}"
        _close(session, row, resolution, "quarantine.dismiss", actor, now, request_id)
        session.flush()
        code = session.scalar(select(Site.code).where(Site.id == row.site_id)) or "?"
        return _view(row, code)
