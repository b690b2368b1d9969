"""Receiving a push batch: each record applied, duplicate or quarantined.

`push_batch` runs in the caller's transaction and does, in order:

1. a batch already received under the same (site, key) is answered with the
   stored answer (the same records: `KeyReused` otherwise), applying nothing;
2. an outbox range older than the last one acknowledged, under a new key,
   means the site was restored from a backup: `SequenceGap` (409) with the
   sequence expected and a cursor that gives the site back its own records;
3. the records are applied kind by kind (`RecordKind.after` first, then in
   order of first appearance, each kind's records in batch order): set-wise
   by the kind's `apply_many` in one savepoint where it has one, else (and
   when the database refuses the set) one by one, each in a savepoint, so a
   record the database refuses is quarantined alone and the rest still apply;
4. the batch and its answer, the site's sync status and (last, see
   `central.db.change_log`) the change-log entries are written.

The caller commits. Two concurrent deliveries of one batch both get the same
answer: the loser of the unique (site, key) race retries and finds the
winner's answer (`push`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from central.db import (
    ChangeLogCounter,
    NewChange,
    Quarantine,
    SiteSyncStatus,
    SyncBatch,
    append_changes,
)
from central.services.context import Hub
from central.services.sync.cursor import Cursor
from central.services.sync.errors import KeyReused, SequenceGap
from central.services.sync.kinds import ApplyContext, Outcome, registry
from domain.sync_wire import (
    CLOCK_SKEW_TOLERANCE_MS,
    PushRequest,
    PushResponse,
    RecordResult,
    RecordStatus,
    WireRecord,
    push_request_hash,
)
from domain.wire import PROTOCOL_VERSION


def _stored(session: Session, site_id: uuid.UUID, key: str) -> SyncBatch | None:
    return session.scalar(
        select(SyncBatch).where(SyncBatch.site_id == site_id, SyncBatch.idempotency_key == key)
    )


def _replay(batch: SyncBatch, request_hash: str) -> PushResponse:
    if batch.request_hash != request_hash:
        raise KeyReused()
    return PushResponse.model_validate({**batch.response, "replayed": True})


def last_acknowledged_seq(session: Session, site_id: uuid.UUID) -> int:
    """The highest outbox sequence number of the site the hub acknowledged (0: none)."""
    # Only the number: the stored answer itself holds a result per record.
    last_seq = session.scalar(
        select(SyncBatch.response["last_seq"].as_integer())
        .where(SyncBatch.site_id == site_id)
        .order_by(SyncBatch.received_at.desc(), SyncBatch.id.desc())
        .limit(1)
    )
    return int(last_seq) if last_seq is not None else 0


def _check_sequence(session: Session, site_id: uuid.UUID, request: PushRequest) -> None:
    acknowledged = last_acknowledged_seq(session, site_id)
    status = session.get(SiteSyncStatus, site_id)
    cursor_went_back = False
    if request.pull_cursor is not None and status is not None and status.pull_cursor:
        cursor = Cursor.decode(request.pull_cursor)
        # A cursor in recovery (own_until) went back on the hub's word: not a restore.
        cursor_went_back = cursor.own_until == 0 and cursor.seq < status.pull_cursor
    if request.first_seq <= acknowledged or cursor_went_back:
        raise sequence_gap(session, acknowledged)


def sequence_gap(session: Session, acknowledged: int) -> SequenceGap:
    """The 409 for a site that went back: the seq expected, and a cursor re-sending its own."""
    high = session.scalar(select(ChangeLogCounter.last_seq)) or 0
    return SequenceGap(
        acknowledged=acknowledged,
        expected=acknowledged + 1,
        recovery_cursor=Cursor(0, high).encode(),
    )


def apply_record(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """One record through its kind's handler in a savepoint; what the database refuses is
    quarantined as ``refused_by_database`` (a push, and a retry from quarantine)."""
    kind = registry().get(record.kind)
    if kind is None:
        return Outcome.quarantined("unknown_kind", f"the hub does not know kind {record.kind!r}")
    savepoint = ctx.session.begin_nested()
    try:
        outcome = kind.handler(ctx, record)
    except SQLAlchemyError as exc:
        savepoint.rollback()
        return Outcome.quarantined(
            "refused_by_database", str(getattr(exc, "orig", None) or exc)[:2000]
        )
    savepoint.commit()
    return outcome


def _apply_kind(ctx: ApplyContext, name: str, records: Sequence[WireRecord]) -> list[Outcome]:
    """One kind's records of the batch, set-wise when the kind can, else one by one."""
    kind = registry().get(name)
    if kind is None or kind.apply_many is None or len(records) == 1:
        return [apply_record(ctx, record) for record in records]
    savepoint = ctx.session.begin_nested()
    try:
        outcomes = list(kind.apply_many(ctx, records))
    except SQLAlchemyError:
        # Some record the database refuses: settle them one by one, so it
        # alone is quarantined and the rest still apply.
        savepoint.rollback()
        return [apply_record(ctx, record) for record in records]
    savepoint.commit()
    if len(outcomes) != len(records):
        raise AssertionError(f"{name}: apply_many answered {len(outcomes)} of {len(records)}")
    return outcomes


def _kind_order(names: Sequence[str]) -> list[str]:
    """`names` (in order of first appearance) with each kind after the kinds it names in `after`."""
    present = set(names)
    kinds = registry()
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered or name in visiting:
            return  # done, or a cycle: keep the order of appearance
        visiting.add(name)
        kind = kinds.get(name)
        for before in kind.after if kind is not None else ():
            if before in present:
                visit(before)
        visiting.discard(name)
        ordered.append(name)

    for name in names:
        visit(name)
    return ordered


def _apply_all(ctx: ApplyContext, records: Sequence[WireRecord]) -> list[tuple[int, Outcome]]:
    """Every record's outcome with its index in the batch, in the order they were applied."""
    by_kind: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        by_kind.setdefault(record.kind, []).append(index)
    applied: list[tuple[int, Outcome]] = []
    for name in _kind_order(list(by_kind)):
        indexes = by_kind[name]
        outcomes = _apply_kind(ctx, name, [records[i] for i in indexes])
        applied.extend(zip(indexes, outcomes, strict=True))
    return applied


def push_batch(
    session: Session,
    site_id: uuid.UUID,
    request: PushRequest,
    *,
    now: datetime,
    protocol_version: int = PROTOCOL_VERSION,
) -> PushResponse:
    """Apply the batch in the session's transaction and return the answer (not committed)."""
    request_hash = push_request_hash(request)
    stored = _stored(session, site_id, request.idempotency_key)
    if stored is not None:
        return _replay(stored, request_hash)
    _check_sequence(session, site_id, request)
    ctx = ApplyContext(session, site_id, now)
    changes: list[NewChange] = []
    by_index: dict[int, Outcome] = {}
    for index, outcome in _apply_all(ctx, request.records):
        by_index[index] = outcome
        changes.extend(outcome.changes)
    results: list[RecordResult] = []
    quarantined: list[tuple[WireRecord, Outcome]] = []
    for index, record in enumerate(request.records):
        outcome = by_index[index]
        results.append(
            RecordResult(
                kind=record.kind,
                id=record.id,
                status=outcome.status,
                reason=outcome.reason,
                detail=outcome.detail,
            )
        )
        if outcome.status is RecordStatus.QUARANTINED:
            quarantined.append((record, outcome))
    offset_ms = int((request.sent_at - now).total_seconds() * 1000)
    flagged = abs(offset_ms) > CLOCK_SKEW_TOLERANCE_MS
    response = PushResponse(
        idempotency_key=request.idempotency_key,
        first_seq=request.first_seq,
        last_seq=request.last_seq,
        results=results,
        hub_time=now,
        clock_offset_ms=offset_ms,
        clock_flagged=flagged,
    )
    batch = SyncBatch(
        site_id=site_id,
        idempotency_key=request.idempotency_key,
        request_hash=request_hash,
        protocol_version=protocol_version,
        received_at=now,
        response_status=200,
        response=response.model_dump(mode="json"),
    )
    session.add(batch)
    session.flush()
    _quarantine(session, site_id, batch.id, quarantined, now)
    _record_status(
        session,
        site_id,
        now=now,
        backlog=max(request.backlog - len(request.records), 0),
        client_version=request.client_version,
        protocol_version=protocol_version,
        offset_ms=offset_ms,
        flagged=flagged,
    )
    append_changes(session, changes, now)
    return response


def _quarantine(
    session: Session,
    site_id: uuid.UUID,
    batch_id: uuid.UUID,
    items: Sequence[tuple[WireRecord, Outcome]],
    now: datetime,
) -> None:
    tables = {name: kind.table for name, kind in registry().items()}
    for record, outcome in items:
        payload, masked = _storable(record.model_dump(mode="json"))
        detail = outcome.detail or ""
        if masked:
            detail += " (NUL characters of the record are shown as \u2400)"
        session.add(
            Quarantine(
                site_id=site_id,
                batch_id=batch_id,
                table_name=tables.get(record.kind, record.kind)[:64],
                record_id=str(record.id),
                payload=payload,
                reason_code=outcome.reason or "unknown",
                detail=detail,
                received_at=now,
            )
        )


def _storable(value: Any) -> tuple[Any, bool]:
    """`value` with every NUL character in its strings shown as U+2400, and whether any was.

    PostgreSQL's text and jsonb refuse NUL; a record refused for holding one
    must still be quarantined (else the push fails and blocks the site's outbox).
    """
    if isinstance(value, str):
        return (value.replace("\x00", "\u2400"), True) if "\x00" in value else (value, False)
    if isinstance(value, list):
        pairs = [_storable(item) for item in value]
        return [item for item, _ in pairs], any(masked for _, masked in pairs)
    if isinstance(value, dict):
        masked = False
        result: dict[str, Any] = {}
        for key, item in value.items():
            clean_key, key_masked = _storable(key)
            result[clean_key], item_masked = _storable(item)
            masked = masked or key_masked or item_masked
        return result, masked
    return value, False


def _record_status(
    session: Session,
    site_id: uuid.UUID,
    *,
    now: datetime,
    backlog: int,
    client_version: str,
    protocol_version: int,
    offset_ms: int,
    flagged: bool,
) -> None:
    status = session.get(SiteSyncStatus, site_id)
    if status is None:
        status = SiteSyncStatus(site_id=site_id, clock_flagged=False, updated_at=now)
        session.add(status)
    status.last_push_at = now
    status.backlog = backlog
    status.client_version = client_version
    status.protocol_version = protocol_version
    status.clock_offset_ms = offset_ms
    status.clock_flagged = flagged
    status.last_error = None
    status.updated_at = now


def push(
    hub: Hub, site_id: uuid.UUID, request: PushRequest, *, protocol_version: int
) -> PushResponse:
    """`push_batch` in its own transaction, committed; a lost race for the key is replayed."""
    try:
        with hub.sessions() as session, session.begin():
            return push_batch(
                session, site_id, request, now=hub.clock.now(), protocol_version=protocol_version
            )
    except IntegrityError:
        # Another delivery of this batch committed first: answer as it was answered.
        with hub.read_sessions() as session:
            stored = _stored(session, site_id, request.idempotency_key)
            if stored is not None:
                return _replay(stored, push_request_hash(request))
        raise
