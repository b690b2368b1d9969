"""Where and by whom clinical work is done: the enrolled site, the logged-in user, the local day.

Every clinical use case starts by resolving these inside its own transaction:

- `site_here(session)`: the enrolment row (site id and code); clinical facts are
  born with ``origin_site_id`` = this site, so nothing is recorded before
  enrolment (`SiteNotEnrolled`);
- `staff_member(session, actor)`: the active `LocalUser` who acts
  (`UnknownUser` otherwise); their name is copied onto dose records;
- `local_zone(session)` / `local_day(session, clock)`: the site's time zone
  (pulled from the hub, Europe/Belgrade until then) and today's calendar day
  there, which is what "today's roster" means;
- `audit(...)`: the audit-trail entry every clinical action adds (who, what,
  on which record), in the action's own transaction;
- `event_hlc(...)`: a hybrid-logical-clock stamp for an appointment event that
  sorts after every event the appointment already has, whatever the wall clock
  says, so the latest write is the one made here and now.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.local_db.models.appointments import AppointmentEvent
from app.local_db.models.site import AuditEntry, LocalUser, Role, Setting, SiteIdentity
from app.services.errors import ManagerRequired, SiteNotEnrolled, UnknownUser
from app.sync.apply import DEFAULT_TIMEZONE, TIMEZONE_SETTING
from domain.clock import Clock
from domain.hlc import HybridClock, Timestamp


@dataclass(frozen=True)
class SiteHere:
    """The site this store belongs to."""

    site_id: uuid.UUID
    site_code: str
    site_name: str


@dataclass(frozen=True)
class StaffMember:
    """The person acting, as the store knows them."""

    user_id: uuid.UUID
    full_name: str
    role: Role

    @property
    def is_manager(self) -> bool:
        return self.role is Role.MANAGER


def site_here(session: Session) -> SiteHere:
    """The enrolled site; `SiteNotEnrolled` before enrolment."""
    identity = session.get(SiteIdentity, 1)
    if identity is None:
        raise SiteNotEnrolled()
    return SiteHere(identity.site_id, identity.site_code, identity.site_name)


def staff_member(session: Session, actor: uuid.UUID, *, manager: bool = False) -> StaffMember:
    """The active local user `actor`; `UnknownUser`, or `ManagerRequired` when `manager`."""
    user = session.get(LocalUser, actor)
    if user is None or not user.active:
        raise UnknownUser()
    member = StaffMember(user.id, user.full_name, Role(user.role))
    if manager and not member.is_manager:
        raise ManagerRequired()
    return member


def local_zone(session: Session) -> ZoneInfo:
    """The site's time zone, as the hub last said (Europe/Belgrade until it has)."""
    row = session.get(Setting, TIMEZONE_SETTING)
    return ZoneInfo(str(row.value) if row is not None and row.value else DEFAULT_TIMEZONE)


def local_day(session: Session, clock: Clock) -> date:
    """Today's calendar day at the site."""
    return clock.now().astimezone(local_zone(session)).date()


def event_hlc(session: Session, appointment_id: uuid.UUID, site: SiteHere, clock: Clock) -> str:
    """A stamp for a new event of `appointment_id`, later than all its events so far."""
    hybrid = HybridClock(site.site_code, clock)
    latest = session.scalar(
        sa.select(sa.func.max(AppointmentEvent.hlc)).where(
            AppointmentEvent.appointment_id == appointment_id
        )
    )
    if latest:
        hybrid.receive(Timestamp.decode(latest))
    return hybrid.now().encode()


def audit(
    session: Session,
    site: SiteHere,
    staff: StaffMember,
    now: datetime,
    action: str,
    entity: str,
    entity_id: uuid.UUID,
    **details: Any,
) -> None:
    """Add the audit-trail entry of a clinical action, in the action's transaction."""
    session.add(
        AuditEntry(
            origin_site_id=site.site_id,
            created_at=now,
            created_by=staff.user_id,
            actor_name=staff.full_name,
            action=action,
            entity=entity,
            entity_id=entity_id,
            details={key: str(value) for key, value in details.items()},
        )
    )


def citizen_hlc(site: SiteHere, clock: Clock) -> HybridClock:
    """The hybrid clock for citizen writes made here (see `app.sync.citizen_writes`)."""
    return HybridClock(site.site_code, clock)
