"""Allocation benchmark: propose an allocation from a national schedule, on PostgreSQL.

    IMUNO_TEST_PG_URL=postgresql+psycopg://imuno:imuno@127.0.0.1:55432/postgres \
        .venv/bin/python bench/allocation.py              # 400 sites x 6 products x 7 days, 1M appointments

Builds a throwaway database (dropped at the end) holding 400 sites storing six
products, 1,000,000 citizens and as many appointments over 7 days (10 %
cancelled, 5 % checked in, the rest scheduled; events as the hub writes
them), 30 lots in the warehouse with staggered expiries, and some stock
already at each site. All of it is generated inside PostgreSQL with
``generate_series`` (loading is not what is measured). Then it times
`central.stock.allocations.propose_allocation` end to end (demand query,
stock positions, the plan, writing the allocation) and prints the parts.
Target: <= 5 s on 2 cores.
"""

# SQL statements keep one clause per line, however long.
# ruff: noqa: E501

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from central.db import upgrade_to_head
from central.services.context import Hub
from central.settings import HubSettings
from central.stock.allocations import compute_plan, propose_allocation
from central.stock.demand import booked_doses
from domain.clock import FixedClock

PRODUCTS = ["comirnaty", "spikevax", "vaxzevria", "sputnik-v-1", "sputnik-v-2", "bbibp"]
GTINS = {
    "comirnaty": "09520000100018",
    "spikevax": "09520000100117",
    "vaxzevria": "09520000100216",
    "sputnik-v-1": "09520000100315",
    "sputnik-v-2": "09520000100322",
    "bbibp": "09520000100414",
}
START = date(2021, 6, 7)
NOW = datetime(2021, 6, 6, 8, 0, tzinfo=UTC)


def _load(engine: sa.Engine, sites: int, appointments: int, days: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"""
            INSERT INTO sites (id, code, name, municipality, latitude, longitude, timezone,
                opening_hours, slot_minutes, vaccinators, products, active, updated_at,
                created_at, created_by)
            SELECT gen_random_uuid(), 'S' || lpad(i::text, 4, '0'), 'Site ' || i, 'Opština ' || (i % 150),
                44.0, 20.5, 'Europe/Belgrade', '{{"mon": [["08:00", "20:00"]]}}'::jsonb, 10, 4,
                '["{'","'.join(PRODUCTS)}"]'::jsonb, true, :now, :now, 'bench'
            FROM generate_series(0, :n - 1) AS i
        """), {"n": sites, "now": NOW})  # fmt: skip
        conn.execute(sa.text("""
            INSERT INTO citizens (id, jmbg, first_name_latin, last_name_latin, first_name_cyrillic,
                last_name_cyrillic, birth_date, sex, municipality, priority_group, conditions,
                vaccine_preferences, registered_at, field_hlc, hlc, updated_at, stored_at,
                created_at, created_by)
            SELECT gen_random_uuid(), lpad(i::text, 13, '0'), 'Ana', 'Anić', 'Ана', 'Анић',
                DATE '1960-01-01', 'F', 'Opština ' || (i % 150), 'general', '[]'::jsonb,
                '["any"]'::jsonb, :now, '{}'::jsonb, '0179e0c0a000.0000.hub', :now, :now, :now, 'bench'
            FROM generate_series(0, :n - 1) AS i
        """), {"n": appointments, "now": NOW})  # fmt: skip
        # Appointment i: site i % sites, product (i / sites) % 6, day i % days.
        conn.execute(sa.text("""
            WITH s AS (SELECT id, row_number() OVER (ORDER BY code) - 1 AS k FROM sites),
                 c AS (SELECT id, row_number() OVER (ORDER BY jmbg) - 1 AS i FROM citizens)
            INSERT INTO appointments (id, citizen_id, site_id, day, slot_start, product_id,
                dose_number, stored_at, created_at, created_by)
            SELECT gen_random_uuid(), c.id, s.id, :start + (c.i % :days)::int, TIME '08:00',
                (CAST(:products AS text[]))[1 + ((c.i / :sites) % 6)], 1, :now, :now, 'bench'
            FROM c JOIN s ON s.k = c.i % :sites
        """), {"start": START, "days": days, "sites": sites, "now": NOW, "products": PRODUCTS})  # fmt: skip
        # Events: every appointment 'scheduled'; 10 % then cancelled, 5 % checked in.
        conn.execute(sa.text("""
            INSERT INTO appointment_events (id, appointment_id, kind, occurred_at, payload_hash,
                stored_at, created_at, created_by)
            SELECT gen_random_uuid(), id, 'scheduled', :now, repeat('0', 64), :now, :now, 'bench'
            FROM appointments
        """), {"now": NOW})  # fmt: skip
        conn.execute(sa.text("""
            INSERT INTO appointment_events (id, appointment_id, kind, occurred_at, payload_hash,
                stored_at, created_at, created_by)
            SELECT gen_random_uuid(), id,
                CASE WHEN abs(hashtext(id::text)) % 20 < 2 THEN 'cancelled' ELSE 'checked_in' END,
                :later, repeat('0', 64), :later, :later, 'bench'
            FROM appointments WHERE abs(hashtext(id::text)) % 20 < 3
        """), {"later": NOW + timedelta(hours=1)})  # fmt: skip
        # Lots: five per product, expiring 3 days to 8 months ahead; all in the warehouse.
        for product in PRODUCTS:
            for n in range(5):
                lot_id = uuid.uuid4()
                conn.execute(sa.text("""
                    INSERT INTO lots (id, gtin, lot_number, product_id, expiry, created_at, created_by)
                    VALUES (:id, :gtin, :lot, :product, :expiry, :now, 'bench')
                """), {"id": lot_id, "gtin": GTINS[product], "lot": f"{product[:3].upper()}{n}",
                       "product": product, "expiry": START + timedelta(days=3 + 50 * n), "now": NOW})  # fmt: skip
                conn.execute(sa.text("""
                    INSERT INTO stock_movements (id, kind, occurred_at, from_location, to_location,
                        lot_id, quantity_vials, stored_at, created_at, created_by)
                    VALUES (:id, 'delivery', :now, 'supplier', 'warehouse', :lot, 20000, :now, :now, 'bench')
                """), {"id": uuid.uuid4(), "lot": lot_id, "now": NOW})  # fmt: skip
        # Each site holds 20 vials of each product's longest-lived lot.
        conn.execute(sa.text("""
            INSERT INTO stock_movements (id, kind, occurred_at, from_location, to_location, lot_id,
                quantity_vials, stored_at, created_at, created_by)
            SELECT gen_random_uuid(), 'receipt', :now, 'warehouse', 'site:' || s.id::text, l.id, 20,
                :now, :now, 'bench'
            FROM sites s CROSS JOIN lots l WHERE l.lot_number LIKE '%4'
        """), {"now": NOW})  # fmt: skip
        conn.execute(sa.text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=400)
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()
    admin_url = os.environ.get("IMUNO_BENCH_PG_URL") or os.environ.get("IMUNO_TEST_PG_URL")
    if not admin_url:
        sys.exit("set IMUNO_BENCH_PG_URL (or IMUNO_TEST_PG_URL) to a PostgreSQL admin URL")
    name = f"imuno_bench_alloc_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        engine = sa.create_engine(url)
        began = time.perf_counter()
        _load(engine, args.sites, args.appointments, args.days)
        engine.dispose()
        print(f"loaded {args.appointments:,} appointments at {args.sites} sites "
              f"in {time.perf_counter() - began:.1f} s")  # fmt: skip
        hub = Hub.open(HubSettings(database_url=url), clock=FixedClock(NOW))
        try:
            with hub.read_sessions() as session:
                t0 = time.perf_counter()
                booked = booked_doses(session, START, args.days)
                t1 = time.perf_counter()
                plan = compute_plan(session, START, args.days, 10, NOW)
                t2 = time.perf_counter()
            print(f"demand query: {t1 - t0:.2f} s ({len(booked):,} site-product-days, "
                  f"{sum(b.doses for b in booked):,} doses)")  # fmt: skip
            print(f"demand + positions + plan: {t2 - t1:.2f} s "
                  f"({len(plan.lines):,} lines, {plan.vials_short:,} vials short)")  # fmt: skip
            t3 = time.perf_counter()
            view = propose_allocation(hub, START, args.days, actor="bench", margin_percent=10)
            total = time.perf_counter() - t3
            print(f"propose_allocation end to end: {total:.2f} s ({len(view.lines):,} lines, "
                  f"{view.vials:,} vials, {len(view.needs):,} site-product needs)")  # fmt: skip
            print(f"target <= 5 s: {'met' if total <= 5 else 'MISSED'}")
        finally:
            hub.close()
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
