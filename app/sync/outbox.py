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


_STORED_SIZE = sa.func.length(sa.cast(OutboxEntry.payload, sa.Text)).label("size")
"""The stored JSON text's length: the payload's share of the batch's bytes."""
_RECORD_OVERHEAD = 200
"""Bytes of a wire record beside its payload (kind, ids, seq, keys)."""


_TABLE: sa.Table = OutboxEntry.__table__  # type: ignore[assignment]
"""Claims are plain UPDATEs of the table (no ORM objects are loaded to keep in step)."""

# The ids as stored (32 hex digits on SQLite), not as UUID objects: the key
# hashes their bytes and pydantic parses the record's id faster than uuid.UUID.
_COLUMNS = (
    OutboxEntry.seq,
    sa.type_coerce(OutboxEntry.id, sa.String).label("id"),
    OutboxEntry.table_name,
    sa.type_coerce(OutboxEntry.record_id, sa.String).label("record_id"),
    OutboxEntry.op,
    OutboxEntry.payload,
)


def _batch(rows: Sequence[sa.Row[Any]]) -> Batch:
    first_seq, last_seq = rows[0].seq, rows[-1].seq
    # The key names the exact rows: a restored outbox that reuses the seqs of an
    # acknowledged batch with other rows must not be answered with that batch's answer.
    digest = hashlib.sha256(b"".join(bytes.fromhex(row.id) for row in rows)).hexdigest()[:32]
    return Batch(
        key=f"ob-{first_seq}-{last_seq}-{digest}",
        first_seq=first_seq,
        last_seq=last_seq,
        records=tuple(
            WireRecord(
                kind=row.table_name,
                id=row.record_id,
                op=row.op.value,
                outbox_seq=row.seq,
                payload=row.payload,
            )
            for row in rows
        ),
    )


def claim_batch(
    session: Session,
    now: datetime,
    *,
    max_records: int = MAX_BATCH_RECORDS,
    max_bytes: int = MAX_BATCH_BYTES,
) -> Batch | None:
    """The batch to push next: the one already claimed (a retry), else a new one.

    Call in a write transaction and commit before sending. None when the
    outbox is empty. Set-wise: one read of the rows, one UPDATE marking them.

    The byte budget is counted on the stored JSON text (ASCII-escaped, with
    spaces), never shorter than the compact UTF-8 JSON sent on the wire.
    """
    claimed = session.execute(
        sa.select(*_COLUMNS).where(OutboxEntry.attempts > 0).order_by(OutboxEntry.seq)
    ).all()
    if claimed:
        session.execute(
            sa.update(_TABLE)
            .where(_TABLE.c.attempts > 0)
            .values(attempts=_TABLE.c.attempts + 1, last_attempt_at=now)
        )
        return _batch(claimed)
    head = session.execute(
        sa.select(*_COLUMNS, _STORED_SIZE).order_by(OutboxEntry.seq).limit(max_records)
    ).all()
    chosen: list[sa.Row[Any]] = []
    size = 0
    for row in head:
        size += int(row.size or 0) + _RECORD_OVERHEAD
        if chosen and size > max_bytes:
            break
        chosen.append(row)
    if not chosen:
        return None
    # The chosen rows are the head of the outbox: exactly the rows up to the last one.
    session.execute(
        sa.update(_TABLE)
        .where(_TABLE.c.seq <= chosen[-1].seq)
        .values(attempts=1, last_attempt_at=now)
    )
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
