"""Who is waiting for a dose, and for which products, read from the hub database.

A citizen waits for dose k (the next dose of their series, from their
effective dose records) when they are registered, not withdrawn, and hold no
appointment that still stands for dose k or later. An appointment stands when
its status is ``scheduled``, ``checked_in`` or ``done`` and its day is at most
`SETTLE_DAYS` before the run's start: a site may be offline for days, so a
recent appointment with no news yet is presumed kept (its dose record is on
the way), while one older than that with no outcome counts as lapsed and the
citizen is booked again. Cancelled, no-show, rebook-requested and moved
appointments never stand, so those citizens are rebooked by the next run.

Eligibility comes from the domain rules in force on the start day, checked on
the first day the dose may be given inside the horizon (the start, or the
series' earliest day when that is later). Citizens the rules exclude still go
to the scheduler, with no products and the code of the first blocking rule,
so the run reports them. The priority rank is that of
`domain.priority.priority_group_for` on the start day, the stored group
counting as the person's claim.

Every answer here depends on the person only through age, claimed group,
conditions, preferences and dose history, so answers are cached by those:
a national run evaluates each distinct combination once.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import String, Text, cast, select, type_coerce
from sqlalchemy.orm import Session

from central.db import (
    Appointment,
    AppointmentEvent,
    AppointmentEventKind,
    Citizen,
    DoseRecord,
    DoseVoid,
    Site,
)
from domain.appointment_status import precedence
from domain.data import RuleSet
from domain.eligibility import (
    CitizenFacts,
    DoseFact,
    InvalidDoseHistory,
    check_eligibility,
    eligible_products,
    next_dose,
)
from domain.errors import DomainError
from domain.priority import age_on, priority_group_for
from domain.wire import ANY_VACCINE

SETTLE_DAYS: Final = 7
"""Days an appointment without an outcome is presumed kept (see the module docstring)."""

STANDING: Final = frozenset(
    {AppointmentEventKind.SCHEDULED, AppointmentEventKind.CHECKED_IN, AppointmentEventKind.DONE}
)
"""Statuses of an appointment that still holds the citizen."""

HOLDS_PLACE: Final = frozenset({AppointmentEventKind.SCHEDULED, AppointmentEventKind.CHECKED_IN})
"""Statuses of a coming appointment that holds a slot place and a dose of stock."""

SERIES_COMPLETE: Final = "eligibility.series_complete"


@dataclass(frozen=True)
class ExistingAppointment:
    """An appointment near or inside the horizon, with its folded status."""

    id: uuid.UUID
    citizen_id: uuid.UUID
    site_id: uuid.UUID
    day: date
    slot_start: time
    product_id: str
    dose_number: int
    status: AppointmentEventKind


@dataclass(frozen=True)
class WaitingCitizen:
    """One citizen waiting for one dose, as the scheduler and the hub need it.

    `products` are allowed by the rules, in the person's order of preference;
    empty with `ineligible_rule` set when the rules exclude every product.
    `last_site_id` is where the previous dose was given (None for dose 1).
    """

    id: uuid.UUID
    dose_number: int
    products: tuple[str, ...]
    earliest: date
    latest: date | None
    municipality: str
    rank: int
    registered: datetime
    last_site_id: uuid.UUID | None
    ineligible_rule: str | None


def existing_appointments(session: Session, start: date) -> list[ExistingAppointment]:
    """Appointments from `SETTLE_DAYS` before `start` on, each with its status.

    The status is the deciding event's kind by the precedence of
    `domain.appointment_status` (then occurred_at, id), as in
    `central.services.appointments`; ``scheduled`` when there is none.
    """
    since = start - timedelta(days=SETTLE_DAYS)
    latest: dict[uuid.UUID, tuple[int, datetime, uuid.UUID, str]] = {}
    for appointment_id, kind, occurred_at, event_id in session.execute(
        select(
            AppointmentEvent.appointment_id,
            AppointmentEvent.kind,
            AppointmentEvent.occurred_at,
            AppointmentEvent.id,
        )
        .join(Appointment, Appointment.id == AppointmentEvent.appointment_id)
        .where(Appointment.day >= since)
    ):
        key = (precedence(kind), occurred_at, event_id)
        seen = latest.get(appointment_id)
        if seen is None or key > seen[:3]:
            latest[appointment_id] = (*key, kind)
    rows = session.execute(
        select(
            Appointment.id,
            Appointment.citizen_id,
            Appointment.site_id,
            Appointment.day,
            Appointment.slot_start,
            Appointment.product_id,
            Appointment.dose_number,
        ).where(Appointment.day >= since)
    )
    out: list[ExistingAppointment] = []
    for a_id, citizen_id, site_id, day, slot, product, dose in rows:
        folded = latest.get(a_id)
        status = AppointmentEventKind(folded[3]) if folded else AppointmentEventKind.SCHEDULED
        out.append(ExistingAppointment(a_id, citizen_id, site_id, day, slot, product, dose, status))
    return out


@dataclass(frozen=True)
class DoseGiven:
    """A dose that stands in a citizen's history, and the site that gave it."""

    product_id: str
    dose_number: int
    given_on: date
    site_id: uuid.UUID


def effective_doses(
    session: Session, citizen_id: uuid.UUID | None = None
) -> dict[uuid.UUID, list[DoseGiven]]:
    """Each citizen's doses that stand (not voided by a correction or retraction),
    or only `citizen_id`'s.

    A correction stands in place of the record it voids; a retraction removes it.
    The day of a dose is the calendar day at the site that gave it.
    """
    zones = {
        site_id: ZoneInfo(name) for site_id, name in session.execute(select(Site.id, Site.timezone))
    }
    statement = select(
        DoseRecord.id,
        DoseRecord.citizen_id,
        DoseRecord.kind,
        DoseRecord.product_id,
        DoseRecord.dose_number,
        DoseRecord.administered_at,
        DoseRecord.site_id,
        DoseRecord.voids_dose_id,
    )
    if citizen_id is not None:
        statement = statement.where(DoseRecord.citizen_id == citizen_id)
    # Doses a site voided outright (`DoseVoid`) stand no more than corrected ones.
    void_query = select(DoseVoid.dose_id)
    if citizen_id is not None:
        void_query = void_query.join(DoseRecord, DoseRecord.id == DoseVoid.dose_id).where(
            DoseRecord.citizen_id == citizen_id
        )
    voided: set[uuid.UUID] = set(session.scalars(void_query))
    records: list[tuple[uuid.UUID, uuid.UUID, str, str, int, datetime, uuid.UUID]] = []
    for rec_id, owner, kind, product, dose, at, site, voids in session.execute(statement):
        if voids is not None:
            voided.add(voids)
        records.append((rec_id, owner, kind, product, dose, at.astimezone(zones[site]), site))
    by_citizen: dict[uuid.UUID, list[DoseGiven]] = defaultdict(list)
    for rec_id, owner, kind, product, dose, at, site in records:
        if rec_id in voided or kind == "retraction":
            continue
        by_citizen[owner].append(DoseGiven(product, dose, at.date(), site))
    for doses in by_citizen.values():
        doses.sort(key=lambda d: (d.dose_number, d.given_on))
    return by_citizen


@dataclass(frozen=True)
class Answer:
    """The dose a person waits for: products in preference order, window, rank,
    and the blocking rule's code when no product is allowed."""

    dose_number: int
    products: tuple[str, ...]
    earliest: date
    latest: date | None
    rank: int
    ineligible_rule: str | None


class Demand:
    """Turns citizens into waiting rows under one rule set and horizon."""

    def __init__(self, rules: RuleSet, start: date) -> None:
        self.rules = rules
        self.start = start
        self._cache: dict[tuple[object, ...], Answer | None] = {}

    def answer(
        self,
        birth_date: date,
        claimed_group: str,
        conditions: Iterable[str],
        preferences: Iterable[str],
        doses: list[DoseGiven],
    ) -> Answer | None:
        """The dose this person waits for and what they may get; None: series complete."""
        age = age_on(birth_date, self.start)
        conds = tuple(sorted(conditions))
        prefs = tuple(preferences)
        history = tuple((d.product_id, d.dose_number, d.given_on) for d in doses)
        key = (age, claimed_group, conds, prefs, history)
        if key not in self._cache:
            self._cache[key] = self._compute(birth_date, claimed_group, conds, prefs, history)
        return self._cache[key]

    def _compute(
        self,
        birth_date: date,
        claimed_group: str,
        conds: tuple[str, ...],
        prefs: tuple[str, ...],
        history: tuple[tuple[str, int, date], ...],
    ) -> Answer | None:
        rules, start = self.rules, self.start
        try:
            group = priority_group_for(birth_date, claimed_group, frozenset(conds), start, rules)
        except DomainError:
            # A code from another rule version: the groups derived from the
            # facts still apply, the claim does not.
            try:
                group = priority_group_for(birth_date, None, frozenset(conds), start, rules)
            except DomainError as error:
                return Answer(len(history) + 1, (), start, None, _last_rank(rules), error.code)
        try:
            facts = CitizenFacts(
                birth_date=birth_date,
                priority_group=group.code,
                conditions=frozenset(conds),
                doses=tuple(DoseFact(p, n, d) for p, n, d in history),
            )
            due = next_dose(facts, rules)
        except InvalidDoseHistory as error:
            return Answer(len(history) + 1, (), start, None, group.rank, error.code)
        except DomainError as error:
            return Answer(len(history) + 1, (), start, None, group.rank, error.code)
        if due is None:
            return None
        earliest = max(start, due.earliest) if due.earliest is not None else start
        allowed = eligible_products(facts, earliest, rules)
        if due.is_first and prefs and ANY_VACCINE not in prefs:
            products = tuple(p for p in prefs if p in allowed)
        else:
            # Later doses follow the series, whatever dose 1's preference said;
            # the preferred products still come first.
            preferred = tuple(p for p in prefs if p in allowed)
            products = preferred + tuple(p for p in allowed if p not in preferred)
        rule = None
        if not products:
            rule = self._blocking_rule(facts, earliest, prefs, due.product_ids)
        # A late dose is still given (see `domain.eligibility`): no upper bound then.
        latest = due.latest if due.latest is not None and due.latest >= earliest else None
        return Answer(due.dose_number, products, earliest, latest, group.rank, rule)

    def _blocking_rule(
        self,
        facts: CitizenFacts,
        on: date,
        prefs: tuple[str, ...],
        candidates: tuple[str, ...],
    ) -> str:
        """The code of the first rule blocking the most wanted product."""
        wanted = [p for p in prefs if p != ANY_VACCINE] or list(candidates)
        if not wanted:
            return "eligibility.contraindicated"
        for product in wanted:
            result = check_eligibility(facts, product, on, self.rules)
            if result.blocking:
                return result.blocking[0].code
        return "eligibility.wrong_product_for_dose"


def _last_rank(rules: RuleSet) -> int:
    return len(rules.priority_groups.groups)


def waiting_citizens(
    session: Session,
    rules: RuleSet,
    start: date,
    appointments: list[ExistingAppointment],
) -> list[WaitingCitizen]:
    """Every citizen waiting for a dose on `start`, in registration order.

    Birth dates and the JSON columns are read raw and decoded once per
    distinct value, and a citizen with no dose yet gets the answer of the
    first citizen of the same age, claimed group, conditions and preferences
    (what `Demand.answer` depends on): a national run reads millions of rows
    that share a few thousand answers.
    """
    doses = effective_doses(session)
    held: dict[uuid.UUID, int] = {}
    for a in appointments:
        if a.status in STANDING:
            held[a.citizen_id] = max(held.get(a.citizen_id, 0), a.dose_number)
    demand = Demand(rules, start)
    table = Citizen.__table__
    rows = session.connection().execute(
        select(
            table.c.id,
            type_coerce(table.c.birth_date, String),  # raw: text on SQLite, a date on PostgreSQL
            table.c.priority_group,
            cast(table.c.conditions, Text),
            cast(table.c.vaccine_preferences, Text),
            table.c.municipality,
            type_coerce(table.c.registered_at, String),  # raw, as the birth date
        )
        .where(table.c.withdrawn_at.is_(None))
        .order_by(table.c.registered_at, table.c.id)
    )
    births: dict[object, tuple[date, int]] = {}
    lists: dict[str | None, tuple[str, ...]] = {None: ()}
    first_doses: dict[tuple[object, ...], Answer | None] = {}
    out: list[WaitingCitizen] = []
    for citizen_id, birth_raw, group, conditions, preferences, municipality, registered in rows:
        history = doses.get(citizen_id)
        birth, age = _birth(births, birth_raw, start)
        if history is None:
            # What `Demand.answer` depends on (its own cache key), before decoding.
            key = (age, group, conditions, preferences)
            if key in first_doses:
                answer = first_doses[key]
            else:
                answer = first_doses[key] = demand.answer(
                    birth,
                    group,
                    _json_list(lists, conditions),
                    _json_list(lists, preferences),
                    [],
                )
        else:
            answer = demand.answer(
                birth,
                group,
                _json_list(lists, conditions),
                _json_list(lists, preferences),
                history,
            )
        if answer is None or held.get(citizen_id, 0) >= answer.dose_number:
            continue
        out.append(
            WaitingCitizen(
                id=citizen_id,
                dose_number=answer.dose_number,
                products=answer.products,
                earliest=answer.earliest,
                latest=answer.latest,
                municipality=municipality,
                rank=answer.rank,
                registered=_instant(registered),
                last_site_id=history[-1].site_id if history else None,
                ineligible_rule=answer.ineligible_rule,
            )
        )
    return out


def _birth(memo: dict[object, tuple[date, int]], raw: object, on: date) -> tuple[date, int]:
    """A birth date read raw (ISO text on SQLite, a date from PostgreSQL's driver),
    and the age on `on`."""
    found = memo.get(raw)
    if found is None:
        birth = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        found = memo[raw] = (birth, age_on(birth, on))
    return found


def _instant(raw: object) -> datetime:
    """An instant read raw, as `central.db.types.UTCDateTime` reads it: UTC wall
    time as text on SQLite, an aware datetime from PostgreSQL's driver."""
    if isinstance(raw, datetime):
        return raw.astimezone(UTC)
    return datetime.fromisoformat(str(raw)).replace(tzinfo=UTC)


def _json_list(memo: dict[str | None, tuple[str, ...]], text: str | None) -> tuple[str, ...]:
    """A JSON list of codes read as text (SQL NULL: none)."""
    found = memo.get(text)
    if found is None:
        found = memo[text] = tuple(json.loads(text or "null") or ())
    return found
