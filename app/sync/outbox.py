"""The outbox: every local change waiting for the hub, and the batches made of it.

`record_change` is what use cases call, inside their write transaction, for
every record they create or change (DESIGN.md, sync rule 4): the change and
its outbox row commit together or not at all.

Batches. The engine pushes the outbox in order, in batches of at most
`MAX_BATCH_RECORDS` records and `MAX_BATCH_BYTES` of JSON. A batch's rows
and its idempotency key must survive a crash between sending and the hub's
answer, so that the retry is recognised: `claim_batch` marks the batch's
rows (``attempts`` > 0) in its own transaction before anything is sent, and
the key is derived from the marked rows (their seq range and a hash of their
ids). The marked rows always form the head of the outbox: they are
deleted together when the hub answers, and new rows get higher seqs.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.local_db.models.sync import OutboxEntry, OutboxOp
from domain.sync_wire import MAX_BATCH_BYTES, MAX_BATCH_RECORDS, WireRecord


def record_change(
    session: Session,
    kind: str,
    record_id: uuid.UUID,
    payload: Mapping[str, Any],
    *,
    op: OutboxOp = OutboxOp.INSERT,
    now: datetime | None = None,
) -> OutboxEntry:
    """Queue `payload` (the record's wire form, JSON values) for the hub.

    Runs in `session`'s transaction, beside the change itself.
    `kind` is a record kind the hub knows (``dose_record``,
    ``appointment_event``, ``citizen``). Does not commit.
    """
    entry = OutboxEntry(
        table_name=kind,
        record_id=record_id,
        op=op,
        payload=dict(payload),
        created_at=now or datetime.now(UTC),
        attempts=0,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class Batch:
    """Outbox rows claimed for one push, in seq order, and the batch's key."""

    key: str
    first_seq: int
    last_seq: int
    records: tuple[WireRecord, ...]


def _wire(entry: OutboxEntry) -> WireRecord:
    return WireRecord(
        kind=entry.table_name,
        id=entry.record_id,
        op=entry.op.value,
        outbox_seq=entry.seq,
        payload=entry.payload,
    )


def _batch(entries: Sequence[OutboxEntry]) -> Batch:
    first, last = entries[0], entries[-1]
    # The key names the exact rows: a restored outbox that reuses the seqs of an
    # acknowledged batch with other rows must not be answered with that batch's answer.
    rows = hashlib.sha256(b"".join(entry.id.bytes for entry in entries)).hexdigest()[:32]
    return Batch(
        key=f"ob-{first.seq}-{last.seq}-{rows}",
        first_seq=first.seq,
        last_seq=last.seq,
        records=tuple(_wire(entry) for entry in entries),
    )


def _size(entry: OutboxEntry) -> int:
    return len(json.dumps(entry.payload, separators=(",", ":"), default=str)) + 200


def claim_batch(
    session: Session,
    now: datetime,
    *,
    max_records: int = MAX_BATCH_RECORDS,
    max_bytes: int = MAX_BATCH_BYTES,
) -> Batch | None:
    """The batch to push next: the one already claimed (a retry), else a new one.

    Call in a write transaction and commit before sending. None when the
    outbox is empty.
    """
    claimed = session.scalars(
        sa.select(OutboxEntry).where(OutboxEntry.attempts > 0).order_by(OutboxEntry.seq)
    ).all()
    if claimed:
        for entry in claimed:
            entry.attempts += 1
            entry.last_attempt_at = now
        return _batch(claimed)
    head = session.scalars(
        sa.select(OutboxEntry).order_by(OutboxEntry.seq).limit(max_records)
    ).all()
    chosen: list[OutboxEntry] = []
    size = 0
    for entry in head:
        size += _size(entry)
        if chosen and size > max_bytes:
            break
        chosen.append(entry)
    if not chosen:
        return None
    for entry in chosen:
        entry.attempts = 1
        entry.last_attempt_at = now
    return _batch(chosen)


def note_failure(session: Session, batch: Batch, error: str) -> None:
    """Remember why the batch's last attempt failed (its rows stay claimed)."""
    session.execute(
        sa.update(OutboxEntry)
        .where(OutboxEntry.seq.between(batch.first_seq, batch.last_seq))
        .values(last_error=error[:2000])
    )


def acknowledge(session: Session, batch: Batch) -> int:
    """Delete the batch's rows: the hub answered for every one of them. Returns the count."""
    result = session.execute(
        sa.delete(OutboxEntry).where(
            OutboxEntry.seq.between(batch.first_seq, batch.last_seq), OutboxEntry.attempts > 0
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def backlog(session: Session) -> int:
    """How many changes wait for the hub."""
    return int(session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry)) or 0)


def oldest_waiting(session: Session) -> datetime | None:
    """When the oldest waiting change was recorded (None: the outbox is empty)."""
    return session.scalar(sa.select(sa.func.min(OutboxEntry.created_at)))


def renumber_from(session: Session, expected_seq: int) -> int:
    """Give every waiting row a new seq from `expected_seq` on, in order; unclaim them.

    After a restore from a backup the outbox's numbers went back below what the
    hub already acknowledged; the rows (the unsent changes) are kept, only
    renumbered. Returns how many rows were renumbered.
    """
    rows = session.scalars(sa.select(OutboxEntry).order_by(OutboxEntry.seq)).all()
    if not rows:
        _raise_sequence(session, expected_seq - 1)
        return 0
    values = [
        {
            "id": row.id,
            "table_name": row.table_name,
            "record_id": row.record_id,
            "op": row.op,
            "payload": row.payload,
            "created_at": row.created_at,
            "last_error": row.last_error,
        }
        for row in rows
    ]
    session.execute(sa.delete(OutboxEntry))
    session.flush()
    session.expunge_all()
    for offset, value in enumerate(values):
        session.add(OutboxEntry(seq=expected_seq + offset, attempts=0, **value))
    session.flush()
    _raise_sequence(session, expected_seq + len(values) - 1)
    return len(values)


def _raise_sequence(session: Session, at_least: int) -> None:
    """Make AUTOINCREMENT hand out numbers above `at_least` from now on."""
    updated = session.execute(
        sa.text("UPDATE sqlite_sequence SET seq = max(seq, :n) WHERE name = 'outbox'"),
        {"n": at_least},
    )
    if not getattr(updated, "rowcount", 0):
        session.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', :n)"),
            {"n": at_least},
        )
