"""Inserting a chunk's new records of the big tables in bulk.

A bootstrap or a day's roster is mostly records this store has never held:
citizens, appointments, appointment events and dose records. The appliers
of `app.sync.apply` build one ORM object per record; here such a record
becomes one row of an ORM bulk ``INSERT`` (one executemany per table and
chunk), with the same values and the same checks as its applier.

Only the first entry of a record the store does not hold is inserted here,
and only when everything it refers to is held (or inserted before it).
Everything else is left to the appliers, run after the bulk insert: a record
the store already holds (the citizen field merge, the append-only no-op), a
later entry of the same record in the chunk (merged into the row inserted
here, in order), a dose correcting another, and any entry its applier would
refuse, so that the applier reports it exactly as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.local_db.models.appointments import Appointment, AppointmentEvent, AppointmentEventKind
from app.local_db.models.citizens import Citizen
from app.local_db.models.doses import DoseRecord
from app.sync.apply import (
    DEFAULT_SLOT_MINUTES,
    DEFAULT_TIMEZONE,
    SLOT_MINUTES_SETTING,
    TIMEZONE_SETTING,
    ApplyContext,
    _dt,
    _hub_hlc,
    _local_value,
    _setting,
    _uuid,
)
from app.sync.wire_forms import CITIZEN_WIRE_TO_LOCAL, INJECTION_SITE_FROM_WIRE
from domain.sync_wire import DoseRecordPayload, PulledChange


class _Refs:
    """Which referenced records exist, with one query per table and chunk.

    A record counts as held when the store holds it (asked once for all the
    chunk's references to that table) or it was inserted earlier in this
    chunk's bulk insert.
    """

    def __init__(self, session: Session, held: Mapping[type[Any], set[uuid.UUID]]) -> None:
        self._session = session
        self._held: dict[type[Any], set[uuid.UUID]] = {
            model: set(ids) for model, ids in held.items()
        }

    def prefetch(self, model: type[Any], ids: set[uuid.UUID]) -> None:
        known = self._held.setdefault(model, set())
        wanted = ids - known
        if wanted:
            key = sa.inspect(model).primary_key[0]
            known.update(self._session.scalars(sa.select(key).where(key.in_(wanted))))

    def held(self, model: type[Any], record_id: uuid.UUID | None) -> bool:
        return record_id is not None and record_id in self._held.get(model, set())

    def inserted(self, model: type[Any], record_id: uuid.UUID) -> None:
        self._held.setdefault(model, set()).add(record_id)


_RowMaker = Callable[[ApplyContext, PulledChange, Mapping[str, Any], _Refs], dict[str, Any] | None]


_CITIZEN_LISTS: Final = ("conditions", "preferences")
"""Citizen columns whose default (an empty list) the ORM would give a None."""


def _citizen_row(
    ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any], refs: _Refs
) -> dict[str, Any] | None:
    """`app.sync.apply.apply_citizen` for a citizen the store does not hold."""
    remote_hlc: dict[str, str] = dict(payload.get("field_hlc") or {})
    values = {
        local: _local_value(local, payload.get(wire))
        for wire, local in CITIZEN_WIRE_TO_LOCAL.items()
    }
    for listed in _CITIZEN_LISTS:
        if values.get(listed) is None:
            # The ORM leaves a None out of its INSERT, so the column default applies.
            values[listed] = []
    return {
        "id": change.record_id,
        "origin_site_id": _uuid(payload.get("origin_site_id")),
        "created_at": _dt(payload.get("created_at") or ctx.now.isoformat()),
        "created_by": None,
        "field_hlc": {
            CITIZEN_WIRE_TO_LOCAL[w]: s for w, s in remote_hlc.items() if w in CITIZEN_WIRE_TO_LOCAL
        },
        "hlc": str(payload.get("hlc") or change.hlc or ""),
        "walk_in": False,
        **values,
    }


@dataclass(frozen=True)
class _SiteSettings:
    zone: ZoneInfo
    slot_minutes: int


def _appointment_row_maker(session: Session) -> _RowMaker:
    """`app.sync.apply.apply_appointment` for a new appointment; settings read once a chunk."""
    settings: list[_SiteSettings] = []

    def row(
        ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any], refs: _Refs
    ) -> dict[str, Any] | None:
        citizen_id = _uuid(payload.get("citizen_id"))
        if not refs.held(Citizen, citizen_id):
            return None  # the applier refuses it
        if not settings:
            settings.append(
                _SiteSettings(
                    ZoneInfo(str(_setting(session, TIMEZONE_SETTING, DEFAULT_TIMEZONE))),
                    int(_setting(session, SLOT_MINUTES_SETTING, DEFAULT_SLOT_MINUTES)),
                )
            )
        site = settings[0]
        day = date.fromisoformat(str(payload["day"]))
        slot = datetime.combine(
            day, time.fromisoformat(str(payload["slot_start"])), tzinfo=site.zone
        )
        return {
            "id": change.record_id,
            "origin_site_id": _uuid(payload.get("origin_site_id")),
            "created_at": _dt(payload["created_at"]),
            "created_by": None,
            "citizen_id": citizen_id,
            "site_id": _uuid(payload["site_id"]),
            "day": day,
            "slot_start": slot,
            "slot_minutes": site.slot_minutes,
            "product_code": str(payload["product_id"]),
            "dose_number": int(payload["dose_number"]),
        }

    return row


_EVENT_KINDS: Final = frozenset(kind.value for kind in AppointmentEventKind)


def _appointment_event_row(
    ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any], refs: _Refs
) -> dict[str, Any] | None:
    """`app.sync.apply.apply_appointment_event` for a new event."""
    appointment_id = _uuid(payload.get("appointment_id"))
    if not refs.held(Appointment, appointment_id) or str(payload["kind"]) not in _EVENT_KINDS:
        return None  # the applier refuses it
    occurred_at = _dt(payload["occurred_at"])
    details = {}
    if payload.get("new_appointment_id"):
        details["new_appointment_id"] = str(payload["new_appointment_id"])
    return {
        "id": change.record_id,
        "origin_site_id": change.origin_site_id,
        "created_at": _dt(payload.get("created_at") or payload["occurred_at"]),
        "created_by": None,
        "appointment_id": appointment_id,
        "kind": AppointmentEventKind(str(payload["kind"])),
        "occurred_at": occurred_at,
        "hlc": change.hlc or _hub_hlc(occurred_at),
        "reason": payload.get("reason"),
        "dose_record_id": None,
        "details": details,
    }


def _dose_row(
    ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any], refs: _Refs
) -> dict[str, Any] | None:
    """`app.sync.apply.apply_dose` for a new dose that corrects none."""
    dose = DoseRecordPayload.model_validate(payload)
    injection = INJECTION_SITE_FROM_WIRE.get(dose.injection_site)
    if (
        dose.id != change.record_id
        or dose.voids_dose_id is not None
        or not refs.held(Citizen, dose.citizen_id)
        or injection is None
        or change.origin_site_id is None
    ):
        return None  # a correction, or an entry the applier refuses
    return {
        "id": dose.id,
        "origin_site_id": change.origin_site_id,
        "created_at": dose.created_at,
        "created_by": dose.vaccinator_id,
        "citizen_id": dose.citizen_id,
        "appointment_id": dose.appointment_id,
        "product_code": dose.product_code,
        "gtin": dose.gtin,
        "lot_number": dose.lot_number,
        "vial_id": dose.vial_id,
        "dose_number": dose.dose_number,
        "administered_at": dose.administered_at,
        "injection_site": injection,
        "vaccinator_name": dose.vaccinator_name,
        "notes": dose.notes,
        "voids_dose_id": None,
    }


@dataclass(frozen=True)
class _BulkTable:
    model: type[Any]
    parent: tuple[type[Any], str] | None
    """The table its rows must find a row of, and the payload key naming it."""


BULK_TABLES: Final[Mapping[str, _BulkTable]] = {
    "citizens": _BulkTable(Citizen, None),
    "appointments": _BulkTable(Appointment, (Citizen, "citizen_id")),
    "appointment_events": _BulkTable(AppointmentEvent, (Appointment, "appointment_id")),
    "dose_records": _BulkTable(DoseRecord, (Citizen, "citizen_id")),
}
"""Change-log tables whose new records are inserted in bulk."""


def insert_new(
    ctx: ApplyContext,
    table: str,
    entries: list[PulledChange],
    absent: Callable[[type[Any], uuid.UUID], bool],
    held: Mapping[type[Any], set[uuid.UUID]] | None = None,
) -> tuple[list[uuid.UUID], list[PulledChange]]:
    """Insert `table`'s new records among `entries` in one bulk insert.

    `absent` tells whether the store does not hold a record (before this
    call); `held` names records known to be in the store (inserted earlier
    in the same transaction), which need not be looked up. Returns the ids
    inserted (the caller must no longer count them absent) and the entries
    left to the appliers, in their order.
    """
    spec = BULK_TABLES[table]
    refs = _Refs(ctx.session, held or {})
    if spec.parent is not None:
        parent, key = spec.parent
        refs.prefetch(
            parent,
            {
                ref
                for entry in entries
                if entry.payload is not None and (ref := _uuid(entry.payload.get(key))) is not None
            },
        )
    make = _appointment_row_maker(ctx.session) if table == "appointments" else _MAKERS[table]
    rows: list[dict[str, Any]] = []
    inserted: list[uuid.UUID] = []
    seen: set[uuid.UUID] = set()
    rest: list[PulledChange] = []
    for entry in entries:
        first = entry.record_id not in seen
        seen.add(entry.record_id)
        row = None
        if (
            first
            and entry.op == "upsert"
            and entry.payload is not None
            and absent(spec.model, entry.record_id)
        ):
            row = make(ctx, entry, entry.payload, refs)
        if row is None:
            rest.append(entry)
            continue
        rows.append(row)
        inserted.append(entry.record_id)
        refs.inserted(spec.model, entry.record_id)
    if rows:
        _insert_rows(ctx.session.connection(), spec.model.__table__, rows)
    return inserted, rest


@dataclass(frozen=True)
class _Insert:
    """One table's INSERT as the driver runs it, and each column's conversion to stored form."""

    sql: str
    keys: tuple[str, ...]
    to_stored: tuple[Callable[[Any], Any] | None, ...]


_inserts: dict[tuple[str, str, frozenset[str]], _Insert] = {}


def _insert_rows(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (each with the same columns) with one executemany.

    What a Core ``insert`` does, without its per-row work: each value goes
    through the bind processor SQLAlchemy would apply (the column type's,
    for this dialect), so the stored form is the same, and the driver gets
    plain tuples. A column left out is stored NULL, so it must have no
    Python-side default (Core would apply it; the makers fill those, see
    `_CITIZEN_LISTS`): raises `TypeError` otherwise, a programming error.
    """
    dialect = connection.dialect
    given = frozenset(rows[0])
    statement = _inserts.get((dialect.name, table.name, given))
    if statement is None:
        statement = _compile_insert(dialect, table, given)
        _inserts[(dialect.name, table.name, given)] = statement
    # Column by column: one comprehension per column costs less than a generator per row.
    stored = [
        [row[key] for row in rows] if convert is None else [convert(row[key]) for row in rows]
        for key, convert in zip(statement.keys, statement.to_stored, strict=True)
    ]
    connection.exec_driver_sql(statement.sql, list(zip(*stored, strict=True)))


def _compile_insert(dialect: sa.Dialect, table: sa.Table, given: frozenset[str]) -> _Insert:
    columns = {column.key: column for column in table.columns}
    defaulted = sorted(
        key for key, column in columns.items() if key not in given and column.default is not None
    )
    if defaulted or not given <= set(columns):
        raise TypeError(f"{table.name}: rows must give {defaulted} and only its columns")
    keys = [key for key in columns if key in given]
    compiled = sa.insert(table).compile(dialect=dialect, column_keys=keys)
    order = tuple(compiled.positiontup or ())
    if sorted(order) != sorted(keys):
        raise TypeError(f"{table.name}: unexpected INSERT parameters {order}")
    return _Insert(
        compiled.string,
        order,
        tuple(columns[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order),
    )


_MAKERS: Final[Mapping[str, _RowMaker]] = {
    "citizens": _citizen_row,
    "appointment_events": _appointment_event_row,
    "dose_records": _dose_row,
}
