"""Review after sync, for central staff: identity conflicts and quarantined records.

Reading needs a staff token; resolving, retrying and dismissing need the
central_admin role. See `domain.review_wire` for what each answer holds.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from central.api.deps import AdminDep, HubDep, RequestId, StaffDep
from central.api.errors import responses
from central.services.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from central.services.sync import conflicts, quarantine
from domain.review_wire import (
    ConflictList,
    ConflictResolution,
    ConflictView,
    Dismissal,
    QuarantineList,
    QuarantineView,
    RetryFilter,
    RetryReport,
    RetryResult,
)
from domain.wire import SITE_CODE_PATTERN

router = APIRouter(tags=["review"])
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
]
OpenOnly = Annotated[bool, Query(description="Only the ones nobody has resolved yet.")]
EntryId = Annotated[uuid.UUID, Path(description="The entry's id, from the list.")]


@router.get(
    "/v1/admin/conflicts",
    response_model=ConflictList,
    responses=responses(400, 401, 403, 426),
    summary="Concurrent identity edits merged by the hub",
)
def list_conflicts(
    _principal: StaffDep,
    hub: HubDep,
    open_only: OpenOnly = True,
    citizen_id: Annotated[uuid.UUID | None, Query(description="One citizen's only.")] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> ConflictList:
    """Newest first: the kept and the lost write of each, and the value now."""
    with hub.read_sessions() as session:
        return conflicts.list_conflicts(
            session, open_only=open_only, citizen_id=citizen_id, limit=limit, cursor=cursor
        )


@router.post(
    "/v1/admin/conflicts/{conflict_id}/resolve",
    response_model=ConflictView,
    responses=responses(400, 401, 403, 404, 409, 426),
    summary="Resolve one conflict: keep, restore the lost value, or set another",
)
def resolve_conflict(
    conflict_id: EntryId,
    body: ConflictResolution,
    principal: AdminDep,
    hub: HubDep,
    request_id: RequestId,
) -> ConflictView:
    """A restored or set value is written at the hub and reaches every site holding the citizen."""
    return conflicts.resolve_conflict(
        hub, conflict_id, body, actor=principal.actor, request_id=request_id
    )


@router.get(
    "/v1/admin/quarantine",
    response_model=QuarantineList,
    responses=responses(400, 401, 403, 426),
    summary="Pushed records the hub did not apply",
)
def list_quarantine(
    _principal: StaffDep,
    hub: HubDep,
    open_only: OpenOnly = True,
    site: Annotated[str | None, Query(pattern=SITE_CODE_PATTERN)] = None,
    reason: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> QuarantineList:
    """Newest first, with the whole record as pushed and whether a retry may apply it."""
    with hub.read_sessions() as session:
        return quarantine.list_quarantined(
            session,
            open_only=open_only,
            site_code=site,
            reason_code=reason,
            limit=limit,
            cursor=cursor,
        )


@router.post(
    "/v1/admin/quarantine/retry",
    response_model=RetryReport,
    responses=responses(400, 401, 403, 426),
    summary="Retry every open retryable record that matches",
)
def retry_matching(
    body: RetryFilter, principal: AdminDep, hub: HubDep, request_id: RequestId
) -> RetryReport:
    return quarantine.retry_matching(hub, body, actor=principal.actor, request_id=request_id)


@router.post(
    "/v1/admin/quarantine/{quarantine_id}/retry",
    response_model=RetryResult,
    responses=responses(400, 401, 403, 404, 409, 426),
    summary="Apply one quarantined record again",
)
def retry_one(
    quarantine_id: EntryId, principal: AdminDep, hub: HubDep, request_id: RequestId
) -> RetryResult:
    return quarantine.retry_one(hub, quarantine_id, actor=principal.actor, request_id=request_id)


@router.post(
    "/v1/admin/quarantine/{quarantine_id}/dismiss",
    response_model=QuarantineView,
    responses=responses(400, 401, 403, 404, 409, 426),
    summary="Close one quarantined record without applying it",
)
def dismiss(
    quarantine_id: EntryId,
    body: Dismissal,
    principal: AdminDep,
    hub: HubDep,
    request_id: RequestId,
) -> QuarantineView:
    return quarantine.dismiss(
        hub, quarantine_id, body, actor=principal.actor, request_id=request_id
    )
