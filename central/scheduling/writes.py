"""Writing what a scheduling run decided, column by column.

A national run books hundreds of thousands of people, and each booking is
an appointment, its ``scheduled`` event, one or two invitations, change-log
entries for the site (the appointment, the event, and the citizen's record
when the site does not hold it yet) and a second-dose plan. Everything here
is built as whole columns and written with `central.db.bulk.insert_columns`
(``COPY`` on PostgreSQL): ids come in blocks (`central.db.bulk_ids`), and
the JSON texts of the change log and the audit trail are filled into
templates (`central.scheduling.json_text`), each distinct value formatted
once. The texts are exactly what serialising each record's wire form would
give, and the event's payload hash is that of
`central.services.appointments.new_event`.

The caller runs all of it in one transaction (see `central.scheduling.run`)
and appends the change log last, with `announce`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from json.encoder import encode_basestring_ascii
from typing import Any, Final

from sqlalchemy import JSON, ColumnElement, Date, String, Text, cast, select, type_coerce
from sqlalchemy.orm import Session

from central.db import (
    Appointment,
    AppointmentEvent,
    AppointmentEventKind,
    AuditLog,
    ChangeLog,
    ChangeOp,
    Citizen,
    NotificationChannel,
    NotificationOutbox,
    NotificationStatus,
    SecondDosePlan,
    StandbyEntry,
    allocate_change_seqs,
)
from central.db.bulk import insert_columns
from central.db.bulk_ids import HexUuids, UuidBlock, uuid7_block
from central.db.types import UTCDateTime
from central.scheduling.capacity import Capacity
from central.scheduling.invitations import Invitation, email_text, sms_text
from central.scheduling.json_text import JsonTemplate, fragment, quoted
from domain.data import RuleSet
from domain.wire import canonical_json

UNBOOKED_ACTION: Final = "scheduler.unbooked"
_CHUNK: Final = 500
"""Ids per IN list (bound values per statement stay far below either engine's limit)."""
_JSON_COLUMNS: Final = frozenset(c.key for c in Citizen.__table__.c if isinstance(c.type, JSON))

CONTACT_COLUMNS: Final = ("id", "first_name_latin", "last_name_latin", "phone", "email", "hlc")
"""The citizen's columns `citizen_payloads` hands back beside the payload."""

_json_string: Callable[[str], str] = encode_basestring_ascii
"""``json.dumps`` of a string (its C encoder, without the call's overhead)."""


@dataclass(frozen=True)
class Bookings:
    """The run's appointments as columns, in seating order (row i of each)."""

    ids: UuidBlock
    citizen_ids: list[uuid.UUID]
    site_ids: list[uuid.UUID]
    days: list[date]
    slots: list[time]
    products: list[str]
    doses: list[int]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Plans:
    """Second-dose plans as columns."""

    citizen_ids: list[uuid.UUID]
    doses: list[int]
    products: list[str]
    earliest: list[date]
    latest: list[date]
    site_ids: list[uuid.UUID]


@dataclass(frozen=True)
class Standby:
    """Standby-list entries as columns, each list in call order."""

    site_ids: list[uuid.UUID]
    days: list[date]
    products: list[str]
    positions: list[int]
    citizen_ids: list[uuid.UUID]


@dataclass(frozen=True)
class Unbooked:
    """Citizens left unbooked, as columns: id text, dose, reason code, rule code."""

    citizen_ids: list[str]
    doses: list[int]
    reasons: list[str]
    rules: list[str | None]


@dataclass
class Changes:
    """Change-log rows to append (less seq and logged_at), as columns."""

    tables: list[str] = field(default_factory=list)
    record_ids: HexUuids = field(default_factory=HexUuids)
    audiences: list[uuid.UUID] = field(default_factory=list)
    hlcs: list[str | None] = field(default_factory=list)
    payloads: list[str] = field(default_factory=list)

    def add(self, table: str, record: str, site: uuid.UUID, payload: str, hlc: str | None) -> None:
        self.tables.append(table)
        self.record_ids.append(record)
        self.audiences.append(site)
        self.hlcs.append(hlc)
        self.payloads.append(payload)

    def __len__(self) -> int:
        return len(self.tables)


@dataclass(frozen=True)
class RunFacts:
    """What every row of one run shares."""

    run_id: uuid.UUID
    now: datetime
    actor: str
    """Who started the run (audit entries)."""
    horizon: tuple[date, date]

    @property
    def scheduler_actor(self) -> str:
        """Who made the run's records."""
        return f"scheduler:{self.run_id}"


def _chunks(items: Sequence[uuid.UUID]) -> Iterator[Sequence[uuid.UUID]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def held_pairs(
    session: Session, citizen_ids: Sequence[uuid.UUID]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(citizen, site) pairs where the site already holds the citizen's record."""
    pairs: set[tuple[uuid.UUID, uuid.UUID]] = set()
    table = Appointment.__table__
    connection = session.connection()
    for chunk in _chunks(citizen_ids):
        pairs.update(
            (c, s)
            for c, s in connection.execute(
                select(table.c.citizen_id, table.c.site_id)
                .where(table.c.citizen_id.in_(chunk))
                .distinct()
            )
        )
    return pairs


def citizen_payloads(
    session: Session, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, dict[str, Any]]]:
    """Per citizen: the JSON text of the record's wire form (what the change log
    carries), and the columns an invitation needs (`CONTACT_COLUMNS`).

    Read in chunks, then formatted column by column. JSON columns are read as
    text and go into the payload as they are: valid JSON either way, and on
    SQLite the very text ``json.dumps`` wrote. Instants are read raw and
    formatted as `central.db.types.UTCDateTime` would read them.
    """
    table = Citizen.__table__
    keys = [c.key for c in table.c]
    rows: list[tuple[Any, ...]] = []
    connection = session.connection()
    statement = select(*(_raw(c) for c in table.c))
    for chunk in _chunks(ids):
        rows.extend(
            tuple(row) for row in connection.execute(statement.where(table.c.id.in_(chunk)))
        )
    if not rows:
        return {}
    fragments = [
        _column_fragments(column, values)
        for column, values in zip(table.c, zip(*rows, strict=True), strict=True)
    ]
    fill = JsonTemplate(dict.fromkeys(keys), keys).fill
    wanted = [(key, keys.index(key)) for key in CONTACT_COLUMNS]
    return {
        row[0]: (fill(*pieces), {key: row[i] for key, i in wanted})
        for row, pieces in zip(rows, zip(*fragments, strict=True), strict=True)
    }


def _raw(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """`column` as `citizen_payloads` reads it."""
    if isinstance(column.type, JSON):
        return cast(column, Text).label(column.key)
    if isinstance(column.type, UTCDateTime | Date):
        return type_coerce(column, String).label(column.key)
    return column


def _column_fragments(column: ColumnElement[Any], values: Sequence[Any]) -> list[str]:
    """``json.dumps`` of the wire form of each of `column`'s values (read by `_raw`)."""
    if isinstance(column.type, JSON):
        return ["null" if v is None else v for v in values]
    if isinstance(column.type, UTCDateTime):
        return _fragments(values, _instant_fragment)
    if isinstance(column.type, Date):
        return _fragments(values, _day_fragment)
    if isinstance(column.type, String):
        return ["null" if v is None else _json_string(v) for v in values]
    return _fragments(values, _fragment_of)


def _day_fragment(raw: Any) -> str:
    """A date read raw (ISO text on SQLite, a date from PostgreSQL's driver) as the
    JSON string of its ISO form."""
    return quoted(raw.isoformat() if isinstance(raw, date) else date.fromisoformat(raw).isoformat())


def _instant_fragment(raw: Any) -> str:
    """An instant read raw (UTC wall time as text on SQLite, an aware datetime from
    PostgreSQL's driver) as the JSON string of its ISO form in UTC."""
    if isinstance(raw, datetime):
        return quoted(raw.astimezone(UTC).isoformat())
    return quoted(datetime.fromisoformat(raw).replace(tzinfo=UTC).isoformat())


def _fragments(column: Sequence[Any], dump: Callable[[Any], str]) -> list[str]:
    """`dump` of each value of one column, called once per distinct value (None: null)."""
    memo: dict[Any, str] = {None: "null"}
    out: list[str] = []
    append = out.append
    for value in column:
        text = memo.get(value)
        if text is None:
            text = memo[value] = dump(value)
        append(text)
    return out


def _fragment_of(value: Any) -> str:
    """``json.dumps`` of a column value's wire form (ids and times as text)."""
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, uuid.UUID):
        return quoted(str(value))
    if isinstance(value, date | time):  # datetime is a date
        return _json_string(value.isoformat())
    return json.dumps(value)


def write_appointments(
    session: Session, facts: RunFacts, bookings: Bookings
) -> tuple[UuidBlock, list[str]]:
    """Insert the appointments and their ``scheduled`` events; return the events'
    ids and payload hashes."""
    n = len(bookings)
    event_ids = uuid7_block(n)
    insert_columns(
        session,
        Appointment,
        {
            "id": bookings.ids,
            "citizen_id": bookings.citizen_ids,
            "site_id": bookings.site_ids,
            "day": bookings.days,
            "slot_start": bookings.slots,
            "product_id": bookings.products,
            "dose_number": bookings.doses,
            "scheduler_run_id": [facts.run_id] * n,
            "replaces_appointment_id": [None] * n,
            "origin_site_id": [None] * n,
            "stored_at": [facts.now] * n,
            "created_at": [facts.now] * n,
            "created_by": [facts.scheduler_actor] * n,
        },
    )
    hashes = _event_hashes(facts, event_ids.text, bookings.ids.text)
    insert_columns(
        session,
        AppointmentEvent,
        {
            "id": event_ids,
            "appointment_id": bookings.ids,
            "kind": [AppointmentEventKind.SCHEDULED.value] * n,
            "occurred_at": [facts.now] * n,
            "reason": [_event_reason(facts)] * n,
            "new_appointment_id": [None] * n,
            "payload_hash": hashes,
            "origin_site_id": [None] * n,
            "stored_at": [facts.now] * n,
            "created_at": [facts.now] * n,
            "created_by": [facts.scheduler_actor] * n,
        },
    )
    return event_ids, hashes


def _event_reason(facts: RunFacts) -> str:
    return f"booked by scheduler run {facts.run_id}"


def _event_hashes(facts: RunFacts, event_ids: list[str], appointment_ids: list[str]) -> list[str]:
    """`payload_hash(event_payload(event))` of each ``scheduled`` event."""
    template = JsonTemplate(
        {
            "id": None,
            "appointment_id": None,
            "kind": AppointmentEventKind.SCHEDULED.value,
            "occurred_at": facts.now.isoformat(),
            "reason": _event_reason(facts),
            "new_appointment_id": None,
            "created_at": facts.now.isoformat(),
            "created_by": facts.scheduler_actor,
            "origin_site_id": None,
        },
        ["id", "appointment_id"],
        dumps=canonical_json,
    )
    sha256 = hashlib.sha256
    return [
        sha256(template.fill(quoted(e), quoted(a)).encode("utf-8")).hexdigest()
        for e, a in zip(event_ids, appointment_ids, strict=True)
    ]


def announce_bookings(
    facts: RunFacts,
    bookings: Bookings,
    event_ids: UuidBlock,
    event_hashes: Sequence[str],
    citizens: dict[uuid.UUID, tuple[str, dict[str, Any]]],
    held: set[tuple[uuid.UUID, uuid.UUID]],
    announced: set[tuple[uuid.UUID, uuid.UUID]],
    changes: Changes,
) -> None:
    """Add to `changes`, per booking: the citizen's record when the site does not
    hold it yet, the appointment and its event."""
    now, actor = facts.now.isoformat(), facts.scheduler_actor
    appointment = JsonTemplate(
        {
            "id": None,
            "citizen_id": None,
            "site_id": None,
            "day": None,
            "slot_start": None,
            "product_id": None,
            "dose_number": None,
            "scheduler_run_id": str(facts.run_id),
            "replaces_appointment_id": None,
            "origin_site_id": None,
            "stored_at": now,
            "created_at": now,
            "created_by": actor,
        },
        ["id", "citizen_id", "site_id", "day", "slot_start", "product_id", "dose_number"],
    )
    event = JsonTemplate(
        {
            "id": None,
            "appointment_id": None,
            "kind": AppointmentEventKind.SCHEDULED.value,
            "occurred_at": now,
            "reason": _event_reason(facts),
            "new_appointment_id": None,
            "payload_hash": None,
            "origin_site_id": None,
            "stored_at": now,
            "created_at": now,
            "created_by": actor,
        },
        ["id", "appointment_id", "payload_hash"],
    )
    iso = fragment(lambda value: quoted(value.isoformat()))
    site_text = fragment(lambda value: quoted(str(value)))
    plain = fragment()
    ids, ids_hex = bookings.ids.text, bookings.ids.hex
    events, events_hex = event_ids.text, event_ids.hex
    for i in range(len(bookings)):
        citizen_id, site_id = bookings.citizen_ids[i], bookings.site_ids[i]
        pair = (citizen_id, site_id)
        if pair not in held and pair not in announced:
            announced.add(pair)
            payload, values = citizens[citizen_id]
            changes.add("citizens", citizen_id.hex, site_id, payload, values["hlc"])
        changes.add(
            "appointments",
            ids_hex[i],
            site_id,
            appointment.fill(
                quoted(ids[i]),
                quoted(str(citizen_id)),
                site_text(site_id),
                iso(bookings.days[i]),
                iso(bookings.slots[i]),
                plain(bookings.products[i]),
                plain(bookings.doses[i]),
            ),
            None,
        )
        changes.add(
            "appointment_events",
            events_hex[i],
            site_id,
            event.fill(quoted(events[i]), quoted(ids[i]), quoted(event_hashes[i])),
            None,
        )


def write_invitations(
    session: Session,
    facts: RunFacts,
    bookings: Bookings,
    citizens: dict[uuid.UUID, tuple[str, dict[str, Any]]],
    capacity: Capacity,
    rules: RuleSet,
) -> int:
    """Queue an SMS and an e-mail per booking (where the citizen gave a phone or
    an address); return how many."""
    channels: list[str] = []
    recipients: list[str] = []
    bodies: list[str] = []
    owners: list[uuid.UUID] = []
    vaccines = {p.id: p.name for p in rules.catalogue.products}
    sms, email = NotificationChannel.SMS.value, NotificationChannel.EMAIL.value
    ids = bookings.ids.text
    for i in range(len(bookings)):
        citizen = citizens[bookings.citizen_ids[i]][1]
        phone, address = citizen["phone"], citizen["email"]
        if not phone and not address:
            continue
        site = capacity.sites[bookings.site_ids[i]]
        invitation = Invitation(
            appointment_id=ids[i],
            citizen_name=f"{citizen['first_name_latin']} {citizen['last_name_latin']}",
            day=bookings.days[i],
            slot_start=bookings.slots[i],
            site_name=site.name,
            site_address=site.address or site.municipality,
            vaccine=vaccines[bookings.products[i]],
            dose_number=bookings.doses[i],
        )
        if phone:
            channels.append(sms)
            recipients.append(phone)
            bodies.append(sms_text(invitation))
            owners.append(citizen["id"])
        if address:
            channels.append(email)
            recipients.append(address)
            bodies.append(email_text(invitation))
            owners.append(citizen["id"])
    n = len(channels)
    now = facts.now
    insert_columns(
        session,
        NotificationOutbox,
        {
            "id": uuid7_block(n),
            "channel": channels,
            "recipient": recipients,
            "body": bodies,
            "citizen_id": owners,
            "status": [NotificationStatus.PENDING.value] * n,
            "attempts": [0] * n,
            "next_attempt_at": [now] * n,
            "sent_at": [None] * n,
            "last_error": [None] * n,
            "updated_at": [now] * n,
            "created_at": [now] * n,
            "created_by": [facts.scheduler_actor] * n,
        },
    )
    return n


def write_plans(session: Session, facts: RunFacts, plans: Plans) -> None:
    """Insert the second-dose plans."""
    n = len(plans.citizen_ids)
    insert_columns(
        session,
        SecondDosePlan,
        {
            "id": uuid7_block(n),
            "run_id": [facts.run_id] * n,
            "citizen_id": plans.citizen_ids,
            "dose_number": plans.doses,
            "product_id": plans.products,
            "earliest": plans.earliest,
            "latest": plans.latest,
            "site_id": plans.site_ids,
            "created_at": [facts.now] * n,
            "created_by": [facts.scheduler_actor] * n,
        },
    )


def write_standby(
    session: Session,
    facts: RunFacts,
    standby: Standby,
    citizens: dict[uuid.UUID, tuple[str, dict[str, Any]]],
    held: set[tuple[uuid.UUID, uuid.UUID]],
    announced: set[tuple[uuid.UUID, uuid.UUID]],
    changes: Changes,
) -> None:
    """Insert the standby entries and add them (with the citizen's record when the
    site does not hold it yet) to `changes`."""
    n = len(standby.citizen_ids)
    ids = uuid7_block(n)
    run_id, now, actor = facts.run_id, facts.now, facts.scheduler_actor
    insert_columns(
        session,
        StandbyEntry,
        {
            "id": ids,
            "run_id": [run_id] * n,
            "site_id": standby.site_ids,
            "day": standby.days,
            "product_id": standby.products,
            "position": standby.positions,
            "citizen_id": standby.citizen_ids,
            "created_at": [now] * n,
            "created_by": [actor] * n,
        },
    )
    entry = JsonTemplate(
        {
            "id": None,
            "run_id": str(run_id),
            "site_id": None,
            "day": None,
            "product_id": None,
            "position": None,
            "citizen_id": None,
            "created_at": now.isoformat(),
            "created_by": actor,
        },
        ["id", "site_id", "day", "product_id", "position", "citizen_id"],
    )
    plain = fragment()
    for i in range(n):
        citizen_id, site_id = standby.citizen_ids[i], standby.site_ids[i]
        pair = (citizen_id, site_id)
        if pair not in held and pair not in announced:
            announced.add(pair)
            payload, values = citizens[citizen_id]
            changes.add("citizens", citizen_id.hex, site_id, payload, values["hlc"])
        changes.add(
            "standby_entries",
            ids.hex[i],
            site_id,
            entry.fill(
                quoted(ids.text[i]),
                quoted(str(site_id)),
                quoted(standby.days[i].isoformat()),
                plain(standby.products[i]),
                plain(standby.positions[i]),
                quoted(str(citizen_id)),
            ),
            None,
        )


def write_unbooked(session: Session, facts: RunFacts, unbooked: Unbooked) -> None:
    """An audit-trail entry per citizen left unbooked, with the reason
    (what `central.scheduling.status` answers from)."""
    n = len(unbooked.citizen_ids)
    after = JsonTemplate(
        {
            "run_id": str(facts.run_id),
            "dose_number": None,
            "reason": None,
            "rule": None,
            "horizon_start": facts.horizon[0].isoformat(),
            "horizon_end": facts.horizon[1].isoformat(),
        },
        ["dose_number", "reason", "rule"],
    )
    plain = fragment()
    insert_columns(
        session,
        AuditLog,
        {
            "id": uuid7_block(n),
            "occurred_at": [facts.now] * n,
            "actor": [facts.actor] * n,
            "action": [UNBOOKED_ACTION] * n,
            "entity_table": [Citizen.__tablename__] * n,
            "entity_id": unbooked.citizen_ids,
            "site_id": [None] * n,
            "before": [None] * n,
            "after": [
                after.fill(plain(dose), plain(reason), plain(rule))
                for dose, reason, rule in zip(
                    unbooked.doses, unbooked.reasons, unbooked.rules, strict=True
                )
            ],
            "request_id": [None] * n,
        },
        json_text={"after"},
    )


def announce(session: Session, changes: Changes, now: datetime) -> None:
    """Append `changes` to the change log, last in the transaction.

    What `central.db.change_log.append_changes` does (the seqs from its
    `allocate_change_seqs`), with the rows given as columns: a run announces
    hundreds of thousands of records, and the counter's lock, which every
    site's push waits for, is held only as long as this insert takes.
    """
    n = len(changes)
    if not n:
        return
    session.flush()
    seqs = allocate_change_seqs(session, n)
    insert_columns(
        session,
        ChangeLog,
        {
            "seq": list(seqs),
            "table_name": changes.tables,
            "record_id": changes.record_ids,
            "op": [ChangeOp.UPSERT.value] * n,
            "audience_site_id": changes.audiences,
            "origin_site_id": [None] * n,
            "hlc": changes.hlcs,
            "payload": changes.payloads,
            "logged_at": [now] * n,
        },
        json_text={"payload"},
    )
