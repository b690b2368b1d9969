"""What every append-only kind does alike: re-sends, payload checks, actors, echoes.

Sync rule 2: a re-sent record with the same id and payload is a duplicate
(a no-op); the same id with another payload is quarantined and reported.
The hub keeps each record's ``payload_hash`` (hex SHA-256 of its canonical
wire form, `domain.wire.payload_hash`) to tell the two apart.

Set-wise handlers (`kinds.BatchHandler`) look up a whole batch's ids at once
with `among`: ``= ANY(array)`` on PostgreSQL, one parameter whatever the
batch's size (an ``IN`` list of hundreds of parameters is re-parsed by the
driver on every call), ``IN`` elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import ColumnElement, Uuid, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from central.db import ChangeLog, ChangeOp, NewChange
from central.services.sync.kinds import ApplyContext, Outcome
from domain.sync_wire import RecordStatus, WireRecord
from domain.wire import payload_hash

_Payload = TypeVar("_Payload", bound=BaseModel)


def resent(stored_hash: str | None, digest: str, what: str) -> Outcome | None:
    """The answer to a record whose id the hub already holds (None: it holds none)."""
    if stored_hash is None:
        return None
    if stored_hash == digest:
        return Outcome(RecordStatus.DUPLICATE)
    return Outcome.quarantined(
        "conflicting_payload", f"{what} with this id is already stored with different details"
    )


def parse(model: type[_Payload], record: WireRecord) -> _Payload | Outcome:
    """The record's payload as `model`, or the quarantine saying why it is not one."""
    try:
        payload = model.model_validate(record.payload)
    except ValidationError as exc:
        return Outcome.quarantined("invalid_payload", str(exc)[:2000])
    if getattr(payload, "id", record.id) != record.id:
        return Outcome.quarantined("invalid_payload", "the payload's id is not the record's id")
    return payload


def actor(user_id: uuid.UUID | None, site_id: uuid.UUID) -> str:
    """The ``created_by`` of a row a site user (or, unnamed, the site) recorded."""
    return f"site-user:{user_id}" if user_id is not None else f"site:{site_id}"


def echo(ctx: ApplyContext, table: str, record: WireRecord) -> NewChange:
    """The change-log entry returning a pushed record to its own site.

    A site never pulls its own entries, except after a restore from an old
    backup: then the records the backup lacks come back this way.
    """
    return NewChange(
        table_name=table,
        record_id=record.id,
        op=ChangeOp.UPSERT,
        payload=record.payload,
        audience_site_id=ctx.site_id,
        origin_site_id=ctx.site_id,
    )


def echoed_payload_hash(ctx: ApplyContext, table: str, record_id: uuid.UUID) -> str | None:
    """The payload hash of the record's echo to the pushing site (None: no echo).

    For tables whose rows keep no hash of their own. Narrowed by the site's
    audience index, then the id.
    """
    payload = ctx.session.scalar(
        select(ChangeLog.payload)
        .where(
            ChangeLog.audience_site_id == ctx.site_id,
            ChangeLog.table_name == table,
            ChangeLog.record_id == record_id,
        )
        .order_by(ChangeLog.seq)
        .limit(1)
    )
    return None if payload is None else payload_hash(payload)


def among(
    session: Session, column: InstrumentedAttribute[uuid.UUID], ids: Collection[uuid.UUID]
) -> ColumnElement[bool]:
    """``column IN ids`` for a UUID column, as one array parameter on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Uuid(as_uuid=True))))
    return column.in_(ids)


def existing(
    session: Session,
    column: InstrumentedAttribute[uuid.UUID],
    values: Iterable[uuid.UUID | None],
) -> set[uuid.UUID]:
    """Which of `values` (None left out) the UUID `column` holds, in one query."""
    wanted = {value for value in values if value is not None}
    if not wanted:
        return set()
    return set(session.scalars(select(column).where(among(session, column, wanted))))


def stored_hashes(
    session: Session,
    id_column: InstrumentedAttribute[uuid.UUID],
    hash_column: InstrumentedAttribute[str],
    ids: Collection[uuid.UUID],
) -> dict[uuid.UUID, str]:
    """The payload hash of each of `ids` the table already holds, in one query."""
    if not ids:
        return {}
    rows = session.execute(select(id_column, hash_column).where(among(session, id_column, ids)))
    return dict(rows.all())
