"""Writing citizen fields at the site: the value, its HLC timestamp and the outbox row, together.

Citizens have several writers (sync rule 3): each written field gets a fresh
timestamp from the site's hybrid clock, later than the timestamp of the value
it replaces (the clock first receives that one), and the write goes to the outbox with
the timestamp it replaced, so the hub can tell a concurrent write from a
sequential one. Call inside the use case's write transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.local_db.models.citizens import Citizen
from app.local_db.models.sync import OutboxEntry, OutboxOp
from app.sync.outbox import record_change
from app.sync.wire_forms import CITIZEN_LOCAL_TO_WIRE, citizen_payload
from domain.hlc import HybridClock, Timestamp


def write_fields(
    session: Session,
    citizen: Citizen,
    changes: Mapping[str, Any],
    *,
    clock: HybridClock,
    now: datetime,
) -> OutboxEntry:
    """Set `changes` (local column -> value) on `citizen` and queue them for the hub."""
    unknown = set(changes) - set(CITIZEN_LOCAL_TO_WIRE)
    if unknown:
        raise ValueError(f"not citizen fields that sync: {sorted(unknown)}")
    field_hlc = dict(citizen.field_hlc or {})
    seen = [field_hlc[column] for column in changes if column in field_hlc]
    if seen:
        # A write must come after the value it replaces, whatever the wall clock says.
        clock.receive(Timestamp.decode(max(seen)))
    stamp = clock.now().encode()
    base = {column: field_hlc.get(column) for column in changes}
    for column, value in changes.items():
        setattr(citizen, column, value)
        field_hlc[column] = stamp
    citizen.field_hlc = field_hlc
    citizen.hlc = max([citizen.hlc or "", *field_hlc.values()])
    written = dict.fromkeys(changes, stamp)
    return record_change(
        session,
        "citizen",
        citizen.id,
        citizen_payload(citizen, written, base),
        op=OutboxOp.UPDATE,
        now=now,
    )


def register_walk_in(
    session: Session, citizen: Citizen, *, clock: HybridClock, now: datetime
) -> OutboxEntry:
    """Add a citizen first registered here and queue all its fields for the hub."""
    stamp = clock.now().encode()
    columns = [c for c in CITIZEN_LOCAL_TO_WIRE if getattr(citizen, c) is not None]
    citizen.field_hlc = dict.fromkeys(columns, stamp)
    citizen.hlc = stamp
    session.add(citizen)
    return record_change(
        session,
        "citizen",
        citizen.id,
        citizen_payload(citizen, dict.fromkeys(columns, stamp), {}, new=True),
        op=OutboxOp.INSERT,
        now=now,
    )
