"""An appointment's status at the site, derived from its events.

The one rule (`domain.appointment_status`, the hub uses the same table):
done > checked in > no-show > rescheduled, cancelled, rebook requested >
scheduled, then the latest by clinical time and id. Events reach a replica
in any order (a pulled ``rescheduled`` after a local ``done``); the status
is the same whatever the order, and never "undone" by a late arrival.

Use it wherever the site needs a status (roster, check-in, vaccination).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.local_db.models.appointments import AppointmentEvent
from domain.appointment_status import AppointmentStatus, StatusEvent, derive_status

_CHUNK = 500
"""Ids per IN (...) query (SQLite's bound-parameter limit is far above)."""


def appointment_statuses(
    session: Session, appointment_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, AppointmentStatus]:
    """The status of each appointment asked for (``scheduled`` when it has no events)."""
    ids = list(dict.fromkeys(appointment_ids))
    events: dict[uuid.UUID, list[StatusEvent]] = defaultdict(list)
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            sa.select(
                AppointmentEvent.appointment_id,
                AppointmentEvent.kind,
                AppointmentEvent.occurred_at,
                AppointmentEvent.id,
            ).where(AppointmentEvent.appointment_id.in_(ids[start : start + _CHUNK]))
        )
        for appointment_id, kind, occurred_at, event_id in rows:
            events[appointment_id].append(StatusEvent(str(kind), occurred_at, str(event_id)))
    return {appointment_id: derive_status(events[appointment_id]) for appointment_id in ids}


def appointment_status(session: Session, appointment_id: uuid.UUID) -> AppointmentStatus:
    """The status of one appointment."""
    return appointment_statuses(session, [appointment_id])[appointment_id]
