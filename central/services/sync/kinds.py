"""The registry of record kinds a site may push, and what the hub does with each.

A kind names its merge policy and the hub table it lands in; its `Handler`
validates the payload and applies it, answering applied, duplicate or
quarantined (with a reason), plus the change-log entries to announce. Adding
a kind (receipts, vial events, stock counts) is one module and one entry in
`REGISTRY`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
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


@dataclass(frozen=True)
class RecordKind:
    """One kind of record on the wire."""

    name: str
    table: str
    policy: MergePolicy
    handler: Handler


def _registry() -> Mapping[str, RecordKind]:
    # Imported here: the handler modules import this one for its types.
    from central.services.sync import appointment_events, citizens, dose_records

    kinds = (
        RecordKind("dose_record", "dose_records", MergePolicy.APPEND_ONLY, dose_records.apply),
        RecordKind(
            "appointment_event",
            "appointment_events",
            MergePolicy.APPEND_ONLY,
            appointment_events.apply,
        ),
        RecordKind("citizen", "citizens", MergePolicy.HLC_FIELDS, citizens.apply),
    )
    return {kind.name: kind for kind in kinds}


_REGISTRY: Mapping[str, RecordKind] | None = None


def registry() -> Mapping[str, RecordKind]:
    """Every kind the hub accepts, by name."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _registry()
    return _REGISTRY
