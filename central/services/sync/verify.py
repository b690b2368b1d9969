"""Trust but verify: what a site's replica should hold, as counts and digests.

After each round the site compares, per verified table, the number of
records and a digest of their ids (`domain.sync_wire.id_digest`) with its
own. On a mismatch it asks for the id list (`replica_ids`) and re-fetches
exactly the records it lacks (`fetch`): a targeted re-pull, never a wipe.

Verified: ``dose_records`` — the doses the site gave, plus every dose of a
citizen booked at the site (the replica's view of that citizen's history).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Final

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from central.db import Appointment, ChangeLog, DoseRecord
from central.services.context import Hub
from central.services.errors import HubError
from domain.sync_wire import (
    FetchResponse,
    IdList,
    PulledChange,
    TableDigest,
    VerifyResponse,
    id_digest,
)


class TableNotVerified(HubError):
    code = "sync.table_not_verified"
    template = "The hub does not verify the table '{table}'. Update the site client."


def _dose_ids(site_id: uuid.UUID) -> Select[uuid.UUID]:
    booked_here = select(Appointment.citizen_id).where(Appointment.site_id == site_id)
    return select(DoseRecord.id).where(
        or_(DoseRecord.site_id == site_id, DoseRecord.citizen_id.in_(booked_here))
    )


VERIFIED: Final[dict[str, Callable[[uuid.UUID], Select[uuid.UUID]]]] = {
    "dose_records": _dose_ids,
}


def replica_ids(session: Session, site_id: uuid.UUID, table: str) -> IdList:
    """Every id of `table` the site's replica should hold."""
    query = VERIFIED.get(table)
    if query is None:
        raise TableNotVerified(table=table)
    ids = sorted(session.scalars(query(site_id)).all(), key=str)
    return IdList(table=table, ids=ids)


def digests(session: Session, site_id: uuid.UUID) -> list[TableDigest]:
    """Count and digest of each verified table, for the site."""
    return [
        TableDigest(table=table, count=len(ids.ids), digest=id_digest(ids.ids))
        for table in VERIFIED
        for ids in (replica_ids(session, site_id, table),)
    ]


def fetch(session: Session, site_id: uuid.UUID, table: str, ids: list[uuid.UUID]) -> FetchResponse:
    """The latest change-log entry of each asked record that the site may see.

    The site may see a record it should hold (`replica_ids`); others are
    left out silently, like records that do not exist.
    """
    if table not in VERIFIED:
        raise TableNotVerified(table=table)
    allowed = set(ids) & set(session.scalars(VERIFIED[table](site_id)))
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
    """`digests` in a read transaction."""
    with hub.read_sessions() as session:
        return VerifyResponse(tables=digests(session, site_id), hub_time=hub.clock.now())
