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
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


SNAPSHOT_PAGE: Final = 5000
"""Records in one page of a new site's snapshot (served gzip-compressed)."""


class SnapshotPage(_Response):
    """A page of a new site's snapshot: the latest state of each record that concerns it.

    Each change is the record's last upsert in the change log up to the
    snapshot's position, in the order the records first appeared there (a
    citizen before its appointments). Ask again with ``next_token`` while it
    is set; store ``cursor`` (the pull cursor to continue from) with the
    last page.
    """

    changes: list[PulledChange]
    next_token: str | None
    cursor: str
    hub_time: datetime


class TableDigest(_Response):
    """How many records of one table concern a site, and a hash of their ids.

    For tables whose rows change, each id is hashed with its version
    (`replica_digest`).
    """

    table: str
    count: int
    digest: str


class VerifyResponse(_Response):
    """The hub's view of what a site's replica should hold.

    ``tables`` holds the digests every client verifies (``dose_records``);
    ``replica_tables`` those of every further table, which clients that
    verify only ``tables`` ignore (an addition within the protocol version).
    """

    tables: list[TableDigest]
    hub_time: datetime
    replica_tables: list[TableDigest] = Field(default_factory=list)


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
    kind: str = Field(
        pattern="^(scheduled|checked_in|done|no_show|cancelled|rescheduled|rebook_requested)$"
    )
    occurred_at: datetime
    reason: str | None = Field(default=None, max_length=500)
    new_appointment_id: uuid.UUID | None = None
    recorded_by: uuid.UUID | None = None
    created_at: datetime


class WalkInAppointmentPayload(_Request):
    """An appointment a site booked itself for a walk-in (kind ``walk_in_appointment``).

    Append-only: its status travels as ``appointment_event`` records, pushed
    after it. ``site_id`` must be the pushing site's. ``day`` is the site's
    local calendar day; ``slot_start`` the slot's start as an instant (with
    its UTC offset), which the hub turns into the site's wall-clock time.
    ``booked_by`` is the site user who booked it.
    """

    id: uuid.UUID
    citizen_id: uuid.UUID
    site_id: uuid.UUID
    day: date
    slot_start: datetime
    product_code: str = Field(min_length=1, max_length=64)
    dose_number: int = Field(ge=1, le=20)
    booked_by: uuid.UUID | None = None
    created_at: datetime

    @model_validator(mode="after")
    def _instants_are_aware(self) -> WalkInAppointmentPayload:
        if self.slot_start.tzinfo is None or self.created_at.tzinfo is None:
            raise ValueError("slot_start and created_at must carry their UTC offset")
        return self


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
    """Every id of one table the hub says a site's replica should hold, sorted.

    ``versions``, for tables whose rows change, gives each id's version
    (parallel to ``ids``), as hashed by `replica_digest`.
    """

    table: str
    ids: list[uuid.UUID]
    versions: list[str | None] | None = None


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


def replica_line(record_id: uuid.UUID | str, version: str | None) -> str:
    """One record's line in `digest_lines`: its id (lowercase, dashed), then its version."""
    text = str(record_id).lower()
    if len(text) == 32:  # the bare hex a database may store
        text = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text if version is None else f"{text} {version}"


def digest_lines(lines: Iterable[str]) -> str:
    """Hex SHA-256 over `replica_line` lines, sorted (by id: ids have one length), one per line."""
    return hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()


def replica_digest(rows: Iterable[tuple[uuid.UUID, str | None]]) -> str:
    """`digest_lines` of (id, version) pairs; with no versions this is `id_digest`.

    Versions are plain text both sides compute alike (see
    `central.services.sync.verify`).
    """
    return digest_lines(replica_line(i, v) for i, v in rows)


def citizen_version(field_hlc: Mapping[str, str] | None) -> str:
    """A citizen's version: the timestamp of each field that travels, by wire name.

    Both sides hold the same timestamps once they agree; the site maps its
    column names to wire names first.
    """
    if not field_hlc:
        return ""
    return ",".join(
        f"{name}={stamp}" for name, stamp in sorted(field_hlc.items()) if name in CITIZEN_FIELDS
    )


class SiteUserPayload(_Request):
    """A nurse or manager of one site (kind ``site_user``), both ways.

    Created at the site (pushed) or at the hub (pulled by its own site only).
    Several writers: the greater ``updated_at`` wins, whole record. The
    password travels only as its argon2 PHC hash, so a site logs in offline.
    """

    id: uuid.UUID
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")
    full_name: str = Field(min_length=1, max_length=200)
    role: str = Field(pattern="^(nurse|manager)$")
    password_hash: str = Field(pattern=r"^\$argon2(id|i|d)\$", max_length=200)
    active: bool
    updated_at: datetime


# --- stock and void payloads (append-only, sync rule 2) --------------------------------

GTIN_PATTERN: Final = r"^[0-9]{14}$"
"""GTIN-14, as stored on both sides (shorter GTINs left-padded with zeros)."""


class VialEventPayload(_Request):
    """Something that happened to a vial (kind ``vial_event``): append-only.

    Carries the vial's identity (GTIN, lot, serial from its DataMatrix) so
    the hub can register a vial it first hears of through its event. A
    ``discarded`` event must give its ``reason``; a ``dose_drawn`` event may
    name the dose it went into.
    """

    id: uuid.UUID
    vial_id: uuid.UUID
    gtin: str = Field(pattern=GTIN_PATTERN)
    lot_number: str = Field(min_length=1, max_length=20)
    serial: str = Field(min_length=1, max_length=20)
    product_code: str = Field(min_length=1, max_length=64)
    expiry_date: date
    doses_per_vial: int = Field(ge=1, le=100)
    kind: str = Field(pattern="^(received|opened|dose_drawn|discarded)$")
    occurred_at: datetime = Field(description="Clinical time of the event.")
    reason: str | None = Field(default=None, min_length=1, max_length=500)
    dose_record_id: uuid.UUID | None = None
    recorded_by: uuid.UUID | None = None
    created_at: datetime

    @model_validator(mode="after")
    def _discard_has_reason(self) -> VialEventPayload:
        if self.kind == "discarded" and not self.reason:
            raise ValueError("a discarded vial must give the reason")
        return self


class DoseVoidPayload(_Request):
    """The statement that a dose record was wrong (kind ``dose_void``): append-only.

    A dose is voided at most once. When the dose was in fact given with
    other details, the site also sends the replacement as a ``dose_record``
    naming the voided one (``voids_dose_id``).
    """

    id: uuid.UUID
    dose_id: uuid.UUID
    reason: str = Field(min_length=1, max_length=500)
    voided_at: datetime = Field(description="When the mistake was established (clinical time).")
    voided_by: uuid.UUID | None = None
    created_at: datetime


class ReceiptPayload(_Request):
    """A shipment taken in at the site (kind ``receipt``): append-only.

    ``shipment_id`` is set when the site had pulled the shipment notice;
    ``shipment_reference`` (from the delivery note) always is.
    """

    id: uuid.UUID
    shipment_id: uuid.UUID | None = None
    shipment_reference: str = Field(min_length=1, max_length=64)
    received_at: datetime = Field(description="When the delivery was taken in (clinical time).")
    cold_chain_ok: bool
    note: str | None = Field(default=None, max_length=1000)
    received_by: uuid.UUID | None = None
    created_at: datetime


class ReceiptDiscrepancyPayload(_Request):
    """One way a received shipment differed from its notice (kind ``receipt_discrepancy``).

    ``kind`` uses the hub's vocabulary (``short``, ``over``, ``damaged``,
    ``wrong_lot``, ``temperature``).
    """

    id: uuid.UUID
    receipt_id: uuid.UUID
    kind: str = Field(pattern="^(short|over|damaged|wrong_lot|temperature)$")
    gtin: str | None = Field(default=None, pattern=GTIN_PATTERN)
    lot_number: str | None = Field(default=None, min_length=1, max_length=20)
    expected_vials: int = Field(ge=0)
    received_vials: int = Field(ge=0)
    note: str | None = Field(default=None, max_length=1000)
    created_at: datetime


class StockCountLinePayload(_Request):
    """Vials of one lot counted in a stock count."""

    id: uuid.UUID
    product_code: str = Field(min_length=1, max_length=64)
    gtin: str = Field(pattern=GTIN_PATTERN)
    lot_number: str = Field(min_length=1, max_length=20)
    expected_vials: int | None = Field(default=None, ge=0)
    counted_vials: int = Field(ge=0)
    note: str | None = Field(default=None, max_length=1000)


class StockCountPayload(_Request):
    """A physical count of the site's fridge with its lines (kind ``stock_count``): append-only."""

    id: uuid.UUID
    counted_at: datetime = Field(description="When the count was made (clinical time).")
    note: str | None = Field(default=None, max_length=1000)
    counted_by: uuid.UUID | None = None
    lines: list[StockCountLinePayload] = Field(min_length=1, max_length=1000)
    created_at: datetime


class CertificateIssuedPayload(_Request):
    """A vaccination certificate a site signed (kind ``certificate_issued``): append-only.

    ``signer_kid`` is the DCC key id (16 hex digits) of the site's document
    signer. ``supersedes`` lists UVCIs of the same citizen this certificate
    replaces (a correction): the hub revokes them, since only the hub signs
    the revocation list.
    """

    id: uuid.UUID
    uvci: str = Field(min_length=1, max_length=80)
    citizen_id: uuid.UUID
    dose_record_id: uuid.UUID
    dose_number: int = Field(ge=1, le=20)
    dose_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)
    signer_kid: str = Field(pattern="^[0-9a-f]{16}$")
    issued_at: datetime
    expires_at: datetime
    supersedes: list[str] = Field(default_factory=list, max_length=50)
    issued_by: uuid.UUID | None = None
    created_at: datetime


# --- hub -> site stock payloads (change-log entries the site applies) -----------------


class LotPayload(_Response):
    """A lot of the catalogue (table ``lots``, to every site)."""

    id: uuid.UUID
    gtin: str
    lot_number: str
    product_code: str
    expiry_date: date
    manufacturer: str
    created_at: datetime


class RecallPayload(_Response):
    """A lot withdrawn centrally (table ``recalls``, to every site).

    Names the lot by GTIN and lot number, as the site's vial scans do, so a
    recall applies even before the lot itself reached the site.
    ``lifted_at`` is set when a mistaken recall was lifted.
    """

    id: uuid.UUID
    lot_id: uuid.UUID
    gtin: str
    lot_number: str
    product_code: str
    reason: str
    effective_at: datetime
    lifted_at: datetime | None = None
    created_at: datetime


class ShipmentLinePayload(_Response):
    """Vials of one lot in a shipment."""

    id: uuid.UUID
    lot_id: uuid.UUID
    product_code: str
    gtin: str
    lot_number: str
    expiry_date: date
    quantity_vials: int


class ShipmentPayload(_Response):
    """A shipment to the site with its lines (table ``shipments``, to that site only).

    ``cancelled_at`` set: the shipment will not come (the site drops its
    notice). ``reference`` is printed on the delivery note.
    """

    id: uuid.UUID
    reference: str
    kind: str
    site_id: uuid.UUID
    from_site_id: uuid.UUID | None = None
    dispatched_at: datetime | None = None
    expected_at: datetime | None = None
    cancelled_at: datetime | None = None
    lines: list[ShipmentLinePayload]
    created_at: datetime
