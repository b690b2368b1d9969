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
- `site_and_zone(session)`: the site and its zone in one statement, for
  use cases that need both on every scan (recording a dose);
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


# The lookups below run on every scan. They are built once, with bound
# parameters, because building a statement and its cache key costs more than
# SQLite takes to answer it. They read plain columns, not ORM rows: the
# session's identity map holds rows weakly, so a row loaded and dropped would
# be loaded again by the next lookup.
_ZONE_SETTING = sa.select(Setting.value).where(Setting.key == TIMEZONE_SETTING).scalar_subquery()
_ZONE = sa.select(_ZONE_SETTING)
_SITE_AND_ZONE = sa.select(
    SiteIdentity.site_id, SiteIdentity.site_code, SiteIdentity.site_name, _ZONE_SETTING
).where(SiteIdentity.id == 1)
_STAFF = sa.select(LocalUser.full_name, LocalUser.role, LocalUser.active).where(
    LocalUser.id == sa.bindparam("actor")
)
_LATEST_HLC = sa.select(sa.func.max(AppointmentEvent.hlc)).where(
    AppointmentEvent.appointment_id == sa.bindparam("appointment_id")
)


def site_here(session: Session) -> SiteHere:
    """The enrolled site; `SiteNotEnrolled` before enrolment."""
    return site_and_zone(session)[0]


def site_and_zone(session: Session) -> tuple[SiteHere, ZoneInfo]:
    """The enrolled site and its time zone, read together; `SiteNotEnrolled` before enrolment."""
    row = session.execute(_SITE_AND_ZONE).one_or_none()
    if row is None:
        raise SiteNotEnrolled()
    site_id, site_code, site_name, zone = row
    return SiteHere(site_id, site_code, site_name), _zone(zone)


def staff_member(session: Session, actor: uuid.UUID, *, manager: bool = False) -> StaffMember:
    """The active local user `actor`; `UnknownUser`, or `ManagerRequired` when `manager`."""
    row = session.execute(_STAFF, {"actor": actor}).one_or_none()
    if row is None or not row.active:
        raise UnknownUser()
    member = StaffMember(actor, row.full_name, Role(row.role))
    if manager and not member.is_manager:
        raise ManagerRequired()
    return member


def local_zone(session: Session) -> ZoneInfo:
    """The site's time zone, as the hub last said (Europe/Belgrade until it has)."""
    return _zone(session.scalar(_ZONE))


def local_day(session: Session, clock: Clock) -> date:
    """Today's calendar day at the site."""
    return clock.now().astimezone(local_zone(session)).date()


def _zone(value: Any) -> ZoneInfo:
    # ZoneInfo caches its instances by key: building one per call is a dict lookup.
    return ZoneInfo(str(value) if value else DEFAULT_TIMEZONE)


def event_hlc(session: Session, appointment_id: uuid.UUID, site: SiteHere, clock: Clock) -> str:
    """A stamp for a new event of `appointment_id`, later than all its events so far."""
    hybrid = HybridClock(site.site_code, clock)
    latest = session.scalar(_LATEST_HLC, {"appointment_id": appointment_id})
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
