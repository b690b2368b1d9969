"""One scheduling run: read the database, run the scheduler, store what it decided.

Everything a run writes goes in one transaction, so a run either happened
completely or not at all:

- a ``scheduler_runs`` row with the rules version, horizon, parameters and
  the summary;
- per booking, an appointment naming the run and its ``scheduled`` event,
  each announced in the change log to the site (with the citizen's record
  when the site does not hold it yet), so the site's next pull brings its
  roster;
- per booking, an invitation by SMS and by e-mail (where the citizen gave a
  phone or an address) in ``notification_outbox`` for a gateway to send,
  naming the site's street address (its municipality while it has none);
- per series dose due after the horizon, a ``second_dose_plans`` row;
- per standby list, its ``standby_entries`` rows in call order, announced in
  the change log to the site (with the citizen's record when the site does
  not hold it yet), like appointments;
- per citizen left unbooked, an audit-trail entry (action
  ``scheduler.unbooked``) with the reason, which
  `central.scheduling.status` answers from.

Re-running is safe: a citizen holding a standing appointment is not waiting
(`central.scheduling.demand`), and places and stock already held by
appointments are not offered again (`central.scheduling.capacity`), so a
second run for the same days books only what the first left free, and
citizens whose appointment was cancelled, missed or marked for rebooking are
booked again. Two runs never overlap: on PostgreSQL a transaction-level
advisory lock serialises them; on SQLite the hub's write transactions begin
IMMEDIATE and so already do. A run that fails leaves a ``failed`` run row
with the error and nothing else.

At national scale the run works on columns, not objects: the scheduler's
citizen table is built directly, its result is read from the schedule's
columns, and everything is written column by column
(`central.scheduling.writes`), with a large SQLite page cache for the
transaction (`central.db.bulk.bulk_page_cache`).
"""

from __future__ import annotations

import time as timer
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

import scheduler
from central.db import SchedulerRun, SchedulerRunStatus
from central.db.bulk import bulk_page_cache
from central.db.bulk_ids import uuid7_block
from central.scheduling.capacity import Capacity, build_capacity
from central.scheduling.demand import WaitingCitizen, existing_appointments, waiting_citizens
from central.scheduling.errors import HorizonInvalid
from central.scheduling.summary import BookedLine, PlanLine, RunSummary, StandbyLine
from central.scheduling.writes import (
    UNBOOKED_ACTION,
    Bookings,
    Changes,
    Plans,
    RunFacts,
    Standby,
    Unbooked,
    announce,
    announce_bookings,
    citizen_payloads,
    held_pairs,
    write_appointments,
    write_invitations,
    write_plans,
    write_standby,
    write_unbooked,
)
from central.services.context import Hub
from domain.catalogue import DoseRule
from domain.data import RuleSet, rules_in_force
from domain.ids import uuid7

__all__ = ["MAX_DAYS", "UNBOOKED_ACTION", "UNKNOWN_MUNICIPALITY", "PhaseHook", "run_schedule"]

MAX_DAYS: Final = 60
UNKNOWN_MUNICIPALITY: Final = "scheduling.unknown_municipality"
_ADVISORY_KEY: Final = 0x1_3D_5C4ED
"""PostgreSQL advisory-lock key of scheduler runs (any fixed number)."""
OPEN_INTERVAL_DAYS: Final = 365
"""Upper bound of a dose interval the rules leave open, for the scheduler's second-dose plans."""

PhaseHook = Callable[[str], None]
"""Told the name of each step of a run as the step ends (``read``, ``solve``,
``seat``, ``citizens`` (the booked citizens' records), ``appointments``,
``invitations``, ``plans``, ``change_log``, ``commit``): `bench/hub_schedule.py`
times the steps with it."""


def _no_phase(_name: str) -> None:
    return None


@dataclass(frozen=True)
class _Decided:
    """What a run decided, before it is written."""

    bookings: Bookings
    plans: Plans
    standby: Standby
    unbooked: Unbooked
    capacity: Capacity
    rules: RuleSet


@dataclass(frozen=True)
class _Input:
    """The scheduler's input; `placed` are its citizen rows in order, `unplaced`
    the citizens it cannot take (home place unknown)."""

    problem: scheduler.Problem
    placed: list[WaitingCitizen]
    unplaced: list[WaitingCitizen]


def _problem(
    start: date, days: int, rules: RuleSet, capacity: Capacity, waiting: list[WaitingCitizen]
) -> _Input:
    """The scheduler's input (see `_Input`)."""
    known = {m.id for m in capacity.municipalities}
    placed = [w for w in waiting if w.municipality in known]
    unplaced = [w for w in waiting if w.municipality not in known]
    products = []
    for p in rules.catalogue.products:
        series = p.series
        rule2 = series.rule_for(2) if series is not None else None
        follow = (
            [q for q in rule2.product_ids if q != p.id]
            if rule2 is not None and p.id not in rule2.product_ids
            else []
        )
        products.append(
            scheduler.Product(
                id=p.id,
                doses_per_vial=p.doses_per_vial,
                series_doses=series.primary_doses if series is not None else 1,
                next_dose_product=follow[0] if follow else None,
                min_interval_days=rule2.min_days_after_previous if rule2 is not None else 0,
                max_interval_days=_max_interval(rule2),
            )
        )
    problem = scheduler.Problem(
        start=start,
        days=days,
        products=tuple(products),
        municipalities=capacity.municipalities,
        sites=capacity.scheduler_sites,
        sessions=capacity.sessions,
        stock=capacity.stock,
        citizens=_citizen_table(placed, {s.id for s in capacity.scheduler_sites}),
    )
    return _Input(problem, placed, unplaced)


def _citizen_table(placed: list[WaitingCitizen], sites: set[str]) -> scheduler.CitizenTable:
    """The waiting citizens as the scheduler's columns (see `scheduler.CitizenTable`),
    built directly: a national run has millions, too many for a value object each."""
    preferred = [str(w.last_site_id) if w.last_site_id is not None else None for w in placed]
    municipality, municipality_ids = _codes([w.municipality for w in placed])
    preferred_site, site_ids = _codes([p if p in sites else None for p in preferred])
    ineligible, reasons = _codes([w.ineligible_rule for w in placed])
    products, product_lists = _codes_of_lists([w.products for w in placed])
    return scheduler.CitizenTable(
        ids=np.array([str(w.id) for w in placed], dtype=object),
        dose=np.array([w.dose_number for w in placed], dtype=np.int16),
        rank=np.array([w.rank for w in placed], dtype=np.int16),
        municipality=municipality,
        municipality_ids=municipality_ids,
        products=products,
        product_lists=product_lists,
        earliest=np.array([w.earliest for w in placed], dtype="datetime64[D]"),
        latest=np.array(
            [np.datetime64("NaT") if w.latest is None else w.latest for w in placed],
            dtype="datetime64[D]",
        ),
        registered=np.array(
            [w.registered.astimezone(UTC).replace(tzinfo=None) for w in placed],
            dtype="datetime64[s]",
        ),
        preferred_site=preferred_site,
        site_ids=site_ids,
        ineligible=ineligible,
        ineligible_reasons=reasons,
    )


def _codes(values: list[str | None]) -> tuple[npt.NDArray[np.int32], tuple[str, ...]]:
    """Codes into the sorted vocabulary of `values` (-1 for None)."""
    vocabulary = tuple(sorted({v for v in values if v is not None}))
    position: dict[str | None, int] = {v: i for i, v in enumerate(vocabulary)}
    position[None] = -1
    return np.array([position[v] for v in values], dtype=np.int32), vocabulary


def _codes_of_lists(
    values: list[tuple[str, ...]],
) -> tuple[npt.NDArray[np.int32], tuple[tuple[str, ...], ...]]:
    """Codes into the sorted vocabulary of product lists."""
    vocabulary = tuple(sorted(set(values)))
    position = {v: i for i, v in enumerate(vocabulary)}
    return np.array([position[v] for v in values], dtype=np.int32), vocabulary


def _max_interval(rule: DoseRule | None) -> int:
    """The series' latest day for dose 2; a year past the earliest when it sets none."""
    if rule is None:
        return 0
    if rule.max_days_after_previous is None:
        return rule.min_days_after_previous + OPEN_INTERVAL_DAYS
    return rule.max_days_after_previous


def _serialise(session: Session) -> None:
    """Wait until no other run is writing (see the module docstring)."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY})


def run_schedule(
    hub: Hub,
    start: date,
    days: int,
    *,
    actor: str,
    config: scheduler.Config | None = None,
    phase: PhaseHook = _no_phase,
) -> RunSummary:
    """Schedule the horizon of `days` days from `start` and store the result.

    `actor` names who started the run (``operator:<user>``). Raises
    `HorizonInvalid`, `domain.data.NoRulesInForce`, or the scheduler's
    `scheduler.SchedulerInputError` for inconsistent data (after recording a
    failed run). `phase` hears the end of each step (see `PhaseHook`).
    """
    if not 1 <= days <= MAX_DAYS:
        raise HorizonInvalid(days=days, max_days=MAX_DAYS)
    rules = rules_in_force(start)
    cfg = config or scheduler.Config()
    end = start + timedelta(days=days - 1)
    run_id = uuid7()
    began = timer.perf_counter()
    now = hub.clock.now()
    parameters = {"days": days, "config": asdict(cfg)}
    try:
        with hub.sessions() as session, session.begin(), bulk_page_cache(session):
            _serialise(session)
            run = SchedulerRun(
                id=run_id,
                status=SchedulerRunStatus.RUNNING.value,
                rules_version=rules.version,
                horizon_start=start,
                horizon_end=end,
                parameters=parameters,
                summary=None,
                created_at=now,
                created_by=actor,
            )
            session.add(run)
            session.flush()
            facts = RunFacts(run_id=run_id, now=now, actor=actor, horizon=(start, end))
            summary, decided = _run(session, facts, rules, start, days, cfg, phase)
            changes, notices = _write_results(session, facts, decided, phase)
            summary = replace(summary, notifications=notices, seconds=timer.perf_counter() - began)
            run.status = SchedulerRunStatus.SUCCEEDED.value
            run.summary = summary.as_json()
            run.finished_at = hub.clock.now()
            session.flush()
            announce(session, changes, now)
            phase("change_log")
        phase("commit")
        return replace(summary, seconds=timer.perf_counter() - began)
    except Exception as error:
        with hub.sessions() as session, session.begin():
            session.add(
                SchedulerRun(
                    id=run_id,
                    status=SchedulerRunStatus.FAILED.value,
                    rules_version=rules.version,
                    horizon_start=start,
                    horizon_end=end,
                    parameters=parameters,
                    summary=None,
                    finished_at=hub.clock.now(),
                    error=f"{type(error).__name__}: {error}",
                    created_at=now,
                    created_by=actor,
                )
            )
        raise


def _run(
    session: Session,
    facts: RunFacts,
    rules: RuleSet,
    start: date,
    days: int,
    cfg: scheduler.Config,
    phase: PhaseHook,
) -> tuple[RunSummary, _Decided]:
    appointments = existing_appointments(session, start)
    waiting = waiting_citizens(session, rules, start, appointments)
    capacity = build_capacity(
        session, rules, start, days, appointments, {w.municipality for w in waiting}
    )
    problem = _problem(start, days, rules, capacity, waiting)
    phase("read")
    result = scheduler.schedule(problem.problem, cfg)
    phase("solve")
    placed = problem.placed
    groups = {g.rank: g.code for g in rules.priority_groups.groups}
    site_ids = {str(site_id): site_id for site_id in capacity.sites}
    sessions = problem.problem.sessions

    # Seat bookings in real slots: per site-day, product after product, higher
    # priority and earlier registration first (citizen rows are in registration
    # order, ids breaking ties). From the schedule's columns: a national run
    # books millions.
    rows = result.appointment_row.tolist()
    doses = result.appointment_dose.tolist()
    booked_sessions = [sessions[i] for i in result.appointment_session.tolist()]
    order = sorted(
        range(len(rows)),
        key=lambda i: (
            booked_sessions[i].site_id,
            booked_sessions[i].day,
            booked_sessions[i].product_id,
            doses[i] != 1,
            placed[rows[i]].rank,
            placed[rows[i]].registered,
            rows[i],
        ),
    )
    seated = [(placed[rows[i]], booked_sessions[i], doses[i]) for i in order]
    booked_sites = [site_ids[x.site_id] for _, x, _ in seated]
    bookings = Bookings(
        ids=uuid7_block(len(seated)),
        citizen_ids=[w.id for w, _, _ in seated],
        site_ids=booked_sites,
        days=[x.day for _, x, _ in seated],
        slots=[
            capacity.books[(site_id, x.day)].seat()
            for site_id, (_, x, _) in zip(booked_sites, seated, strict=True)
        ],
        products=[x.product_id for _, x, _ in seated],
        doses=[dose for _, _, dose in seated],
    )
    plan_sites = [site_ids[problem.problem.sites[i].id] for i in result.plan_site.tolist()]
    plan_products = problem.problem.products
    plans = Plans(
        citizen_ids=[placed[row].id for row in result.plan_row.tolist()],
        doses=result.plan_dose.tolist(),
        products=[plan_products[i].id for i in result.plan_product.tolist()],
        earliest=[start + timedelta(days=d) for d in result.plan_earliest.tolist()],
        latest=[start + timedelta(days=d) for d in result.plan_latest.tolist()],
        site_ids=plan_sites,
    )
    standby_lists = result.standby()
    entries = [
        (lst, position, citizen_id)
        for lst in standby_lists
        for position, citizen_id in enumerate(lst.citizen_ids, start=1)
    ]
    standby = Standby(
        site_ids=[site_ids[lst.site_id] for lst, _, _ in entries],
        days=[lst.day for lst, _, _ in entries],
        products=[lst.product_id for lst, _, _ in entries],
        positions=[position for _, position, _ in entries],
        citizen_ids=[uuid.UUID(c) for _, _, c in entries],
    )
    left = [(u.citizen_id, u.dose_number, u.reason.value, u.rule) for u in result.unbooked()]
    left += [
        (str(w.id), w.dose_number, scheduler.Reason.NO_SESSION_IN_REACH.value, UNKNOWN_MUNICIPALITY)
        for w in problem.unplaced
    ]
    unbooked = Unbooked(
        citizen_ids=[c for c, _, _, _ in left],
        doses=[d for _, d, _, _ in left],
        reasons=[r for _, _, r, _ in left],
        rules=[rule for _, _, _, rule in left],
    )
    lines = Counter((groups.get(w.rank, str(w.rank)), x.product_id) for w, x, _ in seated)
    summary = RunSummary(
        run_id=facts.run_id,
        rules_version=rules.version,
        start=start,
        end=problem.problem.end,
        waiting=len(waiting),
        appointments=len(bookings),
        booked=tuple(
            BookedLine(group, product, count) for (group, product), count in sorted(lines.items())
        ),
        place_bound=capacity.place_bound,
        stock_doses=sum(s.doses for s in capacity.stock),
        unbooked=dict(Counter(unbooked.reasons)),
        notifications=0,  # counted as they are written
        seconds=0.0,
        plans=_plan_lines(plans),
        standby=_standby_lines(standby_lists),
    )
    phase("seat")
    return summary, _Decided(bookings, plans, standby, unbooked, capacity, rules)


def _plan_lines(plans: Plans) -> tuple[PlanLine, ...]:
    counts = Counter(plans.products)
    first: dict[str, date] = {}
    for product, earliest in zip(plans.products, plans.earliest, strict=True):
        day = first.get(product)
        first[product] = earliest if day is None else min(day, earliest)
    return tuple(PlanLine(product, counts[product], first[product]) for product in sorted(counts))


def _standby_lines(lists: list[scheduler.StandbyList]) -> tuple[StandbyLine, ...]:
    sessions = Counter(lst.product_id for lst in lists)
    citizens = Counter[str]()
    for lst in lists:
        citizens[lst.product_id] += len(lst.citizen_ids)
    return tuple(
        StandbyLine(product, sessions[product], citizens[product]) for product in sorted(sessions)
    )


def _write_results(
    session: Session, facts: RunFacts, decided: _Decided, phase: PhaseHook
) -> tuple[Changes, int]:
    """Write appointments, events, invitations, plans, standby lists and unbooked
    reasons; return the change-log rows to append (after every other write) and
    the number of invitations queued."""
    bookings, standby = decided.bookings, decided.standby
    citizen_ids = sorted(set(bookings.citizen_ids) | set(standby.citizen_ids))
    held = held_pairs(session, citizen_ids)
    citizens = citizen_payloads(session, citizen_ids)
    phase("citizens")
    event_ids, event_hashes = write_appointments(session, facts, bookings)
    changes = Changes()
    announced: set[tuple[uuid.UUID, uuid.UUID]] = set()
    announce_bookings(facts, bookings, event_ids, event_hashes, citizens, held, announced, changes)
    phase("appointments")
    notices = write_invitations(session, facts, bookings, citizens, decided.capacity, decided.rules)
    phase("invitations")
    write_plans(session, facts, decided.plans)
    write_standby(session, facts, standby, citizens, held, announced, changes)
    write_unbooked(session, facts, decided.unbooked)
    phase("plans")
    return changes, notices
