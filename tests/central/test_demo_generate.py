"""`generate_demo` on both engines: what it writes is valid, consistent and repeatable."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.db import (
    Base,
    ChangeLog,
    ChangeLogCounter,
    Citizen,
    Lot,
    Receipt,
    Registration,
    Shipment,
    ShipmentLine,
    Site,
    StockMovement,
    make_engine,
    upgrade_to_head,
)
from central.demo.errors import DemoDatabaseNotEmpty, DemoSizeInvalid
from central.demo.generate import generate_demo
from central.demo.regions import jmbg_area
from central.demo.summary import DemoSummary
from central.services.registrations import DEMOGRAPHIC_FIELDS
from domain.data import rules_in_force
from domain.hlc import Timestamp
from domain.jmbg import parse_jmbg
from domain.priority import age_on, priority_group_for
from domain.script import cyrillic_to_latin

START = date(2021, 3, 1)
CITIZENS = 1_000
SITES = 12
SEED = 5


@pytest.fixture
def demo(central_db_url: str) -> Iterator[tuple[sa.Engine, DemoSummary]]:
    """A migrated database (SQLite, then PostgreSQL) filled by one single-process run."""
    upgrade_to_head(central_db_url)
    engine = make_engine(central_db_url)
    summary = generate_demo(
        engine, citizens=CITIZENS, sites=SITES, seed=SEED, start=START, workers=1
    )
    yield engine, summary
    engine.dispose()


def content_hash(engine: sa.Engine) -> str:
    """SHA-256 over every row of every table, in primary-key order, engine-neutral."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            digest.update(table.name.encode())
            query = sa.select(table).order_by(*table.primary_key.columns)
            for row in connection.execute(query):
                digest.update(json.dumps(list(row), sort_keys=True, default=str).encode())
    return digest.hexdigest()


def test_citizens_have_valid_jmbgs_names_and_contacts(
    demo: tuple[sa.Engine, DemoSummary],
) -> None:
    engine, summary = demo
    with Session(engine) as session:
        citizens = session.scalars(sa.select(Citizen)).all()

    assert len(citizens) == CITIZENS == summary.citizens
    same_area = 0
    for citizen in citizens:
        jmbg = parse_jmbg(citizen.jmbg, today=START)
        assert jmbg.birth_date == citizen.birth_date
        assert jmbg.sex.value == citizen.sex
        assert 16 <= age_on(citizen.birth_date, START) <= 95
        same_area += jmbg.region_code == jmbg_area(citizen.municipality)
        assert citizen.first_name_latin == cyrillic_to_latin(citizen.first_name_cyrillic)
        assert citizen.last_name_latin == cyrillic_to_latin(citizen.last_name_cyrillic)
        assert re.search("[А-Шабвгдђежзијклљмнњопрстћуфхцчџш]", citizen.last_name_cyrillic)
        assert citizen.phone is not None or citizen.email is not None
        assert citizen.phone is None or re.fullmatch(r"\+3816\d{8}", citizen.phone)
        assert citizen.email is None or re.fullmatch(r"[a-z.0-9]+@[a-z.]+", citizen.email)
        assert citizen.registered_at < _midnight(START)
        assert citizen.created_by == "demo-data"
        assert citizen.origin_site_id is None
        assert citizen.withdrawn_at is None
        assert citizen.field_hlc == dict.fromkeys(DEMOGRAPHIC_FIELDS, citizen.hlc)
        assert Timestamp.decode(citizen.hlc).node == "hub"
    assert len({c.jmbg for c in citizens}) == CITIZENS
    assert len({c.hlc for c in citizens}) == CITIZENS  # one node's clock never repeats
    assert 0.8 < same_area / CITIZENS < 0.95  # most were registered where they live


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Europe/Belgrade"))


def test_priority_groups_and_preferences_follow_the_rules(
    demo: tuple[sa.Engine, DemoSummary],
) -> None:
    engine, _ = demo
    rules = rules_in_force(START)
    with Session(engine) as session:
        rows = session.execute(
            sa.select(Citizen, Registration).join(
                Registration, Registration.citizen_id == Citizen.id
            )
        ).all()

    assert len(rows) == CITIZENS
    seen_groups = set()
    for citizen, registration in rows:
        claim = registration.payload["priority_claim"]
        conditions = set(citizen.conditions)
        expected = priority_group_for(citizen.birth_date, claim, conditions, START, rules)
        assert citizen.priority_group == expected.code
        seen_groups.add(expected.code)

        preferences = citizen.vaccine_preferences
        if preferences == ["any"]:
            continue
        assert len(set(preferences)) == len(preferences)
        age = age_on(citizen.birth_date, START)
        for product_id in preferences:
            product = rules.catalogue.by_id(product_id)
            assert product.starts_series
            assert not product.age.too_young(age), (product_id, age)
            assert not product.age.too_old(age), (product_id, age)
            assert not product.contraindications & conditions
    assert seen_groups == {g.code for g in rules.priority_groups.groups}


def test_registrations_keep_what_was_submitted(demo: tuple[sa.Engine, DemoSummary]) -> None:
    engine, _ = demo
    with Session(engine) as session:
        rows = session.execute(
            sa.select(Citizen, Registration).join(
                Registration, Registration.citizen_id == Citizen.id
            )
        ).all()

    scripts = {"latin": 0, "cyrillic": 0}
    for citizen, registration in rows:
        payload = registration.payload
        assert payload["jmbg"] == citizen.jmbg
        names = (payload["first_name"], payload["last_name"])
        if names == (citizen.first_name_cyrillic, citizen.last_name_cyrillic):
            scripts["cyrillic"] += 1
        else:
            assert names == (citizen.first_name_latin, citizen.last_name_latin)
            scripts["latin"] += 1
        assert payload["municipality"] == citizen.municipality
        assert payload["vaccine_preferences"] == citizen.vaccine_preferences
        assert payload["conditions"] == citizen.conditions
        assert payload["rules_version"] == "2021.03"
        assert registration.hlc == citizen.hlc
        assert registration.created_at == citizen.registered_at
        assert registration.withdrawn_at is None
    assert scripts["cyrillic"] > 0
    assert scripts["latin"] > scripts["cyrillic"]


def test_stock_positions_are_the_sums_of_movements(demo: tuple[sa.Engine, DemoSummary]) -> None:
    engine, summary = demo
    rules = rules_in_force(START)
    with Session(engine) as session:
        movements = session.scalars(sa.select(StockMovement)).all()
        lots = {lot.id: lot for lot in session.scalars(sa.select(Lot))}
        sites = {site.id: site for site in session.scalars(sa.select(Site))}
        shipped = session.execute(
            sa.select(Shipment.site_id, ShipmentLine.lot_id, ShipmentLine.quantity_vials).join(
                ShipmentLine, ShipmentLine.shipment_id == Shipment.id
            )
        ).all()
        receipts = session.scalars(sa.select(Receipt)).all()

    position: dict[tuple[str, uuid.UUID], int] = defaultdict(int)
    for m in movements:
        position[(m.from_location, m.lot_id)] -= m.quantity_vials
        position[(m.to_location, m.lot_id)] += m.quantity_vials
    for (location, _), vials in position.items():
        if location == "supplier":
            assert vials < 0
        elif location.startswith("transit:"):
            assert vials == 0  # every first shipment has arrived
        else:
            assert vials >= 0, location

    expected_at_sites: dict[tuple[str, uuid.UUID], int] = defaultdict(int)
    for site_id, lot_id, vials in shipped:
        expected_at_sites[(f"site:{site_id}", lot_id)] += vials
    at_sites = {k: v for k, v in position.items() if k[0].startswith("site:") and v}
    assert at_sites == dict(expected_at_sites)
    assert {location for location, _ in at_sites} <= {f"site:{s}" for s in sites}
    by_location = {f"site:{site_id}": site for site_id, site in sites.items()}
    for location, lot_id in at_sites:
        assert lots[lot_id].product_id in by_location[location].products  # only what it stores
    assert len(receipts) == len({s for s, _, _ in shipped})

    for line in summary.stock:
        product_lots = [i for i, lot in lots.items() if lot.product_id == line.product_id]
        warehouse = sum(position[("warehouse", i)] for i in product_lots)
        sites_total = sum(v for (loc, i), v in at_sites.items() if i in product_lots)
        assert (warehouse, sites_total) == (line.vials_in_warehouse, line.vials_at_sites)
    for lot in lots.values():
        assert rules.catalogue.by_gtin(lot.gtin).id == lot.product_id
        assert lot.expiry > START
        assert lot.lot_number


def test_sites_are_announced_to_every_site(demo: tuple[sa.Engine, DemoSummary]) -> None:
    engine, _ = demo
    with Session(engine) as session:
        changes = session.scalars(sa.select(ChangeLog).order_by(ChangeLog.seq)).all()
        sites = {site.id: site for site in session.scalars(sa.select(Site))}
        counter = session.scalar(sa.select(ChangeLogCounter.last_seq))

    assert [c.seq for c in changes] == list(range(1, SITES + 1))
    assert counter == SITES
    for change in changes:
        assert (change.table_name, change.op, change.audience_site_id) == ("sites", "upsert", None)
        assert change.payload is not None
        assert change.payload["code"] == sites[change.record_id].code
        assert change.payload["id"] == str(change.record_id)


def test_a_database_with_data_is_refused(demo: tuple[sa.Engine, DemoSummary]) -> None:
    engine, _ = demo
    before = content_hash(engine)
    with pytest.raises(DemoDatabaseNotEmpty) as refused:
        generate_demo(engine, citizens=10, sites=1, seed=SEED + 1, start=START)
    assert refused.value.params == {"citizens": CITIZENS, "sites": SITES, "lots": 5}
    assert content_hash(engine) == before


def test_same_seed_same_rows_on_either_engine_with_or_without_workers(
    central_db_url: str, tmp_path: Path
) -> None:
    reference = f"sqlite:///{tmp_path / 'reference.sqlite'}"
    hashes: list[str] = []
    for url, workers in ((reference, 1), (central_db_url, 2)):
        upgrade_to_head(url)
        engine = make_engine(url)
        try:
            summary = generate_demo(
                engine, citizens=301, sites=SITES, seed=SEED, start=START, workers=workers
            )
            assert dict(summary.rows)["citizens"] == 301
            hashes.append(content_hash(engine))
        finally:
            engine.dispose()
    assert hashes[0] == hashes[1]


def test_another_seed_gives_other_rows(tmp_path: Path) -> None:
    hashes: list[str] = []
    for seed in (SEED, SEED, SEED + 1):
        url = f"sqlite:///{tmp_path / f'run{len(hashes)}.sqlite'}"
        upgrade_to_head(url)
        engine = make_engine(url)
        try:
            generate_demo(engine, citizens=300, sites=3, seed=seed, start=START)
            hashes.append(content_hash(engine))
        finally:
            engine.dispose()
    assert hashes[0] == hashes[1] != hashes[2]


@pytest.mark.parametrize(
    ("citizens", "sites", "seed"), [(-1, 10, 1), (10, 0, 1), (10, 10_000, 1), (10, 10, -1)]
)
def test_impossible_sizes_are_refused_before_any_work(
    tmp_path: Path, citizens: int, sites: int, seed: int
) -> None:
    with pytest.raises(DemoSizeInvalid):
        generate_demo(
            f"sqlite:///{tmp_path / 'never.sqlite'}",
            citizens=citizens,
            sites=sites,
            seed=seed,
            start=START,
        )
    assert not (tmp_path / "never.sqlite").exists()
