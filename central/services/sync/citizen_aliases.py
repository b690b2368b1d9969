"""One person, two ids: a site's walk-in id for a citizen the hub already held.

A site offline cannot know that the person at its desk registered on the
portal last month: it registers a walk-in under a new id. When that write
reaches the hub and the JMBG is already a citizen's, the hub merges the write
into that citizen (`central.services.sync.citizens`) and keeps the site's id
as an alias. Every record the site sent or will send under the alias (the
dose, the walk-in appointment, an issued certificate, a later phone-number
change) is applied to the one citizen, so the hub never books the person for
a dose they already had, and nothing waits in quarantine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import CitizenAlias
from central.services.sync.append_only import among


def resolve_citizens(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """For each of `ids` that is an alias, the citizen it stands for (one query)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(CitizenAlias.alias_id, CitizenAlias.citizen_id).where(
            among(session, CitizenAlias.alias_id, wanted)
        )
    )
    return dict(rows.all())


def resolve_citizen(session: Session, citizen_id: uuid.UUID) -> uuid.UUID:
    """The citizen `citizen_id` stands for: itself unless it is an alias."""
    return resolve_citizens(session, [citizen_id]).get(citizen_id, citizen_id)


def add_alias(
    session: Session,
    *,
    alias_id: uuid.UUID,
    citizen_id: uuid.UUID,
    site_id: uuid.UUID,
    now: datetime,
) -> CitizenAlias:
    """Record that `site_id` knows citizen `citizen_id` as `alias_id`."""
    alias = CitizenAlias(
        alias_id=alias_id, citizen_id=citizen_id, site_id=site_id, field_hlc={}, created_at=now
    )
    session.add(alias)
    session.flush()
    return alias


def note_write(alias: CitizenAlias, field_hlc: Mapping[str, str]) -> None:
    """Keep the latest timestamp per field the site wrote under `alias` (its replica's version)."""
    merged = dict(alias.field_hlc or {})
    for name, stamp in field_hlc.items():
        if stamp > merged.get(name, ""):
            merged[name] = stamp
    alias.field_hlc = merged


def alias_sites(session: Session, citizen_id: uuid.UUID) -> set[uuid.UUID]:
    """Sites that know `citizen_id` only under an alias of their own."""
    return set(
        session.scalars(select(CitizenAlias.site_id).where(CitizenAlias.citizen_id == citizen_id))
    )
