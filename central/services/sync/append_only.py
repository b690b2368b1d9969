"""What every append-only kind does alike: re-sends, payload checks, actors, echoes.

Sync rule 2: a re-sent record with the same id and payload is a duplicate
(a no-op); the same id with another payload is quarantined and reported.
The hub keeps each record's ``payload_hash`` (hex SHA-256 of its canonical
wire form, `domain.wire.payload_hash`) to tell the two apart.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select

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
