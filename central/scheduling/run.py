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
"""

from __future__ import annotations

import time as timer
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

import scheduler
from central.db import (
    Appointment,
    AppointmentEvent,
    AppointmentEventKind,
    AuditLog,
    Base,
    ChangeLog,
    ChangeOp,
    Citizen,
    NotificationChannel,
    NotificationOutbox,
    NotificationStatus,
    SchedulerRun,
    SchedulerRunStatus,
    SecondDosePlan,
    StandbyEntry,
    allocate_change_seqs,
    insert_rows,
)
from central.scheduling.capacity import Capacity, build_capacity
from central.scheduling.demand import WaitingCitizen, existing_appointments, waiting_citizens
from central.scheduling.errors import HorizonInvalid
from central.scheduling.invitations import Invitation, email_text, sms_text
from central.scheduling.summary import BookedLine, PlanLine, RunSummary, StandbyLine
from central.services.appointments import new_event
from central.services.context import Hub
from domain.catalogue import DoseRule
from domain.data import RuleSet, rules_in_force
from domain.ids import uuid7

MAX_DAYS: Final = 60
UNBOOKED_ACTION: Final = "scheduler.unbooked"
UNKNOWN_MUNICIPALITY: Final = "scheduling.unknown_municipality"
_ADVISORY_KEY: Final = 0x1_3D_5C4ED
"""PostgreSQL advisory-lock key of scheduler runs (any fixed number)."""
_CHUNK: Final = 500
OPEN_INTERVAL_DAYS: Final = 365
"""Upper bound of a dose interval the rules leave open, for the scheduler's second-dose plans."""


@dataclass(frozen=True)
class _Decided:
    """What a run decided, before it is written."""

    appointments: list[dict[str, Any]]  # column values of the appointments table
    plans: list[dict[str, Any]]
    standby: list[dict[str, Any]]
    unbooked: list[tuple[str, int, str, str | None]]
    capacity: Capacity
    rules: RuleSet
    actor: str


def _columns(row: Base) -> dict[str, Any]:
    """Column name -> value of an unsaved ORM row, for `insert_rows`."""
    return {a.columns[0].name: getattr(row, a.key) for a in inspect(type(row)).column_attrs}


def _flat_json(values: dict[str, Any]) -> dict[str, Any]:
    """`json_value` of a row read from the database, without its recursion (hot path).

    Only the top level needs converting: scalar columns hold ids, dates and
    times, and JSON columns come back from the driver as JSON values already.
    """
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, uuid.UUID):
            out[key] = str(value)
        elif isinstance(value, date | time):  # datetime is a date
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def _chunks(items: Sequence[uuid.UUID]) -> Iterator[Sequence[uuid.UUID]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _problem(
    start: date, days: int, rules: RuleSet, capacity: Capacity, waiting: list[WaitingCitizen]
) -> tuple[scheduler.Problem, list[WaitingCitizen]]:
    """The scheduler's input, and the citizens it cannot take (home place unknown)."""
    known = {m.id for m in capacity.municipalities}
    sites = {s.id for s in capacity.scheduler_sites}
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
    citizens = [
        scheduler.Citizen(
            id=str(w.id),
            dose_number=w.dose_number,
            products=w.products,
            earliest=w.earliest,
            latest=w.latest,
            municipality_id=w.municipality,
            rank=w.rank,
            registered=w.registered,
            preferred_site=(
                str(w.last_site_id)
                if w.last_site_id is not None and str(w.last_site_id) in sites
                else None
            ),
            ineligible_reason=w.ineligible_rule,
        )
        for w in placed
    ]
    problem = scheduler.Problem(
        start=start,
        days=days,
        products=tuple(products),
        municipalities=capacity.municipalities,
        sites=capacity.scheduler_sites,
        sessions=capacity.sessions,
        stock=capacity.stock,
        citizens=scheduler.CitizenTable.from_citizens(citizens),
    )
    return problem, unplaced


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
) -> RunSummary:
    """Schedule the horizon of `days` days from `start` and store the result.

    `actor` names who started the run (``operator:<user>``). Raises
    `HorizonInvalid`, `domain.data.NoRulesInForce`, or the scheduler's
    `scheduler.SchedulerInputError` for inconsistent data (after recording a
    failed run).
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
        with hub.sessions() as session, session.begin():
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
            summary, decided = _run(session, run_id, rules, start, days, cfg, now, actor)
            changes, notices = _write_results(session, run_id, summary, decided, now)
            summary = replace(summary, notifications=notices, seconds=timer.perf_counter() - began)
            run.status = SchedulerRunStatus.SUCCEEDED.value
            run.summary = summary.as_json()
            run.finished_at = hub.clock.now()
            session.flush()
            _announce(session, changes, now)
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
    run_id: uuid.UUID,
    rules: RuleSet,
    start: date,
    days: int,
    cfg: scheduler.Config,
    now: datetime,
    actor: str,
) -> tuple[RunSummary, _Decided]:
    appointments = existing_appointments(session, start)
    waiting = waiting_citizens(session, rules, start, appointments)
    capacity = build_capacity(
        session, rules, start, days, appointments, {w.municipality for w in waiting}
    )
    problem, unplaced = _problem(start, days, rules, capacity, waiting)
    result = scheduler.schedule(problem, cfg)
    by_id = {str(w.id): w for w in waiting}
    booked = result.appointments()
    groups = {g.rank: g.code for g in rules.priority_groups.groups}
    scheduler_actor = f"scheduler:{run_id}"

    # Seat bookings in real slots: per site-day, product after product, higher
    # priority and earlier registration first.
    def seat_order(a: scheduler.Appointment) -> tuple[Any, ...]:
        w = by_id[a.citizen_id]
        return (
            a.site_id,
            a.day,
            a.product_id,
            a.dose_number != 1,
            w.rank,
            w.registered,
            a.citizen_id,
        )

    # Column values, not ORM objects: a national run books millions.
    appointment_rows: list[dict[str, Any]] = []
    for a in sorted(booked, key=seat_order):
        site_id = uuid.UUID(a.site_id)
        slot = capacity.books[(site_id, a.day)].seat()
        appointment_rows.append(
            {
                "id": uuid7(),
                "citizen_id": uuid.UUID(a.citizen_id),
                "site_id": site_id,
                "day": a.day,
                "slot_start": slot,
                "product_id": a.product_id,
                "dose_number": a.dose_number,
                "scheduler_run_id": run_id,
                "replaces_appointment_id": None,
                "origin_site_id": None,
                "stored_at": now,
                "created_at": now,
                "created_by": scheduler_actor,
            }
        )
    plans = [
        {
            "id": uuid7(),
            "run_id": run_id,
            "citizen_id": uuid.UUID(p.citizen_id),
            "dose_number": p.dose_number,
            "product_id": p.product_id,
            "earliest": p.earliest,
            "latest": p.latest,
            "site_id": uuid.UUID(p.site_id),
            "created_at": now,
            "created_by": scheduler_actor,
        }
        for p in result.second_dose_plans()
    ]
    standby_lists = result.standby()
    standby = [
        {
            "id": uuid7(),
            "run_id": run_id,
            "site_id": uuid.UUID(lst.site_id),
            "day": lst.day,
            "product_id": lst.product_id,
            "position": position,
            "citizen_id": uuid.UUID(citizen_id),
            "created_at": now,
            "created_by": scheduler_actor,
        }
        for lst in standby_lists
        for position, citizen_id in enumerate(lst.citizen_ids, start=1)
    ]
    unbooked = [(u.citizen_id, u.dose_number, u.reason.value, u.rule) for u in result.unbooked()]
    unbooked += [
        (str(w.id), w.dose_number, scheduler.Reason.NO_SESSION_IN_REACH.value, UNKNOWN_MUNICIPALITY)
        for w in unplaced
    ]
    lines = Counter(
        (groups.get(by_id[a.citizen_id].rank, str(by_id[a.citizen_id].rank)), a.product_id)
        for a in booked
    )
    summary = RunSummary(
        run_id=run_id,
        rules_version=rules.version,
        start=start,
        end=problem.end,
        waiting=len(waiting),
        appointments=len(appointment_rows),
        booked=tuple(
            BookedLine(group, product, count) for (group, product), count in sorted(lines.items())
        ),
        place_bound=capacity.place_bound,
        stock_doses=sum(s.doses for s in capacity.stock),
        unbooked=dict(Counter(reason for _, _, reason, _ in unbooked)),
        notifications=0,  # counted as they are written
        seconds=0.0,
        plans=_plan_lines(plans),
        standby=_standby_lines(standby_lists),
    )
    return summary, _Decided(appointment_rows, plans, standby, unbooked, capacity, rules, actor)


def _plan_lines(plans: list[dict[str, Any]]) -> tuple[PlanLine, ...]:
    counts = Counter(p["product_id"] for p in plans)
    first: dict[str, date] = {}
    for p in plans:
        day = first.get(p["product_id"])
        first[p["product_id"]] = p["earliest"] if day is None else min(day, p["earliest"])
    return tuple(PlanLine(product, counts[product], first[product]) for product in sorted(counts))


def _standby_lines(lists: list[scheduler.StandbyList]) -> tuple[StandbyLine, ...]:
    sessions = Counter(lst.product_id for lst in lists)
    citizens = Counter[str]()
    for lst in lists:
        citizens[lst.product_id] += len(lst.citizen_ids)
    return tuple(
        StandbyLine(product, sessions[product], citizens[product]) for product in sorted(sessions)
    )


def _held_pairs(
    session: Session, citizen_ids: Sequence[uuid.UUID]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(citizen, site) pairs where the site already holds the citizen's record."""
    pairs: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for chunk in _chunks(citizen_ids):
        pairs.update(
            (c, s)
            for c, s in session.execute(
                select(Appointment.citizen_id, Appointment.site_id)
                .where(Appointment.citizen_id.in_(chunk))
                .distinct()
            )
        )
    return pairs


def _citizens(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Citizen rows by id, as column name -> value (Core: no ORM objects to build)."""
    table = Citizen.__table__
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        for row in session.execute(select(table).where(table.c.id.in_(chunk))):
            values = dict(row._mapping)
            found[values["id"]] = values
    return found


def _change(
    table: str, record_id: uuid.UUID, site_id: uuid.UUID, payload: dict[str, Any], hlc: str | None
) -> dict[str, Any]:
    """A change-log row (less seq and logged_at) announcing a record to one site."""
    return {
        "table_name": table,
        "record_id": record_id,
        "op": ChangeOp.UPSERT.value,
        "audience_site_id": site_id,
        "origin_site_id": None,
        "hlc": hlc,
        "payload": payload,
    }


def _citizen_change(citizen: dict[str, Any], site_id: uuid.UUID) -> dict[str, Any]:
    """The change announcing a citizen's record (a `_citizens` row) to a site.

    The row's JSON columns come back from the driver as JSON values already,
    so converting the top level gives what `json_value` gives, without walking
    every nested document (a tenth of a national run's time).
    """
    return _change("citizens", citizen["id"], site_id, _flat_json(citizen), citizen["hlc"])


def _announce(session: Session, changes: list[dict[str, Any]], now: datetime) -> None:
    """Append `changes` to the change log, last in the transaction.

    What `central.services.records.announce` does, with the rows written by
    `insert_rows` (COPY on PostgreSQL): a run announces hundreds of
    thousands of records, and row-by-row inserts would hold the change-log
    counter's lock, and so every site's push, for minutes.
    """
    if not changes:
        return
    seqs = allocate_change_seqs(session, len(changes))
    insert_rows(
        session,
        ChangeLog,
        ({**c, "seq": seq, "logged_at": now} for seq, c in zip(seqs, changes, strict=True)),
    )


def _write_results(
    session: Session, run_id: uuid.UUID, summary: RunSummary, decided: _Decided, now: datetime
) -> tuple[list[dict[str, Any]], int]:
    """Write appointments, events, invitations, plans, standby lists and unbooked
    reasons; return the change-log rows to append (after every other write) and
    the number of invitations queued."""
    appointment_rows, capacity, rules = decided.appointments, decided.capacity, decided.rules
    scheduler_actor = f"scheduler:{run_id}"
    citizen_ids = sorted(
        {r["citizen_id"] for r in appointment_rows} | {e["citizen_id"] for e in decided.standby}
    )
    held = _held_pairs(session, citizen_ids)
    citizens = _citizens(session, citizen_ids)
    event_values = [
        _columns(
            new_event(
                r["id"],
                AppointmentEventKind.SCHEDULED,
                now=now,
                actor=scheduler_actor,
                reason=f"booked by scheduler run {run_id}",
            )
        )
        for r in appointment_rows
    ]
    changes: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    announced: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for row, event in zip(appointment_rows, event_values, strict=True):
        citizen = citizens[row["citizen_id"]]
        site_id = row["site_id"]
        pair = (row["citizen_id"], site_id)
        if pair not in held and pair not in announced:
            announced.add(pair)
            changes.append(_citizen_change(citizen, site_id))
        changes.append(_change("appointments", row["id"], site_id, _flat_json(row), None))
        changes.append(_change("appointment_events", event["id"], site_id, _flat_json(event), None))
        site = capacity.sites[site_id]
        invitation = Invitation(
            appointment_id=row["id"],
            citizen_name=f"{citizen['first_name_latin']} {citizen['last_name_latin']}",
            day=row["day"],
            slot_start=row["slot_start"],
            site_name=site.name,
            site_address=site.address or site.municipality,
            vaccine=rules.catalogue.by_id(row["product_id"]).name,
            dose_number=row["dose_number"],
        )
        for channel, recipient, body in (
            (NotificationChannel.SMS, citizen["phone"], sms_text),
            (NotificationChannel.EMAIL, citizen["email"], email_text),
        ):
            if recipient:
                notices.append(
                    {
                        "id": uuid7(),
                        "channel": channel.value,
                        "recipient": recipient,
                        "body": body(invitation),
                        "citizen_id": citizen["id"],
                        "status": NotificationStatus.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "sent_at": None,
                        "last_error": None,
                        "updated_at": now,
                        "created_at": now,
                        "created_by": scheduler_actor,
                    }
                )
    for entry in decided.standby:
        pair = (entry["citizen_id"], entry["site_id"])
        if pair not in held and pair not in announced:
            announced.add(pair)
            changes.append(_citizen_change(citizens[entry["citizen_id"]], entry["site_id"]))
        changes.append(
            _change("standby_entries", entry["id"], entry["site_id"], _flat_json(entry), None)
        )
    insert_rows(session, Appointment, appointment_rows)
    insert_rows(session, AppointmentEvent, event_values)
    insert_rows(session, NotificationOutbox, notices)
    insert_rows(session, SecondDosePlan, decided.plans)
    insert_rows(session, StandbyEntry, decided.standby)
    insert_rows(
        session,
        AuditLog,
        _unbooked_entries(decided.unbooked, run_id, summary, now, decided.actor),
    )
    return changes, len(notices)


def _unbooked_entries(
    unbooked: Iterable[tuple[str, int, str, str | None]],
    run_id: uuid.UUID,
    summary: RunSummary,
    now: datetime,
    actor: str,
) -> Iterator[dict[str, Any]]:
    for citizen_id, dose, reason, rule in unbooked:
        yield {
            "id": uuid7(),
            "occurred_at": now,
            "actor": actor,
            "action": UNBOOKED_ACTION,
            "entity_table": Citizen.__tablename__,
            "entity_id": citizen_id,
            "site_id": None,
            "before": None,
            "after": {
                "run_id": str(run_id),
                "dose_number": dose,
                "reason": reason,
                "rule": rule,
                "horizon_start": summary.start.isoformat(),
                "horizon_end": summary.end.isoformat(),
            },
            "request_id": None,
        }
