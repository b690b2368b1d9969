"""Hub scheduling benchmark: ``imuno-hub schedule`` over a demo population.

Fills a fresh hub database with the demo generator (`central.demo.generate`,
what ``imuno-hub demo-data`` does: N citizens, sites with opening hours and
stock), then runs one scheduling run (`central.scheduling.run.run_schedule`,
what ``imuno-hub schedule --start DATE --days N`` does) in a fresh child
process, so its peak memory is the run's own. Prints, per step of the run
(read, solve, seat, appointments, invitations, plans, change log, commit),
the wall time and the CPU seconds of the run's process (the database
server's CPU is not in it: on PostgreSQL compare wall and CPU), then the
total, the peak RSS, the rows written per table and rows per second, and
the load average before and after (the machine is shared).

Databases: a new SQLite file by default; ``--engine postgresql`` creates
(and drops) a database on the cluster named by ``--pg-admin-url``
($IMUNO_BENCH_PG_URL, then $IMUNO_TEST_PG_URL). To time several runs over
one population, ``--keep`` leaves the filled database in place unscheduled
(a SQLite file, or a PostgreSQL database to use as a template) and
``--from`` schedules a copy of it without filling again.

    .venv/bin/python bench/hub_schedule.py                               # 200,000 citizens, SQLite
    .venv/bin/python bench/hub_schedule.py --engine postgresql
    .venv/bin/python bench/hub_schedule.py --citizens 1000000 --keep     # prints where it kept it
    .venv/bin/python bench/hub_schedule.py --from sqlite:////tmp/x.sqlite
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TABLES = (
    "appointments",
    "appointment_events",
    "notification_outbox",
    "second_dose_plans",
    "standby_entries",
    "audit_log",
    "change_log",
)
"""The tables a run writes to, counted before and after it."""


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


@contextmanager
def _database(engine: str, admin_url: str | None, keep: bool) -> Iterator[str]:
    """A new, empty database of `engine`; dropped afterwards unless `keep`."""
    if engine == "sqlite":
        folder = tempfile.mkdtemp(prefix="imuno-bench-schedule-")
        try:
            yield f"sqlite:///{Path(folder) / 'central.sqlite'}"
        finally:
            if not keep:
                shutil.rmtree(folder)
        return
    if not admin_url:
        raise SystemExit("postgresql: set --pg-admin-url, IMUNO_BENCH_PG_URL or IMUNO_TEST_PG_URL")
    name = f"imuno_bench_schedule_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _copy_of(source: str) -> Iterator[str]:
    """A throwaway copy of the filled database `source` (file copy or template)."""
    url = sa.make_url(source)
    if url.get_backend_name() == "sqlite":
        assert url.database
        folder = tempfile.mkdtemp(prefix="imuno-bench-schedule-")
        target = Path(folder) / "central.sqlite"
        shutil.copyfile(url.database, target)
        try:
            yield f"sqlite:///{target}"
        finally:
            shutil.rmtree(folder)
        return
    name = f"imuno_bench_schedule_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                t: int(connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in TABLES
            }
    finally:
        engine.dispose()


def fill(url: str, citizens: int, sites: int, seed: int, start: date) -> float:
    """Migrate and fill `url` with the demo population; return the wall seconds."""
    from central.db import upgrade_to_head
    from central.demo.generate import generate_demo

    upgrade_to_head(url)
    started = time.perf_counter()
    generate_demo(url, citizens=citizens, sites=sites, seed=seed, start=start)
    if sa.make_url(url).get_backend_name() == "postgresql":
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
        engine.dispose()
    return time.perf_counter() - started


def _run_child(url: str, start: date, days: int, out: Any) -> None:
    """In the child process: one run, timed step by step; results go to `out`."""
    from central.scheduling.run import run_schedule
    from central.services.context import Hub
    from central.settings import HubSettings

    hub = Hub.open(HubSettings(database_url=url))
    steps: list[tuple[str, float, float]] = []
    began_wall, began_cpu = time.perf_counter(), time.process_time()
    last = [began_wall, began_cpu]

    def phase(name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        steps.append((name, wall - last[0], cpu - last[1]))
        last[:] = [wall, cpu]

    try:
        summary = run_schedule(hub, start, days, actor="operator:bench", phase=phase)
    finally:
        hub.close()
    out.put(
        {
            "steps": steps,
            "wall": time.perf_counter() - began_wall,
            "cpu": time.process_time() - began_cpu,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "waiting": summary.waiting,
            "appointments": summary.appointments,
            "place_bound": summary.place_bound,
            "notifications": summary.notifications,
            "unbooked": summary.unbooked,
        }
    )


def schedule(url: str, start: date, days: int) -> None:
    """Run the scheduler over `url` in a child process and print its figures."""
    before = _counts(url)
    load_before = _load()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_run_child, args=(url, start, days, queue))
    child.start()
    result = queue.get()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"the run failed (exit code {child.exitcode})")
    after = _counts(url)
    written = {t: after[t] - before[t] for t in TABLES}
    rows = sum(written.values())
    print(
        f"run: {result['waiting']:,} waiting, {result['appointments']:,} booked of "
        f"{result['place_bound']:,} free places, {result['notifications']:,} invitations; "
        f"unbooked {result['unbooked']}"
    )
    print(f"{'step':<14}{'wall s':>9}{'cpu s':>9}")
    for name, wall, cpu in result["steps"]:
        print(f"{name:<14}{wall:>9.2f}{cpu:>9.2f}")
    print(f"{'total':<14}{result['wall']:>9.2f}{result['cpu']:>9.2f}")
    print(f"peak RSS of the run's process: {result['peak_mib']:,.0f} MiB")
    print("rows written: " + ", ".join(f"{t} {n:,}" for t, n in written.items()))
    print(f"rows written: {rows:,} in {result['wall']:.1f} s: {rows / result['wall']:,.0f} rows/s")
    print(f"load average: before {load_before}; after {_load()}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--citizens", type=int, default=200_000)
    parser.add_argument("--sites", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2021, 3, 1))
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-admin-url", default=os.environ.get("IMUNO_BENCH_PG_URL")
                        or os.environ.get("IMUNO_TEST_PG_URL"))  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="fill only, keep the database")
    parser.add_argument("--from", dest="source", help="schedule a copy of this filled database")
    args = parser.parse_args()
    print(f"hub_schedule: {os.cpu_count()} cores; load average {_load()}")
    if args.source:
        with _copy_of(args.source) as url:
            schedule(url, args.start, args.days)
        return 0
    with _database(args.engine, args.pg_admin_url, args.keep) as url:
        seconds = fill(url, args.citizens, args.sites, args.seed, args.start)
        print(f"filled {args.citizens:,} citizens, {args.sites} sites in {seconds:.1f} s")
        if args.keep:
            print(f"kept, unscheduled: --from {url}")
            return 0
        schedule(url, args.start, args.days)
    return 0


if __name__ == "__main__":
    sys.exit(main())
