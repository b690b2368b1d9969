"""The registry of record kinds a site may push, and what the hub does with each.

A kind names its merge policy and the hub table it lands in; its `Handler`
validates the payload and applies it, answering applied, duplicate or
quarantined (with a reason), plus the change-log entries to announce. Adding
a kind (receipts, vial events, stock counts) is one module and one entry in
`REGISTRY`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from central.db import NewChange
from domain.sync_wire import RecordStatus, WireRecord


class MergePolicy(StrEnum):
    """How a re-sent or concurrent write of a record is settled."""

    APPEND_ONLY = "append_only"  # same id+payload: no-op; other payload: quarantine
    HLC_FIELDS = "hlc_fields"  # field by field, the greater hybrid-clock timestamp wins
    LAST_WRITER_WINS = "last_writer_wins"  # whole record, the greater updated_at wins


@dataclass(frozen=True)
class ApplyContext:
    """What a handler may use: the transaction, the pushing site, the hub's time."""

    session: Session
    site_id: uuid.UUID
    now: datetime


@dataclass(frozen=True)
class Outcome:
    """What a handler did with one record."""

    status: RecordStatus
    reason: str | None = None
    detail: str | None = None
    changes: tuple[NewChange, ...] = field(default=())

    @classmethod
    def quarantined(cls, reason: str, detail: str) -> Outcome:
        return cls(RecordStatus.QUARANTINED, reason, detail)


Handler = Callable[[ApplyContext, WireRecord], Outcome]

BatchHandler = Callable[[ApplyContext, Sequence[WireRecord]], Sequence[Outcome]]
"""Applies every record of one kind in a push at once: one outcome per record, in order.

Must give each record the outcome `Handler` would give it applied alone, in
order (a record may refer to an earlier one of the same batch). It runs in a
savepoint; if the database refuses its writes (SQLAlchemyError), the
savepoint is rolled back and the records go one by one through `handler`.
"""


@dataclass(frozen=True)
class RecordKind:
    """One kind of record on the wire.

    `handler` applies one record (run in its own savepoint). `apply_many`, if
    given, applies all the kind's records of a batch set-wise (a few queries
    for the lot instead of a few per record); without it the push falls back
    to `handler`. `after` names the kinds whose records this kind's records
    may refer to (a dose names its citizen and its nurse): within a batch the
    records are applied kind by kind, those kinds first, the others in the
    order their first record appears, each kind's records in batch order.
    """

    name: str
    table: str
    policy: MergePolicy
    handler: Handler
    apply_many: BatchHandler | None = None
    after: tuple[str, ...] = ()


def _registry() -> Mapping[str, RecordKind]:
    # Imported here: the handler modules import this one for its types.
    from central.services.sync import (
        appointment_events,
        certificates_issued,
        citizens,
        dose_records,
        dose_voids,
        receipt_discrepancies,
        receipts,
        site_users,
        stock_counts,
        vial_events,
        walk_in_appointments,
    )

    kinds = (
        RecordKind(
            "dose_record",
            "dose_records",
            MergePolicy.APPEND_ONLY,
            dose_records.apply,
            apply_many=dose_records.apply_many,
            after=("citizen", "site_user", "walk_in_appointment"),
        ),
        RecordKind(
            "appointment_event",
            "appointment_events",
            MergePolicy.APPEND_ONLY,
            appointment_events.apply,
            apply_many=appointment_events.apply_many,
            after=("walk_in_appointment",),
        ),
        RecordKind("citizen", "citizens", MergePolicy.HLC_FIELDS, citizens.apply),
        RecordKind("site_user", "site_users", MergePolicy.LAST_WRITER_WINS, site_users.apply),
        RecordKind(
            "certificate_issued",
            "issued_certificates",
            MergePolicy.APPEND_ONLY,
            certificates_issued.apply,
            after=("citizen", "dose_record"),
        ),
        RecordKind(
            "vial_event",
            "vial_events",
            MergePolicy.APPEND_ONLY,
            vial_events.apply,
            after=("dose_record",),
        ),
        RecordKind(
            "dose_void",
            "dose_voids",
            MergePolicy.APPEND_ONLY,
            dose_voids.apply,
            after=("dose_record",),
        ),
        RecordKind("receipt", "receipts", MergePolicy.APPEND_ONLY, receipts.apply),
        RecordKind(
            "receipt_discrepancy",
            "receipt_discrepancies",
            MergePolicy.APPEND_ONLY,
            receipt_discrepancies.apply,
            after=("receipt",),
        ),
        RecordKind("stock_count", "stock_counts", MergePolicy.APPEND_ONLY, stock_counts.apply),
        RecordKind(
            "walk_in_appointment",
            "appointments",
            MergePolicy.APPEND_ONLY,
            walk_in_appointments.apply,
            after=("citizen",),
        ),
    )
    return {kind.name: kind for kind in kinds}


_REGISTRY: Mapping[str, RecordKind] | None = None


def registry() -> Mapping[str, RecordKind]:
    """Every kind the hub accepts, by name."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _registry()
    return _REGISTRY
