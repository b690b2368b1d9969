"""Which sites a change concerns: the site it came from and the sites expecting the citizen."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import Appointment


def citizen_sites(session: Session, citizen_id: uuid.UUID) -> set[uuid.UUID]:
    """Sites where the citizen has (or had) an appointment: they hold the citizen."""
    return set(
        session.scalars(
            select(Appointment.site_id).where(Appointment.citizen_id == citizen_id).distinct()
        )
    )


def for_citizen_record(
    session: Session, citizen_id: uuid.UUID, origin_site_id: uuid.UUID
) -> list[uuid.UUID]:
    """The origin site first, then every other site holding the citizen, sorted."""
    others = sorted(citizen_sites(session, citizen_id) - {origin_site_id})
    return [origin_site_id, *others]


def sites_by_citizen(
    session: Session, citizen_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """`citizen_sites` of many citizens in one query (citizens with no site are left out)."""
    wanted = set(citizen_ids)
    sites: dict[uuid.UUID, set[uuid.UUID]] = {}
    if not wanted:
        return sites
    rows = session.execute(
        select(Appointment.citizen_id, Appointment.site_id)
        .where(Appointment.citizen_id.in_(wanted))
        .distinct()
    )
    for citizen_id, site_id in rows:
        sites.setdefault(citizen_id, set()).add(site_id)
    return sites
