"""Sync: sites push batches and pull changes; central staff read every site's sync health.

A thin adapter over `central.services.sync`. The site is the credential's
(sync rule 1). Push bodies may be gzip-compressed (``Content-Encoding:
gzip``); they are inflated with a cap (`MAX_INFLATED_BYTES`), so a small
compressed body cannot expand into gigabytes. A `SequenceGap` is answered
409 with the hub's error shape plus ``expected_seq`` and ``recovery_cursor``.
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Annotated, Final

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from central.api.deps import HubDep, SiteDep, StaffDep
from central.api.errors import error_json, negotiate_language, responses
from central.services.sync import pull as pull_service
from central.services.sync import push as push_service
from central.services.sync import snapshot as snapshot_service
from central.services.sync import status as status_service
from central.services.sync import verify as verify_service
from central.services.sync.errors import BatchInvalid, BatchTooLarge, SequenceGap
from domain.i18n import message
from domain.sync_wire import (
    IDEMPOTENCY_HEADER,
    MAX_BATCH_BYTES,
    MAX_PULL_PAGE,
    SNAPSHOT_PAGE,
    FetchRequest,
    FetchResponse,
    IdList,
    PullPage,
    PushRequest,
    PushResponse,
    SnapshotPage,
    SyncStatusList,
    VerifyResponse,
)
from domain.wire import PROTOCOL_HEADER, PROTOCOL_VERSION

router = APIRouter(tags=["sync"])

MAX_INFLATED_BYTES: Final = 4 * MAX_BATCH_BYTES
"""A push body is refused once it inflates past this (batches are at most 1 MB of JSON)."""


def _inflate(body: bytes, encoding: str | None) -> bytes:
    if not encoding or encoding.lower() == "identity":
        if len(body) > MAX_INFLATED_BYTES:
            raise BatchTooLarge(limit=MAX_INFLATED_BYTES)
        return body
    if encoding.lower() != "gzip":
        raise BatchInvalid(detail=f"unsupported Content-Encoding {encoding!r}; use gzip")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_INFLATED_BYTES + 1)
    except zlib.error as exc:
        raise BatchInvalid(detail=f"the gzip body is damaged ({exc})") from exc
    if len(data) > MAX_INFLATED_BYTES or inflater.unconsumed_tail:
        raise BatchTooLarge(limit=MAX_INFLATED_BYTES)
    return data


def _gap_response(request: Request, gap: SequenceGap) -> JSONResponse:
    language = negotiate_language(request.headers.get("accept-language"))
    error = json.loads(bytes(error_json(409, gap.code, message(gap, language)).body))
    body = {
        **error,
        "expected_seq": gap.expected,
        "recovery_cursor": gap.recovery_cursor,
    }
    return JSONResponse(body, status_code=409)


@router.post(
    "/v1/sync/push",
    response_model=PushResponse,
    responses=responses(400, 401, 403, 409, 413, 426),
    summary="Push a batch of outbox records",
)
async def push(
    request: Request,
    principal: SiteDep,
    hub: HubDep,
    idempotency_key: Annotated[str, Header(alias=IDEMPOTENCY_HEADER, min_length=8, max_length=100)],
    protocol: Annotated[int | None, Header(alias=PROTOCOL_HEADER)] = None,
) -> Response:
    """Apply a batch (gzip or plain JSON `PushRequest`): one result per record.

    A retry with the same key gets the stored answer. 409 with
    ``expected_seq``: the site was restored from a backup.
    """
    raw = _inflate(await request.body(), request.headers.get("content-encoding"))
    try:
        batch = PushRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise BatchInvalid(detail=str(exc)[:1000]) from exc
    if batch.idempotency_key != idempotency_key:
        raise BatchInvalid(detail=f"the {IDEMPOTENCY_HEADER} header and the body's key differ")
    try:
        answer = await run_in_threadpool(
            push_service.push,
            hub,
            principal.site_id,
            batch,
            protocol_version=protocol or PROTOCOL_VERSION,
        )
    except SequenceGap as gap:
        return _gap_response(request, gap)
    # One result per record: 25 KB for a site-day's 250 doses, a few KB gzipped.
    return _json_body(request, answer.model_dump_json().encode("utf-8"))


@router.get(
    "/v1/sync/pull",
    response_model=PullPage,
    responses=responses(400, 401, 403, 409, 426),
    summary="Pull the changes concerning this site",
)
def pull(
    request: Request,
    principal: SiteDep,
    hub: HubDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_PAGE)] = MAX_PULL_PAGE,
) -> Response:
    """The next page after `cursor`, in commit order."""
    try:
        page = pull_service.pull(hub, principal.site_id, cursor, limit=limit)
    except SequenceGap as gap:
        return _gap_response(request, gap)
    return _json_body(request, page.model_dump_json().encode("utf-8"))


@router.get(
    "/v1/sync/snapshot",
    response_model=SnapshotPage,
    responses=responses(400, 401, 403, 426),
    summary="A page of the snapshot that bootstraps a new site",
)
def snapshot(
    request: Request,
    principal: SiteDep,
    hub: HubDep,
    token: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=SNAPSHOT_PAGE)] = SNAPSHOT_PAGE,
) -> Response:
    """The latest state of every record concerning this site, paginated; then pull from `cursor`."""
    body = snapshot_service.snapshot_json(hub, principal.site_id, token, limit=limit)
    return _json_body(request, body)


GZIP_FROM_BYTES: Final = 1024
"""Pull and snapshot answers at least this big go gzip-compressed when the site accepts it."""


def _json_body(request: Request, body: bytes) -> Response:
    accepted = request.headers.get("accept-encoding", "").lower()
    if len(body) < GZIP_FROM_BYTES or "gzip" not in accepted:
        return Response(body, media_type="application/json")
    return Response(
        gzip.compress(body, compresslevel=6),
        media_type="application/json",
        headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
    )


@router.get(
    "/v1/sync/verify",
    response_model=VerifyResponse,
    responses=responses(401, 403, 426),
    summary="Counts and digests of what this site's replica should hold",
)
def verify(principal: SiteDep, hub: HubDep) -> VerifyResponse:
    return verify_service.verify(hub, principal.site_id)


@router.get(
    "/v1/sync/verify/ids",
    response_model=IdList,
    responses=responses(400, 401, 403, 426),
    summary="Every id of a verified table this site's replica should hold",
)
def verify_ids(
    principal: SiteDep, hub: HubDep, table: Annotated[str, Query(max_length=64)]
) -> IdList:
    with hub.read_sessions() as session:
        return verify_service.replica_ids(session, principal.site_id, table)


@router.post(
    "/v1/sync/fetch",
    response_model=FetchResponse,
    responses=responses(400, 401, 403, 426),
    summary="Fetch particular records again (a targeted re-pull)",
)
def fetch(body: FetchRequest, principal: SiteDep, hub: HubDep) -> FetchResponse:
    with hub.read_sessions() as session:
        return verify_service.fetch(session, principal.site_id, body.table, body.ids)


@router.get(
    "/v1/admin/sync-status",
    response_model=SyncStatusList,
    responses=responses(401, 403),
    summary="Every site's sync health",
)
def sync_status(principal: StaffDep, hub: HubDep) -> SyncStatusList:
    """Per site: last push and pull, backlog, last error, client version, clock offset."""
    return status_service.sync_status(hub)
