"""Doses the booked appointments of the coming days will use.

An appointment counts while its status holds a dose: its latest event (by
occurred time, then id, as in `central.scheduling.demand`) is ``scheduled``
or ``checked_in``, or it has no event yet. Said the other way round, it does
not count when it has an event of another kind (done, cancelled, ...) that
no holding event follows. That form is set-based (anti-joins the planner
runs as hash joins), so a million appointments are counted inside the
database in a couple of seconds instead of a million index probes (or a
million rows sent to Python).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, select, text, tuple_
from sqlalchemy.orm import Session, aliased

from central.db import Appointment, AppointmentEvent
from central.scheduling.demand import HOLDS_PLACE


@dataclass(frozen=True)
class BookedDoses:
    """Doses of one product booked at one site on one day."""

    site_id: uuid.UUID
    product_id: str
    day: date
    doses: int


def booked_doses(session: Session, start: date, days: int) -> list[BookedDoses]:
    """Doses booked per site, product and day from `start` for `days` days."""
    end = start + timedelta(days=days - 1)
    if session.connection().dialect.name == "postgresql":
        # A million-row hash join: give it memory instead of temp files, and skip
        # JIT compilation, which costs more than it saves on one aggregate.
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL jit = off"))
    holding = [kind.value for kind in HOLDS_PLACE]
    ending = aliased(AppointmentEvent)
    later = aliased(AppointmentEvent)
    ended = exists().where(
        ending.appointment_id == Appointment.id,
        ending.kind.not_in(holding),
        ~exists().where(
            and_(
                later.appointment_id == ending.appointment_id,
                later.kind.in_(holding),
                tuple_(later.occurred_at, later.id) > tuple_(ending.occurred_at, ending.id),
            )
        ),
    )
    query = (
        select(Appointment.site_id, Appointment.product_id, Appointment.day, func.count())
        .where(Appointment.day >= start, Appointment.day <= end, ~ended)
        .group_by(Appointment.site_id, Appointment.product_id, Appointment.day)
    )
    return [
        BookedDoses(site_id, product_id, day, int(count))
        for site_id, product_id, day, count in session.execute(query)
    ]
