"""`generate_demo`: fill an empty central database with a plausible population.

What is generated, and from which assumptions, is documented where it is
made: `central.demo.people` (citizens), `central.demo.preferences`,
`central.demo.sites`, `central.demo.stock`, `central.demo.rows` (how plans
become rows). The output is a pure function of (citizens, sites, seed,
start): the same arguments give the same rows, ids included
(`central.demo.seeded`).

Everything goes in through `central.db.insert_rows` (COPY on PostgreSQL) in
one transaction, so a failed run leaves the database as it was. The sites are
announced in the change log, as `imuno-hub sites add` does, so enrolled
sites pull the site list; one audit-trail entry records the run.
"""

from __future__ import annotations

import os
import time as timer
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import numpy as np
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from central.db import (
    AuditLog,
    ChangeLog,
    Citizen,
    Delivery,
    Lot,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    Registration,
    Shipment,
    ShipmentLine,
    Site,
    StockMovement,
    append_changes,
    insert_rows,
    make_engine,
    read_only,
    session_factory,
)
from central.db.bulk import bulk_page_cache
from central.demo.errors import DemoDatabaseNotEmpty, DemoSizeInvalid
from central.demo.limits import MAX_CITIZENS, MAX_SITES, MAX_WORKERS
from central.demo.people import CAMPAIGN_TIMEZONE, REGISTRATION_DAYS, Population, make_population
from central.demo.rows import (
    audit_row,
    citizen_ids,
    people_rows,
    registration_ids,
    site_changes,
    site_rows,
    stock_rows,
)
from central.demo.seeded import IdColumn
from central.demo.sites import WEEKDAYS, SitePlan, plan_sites
from central.demo.staging import StagedPeople, staged_people
from central.demo.stock import StockPlan, plan_stock, supply_mix
from central.demo.summary import DemoSummary, StockLine
from domain.data import RuleSet, rules_in_force
from domain.wire import ANY_VACCINE

PARALLEL_FROM: Final = 100_000
"""From this many citizens, worker processes write them (staging pays off)."""
_SQLITE_BULK_CACHE_KIB: Final = 262_144
"""Page cache for the load on SQLite (256 MiB): index pages stay in memory."""

Progress = Callable[[str], None]


@dataclass(frozen=True, eq=False)
class _Demo:
    """Everything generated, before it is written."""

    seed: int
    start: date
    rules: RuleSet
    population: Population
    sites: tuple[SitePlan, ...]
    stock: StockPlan


def generate_demo(
    engine_or_url: Engine | str,
    *,
    citizens: int,
    sites: int,
    seed: int,
    start: date,
    workers: int | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Write `citizens` registered citizens and `sites` sites with stock, ready for `start`.

    `start` is the first vaccination day: ages, priority groups and the rules
    in force are those of that day; registrations fall in the weeks before
    it, deliveries and first shipments just before it. The database must be
    migrated and hold no citizens, sites or lots. `workers` processes write
    the citizens and registrations (`central.demo.staging`); by default
    `default_workers` decides.
    `progress`, when given, hears a line per stage.

    Raises `DemoSizeInvalid`, `DemoDatabaseNotEmpty`,
    `domain.data.NoRulesInForce` (a start before the first rule set), or a
    database error; in every case nothing is written.
    """
    if not 0 <= citizens <= MAX_CITIZENS:
        raise DemoSizeInvalid(option="--citizens", low=0, high=MAX_CITIZENS, value=citizens)
    if not 1 <= sites <= MAX_SITES:
        raise DemoSizeInvalid(option="--sites", low=1, high=MAX_SITES, value=sites)
    if seed < 0:
        raise DemoSizeInvalid(option="--seed", low=0, high=2**63 - 1, value=seed)
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise DemoSizeInvalid(option="--workers", low=1, high=MAX_WORKERS, value=workers)
    tell = progress or (lambda _line: None)
    started = timer.perf_counter()
    rules = rules_in_force(start)
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    if workers is None:
        workers = default_workers(citizens)
    try:
        with session_factory(read_only(engine))() as session:
            _require_empty(session)  # now, not only after a minute of work
        tell(f"generating {citizens:,} citizens and {sites:,} sites")
        population = make_population(citizens, seed, start, rules)
        site_plans = plan_sites(sites, seed, rules.catalogue)
        mix = supply_mix(population.preferences, rules.catalogue)
        stock = plan_stock(citizens, site_plans, mix, rules.catalogue, seed, start)
        demo = _Demo(seed, start, rules, population, site_plans, stock)
        rows = _load(engine, demo, workers, tell)
    finally:
        if isinstance(engine_or_url, str):
            engine.dispose()
    seconds = timer.perf_counter() - started
    tell(f"done in {seconds:.1f} s")
    return _summary(demo, rows, seconds)


def default_workers(citizens: int) -> int:
    """How many processes write the citizens when the caller does not say.

    From `PARALLEL_FROM` citizens on, two (on a machine with two cores or
    more): the writing is nearly all Python, which one process does on one
    core. Measured for 1,000,000 citizens and 400 sites on two idle cores:
    SQLite 47 s with two workers against 74 s in one process, PostgreSQL
    60 s against 64 s (its server backend already works beside the one
    process). On cores busy with other work, one process can be faster.
    """
    if citizens < PARALLEL_FROM:
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def _load(engine: Engine, demo: _Demo, workers: int, tell: Progress) -> dict[str, int]:
    """Write everything in one transaction; return rows written per table."""
    population = demo.population
    citizens = citizen_ids(population, demo.seed)
    registrations = registration_ids(population, demo.seed)
    with ExitStack() as stack:
        staged: StagedPeople | None = None
        if workers > 1 and len(population) >= workers:
            tell(f"writing citizens and registrations in {workers} worker processes")
            staged = stack.enter_context(
                staged_people(engine, population, citizens, registrations, workers)
            )
            tell("staged; moving citizens and registrations into their tables")
        connection = stack.enter_context(engine.connect())
        if staged is not None:
            staged.prepare(connection)
            stack.callback(staged.release, connection)
        with Session(bind=connection, expire_on_commit=False) as session, session.begin():
            _require_empty(session)
            with bulk_page_cache(session, kib=_SQLITE_BULK_CACHE_KIB):
                written = _write(session, demo, citizens, registrations, staged, tell)
    return written


def _require_empty(session: Session) -> None:
    counts = {
        name: session.scalar(select(func.count()).select_from(model)) or 0
        for name, model in (("citizens", Citizen), ("sites", Site), ("lots", Lot))
    }
    if any(counts.values()):
        raise DemoDatabaseNotEmpty(**counts)


def _local(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, CAMPAIGN_TIMEZONE).astimezone(UTC)


def _write(
    session: Session,
    demo: _Demo,
    citizens: IdColumn,
    registrations: IdColumn,
    staged: StagedPeople | None,
    tell: Progress,
) -> dict[str, int]:
    written: dict[str, int] = {}

    def insert(model: Any, rows: Any, *, quiet: bool = False) -> None:
        table = model.__tablename__
        written[table] = written.get(table, 0) + insert_rows(session, model, rows)
        if not quiet:
            tell(f"{table}: {written[table]:,} rows")

    sites_created = _local(demo.start - timedelta(days=REGISTRATION_DAYS + 5), time(9))
    sites = site_rows(demo.sites, sites_created, demo.seed)
    insert(Site, sites)
    if staged is not None:
        written.update(staged.move_into(session))
    else:
        # A slice of citizens, then their registrations, which refer to them.
        slices = people_rows(demo.population, citizens, registrations)
        for number, (people, interest) in enumerate(slices, start=1):
            insert(Citizen, people, quiet=True)
            insert(Registration, interest, quiet=True)
            if number % 10 == 0:
                tell(f"citizens and registrations: {written['citizens']:,} each")
    for model in (Citizen, Registration):
        written.setdefault(model.__tablename__, 0)
    tell(f"citizens and registrations: {written['citizens']:,} each")
    stock = stock_rows(demo.stock, [row["id"] for row in sites], demo.seed)
    insert(PurchaseOrder, stock.purchase_orders)
    insert(PurchaseOrderLine, stock.purchase_order_lines)
    insert(Delivery, stock.deliveries)
    insert(Lot, stock.lots)
    insert(Shipment, stock.shipments)
    insert(ShipmentLine, stock.shipment_lines)
    insert(Receipt, stock.receipts)
    insert(StockMovement, stock.movements)
    run = {
        "citizens": len(demo.population),
        "sites": len(demo.sites),
        "seed": demo.seed,
        "start": demo.start.isoformat(),
        "rules_version": demo.rules.version,
    }
    insert(AuditLog, [audit_row(demo.seed, _local(demo.start, time(0)), run)])
    # Last in the transaction: it takes the change-log counter's lock.
    changes = site_changes(sites)
    append_changes(session, changes, sites_created)
    written[ChangeLog.__tablename__] = len(changes)
    tell("committing")
    return written


def _summary(demo: _Demo, rows: dict[str, int], seconds: float) -> DemoSummary:
    population, site_plans, stock, rules = demo.population, demo.sites, demo.stock, demo.rules
    groups = rules.priority_groups.groups
    by_group = np.bincount(population.priority, minlength=len(groups))
    preferences = population.preferences
    by_first = np.bincount(preferences.first_choices(), minlength=len(preferences.options))
    municipalities = [p.municipality for p in population.places]
    by_municipality: dict[str, int] = {}
    for place, count in enumerate(np.bincount(population.place, minlength=len(municipalities))):
        name = municipalities[place]
        by_municipality[name] = by_municipality.get(name, 0) + int(count)
    top = sorted(by_municipality.items(), key=lambda item: (-item[1], item[0]))[:10]
    capacity = [(day, sum(s.capacity(day) for s in site_plans)) for day in WEEKDAYS]
    delivered = stock.vials_delivered()
    at_sites = stock.vials_at_sites()
    stock_lines = tuple(
        StockLine(
            product_id=p.id,
            product_name=p.name,
            doses_per_vial=p.doses_per_vial,
            vials_in_warehouse=delivered[p.id] - at_sites.get(p.id, 0),
            vials_at_sites=at_sites.get(p.id, 0),
        )
        for p in rules.catalogue.products
        if p.id in delivered
    )
    return DemoSummary(
        seed=demo.seed,
        start=demo.start,
        rules_version=rules.version,
        citizens=len(population),
        by_priority=tuple((g.name.en, int(n)) for g, n in zip(groups, by_group, strict=True)),
        by_preference=tuple(
            (
                "any suitable vaccine"
                if option == ANY_VACCINE
                else rules.catalogue.by_id(option).name,
                int(n),
            )
            for option, n in zip(preferences.options, by_first, strict=True)
            if n > 0
        ),
        top_municipalities=tuple(top),
        sites=len(site_plans),
        halls=sum(s.hall for s in site_plans),
        sites_with_comirnaty=sum("comirnaty" in s.products for s in site_plans),
        capacity_per_day=(*capacity, ("week", sum(n for _, n in capacity))),
        stock=stock_lines,
        rows=tuple(rows.items()),
        seconds=seconds,
    )
