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
from collections.abc import Iterable
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
    return {alias: citizen for alias, citizen in rows}


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
) -> None:
    """Record that `site_id` knows citizen `citizen_id` as `alias_id`."""
    session.add(
        CitizenAlias(alias_id=alias_id, citizen_id=citizen_id, site_id=site_id, created_at=now)
    )
    session.flush()
