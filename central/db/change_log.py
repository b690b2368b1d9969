"""Appending to the change log in a gap-free global order.

See `central.db.models.sync` for why a single-row counter is used. The rule
for callers: append the transaction's changes last, just before commit, after
every other write. From that moment the transaction holds the counter's lock,
and every other change-writing transaction waits for it to commit or roll
back; holding it briefly keeps the hub's write throughput up, and taking no
other lock after it rules out deadlocks.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from central.db.bulk import insert_rows
from central.db.enums import ChangeOp
from central.db.models.sync import ChangeLog, ChangeLogCounter


@dataclass(frozen=True)
class NewChange:
    """A change to announce to pulling sites.

    ``audience_site_id`` None means every site; ``payload`` is the record's
    wire form after the change (None for a delete).
    """

    table_name: str
    record_id: uuid.UUID
    op: ChangeOp
    payload: dict[str, Any] | None
    audience_site_id: uuid.UUID | None = None
    origin_site_id: uuid.UUID | None = None
    hlc: str | None = None


def allocate_change_seqs(session: Session, count: int) -> range:
    """Reserve `count` consecutive seqs in the session's transaction.

    The numbers are final once the transaction commits and are handed out
    again if it rolls back, so committed seqs never have gaps. Blocks while
    another transaction holds the counter (on SQLite, the write lock).
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    statement = (
        update(ChangeLogCounter)
        .where(ChangeLogCounter.id == 1)
        .values(last_seq=ChangeLogCounter.last_seq + count)
        .returning(ChangeLogCounter.last_seq)
        .execution_options(synchronize_session=False)
    )
    last = session.execute(statement).scalar_one()
    return range(last - count + 1, last + 1)


def append_changes(session: Session, changes: Sequence[NewChange], logged_at: datetime) -> range:
    """Write `changes` to the change log in order; return the seqs they got.

    Call last in the transaction (see the module docstring). Does not commit.
    The rows go in as one bulk insert (``COPY`` on PostgreSQL, see
    `central.db.bulk`): the counter's lock is held only as long as that takes.
    """
    if not changes:
        return range(0)
    session.flush()  # the transaction's other writes first: nothing may wait behind the lock
    seqs = allocate_change_seqs(session, len(changes))
    insert_rows(
        session,
        ChangeLog,
        (
            {
                "seq": seq,
                "table_name": change.table_name,
                "record_id": change.record_id,
                "op": change.op.value,
                "audience_site_id": change.audience_site_id,
                "origin_site_id": change.origin_site_id,
                "hlc": change.hlc,
                "payload": change.payload,
                "logged_at": logged_at,
            }
            for seq, change in zip(seqs, changes, strict=True)
        ),
    )
    return seqs
