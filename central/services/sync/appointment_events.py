"""Pushed appointment events: append-only (check-in, done, no-show, ...).

Same id and payload: a no-op (duplicate). Same id, other payload:
quarantined, never dropped. A site may add events only to its own
appointments; an event naming an appointment the hub lacks is quarantined.
The hub stores events only: an appointment's status is derived from them on
every read by the precedence of `domain.appointment_status`
(`central.services.appointments.deciding_order`), so the events of one batch
may arrive in any order.

The change log carries the event's hub row (the form of
`central.services.records.row_payload`, which the hub's own appointment
changes use), announced to the appointment's site.

`apply_many` settles a whole push's events set-wise: one query for the
stored events, one for the appointments they name, then one bulk insert.
`apply` is the same code for one record, so both give the same answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from central.db import Appointment, AppointmentEvent, ChangeOp, NewChange
from central.db.bulk import insert_rows
from central.services.records import json_value
from central.services.sync.append_only import actor, among, parse, resent, stored_hashes
from central.services.sync.kinds import ApplyContext, Outcome
from domain.sync_wire import AppointmentEventPayload, RecordStatus, WireRecord
from domain.wire import payload_hash

TABLE = "appointment_events"
_WHAT = "an appointment event"


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Store one pushed appointment event, or say why not."""
    return apply_many(ctx, [record])[0]


@dataclass(frozen=True)
class _Parsed:
    """A record whose payload validated, with its digest."""

    record: WireRecord
    event: AppointmentEventPayload
    digest: str


def _parse(record: WireRecord) -> _Parsed | Outcome:
    event = parse(AppointmentEventPayload, record)
    if isinstance(event, Outcome):
        return event
    return _Parsed(record, event, payload_hash(record.payload))


def _appointment_sites(session: Session, parsed: Sequence[_Parsed]) -> dict[uuid.UUID, uuid.UUID]:
    """The site of every appointment the events name (the ones the hub holds)."""
    wanted = {p.event.appointment_id for p in parsed}
    wanted |= {p.event.new_appointment_id for p in parsed if p.event.new_appointment_id}
    if not wanted:
        return {}
    rows = session.execute(
        select(Appointment.id, Appointment.site_id).where(among(session, Appointment.id, wanted))
    )
    return dict(rows.all())


def apply_many(ctx: ApplyContext, records: Sequence[WireRecord]) -> list[Outcome]:
    """Store the pushed events in order, or say why not: one outcome per record.

    A re-sent id in the same batch is a duplicate (or a conflict) of the first.
    """
    session = ctx.session
    items = [_parse(record) for record in records]
    parsed = [item for item in items if isinstance(item, _Parsed)]
    stored = stored_hashes(
        session, AppointmentEvent.id, AppointmentEvent.payload_hash, {r.id for r in records}
    )
    sites = _appointment_sites(session, parsed)
    outcomes: list[Outcome] = []
    rows: list[dict[str, Any]] = []
    for record, item in zip(records, items, strict=True):
        digest = item.digest if isinstance(item, _Parsed) else payload_hash(record.payload)
        again = resent(stored.get(record.id), digest, _WHAT)
        if again is not None:
            outcomes.append(again)
            continue
        if isinstance(item, Outcome):
            outcomes.append(item)
            continue
        row = _row(ctx, item, sites)
        if isinstance(row, Outcome):
            outcomes.append(row)
            continue
        rows.append(row)
        stored[record.id] = item.digest
        outcomes.append(Outcome(RecordStatus.APPLIED, changes=(_announce(ctx, row),)))
    if rows:
        insert_rows(session, AppointmentEvent, rows)
    return outcomes


def _row(
    ctx: ApplyContext, item: _Parsed, sites: dict[uuid.UUID, uuid.UUID]
) -> dict[str, Any] | Outcome:
    """The event's hub row, or why it cannot be stored."""
    event = item.event
    site_id = sites.get(event.appointment_id)
    if site_id is None:
        return Outcome.quarantined(
            "unknown_appointment", f"no appointment {event.appointment_id} at the hub"
        )
    if site_id != ctx.site_id:
        return Outcome.quarantined(
            "other_site_appointment", "the appointment belongs to another site"
        )
    new_id = event.new_appointment_id
    if new_id is not None and new_id not in sites:
        return Outcome.quarantined("unknown_appointment", f"no appointment {new_id} at the hub")
    return {
        "id": event.id,
        "appointment_id": event.appointment_id,
        "kind": event.kind,
        "occurred_at": event.occurred_at,
        "reason": event.reason,
        "new_appointment_id": new_id,
        "payload_hash": item.digest,
        "origin_site_id": ctx.site_id,
        "created_at": event.created_at,
        "created_by": actor(event.recorded_by, ctx.site_id),
        "stored_at": ctx.now,
    }


@cache
def _columns() -> tuple[tuple[str, str], ...]:
    """(attribute key, column name) of every column, in the mapper's order."""
    mapper = inspect(AppointmentEvent)
    return tuple((attr.key, attr.columns[0].name) for attr in mapper.column_attrs)


def _announce(ctx: ApplyContext, row: dict[str, Any]) -> NewChange:
    """The stored row, to the appointment's site (the pushing one), as `upsert_change` words it."""
    return NewChange(
        table_name=TABLE,
        record_id=row["id"],
        op=ChangeOp.UPSERT,
        payload={name: json_value(row[key]) for key, name in _columns()},
        audience_site_id=ctx.site_id,
        origin_site_id=ctx.site_id,
    )
