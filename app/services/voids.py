"""Voiding a wrong dose record: a manager states it was wrong, and why.

A dose record is never changed or deleted. `void_dose` adds a `DoseVoid`
naming the record and the reason (itself append-only, at most one per dose)
and queues it for the hub (kind ``dose_void``), in one transaction. The
record stays in the store and in the hub's history; it stops counting as a
dose (the double-dose guard and eligibility ignore it), so the person can be
given that dose again, or the dose re-recorded with the right details.

Only a site manager may void (`ManagerRequired`), and only with a reason
(`VoidReasonRequired`); voiding twice is refused (`DoseAlreadyVoided`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.local_db.models.doses import DoseRecord, DoseVoid
from app.local_db.unit_of_work import session_scope
from app.services.errors import DoseAlreadyVoided, DoseNotFound, VoidReasonRequired
from app.services.workplace import audit, local_zone, site_here, staff_member
from app.sync.outbox import record_change
from app.sync.wire_forms import dose_void_payload
from domain.clock import Clock

#: A reason shorter than this says nothing a reviewer could use.
MIN_REASON: Final = 5
MAX_REASON: Final = 500


@dataclass(frozen=True)
class VoidedDose:
    """The void as recorded."""

    void_id: uuid.UUID
    dose_id: uuid.UUID
    citizen_id: uuid.UUID
    dose_number: int
    reason: str
    voided_at: datetime
    voided_by: uuid.UUID
    voided_by_name: str


def void_dose(
    engine: Engine, clock: Clock, actor: uuid.UUID, dose_id: uuid.UUID, reason: str
) -> VoidedDose:
    """Void dose record `dose_id` because of `reason`; `actor` must be a manager.

    Raises `DoseNotFound`, `DoseAlreadyVoided`, `VoidReasonRequired`,
    `ManagerRequired`, `UnknownUser`, `SiteNotEnrolled`.
    """
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON:
        raise VoidReasonRequired(min_length=MIN_REASON)
    reason = reason[:MAX_REASON]
    with session_scope(engine) as session:
        site = site_here(session)
        manager = staff_member(session, actor, manager=True)
        dose = session.get(DoseRecord, dose_id)
        if dose is None:
            raise DoseNotFound(dose_id=str(dose_id))
        zone = local_zone(session)
        earlier = session.scalar(sa.select(DoseVoid).where(DoseVoid.dose_id == dose_id))
        if earlier is not None:
            raise DoseAlreadyVoided(
                voided_at=earlier.voided_at.astimezone(zone).strftime("%d.%m.%Y. %H:%M"),
                reason=earlier.reason,
            )
        now = clock.now()
        void = DoseVoid(
            origin_site_id=site.site_id,
            created_at=now,
            created_by=actor,
            dose_id=dose_id,
            reason=reason,
            voided_at=now,
        )
        session.add(void)
        session.flush()
        record_change(session, "dose_void", void.id, dose_void_payload(void), now=now)
        audit(session, site, manager, now, "dose.voided", "dose_records", dose_id, reason=reason)
        return VoidedDose(
            void_id=void.id,
            dose_id=dose_id,
            citizen_id=dose.citizen_id,
            dose_number=dose.dose_number,
            reason=reason,
            voided_at=now.astimezone(zone),
            voided_by=actor,
            voided_by_name=manager.full_name,
        )
