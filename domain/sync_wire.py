"""The sync protocol on the wire: push batches, their answers, pull pages.

Sites push batches of records from their outbox and pull pages of the hub's
change log (DESIGN.md, sync rules 1-7). The protocol version travels in the
``Imuno-Protocol`` header (`domain.wire.PROTOCOL_HEADER`); these models are
the bodies.

A record is a ``kind`` (``dose_record``, ``appointment_event``, ``citizen``,
...) with the record's id and its wire payload. The payload's shape depends
on the kind and is validated by the hub's registry entry for that kind, so a
new kind needs no change here.

Push batches carry the outbox sequence numbers they cover (``first_seq`` ..
``last_seq``): the hub remembers the last range it acknowledged per site and
answers 409 with the sequence it expects when a site sends an older range
under a new key, which is how a site restored from an old backup is noticed.

The idempotency key is sent as the ``Idempotency-Key`` header and repeated in
the body. `push_request_hash` is computed over what must not change between
retries of one batch (the records and the range), not over the send time.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from domain.wire import payload_hash

IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
"""Request header naming a push batch; a retry sends the same key."""

MAX_BATCH_RECORDS: Final = 500
"""At most this many records in one push batch."""

MAX_BATCH_BYTES: Final = 1024 * 1024
"""At most this many bytes of (uncompressed) JSON in one push batch."""

MAX_PULL_PAGE: Final = 1000
"""The largest pull page a site may ask for."""

CLOCK_SKEW_TOLERANCE_MS: Final = 5 * 60 * 1000
"""A site clock further than this from the hub's is flagged (never refused)."""


class RecordStatus(StrEnum):
    """What the hub did with one pushed record."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WireRecord(_Request):
    """One record from a site's outbox."""

    kind: str = Field(min_length=1, max_length=64)
    id: uuid.UUID
    op: str = Field(default="upsert", pattern="^(insert|update|upsert|delete)$")
    outbox_seq: int = Field(ge=1)
    payload: dict[str, Any]


class PushRequest(_Request):
    """A batch of outbox records, in outbox order."""

    idempotency_key: str = Field(min_length=8, max_length=100)
    first_seq: int = Field(ge=1)
    last_seq: int = Field(ge=1)
    records: list[WireRecord] = Field(min_length=1, max_length=MAX_BATCH_RECORDS)
    sent_at: datetime = Field(description="The site's clock when sending (sync time).")
    backlog: int = Field(ge=0, description="Outbox rows waiting, this batch included.")
    client_version: str = Field(min_length=1, max_length=40)
    pull_cursor: str | None = Field(default=None, max_length=200)


def push_request_hash(request: PushRequest) -> str:
    """Hash of what a retry of the batch must repeat exactly."""
    return payload_hash(
        {
            "first_seq": request.first_seq,
            "last_seq": request.last_seq,
            "records": [record.model_dump(mode="json") for record in request.records],
        }
    )


class RecordResult(_Response):
    """The hub's answer for one pushed record."""

    kind: str
    id: uuid.UUID
    status: RecordStatus
    reason: str | None = None
    detail: str | None = None


class PushResponse(_Response):
    """The answer to a push batch; a retried batch gets the same answer again."""

    idempotency_key: str
    first_seq: int
    last_seq: int
    results: list[RecordResult]
    hub_time: datetime
    clock_offset_ms: int
    clock_flagged: bool
    replayed: bool = False


class SequenceGap(_Response):
    """409 body: the site's outbox or cursor went back (restored from a backup)."""

    expected_seq: int
    recovery_cursor: str
    detail: str


class PulledChange(_Response):
    """One change-log entry a site applies."""

    seq: int
    table: str
    record_id: uuid.UUID
    op: str
    origin_site_id: uuid.UUID | None
    hlc: str | None
    payload: dict[str, Any] | None


class PullPage(_Response):
    """A page of changes in change-log order and the cursor after it."""

    changes: list[PulledChange]
    next_cursor: str
    has_more: bool
    hub_time: datetime


class TableDigest(_Response):
    """How many records of one table concern a site, and a hash of their ids."""

    table: str
    count: int
    digest: str


class VerifyResponse(_Response):
    """The hub's view of what a site's replica should hold."""

    tables: list[TableDigest]
    hub_time: datetime


class SiteSyncRow(_Response):
    """One site's sync health, for central staff."""

    site_code: str
    last_push_at: datetime | None
    last_pull_at: datetime | None
    backlog: int | None
    last_error: str | None
    client_version: str | None
    clock_offset_ms: int | None
    clock_flagged: bool
    quarantined: int
    open_conflicts: int


class SyncStatusList(_Response):
    """Every site's sync health, by site code."""

    items: list[SiteSyncRow]


# --- record payloads, by kind ---------------------------------------------------------


class DoseRecordPayload(_Request):
    """A dose given (kind ``dose_record``): append-only.

    ``injection_site`` uses the hub's vocabulary (``left_arm``, ...).
    ``voids_dose_id`` with ``correction_reason`` makes it a correction, or a
    retraction with ``retraction``. ``vaccinator_id`` is the site user who
    gave the dose (the same id at the site and the hub).
    """

    id: uuid.UUID
    citizen_id: uuid.UUID
    appointment_id: uuid.UUID | None = None
    product_code: str = Field(min_length=1, max_length=64)
    gtin: str = Field(pattern=r"^[0-9]{14}$")
    lot_number: str = Field(min_length=1, max_length=20)
    vial_id: uuid.UUID | None = None
    dose_number: int = Field(ge=1, le=20)
    administered_at: datetime
    injection_site: str = Field(pattern="^(left_arm|right_arm|left_thigh|right_thigh|other)$")
    vaccinator_id: uuid.UUID
    vaccinator_name: str = Field(min_length=1, max_length=200)
    notes: str | None = Field(default=None, max_length=1000)
    voids_dose_id: uuid.UUID | None = None
    correction_reason: str | None = Field(default=None, max_length=500)
    retraction: bool = False
    created_at: datetime


class AppointmentEventPayload(_Request):
    """Something that happened to an appointment (kind ``appointment_event``): append-only."""

    id: uuid.UUID
    appointment_id: uuid.UUID
    kind: str = Field(pattern="^(scheduled|checked_in|done|no_show|cancelled|rescheduled)$")
    occurred_at: datetime
    reason: str | None = Field(default=None, max_length=500)
    new_appointment_id: uuid.UUID | None = None
    recorded_by: uuid.UUID | None = None
    created_at: datetime


CITIZEN_FIELDS: Final = frozenset(
    {
        "jmbg",
        "first_name_latin",
        "last_name_latin",
        "first_name_cyrillic",
        "last_name_cyrillic",
        "birth_date",
        "sex",
        "phone",
        "email",
        "municipality",
        "priority_group",
        "conditions",
        "vaccine_preferences",
    }
)
"""Citizen fields a site may write, by their hub (wire) names."""

IDENTITY_FIELDS: Final = frozenset(
    {
        "jmbg",
        "first_name_latin",
        "last_name_latin",
        "first_name_cyrillic",
        "last_name_cyrillic",
        "birth_date",
    }
)
"""Fields whose concurrent change goes to the conflict log for a person to review."""


class CitizenChangePayload(_Request):
    """Writes of citizen fields (kind ``citizen``), merged field by field by HLC.

    ``values`` holds the written fields (hub names, JSON values);
    ``field_hlc`` the timestamp of each write; ``base_hlc`` the timestamp of
    the value each write replaced at the site (None: the site had none), so
    the hub can tell a concurrent write (its current timestamp differs from
    the base) from a sequential one. ``registered_at`` is required when the
    citizen is new to the hub (a walk-in).
    """

    values: dict[str, Any]
    field_hlc: dict[str, str]
    base_hlc: dict[str, str | None] = Field(default_factory=dict)
    registered_at: datetime | None = None
    created_at: datetime


class IdList(_Response):
    """Every id of one table the hub says a site's replica should hold, sorted."""

    table: str
    ids: list[uuid.UUID]


class FetchRequest(_Request):
    """Ask the hub again for particular records (a targeted re-pull after a mismatch)."""

    table: str = Field(min_length=1, max_length=64)
    ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_PULL_PAGE)


class FetchResponse(_Response):
    """The latest change-log entry of each record asked for that concerns the site."""

    changes: list[PulledChange]


def id_digest(ids: list[uuid.UUID] | list[str]) -> str:
    """Hex SHA-256 over the sorted ids (lowercase text), one per line."""
    text = "\n".join(sorted(str(i).lower() for i in ids))
    return hashlib.sha256(text.encode("ascii")).hexdigest()
