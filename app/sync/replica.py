"""This replica's side of "trust but verify": what it holds per verified table, and re-sending.

`held` gives, for one table the hub verifies (`central.services.sync.verify`),
the (id, version) pairs this store holds that the hub should hold too: every
row, less those still waiting in the outbox (the hub cannot have them yet);
`held_lines` the same as the text lines the digest hashes, read cheaply.
Versions are computed as the hub computes them (`domain.sync_wire`), so the
two digests agree exactly when the replicas do.

`resend` queues again, through the outbox, records born here that the hub
says it lacks although nothing waits to send them (a lost outbox row, or a
hub restored from a backup): they are sent again, never dropped. Only
append-only kinds are re-sent; a re-sent record the hub already holds is a
no-op there (sync rule 2).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.local_db.models.appointments import Appointment, AppointmentEvent
from app.local_db.models.citizens import Citizen
from app.local_db.models.doses import DoseRecord, DoseVoid
from app.local_db.models.logistics import Receipt
from app.local_db.models.stock import Lot, Recall, Vial, VialEvent
from app.local_db.models.sync import OutboxEntry
from app.sync.errors import SyncError
from app.sync.outbox import record_change
from app.sync.wire_forms import (
    CITIZEN_LOCAL_TO_WIRE,
    appointment_event_payload,
    dose_payload,
    dose_void_payload,
    receipt_payload,
    vial_event_payload,
    walk_in_appointment_payload,
)
from domain.sync_wire import citizen_version, replica_line

Row = tuple[uuid.UUID, str | None]


def _citizen_version(field_hlc: Mapping[str, str] | None) -> str:
    if not field_hlc:
        return ""
    wire = CITIZEN_LOCAL_TO_WIRE
    return citizen_version({wire[c]: stamp for c, stamp in field_hlc.items() if c in wire})


def _payload_of(
    model: Any, build: Callable[[Any], dict[str, Any]]
) -> Callable[[Session, uuid.UUID], dict[str, Any]]:
    def payload(session: Session, record_id: uuid.UUID) -> dict[str, Any]:
        return build(session.get_one(model, record_id))

    return payload


def _vial_event(session: Session, record_id: uuid.UUID) -> dict[str, Any]:
    event = session.get_one(VialEvent, record_id)
    return vial_event_payload(event, session.get_one(Vial, event.vial_id))


@dataclass(frozen=True)
class LocalTable:
    """One verified table as this store holds it.

    `query` selects (id, raw version); `version` turns the raw value into
    the hub's version text (None: rows never change). `kind` is the outbox
    kind that carries the table's records to the hub (None: the hub's own
    table), `payload` the wire form a re-send queues (None: never re-sent),
    and `origin` the column naming where a record was born.
    """

    table: str
    query: sa.Select[uuid.UUID, Any]
    version: Callable[[Any], str | None] | None = None
    kind: str | None = None
    payload: Callable[[Session, uuid.UUID], dict[str, Any]] | None = None
    origin: Any = None


TABLES: Final[Mapping[str, LocalTable]] = {
    t.table: t
    for t in (
        LocalTable(
            "dose_records",
            sa.select(DoseRecord.id, sa.null()),
            kind="dose_record",
            payload=_payload_of(DoseRecord, dose_payload),
            origin=DoseRecord.origin_site_id,
        ),
        LocalTable(
            "dose_voids",
            sa.select(DoseVoid.id, sa.null()),
            kind="dose_void",
            payload=_payload_of(DoseVoid, dose_void_payload),
            origin=DoseVoid.origin_site_id,
        ),
        LocalTable(
            "vial_events",
            sa.select(VialEvent.id, sa.null()),
            kind="vial_event",
            payload=_vial_event,
            origin=VialEvent.origin_site_id,
        ),
        LocalTable(
            "receipts",
            sa.select(Receipt.id, sa.null()),
            kind="receipt",
            payload=_payload_of(Receipt, receipt_payload),
            origin=Receipt.origin_site_id,
        ),
        LocalTable(
            "appointments",
            sa.select(Appointment.id, sa.null()),
            kind="walk_in_appointment",
            payload=_payload_of(Appointment, walk_in_appointment_payload),
            origin=Appointment.origin_site_id,
        ),
        LocalTable(
            "appointment_events",
            sa.select(AppointmentEvent.id, sa.null()),
            kind="appointment_event",
            payload=_payload_of(AppointmentEvent, appointment_event_payload),
            origin=AppointmentEvent.origin_site_id,
        ),
        LocalTable(
            "citizens",
            sa.select(Citizen.id, Citizen.field_hlc),
            version=_citizen_version,
            kind="citizen",
        ),
        LocalTable("lots", sa.select(Lot.id, sa.null())),
        LocalTable(
            "recalls",
            sa.select(Recall.id, Recall.lifted_at),
            version=lambda lifted_at: "lifted" if lifted_at is not None else None,
        ),
    )
}


def local_table(table: str) -> LocalTable:
    """The table, or `SyncError` when the hub verifies one this client does not know."""
    found = TABLES.get(table)
    if found is None:
        raise SyncError(detail=f"the hub verifies a table this client does not: {table}")
    return found


def waiting(session: Session, table: str) -> set[uuid.UUID]:
    """Ids of the table's records still waiting in the outbox."""
    kind = local_table(table).kind
    if kind is None:
        return set()
    return set(
        session.scalars(sa.select(OutboxEntry.record_id).where(OutboxEntry.table_name == kind))
    )


def held(session: Session, table: str) -> dict[uuid.UUID, str | None]:
    """(id -> version) of what the store holds of `table` that the hub should hold too."""
    spec = local_table(table)
    version = spec.version
    rows = {
        record_id: version(raw) if version is not None else None
        for record_id, raw in session.execute(spec.query)
    }
    for record_id in waiting(session, table):
        rows.pop(record_id, None)
    return rows


def held_lines(session: Session, table: str) -> list[str]:
    """`held` as `domain.sync_wire.replica_line` lines (unsorted), read as plain text.

    What `digest_lines` hashes; the ids are read as the store keeps them
    (32 hex characters), with no UUID object per row.
    """
    spec = local_table(table)
    record_id, raw = spec.query.subquery().c
    pending: set[str] = set()
    if spec.kind is not None:
        pending = set(
            session.scalars(
                sa.select(sa.type_coerce(OutboxEntry.record_id, sa.String)).where(
                    OutboxEntry.table_name == spec.kind
                )
            )
        )
    version = spec.version
    found = session.execute(sa.select(sa.type_coerce(record_id, sa.String), raw))
    return [
        replica_line(text, version(value) if version is not None else None)
        for text, value in found
        if text not in pending
    ]


def resend(
    session: Session,
    table: str,
    ids: Collection[uuid.UUID],
    *,
    site_id: uuid.UUID,
    now: datetime,
) -> int:
    """Queue again those of `ids` that were born here; returns how many were queued."""
    spec = local_table(table)
    if spec.payload is None or spec.kind is None or not ids:
        return 0
    born_here = session.scalars(
        sa.select(spec.query.selected_columns[0]).where(
            spec.query.selected_columns[0].in_(ids), spec.origin == site_id
        )
    ).all()
    for record_id in sorted(born_here, key=str):
        record_change(session, spec.kind, record_id, spec.payload(session, record_id), now=now)
    return len(born_here)
