"""Stock-position benchmark: every site's position from 10 million movements, on PostgreSQL.

    IMUNO_TEST_PG_URL=postgresql+psycopg://imuno:imuno@127.0.0.1:55432/postgres \
        .venv/bin/python bench/stock_position.py            # 10,000,000 movements, 400 sites

Builds a throwaway database (dropped at the end) and bulk-loads movements
with COPY, shaped like a campaign: deliveries into the warehouse, shipments
(warehouse -> transit -> site, two lots each) and, for the rest, vials
leaving site fridges one by one (opened for doses, a few discarded). The
indexes are built after the load, then VACUUM ANALYZE (index-only scans need
the visibility map), as after a restore. It then times
`central.stock.positions.positions` for every site (``site:`` prefix) and for
every location, checks the site figures against an independent SUM over the
whole table, and prints the times. Target: <= 2 s for all sites.
"""

# SQL statements keep one clause per line, however long.
# ruff: noqa: E501

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from central.db import make_engine, session_factory, upgrade_to_head
from central.stock.positions import positions

NOW = datetime(2021, 6, 1, 8, 0, tzinfo=UTC)
INDEXES = (
    "ix_stock_movements_inflow",
    "ix_stock_movements_outflow",
    "ix_stock_movements_reference",
)


def _rows(total: int, sites: list[uuid.UUID], lots: list[uuid.UUID], seed: int):  # type: ignore[no-untyped-def]
    """Text lines for COPY, in the table's column order used below."""
    rnd = random.Random(seed)
    stamp = NOW.isoformat()
    count = 0

    def line(kind: str, source: str, target: str, lot: uuid.UUID, vials: int) -> str:
        return f"{uuid.uuid4()}\t{kind}\t{stamp}\t{source}\t{target}\t{lot}\t{vials}\t{stamp}\t{stamp}\tbench\n"

    for lot in lots:
        yield line("delivery", "supplier", "warehouse", lot, 10_000_000)
        count += 1
    shipments_per_site = 50
    for site in sites:
        where = f"site:{site}"
        for _ in range(shipments_per_site):
            road = f"transit:{uuid.uuid4()}"
            for lot in rnd.sample(lots, 2):
                yield line("dispatch", "warehouse", road, lot, 500)
                yield line("receipt", road, where, lot, 500)
                count += 2
    site_lots = [(f"site:{s}", lot) for s in sites for lot in lots]
    while count < total:
        where, lot = site_lots[rnd.randrange(len(site_lots))]
        if rnd.random() < 0.02:
            yield line("discard", where, "waste", lot, 1)
        else:
            yield line("administered", where, "administered", lot, 1)
        count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movements", type=int, default=10_000_000)
    parser.add_argument("--sites", type=int, default=400)
    parser.add_argument("--lots", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()
    admin_url = os.environ.get("IMUNO_BENCH_PG_URL") or os.environ.get("IMUNO_TEST_PG_URL")
    if not admin_url:
        sys.exit("set IMUNO_BENCH_PG_URL (or IMUNO_TEST_PG_URL) to a PostgreSQL admin URL")
    name = f"imuno_bench_pos_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        engine = make_engine(url)
        sites = [uuid.uuid4() for _ in range(args.sites)]
        lots = [uuid.uuid4() for _ in range(args.lots)]
        began = time.perf_counter()
        with engine.begin() as conn:
            for n, site in enumerate(sites):
                conn.execute(sa.text("""
                    INSERT INTO sites (id, code, name, municipality, latitude, longitude, timezone,
                        opening_hours, slot_minutes, vaccinators, products, active, updated_at,
                        created_at, created_by)
                    VALUES (:id, :code, :code, 'Opština', 44, 20, 'Europe/Belgrade', '{}', 10, 2,
                        '["comirnaty"]', true, :now, :now, 'bench')
                """), {"id": site, "code": f"S{n:04d}", "now": NOW})  # fmt: skip
            for n, lot in enumerate(lots):
                conn.execute(sa.text("""
                    INSERT INTO lots (id, gtin, lot_number, product_id, expiry, created_at, created_by)
                    VALUES (:id, '09520000100018', :number, 'comirnaty', :expiry, :now, 'bench')
                """), {"id": lot, "number": f"L{n}", "expiry": date(2021, 12, 31), "now": NOW})  # fmt: skip
            for index in INDEXES:
                conn.execute(sa.text(f"DROP INDEX {index}"))
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            columns = (
                "id, kind, occurred_at, from_location, to_location, lot_id, quantity_vials,"
                " stored_at, created_at, created_by"
            )
            with cursor.copy(f"COPY stock_movements ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                buffer = io.StringIO()
                for n, text_line in enumerate(_rows(args.movements, sites, lots, 7), start=1):
                    buffer.write(text_line)
                    if n % 100_000 == 0:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                copy.write(buffer.getvalue())
            raw.commit()
        finally:
            raw.close()
        loaded = time.perf_counter() - began
        with engine.begin() as conn:
            conn.execute(sa.text(
                "CREATE INDEX ix_stock_movements_inflow ON stock_movements (to_location, lot_id, quantity_vials)"
            ))  # fmt: skip
            conn.execute(sa.text(
                "CREATE INDEX ix_stock_movements_outflow ON stock_movements (from_location, lot_id, quantity_vials)"
            ))  # fmt: skip
            conn.execute(sa.text(
                "CREATE INDEX ix_stock_movements_reference ON stock_movements (reference_table, reference_id)"
            ))  # fmt: skip
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE stock_movements"))
        print(f"loaded {args.movements:,} movements with COPY in {loaded:.1f} s; "
              f"indexed and vacuumed in {time.perf_counter() - began - loaded:.1f} s")  # fmt: skip
        sessions = session_factory(engine)
        with sessions() as session:
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                at_sites = positions(session, prefix="site:")
                times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            everywhere = positions(session)
            all_time = time.perf_counter() - t0
            check = {
                (where, lot): int(vials)
                for where, lot, vials in session.execute(
                    sa.text("""
                    SELECT loc, lot_id, sum(q) FROM (
                        SELECT to_location AS loc, lot_id, quantity_vials AS q FROM stock_movements
                        UNION ALL
                        SELECT from_location, lot_id, -quantity_vials FROM stock_movements) m
                    WHERE loc LIKE 'site:%' GROUP BY loc, lot_id HAVING sum(q) <> 0
                """)
                )
            }
        assert check == at_sites, "positions differ from the independent sum"
        print(f"positions of all sites ({len(at_sites):,} site-lot positions): "
              f"best {min(times):.2f} s, runs {', '.join(f'{t:.2f}' for t in times)}")  # fmt: skip
        print(f"positions of every location ({len(everywhere):,}): {all_time:.2f} s")
        print("independent SUM over the whole table agrees")
        print(f"target <= 2 s: {'met' if min(times) <= 2 else 'MISSED'}")
        engine.dispose()
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
