"""Recording what the hub changed: the audit trail and the change log.

`audit` writes who did what (append-only ``audit_log``); `announce` appends
changes that sites must pull (``change_log``, in a gap-free global order; see
`central.db.change_log`). `announce` takes the change-log counter's lock, so
call it last in a transaction, right before commit.

`row_payload` is the wire form of a row in a change-log entry: every column,
with ids, dates and times as ISO text, so it is plain JSON on both engines.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from central.db import AuditLog, Base, ChangeOp, NewChange, append_changes


def json_value(value: Any) -> Any:
    """`value` as a JSON value: ids, dates and times as ISO text."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def row_payload(row: Base) -> dict[str, Any]:
    """Every column of `row` by column name, as JSON values."""
    mapper = inspect(type(row))
    return {
        attr.columns[0].name: json_value(getattr(row, attr.key)) for attr in mapper.column_attrs
    }


def audit(
    session: Session,
    *,
    occurred_at: datetime,
    actor: str,
    action: str,
    entity: Base | None = None,
    entity_table: str | None = None,
    entity_id: str | None = None,
    site_id: uuid.UUID | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> None:
    """Add one audit-trail entry to the session (flushed with the transaction)."""
    if entity is not None:
        if getattr(entity, "id", None) is None:
            session.flush()  # assigns the id default of a new row
        entity_table = entity.__tablename__
        entity_id = str(getattr(entity, "id"))  # noqa: B009 - audited tables have an id
    session.add(
        AuditLog(
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            entity_table=entity_table or "",
            entity_id=entity_id,
            site_id=site_id,
            before=json_value(before) if before is not None else None,
            after=json_value(after) if after is not None else None,
            request_id=request_id,
        )
    )


def upsert_change(
    row: Base, *, audience_site_id: uuid.UUID | None, hlc: str | None = None
) -> NewChange:
    """A change-log entry telling `audience_site_id` (None: every site) about `row`."""
    record_id = getattr(row, "id")  # noqa: B009 - every announced table has an id column
    assert isinstance(record_id, uuid.UUID)
    return NewChange(
        table_name=row.__tablename__,
        record_id=record_id,
        op=ChangeOp.UPSERT,
        payload=row_payload(row),
        audience_site_id=audience_site_id,
        origin_site_id=None,
        hlc=hlc,
    )


def announce(session: Session, changes: Sequence[NewChange], now: datetime) -> None:
    """Append `changes` to the change log. Call last, right before commit."""
    if changes:
        session.flush()
        append_changes(session, changes, now)
