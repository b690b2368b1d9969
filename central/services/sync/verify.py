"""Trust but verify: what a site's replica should hold, as counts and digests.

After each round the site compares, per verified table, the number of
records and a digest of their ids — with each id's version where rows
change (`domain.sync_wire.replica_digest`) — with its own. On a mismatch it
asks for the id list (`replica_ids`) and re-fetches exactly the records it
lacks or holds in another version (`fetch`): a targeted re-pull, never a
wipe; records of its own the hub lacks it sends again.

Verified, with what the replica of site S should hold:

- ``dose_records``: the doses given at S, and every dose of a citizen
  booked at S (the replica's view of that citizen's history);
- ``dose_voids``: the voids of those doses;
- ``vial_events``, ``receipts``: those recorded at S;
- ``appointments``: those at S; ``appointment_events``: the events of
  those (an appointment's status is derived from them on both sides);
- ``citizens``: those booked at S and those registered at S, each with its
  version (`domain.sync_wire.citizen_version`, the timestamps of its fields);
- ``lots`` and ``recalls`` as announced to every site, a recall with
  whether it was lifted.

Records a site pushed that the hub quarantined count as held (they reached
the hub; a person must look), so the site neither re-sends them nor sees a
mismatch for ever. ``dose_records`` travels in ``VerifyResponse.tables``,
which every client verifies; the rest in ``replica_tables``.

Cost: one query per table (and one on the small quarantine table for the
tables sites push), reading ids as text (no UUID object per row) and hashing
here, in id order, since SQLite has no hash function.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Select, String, Text, cast, func, null, or_, select, type_coerce, union_all
from sqlalchemy.orm import Session

from central.db import (
    Appointment,
    AppointmentEvent,
    ChangeLog,
    Citizen,
    CitizenAlias,
    DoseRecord,
    DoseVoid,
    Quarantine,
    Recall,
    Receipt,
    VialEvent,
)
from central.services.context import Hub
from central.services.errors import HubError
from domain.sync_wire import (
    FetchResponse,
    IdList,
    PulledChange,
    TableDigest,
    VerifyResponse,
    citizen_version,
    digest_lines,
    replica_line,
)

Row = tuple[uuid.UUID, str | None]


class TableNotVerified(HubError):
    code = "sync.table_not_verified"
    template = "The hub does not verify the table '{table}'. Update the site client."


@dataclass(frozen=True)
class Verified:
    """One verified table: the query of (id, raw version) it should hold, and the version."""

    table: str
    rows: Callable[[uuid.UUID], Select[Any, Any]]
    version: Callable[[Any], str | None] | None = None  # None: rows never change
    pushed: bool = False  # sites push it: their quarantined records count as held


def _booked_here(site_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(Appointment.citizen_id).where(Appointment.site_id == site_id)


def _dose_scope(site_id: uuid.UUID) -> Any:
    return or_(DoseRecord.site_id == site_id, DoseRecord.citizen_id.in_(_booked_here(site_id)))


def _doses(site_id: uuid.UUID) -> Select[Any, Any]:
    return select(DoseRecord.id, null()).where(_dose_scope(site_id))


def _voids(site_id: uuid.UUID) -> Select[Any, Any]:
    return (
        select(DoseVoid.id, null())
        .join(DoseRecord, DoseRecord.id == DoseVoid.dose_id)
        .where(_dose_scope(site_id))
    )


def _vial_events(site_id: uuid.UUID) -> Select[Any, Any]:
    return select(VialEvent.id, null()).where(VialEvent.site_id == site_id)


def _receipts(site_id: uuid.UUID) -> Select[Any, Any]:
    # Receipts travel up only: one recorded at the hub for the site (a delivery
    # booked centrally, the demo's history) is not in the site's replica.
    return select(Receipt.id, null()).where(Receipt.origin_site_id == site_id)


def _appointments(site_id: uuid.UUID) -> Select[Any, Any]:
    return select(Appointment.id, null()).where(Appointment.site_id == site_id)


def _appointment_events(site_id: uuid.UUID) -> Select[Any, Any]:
    return (
        select(AppointmentEvent.id, null())
        .join(Appointment, Appointment.id == AppointmentEvent.appointment_id)
        .where(Appointment.site_id == site_id)
    )


def _citizens(site_id: uuid.UUID) -> Select[Any, Any]:
    # A person the site registered under its own id while the hub held them (a
    # walk-in, `central.services.sync.citizen_aliases`) is held there under that
    # id, with the timestamps of the site's own writes.
    aliased = select(CitizenAlias.citizen_id).where(CitizenAlias.site_id == site_id)
    held = select(Citizen.id, Citizen.field_hlc).where(
        or_(Citizen.id.in_(_booked_here(site_id)), Citizen.origin_site_id == site_id),
        Citizen.id.not_in(aliased),
    )
    as_aliases = select(CitizenAlias.alias_id, CitizenAlias.field_hlc).where(
        CitizenAlias.site_id == site_id
    )
    both = union_all(held, as_aliases).subquery()
    return select(both.c[0], both.c[1])


def _announced(table: str, site_id: uuid.UUID) -> Select[uuid.UUID]:
    return (
        select(ChangeLog.record_id)
        .where(
            ChangeLog.table_name == table,
            or_(ChangeLog.audience_site_id.is_(None), ChangeLog.audience_site_id == site_id),
        )
        .distinct()
    )


def _lots(site_id: uuid.UUID) -> Select[Any, Any]:
    return select(_announced("lots", site_id).subquery().c.record_id, null())


def _recalls(site_id: uuid.UUID) -> Select[Any, Any]:
    return select(Recall.id, Recall.lifted_at).where(Recall.id.in_(_announced("recalls", site_id)))


def _lifted(raw: Any) -> str | None:
    return "lifted" if raw is not None else None


VERIFIED: Final[dict[str, Verified]] = {
    v.table: v
    for v in (
        Verified("dose_records", _doses, pushed=True),
        Verified("dose_voids", _voids, pushed=True),
        Verified("vial_events", _vial_events, pushed=True),
        Verified("receipts", _receipts, pushed=True),
        Verified("appointments", _appointments, pushed=True),
        Verified("appointment_events", _appointment_events, pushed=True),
        Verified("citizens", _citizens, version=citizen_version),
        Verified("lots", _lots),
        Verified("recalls", _recalls, version=_lifted),
    )
}
"""Every verified table, in the order a site repairs them (records before what names them)."""

COMMON_TABLES: Final = ("dose_records",)
"""The tables of `VerifyResponse.tables`: what every client verifies."""


def _verified(table: str) -> Verified:
    found = VERIFIED.get(table)
    if found is None:
        raise TableNotVerified(table=table)
    return found


def replica_rows(session: Session, site_id: uuid.UUID, table: str) -> list[Row]:
    """(id, version) of every record of `table` the site's replica should hold, in id order."""
    verified = _verified(table)
    version = verified.version
    rows: dict[uuid.UUID, str | None] = {
        record_id: version(raw) if version is not None else None
        for record_id, raw in session.execute(verified.rows(site_id))
    }
    if verified.pushed:
        for record_id in _quarantined(session, site_id, table):
            rows.setdefault(record_id, None)
    return sorted(rows.items(), key=lambda row: str(row[0]))


def _quarantined(session: Session, site_id: uuid.UUID, table: str) -> Iterable[uuid.UUID]:
    found = session.scalars(
        select(Quarantine.record_id)
        .where(Quarantine.site_id == site_id, Quarantine.table_name == table)
        .distinct()
    )
    for text in found:
        try:
            yield uuid.UUID(text)
        except ValueError:
            continue  # a record whose id was not even a UUID: nothing a replica holds


def replica_ids(session: Session, site_id: uuid.UUID, table: str) -> IdList:
    """Every id of `table` the site's replica should hold, with versions where rows change."""
    rows = replica_rows(session, site_id, table)
    return IdList(
        table=table,
        ids=[record_id for record_id, _ in rows],
        versions=[version for _, version in rows] if VERIFIED[table].version else None,
    )


def _id_text(session: Session, column: Any) -> Any:
    """The id as the database holds it, as text: no UUID object per row (the cost of a digest)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(column, Text)
    return type_coerce(column, String)  # SQLAlchemy's Uuid: 32 hex characters


def replica_lines(session: Session, site_id: uuid.UUID, table: str) -> list[str]:
    """`domain.sync_wire.replica_line` of every record the replica should hold (unsorted).

    The same records as `replica_rows`, read as plain text for speed.
    """
    verified = _verified(table)
    scope = verified.rows(site_id).subquery()
    record_id, raw = scope.c
    version = verified.version
    found = session.execute(select(_id_text(session, record_id), raw))
    if version is None:
        lines = [replica_line(text, None) for text, _ in found]
    else:
        lines = [replica_line(text, version(value)) for text, value in found]
    if verified.pushed:
        held = set(lines)
        for quarantined in _quarantined(session, site_id, table):
            line = replica_line(quarantined, None)
            if line not in held:
                held.add(line)
                lines.append(line)
    return lines


def digests(session: Session, site_id: uuid.UUID) -> list[TableDigest]:
    """Count and digest of each verified table, for the site."""
    found = []
    for table in VERIFIED:
        lines = replica_lines(session, site_id, table)
        found.append(TableDigest(table=table, count=len(lines), digest=digest_lines(lines)))
    return found


def fetch(session: Session, site_id: uuid.UUID, table: str, ids: list[uuid.UUID]) -> FetchResponse:
    """The latest change-log entry of each asked record that the site may see.

    The site may see a record it should hold (`replica_ids`); others are
    left out silently, like records that do not exist.
    """
    scope = _verified(table).rows(site_id).subquery()
    record_id = next(iter(scope.c))
    allowed = set(session.scalars(select(record_id).where(record_id.in_(set(ids)))))
    if not allowed:
        return FetchResponse(changes=[])
    latest = (
        select(func.max(ChangeLog.seq))
        .where(ChangeLog.table_name == table, ChangeLog.record_id.in_(allowed))
        .group_by(ChangeLog.record_id)
    )
    rows = session.scalars(select(ChangeLog).where(ChangeLog.seq.in_(latest))).all()
    return FetchResponse(
        changes=[
            PulledChange(
                seq=row.seq,
                table=row.table_name,
                record_id=row.record_id,
                op=row.op,
                origin_site_id=row.origin_site_id,
                hlc=row.hlc,
                payload=row.payload,
            )
            for row in sorted(rows, key=lambda r: r.seq)
        ]
    )


def verify(hub: Hub, site_id: uuid.UUID) -> VerifyResponse:
    """`digests` in a read transaction: the common tables, then the others."""
    with hub.read_sessions() as session:
        found = digests(session, site_id)
        return VerifyResponse(
            tables=[d for d in found if d.table in COMMON_TABLES],
            replica_tables=[d for d in found if d.table not in COMMON_TABLES],
            hub_time=hub.clock.now(),
        )
