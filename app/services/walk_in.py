"""Walk-ins: a person with no appointment here today, registered and booked on the spot.

- `day_capacity(engine, clock)`: today's slots from the site's opening hours
  and vaccinator count (both pulled from the hub, `app.sync.apply.apply_site`),
  how many are booked, and the next slot with room.
- `assess_walk_in(engine, clock, person)`: whether the person is already
  known here, and their eligibility today for every product, with reasons
  (`domain.eligibility`), before anything is written.
- `book_walk_in(engine, clock, actor, person, product_id)`: in one
  transaction, registers the person if the site does not know them
  (`app.sync.citizen_writes.register_walk_in`, which queues the citizen for
  the hub), books them into the next slot with room today, and checks them
  in, since they stand at the desk. Eligibility is enforced (`NotEligible`);
  a full or closed day is refused (`NoCapacityToday`, `SiteClosedToday`,
  `CapacityUnknown`).

A slot holds as many people as the site has vaccinators. The slot running
now still counts as "today", so a walk-in at 10:04 may take the 10:00 slot.
The appointment is the site's own: it travels to the hub as a
``walk_in_appointment`` record queued in the booking's transaction, after the
citizen (for a new person) and before its ``checked_in`` event, so the outbox
order gives the hub the person, then the appointment, then what happened on
it; the hub links the dose to it and its scheduler counts the walk-in as the
person's booking for that dose.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.appointments import Appointment, AppointmentEventKind
from app.local_db.models.citizens import Citizen
from app.local_db.models.site import Setting
from app.local_db.unit_of_work import session_scope
from app.services.check_in import CitizenSummary, add_appointment_event, summarize
from app.services.errors import (
    AlreadyBookedToday,
    CapacityUnknown,
    NoCapacityToday,
    NotEligible,
    SiteClosedToday,
    invalid,
    reason_params,
)
from app.services.history import PastDose, citizen_facts, live_doses
from app.services.roster import GONE_STATUSES, appointment_status, read_roster
from app.services.workplace import (
    audit,
    citizen_hlc,
    local_day,
    local_zone,
    site_here,
    staff_member,
)
from app.sync.apply import (
    DEFAULT_SLOT_MINUTES,
    OPENING_HOURS_SETTING,
    SLOT_MINUTES_SETTING,
    VACCINATORS_SETTING,
)
from app.sync.citizen_writes import register_walk_in
from app.sync.outbox import record_change
from app.sync.wire_forms import walk_in_appointment_payload
from domain.clock import Clock
from domain.data import RuleSet, rules_in_force
from domain.eligibility import Eligibility, check_eligibility
from domain.i18n import latin_to_cyrillic
from domain.ids import uuid7
from domain.jmbg import Sex, parse_jmbg

_WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

WALK_IN_APPOINTMENT_KIND: Final = "walk_in_appointment"
"""The record kind a walk-in's appointment travels to the hub as."""


@dataclass(frozen=True)
class WalkInPerson:
    """A person as typed (or read from their document) at the desk.

    Either `jmbg` (a Serbian citizen or resident) or `foreign_document`
    (``"<type>:<country>:<number>"``) identifies them. With a JMBG, the birth
    date and sex come from it; given anyway, they must agree with it. Names
    are Serbian Latin; Cyrillic ones are derived when not given.
    """

    given_name: str
    family_name: str
    municipality_code: str
    priority_group: str
    jmbg: str | None = None
    foreign_document: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    conditions: frozenset[str] = field(default_factory=frozenset)
    given_name_cyrillic: str | None = None
    family_name_cyrillic: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class DayCapacity:
    """Today's room for walk-ins.

    `capacity` is slots times vaccinators; `booked` counts today's standing
    appointments (not cancelled or moved away); `next_free_slot` is the
    earliest slot, not yet over, with room (local time), None when none.
    """

    day: date
    open_today: bool
    capacity: int
    booked: int
    next_free_slot: datetime | None

    @property
    def has_room(self) -> bool:
        return self.next_free_slot is not None


@dataclass(frozen=True)
class WalkInAssessment:
    """What the desk needs before booking: who, what they may get today, whether there is room.

    `known` is the person as the site already knows them (None: new here);
    `eligibility` has one entry per catalogue product, in catalogue order.
    """

    known: CitizenSummary | None
    doses: tuple[PastDose, ...]
    dose_number: int
    eligibility: tuple[Eligibility, ...]
    capacity: DayCapacity

    @property
    def eligible_products(self) -> tuple[str, ...]:
        return tuple(e.product_id for e in self.eligibility if e.eligible)


@dataclass(frozen=True)
class WalkInBooked:
    """The booked and checked-in walk-in."""

    citizen_id: uuid.UUID
    appointment_id: uuid.UUID
    slot_start: datetime
    product_code: str
    dose_number: int
    registered: bool
    eligibility: Eligibility


def day_capacity(engine: Engine, clock: Clock) -> DayCapacity:
    """Today's capacity and the next slot with room (raises `CapacityUnknown` before sync)."""
    with session_scope(engine, write=False) as session:
        return _capacity(session, clock)


def assess_walk_in(
    engine: Engine, clock: Clock, person: WalkInPerson, *, rules: RuleSet | None = None
) -> WalkInAssessment:
    """The person's eligibility today for every product, and today's room; writes nothing.

    Raises `InvalidWalkIn` (and `domain.jmbg` errors) for details that cannot
    be right; `UnknownPriorityGroup`/`UnknownCondition` for codes the rules do
    not know. A missing capacity is reported as a closed day with no room.
    """
    with session_scope(engine, write=False) as session:
        today = local_day(session, clock)
        ruleset = rules or rules_in_force(today)
        existing = _known(session, person)
        citizen = existing or _new_citizen(person, today)
        doses = live_doses(session, citizen.id) if existing else ()
        facts = citizen_facts(citizen, doses, local_zone(session))
        eligibility = tuple(
            check_eligibility(facts, product.id, today, ruleset)
            for product in ruleset.catalogue.products
        )
        try:
            capacity = _capacity(session, clock)
        except CapacityUnknown:
            capacity = DayCapacity(today, False, 0, 0, None)
        return WalkInAssessment(
            known=None if existing is None else summarize(existing),
            doses=doses,
            dose_number=len(doses) + 1,
            eligibility=eligibility,
            capacity=capacity,
        )


def book_walk_in(
    engine: Engine,
    clock: Clock,
    actor: uuid.UUID,
    person: WalkInPerson,
    product_id: str,
    *,
    rules: RuleSet | None = None,
) -> WalkInBooked:
    """Register (if new), book into today's next free slot and check in, in one transaction.

    Raises `NotEligible`, `AlreadyBookedToday`, `NoCapacityToday`,
    `SiteClosedToday`, `CapacityUnknown`, `InvalidWalkIn`, `UnknownUser`,
    `SiteNotEnrolled`; nothing is written when it raises.
    """
    with session_scope(engine) as session:
        site = site_here(session)
        staff = staff_member(session, actor)
        now = clock.now()
        today = local_day(session, clock)
        zone = local_zone(session)
        ruleset = rules or rules_in_force(today)
        existing = _known(session, person)
        citizen = existing or _new_citizen(person, today)
        doses = live_doses(session, citizen.id, site.site_id) if existing else ()
        eligibility = check_eligibility(
            citizen_facts(citizen, doses, zone), product_id, today, ruleset
        )
        if not eligibility.eligible:
            product = ruleset.catalogue.get(product_id)
            raise NotEligible(
                product=product.name if product else product_id,
                **reason_params(eligibility.blocking),
            )
        if existing is not None:
            _refuse_if_booked_today(session, existing.id, today, zone)
        capacity = _capacity(session, clock)
        if not capacity.open_today:
            raise SiteClosedToday()
        if capacity.next_free_slot is None:
            raise NoCapacityToday(booked=capacity.booked, capacity=capacity.capacity)
        if existing is None:
            citizen.origin_site_id = site.site_id
            citizen.created_at = now
            citizen.created_by = actor
            register_walk_in(session, citizen, clock=citizen_hlc(site, clock), now=now)
            session.flush()
        appointment = Appointment(
            origin_site_id=site.site_id,
            created_at=now,
            created_by=actor,
            citizen_id=citizen.id,
            site_id=site.site_id,
            day=today,
            slot_start=capacity.next_free_slot,
            slot_minutes=_slot_minutes(session),
            product_code=product_id,
            dose_number=eligibility.dose_number,
        )
        session.add(appointment)
        session.flush()
        # Before its first event: the hub must hold the appointment an event names.
        record_change(
            session,
            WALK_IN_APPOINTMENT_KIND,
            appointment.id,
            walk_in_appointment_payload(appointment),
            now=now,
        )
        add_appointment_event(
            session, clock, site, actor, appointment, AppointmentEventKind.CHECKED_IN
        )
        audit(
            session,
            site,
            staff,
            now,
            "walk_in.booked",
            "appointments",
            appointment.id,
            citizen_id=citizen.id,
            registered=existing is None,
            product=product_id,
        )
        return WalkInBooked(
            citizen_id=citizen.id,
            appointment_id=appointment.id,
            slot_start=capacity.next_free_slot,
            product_code=product_id,
            dose_number=eligibility.dose_number,
            registered=existing is None,
            eligibility=eligibility,
        )


# -- the person -----------------------------------------------------------------------------


def _known(session: Session, person: WalkInPerson) -> Citizen | None:
    if person.jmbg:
        return session.scalar(sa.select(Citizen).where(Citizen.jmbg == person.jmbg.strip()))
    if person.foreign_document:
        return session.scalar(
            sa.select(Citizen).where(Citizen.foreign_document == person.foreign_document.strip())
        )
    raise invalid("jmbg", "no_identifier")


def _clean(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


def _new_citizen(person: WalkInPerson, today: date) -> Citizen:
    """A citizen row for `person` (not added to the session)."""
    given, family = _clean(person.given_name), _clean(person.family_name)
    if given is None:
        raise invalid("given_name", "empty")
    if family is None:
        raise invalid("family_name", "empty")
    birth_date, sex = person.birth_date, person.sex
    jmbg = _clean(person.jmbg)
    if jmbg is not None:
        parsed = parse_jmbg(jmbg, today=today)
        if birth_date is not None and birth_date != parsed.birth_date:
            raise invalid("birth_date", "disagrees_with_jmbg")
        if sex is not None and sex is not parsed.sex:
            raise invalid("sex", "disagrees_with_jmbg")
        jmbg, birth_date, sex = parsed.value, parsed.birth_date, parsed.sex
    if birth_date is None:
        raise invalid("birth_date", "missing")
    if birth_date > today:
        raise invalid("birth_date", "future")
    if sex is None:
        raise invalid("sex", "missing")
    municipality = _clean(person.municipality_code)
    if municipality is None:
        raise invalid("municipality", "empty")
    values: dict[str, Any] = {
        "id": uuid7(),
        "jmbg": jmbg,
        "foreign_document": _clean(person.foreign_document),
        "given_name_latin": given,
        "family_name_latin": family,
        "given_name_cyrillic": _clean(person.given_name_cyrillic) or latin_to_cyrillic(given),
        "family_name_cyrillic": _clean(person.family_name_cyrillic) or latin_to_cyrillic(family),
        "birth_date": birth_date,
        "sex": sex,
        "phone": _clean(person.phone),
        "email": _clean(person.email),
        "address": _clean(person.address),
        "municipality_code": municipality,
        "priority_group": person.priority_group,
        "conditions": sorted(person.conditions),
        "preferences": ["any"],
        "walk_in": True,
    }
    return Citizen(**values)


def _refuse_if_booked_today(
    session: Session, citizen_id: uuid.UUID, today: date, zone: ZoneInfo
) -> None:
    for appointment in session.scalars(
        sa.select(Appointment).where(Appointment.citizen_id == citizen_id, Appointment.day == today)
    ):
        if appointment_status(session, appointment.id) not in GONE_STATUSES:
            raise AlreadyBookedToday(time=appointment.slot_start.astimezone(zone).strftime("%H:%M"))


# -- capacity ----------------------------------------------------------------------------------


def _setting(session: Session, key: str) -> Any:
    row = session.get(Setting, key)
    return None if row is None else row.value


def _slot_minutes(session: Session) -> int:
    value = _setting(session, SLOT_MINUTES_SETTING)
    return int(value) if value else DEFAULT_SLOT_MINUTES


def _slots(hours: Any, day: date, slot_minutes: int, zone: ZoneInfo) -> list[datetime]:
    """Slot starts of `day` from the hub's opening hours (local time)."""
    intervals = hours.get(_WEEKDAYS[day.weekday()], []) if isinstance(hours, dict) else []
    slots: list[datetime] = []
    step = timedelta(minutes=slot_minutes)
    for opens, closes in intervals:
        start = datetime.combine(day, time.fromisoformat(str(opens)), tzinfo=zone)
        end = datetime.combine(day, time.fromisoformat(str(closes)), tzinfo=zone)
        while start + step <= end:
            slots.append(start)
            start += step
    return sorted(set(slots))


def _capacity(session: Session, clock: Clock) -> DayCapacity:
    hours = _setting(session, OPENING_HOURS_SETTING)
    vaccinators = _setting(session, VACCINATORS_SETTING)
    if hours is None or vaccinators is None:
        raise CapacityUnknown()
    zone = local_zone(session)
    today = local_day(session, clock)
    slot_minutes = _slot_minutes(session)
    slots = _slots(hours, today, slot_minutes, zone)
    per_slot = int(vaccinators)
    roster = read_roster(session, today)
    standing = Counter(row.slot_start for row in roster.rows if row.status not in GONE_STATUSES)
    now = clock.now()
    step = timedelta(minutes=slot_minutes)
    next_free = next(
        (slot for slot in slots if slot + step > now and standing[slot] < per_slot), None
    )
    return DayCapacity(
        day=today,
        open_today=bool(slots) and per_slot > 0,
        capacity=len(slots) * per_slot,
        booked=roster.counts.booked,
        next_free_slot=next_free,
    )
