"""Demo data benchmark: a million citizens and 400 sites into the central database.

Runs `central.demo.generate.generate_demo` (what ``imuno-hub demo-data`` does)
on a fresh, migrated database and prints the wall time, rows per second and
peak memory of the benchmark process and of its largest worker process.
Target: 1,000,000 citizens and 400 sites in at most 60 s on 2 cores.

Databases: by default a new SQLite file in a temporary folder, and also a new
PostgreSQL database when $IMUNO_BENCH_PG_URL (``make bench``) or
$IMUNO_TEST_PG_URL names an admin URL of a cluster (the database is created
and dropped). ``--db URL`` uses that (empty) database instead;
``--engine`` picks one engine.

    .venv/bin/python bench/demo_data.py                      # 1M citizens, 400 sites
    .venv/bin/python bench/demo_data.py --citizens 100000 --engine sqlite
    .venv/bin/python bench/demo_data.py --workers 1          # single process, for comparison
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from central.db import upgrade_to_head
from central.demo.generate import generate_demo

TARGET_SECONDS = 60.0


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="imuno-bench-demo-") as folder:
        yield f"sqlite:///{Path(folder) / 'central.sqlite'}"


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    name = f"imuno_bench_demo_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def run(url: str, label: str, args: argparse.Namespace) -> float:
    migrated = time.perf_counter()
    upgrade_to_head(url)
    started = time.perf_counter()
    summary = generate_demo(
        url,
        citizens=args.citizens,
        sites=args.sites,
        seed=args.seed,
        start=args.start,
        workers=args.workers,
        progress=(lambda line: print(f"  {time.perf_counter() - started:6.1f} s  {line}"))
        if args.verbose
        else None,
    )
    wall = time.perf_counter() - started
    rows = summary.total_rows
    print(
        f"{label}: {args.citizens:,} citizens, {args.sites} sites, {rows:,} rows in {wall:.1f} s "
        f"({rows / wall:,.0f} rows/s, {args.citizens / wall:,.0f} citizens/s; "
        f"migration {started - migrated:.1f} s before)"
    )
    print(
        f"{label}: peak memory {_peak_mib(resource.RUSAGE_SELF):,.0f} MiB in this process, "
        f"{_peak_mib(resource.RUSAGE_CHILDREN):,.0f} MiB in the largest worker"
    )
    if args.citizens >= 1_000_000 and args.sites >= 400:
        verdict = "met" if wall <= TARGET_SECONDS else "MISSED"
        print(f"{label}: target {TARGET_SECONDS:.0f} s for 1M citizens and 400 sites: {verdict}")
    if args.summary:
        print(summary.render())
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--citizens", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2021, 3, 1))
    parser.add_argument("--workers", type=int, default=None, help="default: as the CLI")
    parser.add_argument("--db", help="an empty database to fill instead of new ones")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), help="only this engine")
    parser.add_argument("--pg-admin-url", default=os.environ.get("IMUNO_BENCH_PG_URL")
                        or os.environ.get("IMUNO_TEST_PG_URL"))  # fmt: skip
    parser.add_argument("--summary", action="store_true", help="print the demo summary too")
    parser.add_argument("--verbose", action="store_true", help="print each stage's time")
    args = parser.parse_args()
    print(f"demo_data: {os.cpu_count()} cores; {sys.executable}")
    if args.db:
        run(args.db, sa.make_url(args.db).get_backend_name(), args)
        return 0
    if args.engine in (None, "sqlite"):
        with sqlite_database() as url:
            run(url, "sqlite", args)
    if args.engine in (None, "postgresql"):
        if not args.pg_admin_url:
            print("postgresql: skipped (set IMUNO_BENCH_PG_URL or run `make bench`)")
        else:
            with postgres_database(args.pg_admin_url) as url:
                run(url, "postgresql", args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
