"""Vaccination sites: adding them, looking them up, listing them.

Opening hours are stored as ``{"mon": [["08:00", "20:00"]], ...}`` in the
site's local time (`central.db.Site`); people write them as
``"mon-fri 08:00-20:00"`` or ``"sat 08:00-12:00,13:00-16:00"``
(`parse_opening_hours`). A new site is announced in the change log to every
site (sites pull the site list).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import time as Time
from itertools import pairwise
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import Site
from central.services.context import Hub
from central.services.errors import Conflict, FieldProblem, HubError, InvalidRequest, NotFound
from central.services.pagination import decode_cursor, encode_cursor
from central.services.records import announce, audit, row_payload, upsert_change
from domain.data import load_rules
from domain.wire import SITE_CODE_PATTERN, OpeningInterval, SiteInfo, SiteList

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC: Final = re.compile(r"^\s*(?P<days>[a-z,\-]+)\s+(?P<intervals>[0-9:,\-\s]+)$")
_CLOCK: Final = re.compile(r"^(\d{2}):(\d{2})$")


class OpeningHoursInvalid(HubError):
    code: ClassVar[str] = "sites.opening_hours_invalid"
    template: ClassVar[str] = (
        "'{spec}' is not valid opening hours: {problem}. Write them like "
        "'mon-fri 08:00-20:00' or 'sat 08:00-12:00,13:00-16:00'."
    )


class SiteFieldInvalid(HubError):
    code: ClassVar[str] = "sites.field_invalid"
    template: ClassVar[str] = "The site's {field} is not valid: {problem}."


class SiteCodeTaken(Conflict):
    code: ClassVar[str] = "sites.code_taken"
    template: ClassVar[str] = "There is already a site with code '{site}'. Choose another code."


class UnknownSite(NotFound):
    code: ClassVar[str] = "sites.unknown"
    template: ClassVar[str] = "There is no site with code '{site}'. Check the code."


@dataclass(frozen=True)
class NewSite:
    """What an operator gives to add a site."""

    code: str
    name: str
    municipality: str
    latitude: float
    longitude: float
    opening_hours: dict[str, list[list[str]]]
    slot_minutes: int
    vaccinators: int
    products: Sequence[str]
    timezone: str = "Europe/Belgrade"
    address: str | None = None  # street address printed on invitations


def _minutes(text: str) -> int | None:
    match = _CLOCK.match(text.strip())
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def _days(text: str, spec: str) -> list[str]:
    days: list[str] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise OpeningHoursInvalid(spec=spec, problem=f"'{part}' is not a weekday (mon..sun)")
        start = WEEKDAYS.index(first)
        end = WEEKDAYS.index(last) if last else start
        if end < start:
            raise OpeningHoursInvalid(spec=spec, problem=f"'{part}' runs backwards")
        days.extend(WEEKDAYS[start : end + 1])
    return days


def parse_opening_hours(specs: Iterable[str]) -> dict[str, list[list[str]]]:
    """Opening hours from specs like ``"mon-fri 08:00-20:00"``; later specs add intervals.

    Raises `OpeningHoursInvalid` for unknown days, bad times, an interval that
    closes before it opens, or intervals that overlap on one day.
    """
    hours: dict[str, list[list[str]]] = {}
    for spec in specs:
        match = _SPEC.match(spec.lower())
        if match is None:
            raise OpeningHoursInvalid(spec=spec, problem="expected days, a space, then times")
        for day in _days(match.group("days"), spec):
            for interval in match.group("intervals").split(","):
                opens, _, closes = interval.strip().partition("-")
                start, end = _minutes(opens), _minutes(closes)
                if start is None or end is None:
                    raise OpeningHoursInvalid(spec=spec, problem=f"'{interval}' is not HH:MM-HH:MM")
                if end <= start:
                    raise OpeningHoursInvalid(
                        spec=spec, problem=f"'{interval}' closes before it opens"
                    )
                hours.setdefault(day, []).append([opens.strip(), closes.strip()])
    for day, intervals in hours.items():
        intervals.sort()
        for earlier, later in pairwise(intervals):
            if later[0] < earlier[1]:
                raise OpeningHoursInvalid(
                    spec=f"{day} {earlier[0]}-{earlier[1]}, {later[0]}-{later[1]}",
                    problem="the intervals overlap",
                )
    return {day: hours[day] for day in WEEKDAYS if day in hours}


def format_opening_hours(hours: dict[str, Any]) -> str:
    """Opening hours as people write them, e.g. ``"mon 08:00-20:00; sat 08:00-12:00"``."""
    return "; ".join(
        f"{day} " + ",".join(f"{a}-{b}" for a, b in hours[day]) for day in WEEKDAYS if day in hours
    )


def opening_intervals(hours: dict[str, Any]) -> list[OpeningInterval]:
    """The stored opening hours as wire intervals, Monday first."""
    return [
        OpeningInterval(day=day, opens=opens, closes=closes)
        for day in WEEKDAYS
        for opens, closes in hours.get(day, [])
    ]


def is_open_slot(site: Site, weekday: int, slot_start: Time) -> bool:
    """Whether a slot starting at `slot_start` on ISO `weekday` (0 = Monday) lies
    on the site's slot grid, wholly inside one opening interval."""
    start = slot_start.hour * 60 + slot_start.minute
    if slot_start.second or slot_start.microsecond:
        return False
    for opens, closes in site.opening_hours.get(WEEKDAYS[weekday], []):
        first, last = _minutes(opens), _minutes(closes)
        if first is None or last is None:
            continue
        if first <= start and start + site.slot_minutes <= last:
            return (start - first) % site.slot_minutes == 0
    return False


def site_info(site: Site) -> SiteInfo:
    """The wire form of a site."""
    return SiteInfo(
        code=site.code,
        name=site.name,
        municipality=site.municipality,
        latitude=site.latitude,
        longitude=site.longitude,
        timezone=site.timezone,
        opening_hours=opening_intervals(site.opening_hours),
        slot_minutes=site.slot_minutes,
        vaccinators=site.vaccinators,
        products=list(site.products),
        active=site.active,
    )


def _problems(new: NewSite) -> list[FieldProblem]:
    problems: list[FieldProblem] = []

    def bad(field: str, problem: str) -> None:
        problems.append(FieldProblem(field, SiteFieldInvalid(field=field, problem=problem)))

    if not re.match(SITE_CODE_PATTERN, new.code):
        bad("code", "use 1-16 letters, digits and dashes")
    if not 1 <= len(new.name.strip()) <= 200:
        bad("name", "give 1-200 characters")
    if not 1 <= len(new.municipality.strip()) <= 100:
        bad("municipality", "give 1-100 characters")
    if not -90 <= new.latitude <= 90:
        bad("latitude", "must lie between -90 and 90")
    if not -180 <= new.longitude <= 180:
        bad("longitude", "must lie between -180 and 180")
    if not 1 <= new.slot_minutes <= 240:
        bad("slot_minutes", "must be 1-240 minutes")
    if not 1 <= new.vaccinators <= 100:
        bad("vaccinators", "must be 1-100")
    if not new.opening_hours:
        bad("opening_hours", "give at least one day")
    catalogue = load_rules().catalogue
    unknown = sorted(p for p in new.products if catalogue.get(p) is None)
    if unknown or not new.products:
        known = ", ".join(p.id for p in catalogue.products)
        bad("products", f"unknown {', '.join(unknown) or '(none given)'}; known: {known}")
    try:
        ZoneInfo(new.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        bad("timezone", f"'{new.timezone}' is not an IANA time zone such as Europe/Belgrade")
    return problems


def add_site(hub: Hub, new: NewSite, *, actor: str) -> Site:
    """Add a site and announce it to every site.

    Raises `InvalidRequest` (a problem per field) or `SiteCodeTaken`.
    """
    problems = _problems(new)
    if problems:
        raise InvalidRequest(problems)
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        if session.scalar(select(Site.id).where(Site.code == new.code)) is not None:
            raise SiteCodeTaken(site=new.code)
        site = Site(
            code=new.code,
            name=new.name.strip(),
            municipality=new.municipality.strip(),
            address=(new.address or "").strip() or None,
            latitude=new.latitude,
            longitude=new.longitude,
            timezone=new.timezone,
            opening_hours=new.opening_hours,
            slot_minutes=new.slot_minutes,
            vaccinators=new.vaccinators,
            products=list(dict.fromkeys(new.products)),
            active=True,
            updated_at=now,
            created_at=now,
            created_by=actor,
        )
        session.add(site)
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="site.add",
            entity=site,
            after=row_payload(site),
        )
        announce(session, [upsert_change(site, audience_site_id=None)], now)
    return site


def site_by_code(session: Session, code: str) -> Site:
    """The site with `code`; raises `UnknownSite`."""
    site = session.scalar(select(Site).where(Site.code == code))
    if site is None:
        raise UnknownSite(site=code)
    return site


def get_site(hub: Hub, code: str) -> Site:
    """The site with `code`; raises `UnknownSite`."""
    with hub.read_sessions() as session:
        return site_by_code(session, code)


def site_id_of(session: Session, code: str) -> uuid.UUID:
    """The id of the site with `code`; raises `UnknownSite`."""
    site_id = session.scalar(select(Site.id).where(Site.code == code))
    if site_id is None:
        raise UnknownSite(site=code)
    return site_id


def list_sites(hub: Hub, *, limit: int, cursor: str | None = None) -> SiteList:
    """A page of sites ordered by code."""
    statement = select(Site).order_by(Site.code).limit(limit + 1)
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1)
        statement = statement.where(Site.code > after)
    with hub.read_sessions() as session:
        sites = list(session.scalars(statement))
    more = len(sites) > limit
    sites = sites[:limit]
    return SiteList(
        items=[site_info(s) for s in sites],
        next_cursor=encode_cursor([sites[-1].code]) if more else None,
    )


def list_sites_all(hub: Hub) -> list[Site]:
    """Every site, by code (for the operator's listing; the API pages)."""
    with hub.read_sessions() as session:
        return list(session.scalars(select(Site).order_by(Site.code)))


def describe(site: Site) -> dict[str, Any]:
    """A site as plain values, for the CLI's listing."""
    return {
        "code": site.code,
        "name": site.name,
        "municipality": site.municipality,
        "address": site.address or "",
        "hours": format_opening_hours(site.opening_hours),
        "slot_minutes": site.slot_minutes,
        "vaccinators": site.vaccinators,
        "products": ",".join(site.products),
        "active": site.active,
    }
