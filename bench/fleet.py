"""Fleet sync benchmark: N sites x D days x doses per day pushed to one hub over real HTTP.

What runs where (as in a deployment, where the hub and the sites are
different machines):

- the hub is ``imuno-hub serve`` in its own process group (uvicorn,
  ``--hub-workers`` worker processes over one database: SQLite by default,
  PostgreSQL with ``--db``), exactly as production starts it;
- the sites run in ``--site-processes`` other processes, each holding its
  share of the N site stores (real SQLite files, real `SyncEngine`, the real
  `app.sync.transport.HttpTransport`: requests, gzip, credentials from a real
  enrolment) and syncing ``--workers`` sites at a time in all (threads);
- the benchmark process only sets up the hub's data (sites, nurses, one
  appointment per citizen, as the scheduler leaves them), starts and drives
  the others and checks the outcome.

Each day every site records its doses offline first (one local transaction
per dose, outbox row included; not timed), then all sites sync at once (push
then pull; timed). With ``--fault-rate`` that share of pushes is lost before
the request leaves or after the hub committed (the answer is dropped). After
the last day the network heals and every site runs rounds until its outbox is
empty (each round after healing runs the sites whose last round failed, as a
site whose round succeeded has an empty outbox). Then one incremental
site-day: the hub books one site's next roster and the site records that
day's doses; one round (push and pull) is timed.

Prints: doses created, lost (created, not at the hub), duplicated, sites
converged (each replica's dose ids equal the hub's view), rounds, wall time
of the sync rounds with the CPU seconds of every process in them (hub
processes, site processes, the PostgreSQL backends serving the benchmark's
database, read from /proc) and the load average, records/s, p50/p99 push
latency (seen by the site, HTTP included), gzip bytes pushed per site-day, and
the incremental site-day's time and bytes both ways (bodies as sent: a gzip
answer counts compressed; the push's answer is not compressed by the hub).

    .venv/bin/python bench/fleet.py                          # 20 sites x 1 day x 50, SQLite
    .venv/bin/python bench/fleet.py --sites 400 --doses 250 --db postgresql+psycopg://...
    .venv/bin/python bench/fleet.py --sites 50 --days 3 --doses 100 --fault-rate 0.2

Targets (issue #4): 400 sites x 1 day (~100,000 doses) in <= 30 s on
PostgreSQL, 0 lost, 0 duplicated; one site-day incremental sync <= 2 s and
<= 100 KB. The PostgreSQL database must be empty (create one on the test
cluster). Site stores live in ``--store-dir`` (default /dev/shm when present:
on one shared disk, 400 sites' fsyncs would queue behind each other, which
400 laptops with their own disks do not).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as Time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.local_db.engine import open_site_store
from app.local_db.models.doses import DoseRecord as LocalDose
from app.local_db.models.doses import InjectionSite
from app.local_db.unit_of_work import session_scope
from app.sync.engine import SyncEngine
from app.sync.errors import HubUnreachable, SyncError
from app.sync.outbox import record_change
from app.sync.transport import HttpTransport
from app.sync.wire_forms import dose_payload
from central.db import Appointment, Citizen, DoseRecord, Lot, SiteUser, upgrade_to_head
from central.services.context import Hub
from central.services.enrolment import enrol, issue_enrol_code
from central.services.records import announce, upsert_change
from central.services.sites import NewSite, add_site, parse_opening_hours
from central.services.sync import verify as verify_service
from central.settings import HubSettings
from domain.ids import uuid7
from domain.jmbg import Sex, make_jmbg
from domain.sync_wire import PullPage, PushRequest, PushResponse, SnapshotPage
from domain.wire import EnrolRequest

REPO = Path(__file__).resolve().parents[1]
START = datetime(2021, 6, 1, 7, 0, tzinfo=UTC)
GTIN, LOT = "08901234567894", "LOT42A"
HUB_START_TIMEOUT_S = 60.0


# --- CPU seconds of processes, from /proc ----------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from 3 (state) on


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds of `pids` so far (processes gone are left out)."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def descendants(root: int) -> list[int]:
    """`root` and every process below it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def postgres_backends(database: str) -> list[int]:
    """The PostgreSQL server processes serving `database` (by their process title)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and database in title.split()[1:4]:
            pids.append(int(entry.name))
    return pids


@dataclass
class Processes:
    """The processes whose CPU a timed phase is charged with, by role."""

    hub_root: int
    site_pids: list[int]
    database: str | None
    roles: dict[str, list[int]] = field(default_factory=dict)

    def refresh(self) -> None:
        self.roles = {
            "hub": descendants(self.hub_root),
            "sites": list(self.site_pids),
            "bench": [os.getpid()],
        }
        if self.database is not None:
            self.roles["postgres"] = postgres_backends(self.database)

    def sample(self) -> dict[str, float]:
        return {role: cpu_seconds(pids) for role, pids in self.roles.items()}


@dataclass
class Timed:
    """Wall and per-role CPU seconds of the timed phases, and the load averages seen."""

    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)

    @contextmanager
    def phase(self, processes: Processes) -> Iterator[None]:
        processes.refresh()
        before, started = processes.sample(), time.perf_counter()
        yield
        elapsed, after = time.perf_counter() - started, processes.sample()
        self.wall += elapsed
        for role, seconds in after.items():
            self.cpu[role] = self.cpu.get(role, 0.0) + seconds - before.get(role, 0.0)
        self.loads.append(os.getloadavg()[0])

    def describe(self, counts: dict[str, int]) -> str:
        parts = [
            f"{role} {seconds:.1f} s ({counts.get(role, 1)} proc)"
            for role, seconds in self.cpu.items()
        ]
        return f"{sum(self.cpu.values()):.1f} s CPU: " + ", ".join(parts)


# --- the site side (runs in the site processes) -----------------------------------------


@dataclass(frozen=True)
class SiteSpec:
    """What a site process needs to run one site: its store, identity and credential."""

    code: str
    site_id: uuid.UUID
    nurse_id: uuid.UUID
    citizens: list[uuid.UUID]
    store: str
    credential: str


@dataclass
class FaultyTransport:
    """The real HTTP transport, timing pushes and losing some before or after the hub."""

    inner: HttpTransport
    fault_rate: float
    rng: random.Random
    latencies: list[float]
    healed: bool = False

    def push(self, request: PushRequest) -> PushResponse:
        fault = None
        if not self.healed and self.rng.random() < self.fault_rate:
            fault = self.rng.choice(["before", "after"])
        if fault == "before":
            raise HubUnreachable(detail="dropped before the hub")
        started = time.perf_counter()
        answer = self.inner.push(request)
        self.latencies.append(time.perf_counter() - started)
        if fault == "after":
            raise HubUnreachable(detail="answer lost after the hub committed")
        return answer

    def pull(self, cursor: str | None, limit: int) -> PullPage:
        return self.inner.pull(cursor, limit)

    def snapshot(self, token: str | None, limit: int) -> SnapshotPage | None:
        return self.inner.snapshot(token, limit)

    def verify(self) -> Any:
        return self.inner.verify()

    def ids(self, table: str) -> Any:
        return self.inner.ids(table)

    def fetch(self, table: str, ids: list[uuid.UUID]) -> Any:
        return self.inner.fetch(table, ids)


@dataclass
class LiveSite:
    spec: SiteSpec
    store: sa.Engine
    transport: FaultyTransport
    engine: SyncEngine
    created: list[uuid.UUID] = field(default_factory=list)


def record_day(site: LiveSite, day: int) -> None:
    """The site's doses of `day`, recorded offline: one local transaction each."""
    now = START + timedelta(days=day, hours=2)
    spec = site.spec
    for citizen_id in spec.citizens:
        with session_scope(site.store) as session:
            dose = LocalDose(
                id=uuid7(), origin_site_id=spec.site_id, created_at=now, created_by=spec.nurse_id,
                citizen_id=citizen_id, appointment_id=None, product_code="comirnaty", gtin=GTIN,
                lot_number=LOT, vial_id=None, dose_number=day + 1, administered_at=now,
                injection_site=InjectionSite.LEFT_DELTOID, vaccinator_name="Sestra",
                notes=None, voids_dose_id=None,
            )  # fmt: skip
            session.add(dose)
            session.flush()
            record_change(session, "dose_record", dose.id, dose_payload(dose), now=now)
            site.created.append(dose.id)


class SiteProcess:
    """The sites of one process and the commands the benchmark sends them."""

    def __init__(
        self, base_url: str, specs: list[SiteSpec], fault_rate: float, seed: int, threads: int
    ) -> None:
        self.threads = threads
        self.failed: set[uuid.UUID] = set()
        rng = random.Random(seed)
        self.sites: list[LiveSite] = []
        for spec in specs:
            store = open_site_store(Path(spec.store))
            http = HttpTransport(base_url, spec.credential)
            transport = FaultyTransport(http, fault_rate, random.Random(rng.random()), [])
            engine = SyncEngine(store, transport, site_id=spec.site_id)
            self.sites.append(LiveSite(spec, store, transport, engine))

    def record(self, day: int) -> None:
        for site in self.sites:
            record_day(site, day)

    def _bytes(self) -> tuple[int, int]:
        stats = [site.transport.inner.stats for site in self.sites]
        return sum(s.bytes_sent for s in stats), sum(s.bytes_received for s in stats)

    def sync(self, failed_only: bool = False) -> dict[str, Any]:
        """One round at every site (or every site whose last round failed), `threads` at a time."""
        sites = [s for s in self.sites if not failed_only or s.spec.site_id in self.failed]

        def one(site: LiveSite) -> int:
            site.transport.latencies = []
            try:
                site.engine.run_round(verify=False)
            except SyncError:
                self.failed.add(site.spec.site_id)
                return 1
            self.failed.discard(site.spec.site_id)
            return 0

        sent, received = self._bytes()
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            failures = sum(pool.map(one, sites))
        latencies = [x for site in sites for x in site.transport.latencies]
        now_sent, now_received = self._bytes()
        return {
            "sites": len(sites),
            "failures": failures,
            "latencies": latencies,
            "sent": now_sent - sent,
            "received": now_received - received,
        }

    def heal(self) -> None:
        for site in self.sites:
            site.transport.healed = True

    def held(self) -> dict[uuid.UUID, tuple[list[uuid.UUID], list[uuid.UUID]]]:
        """Per site: the doses it created and the dose ids its replica holds."""
        answer = {}
        for site in self.sites:
            with session_scope(site.store, write=False) as session:
                held = list(session.scalars(sa.select(LocalDose.id)))
            answer[site.spec.site_id] = (site.created, held)
        return answer

    def incremental(self, site_id: uuid.UUID, day: int) -> dict[str, float]:
        site = next(s for s in self.sites if s.spec.site_id == site_id)
        record_day(site, day)
        stats = site.transport.inner.stats
        sent, received = stats.bytes_sent, stats.bytes_received
        started, cpu = time.perf_counter(), time.process_time()
        site.engine.run_round(verify=False)
        return {
            "wall": time.perf_counter() - started,
            "cpu": time.process_time() - cpu,
            "sent": stats.bytes_sent - sent,
            "received": stats.bytes_received - received,
        }

    def close(self) -> None:
        for site in self.sites:
            site.transport.inner.close()
            site.store.dispose()


def site_main(connection: Connection, *setup: Any) -> None:
    """A site process: build the sites, then run commands until told to stop."""
    process = SiteProcess(*setup)
    connection.send("ready")
    while True:
        command, args = connection.recv()
        if command == "stop":
            process.close()
            connection.send("stopped")
            return
        try:
            connection.send(("ok", getattr(process, command)(*args)))
        except Exception as error:  # reported to the benchmark, which stops
            connection.send(("error", f"{type(error).__name__}: {error}"))


@dataclass
class SiteFleet:
    """The site processes, driven in lockstep."""

    processes: Sequence[multiprocessing.process.BaseProcess]
    connections: list[Connection]
    owner: dict[uuid.UUID, int]

    def all(self, command: str, *args: Any) -> list[Any]:
        for connection in self.connections:
            connection.send((command, args))
        return [self._answer(connection) for connection in self.connections]

    def one(self, site_id: uuid.UUID, command: str, *args: Any) -> Any:
        connection = self.connections[self.owner[site_id]]
        connection.send((command, args))
        return self._answer(connection)

    @staticmethod
    def _answer(connection: Connection) -> Any:
        status, value = connection.recv()
        if status != "ok":
            raise RuntimeError(f"a site process failed: {value}")
        return value

    def stop(self) -> None:
        for connection in self.connections:
            try:
                connection.send(("stop", ()))
                connection.recv()
            except (OSError, EOFError):
                pass  # already gone
        for process in self.processes:
            process.join(timeout=30)


def start_sites(base_url: str, specs: list[SiteSpec], args: argparse.Namespace) -> SiteFleet:
    context = multiprocessing.get_context("spawn")
    count = max(1, min(args.site_processes, len(specs)))
    threads = max(1, args.workers // count)
    processes, connections, owner = [], [], {}
    for n in range(count):
        share = specs[n::count]
        for spec in share:
            owner[spec.site_id] = n
        mine, theirs = context.Pipe()
        process = context.Process(
            target=site_main,
            args=(theirs, base_url, share, args.fault_rate, args.seed * 1000 + n, threads),
            name=f"fleet-sites-{n}",
        )
        process.start()
        processes.append(process)
        connections.append(mine)
    for connection in connections:
        if connection.recv() != "ready":
            raise RuntimeError("a site process did not start")
    return SiteFleet(processes, connections, owner)


# --- the hub ---------------------------------------------------------------------------


def _jmbg(n: int) -> str:
    """A distinct valid JMBG for each n below 900,000: a birth day, a block of 11 serials."""
    birth = date(1940, 1, 1) + timedelta(days=n % 20000)
    for serial in range((n // 20000) * 11, (n // 20000) * 11 + 11):
        try:
            return make_jmbg(birth, 71, serial, Sex.MALE)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def build_hub(args: argparse.Namespace, db_url: str, folder: Path) -> tuple[Hub, list[SiteSpec]]:
    """Sites, nurses, citizens booked at each site, credentials; the site stores' files."""
    upgrade_to_head(db_url)
    hub = Hub.open(HubSettings(database_url=db_url))
    template = folder / "site-template.sqlite"
    open_site_store(template).dispose()
    stamp = f"{int(START.timestamp() * 1000):012x}.0000.hub"
    with hub.sessions() as session, session.begin():
        session.add(
            Lot(gtin=GTIN, lot_number=LOT, product_id="comirnaty", expiry=date(2022, 1, 1),
                created_at=START, created_by="bench")
        )  # fmt: skip
    specs: list[SiteSpec] = []
    serial = 0
    for n in range(args.sites):
        code = f"B-{n:04d}"
        row = add_site(
            hub,
            NewSite(code=code, name=f"Punkt {code}", municipality="Novi Sad", latitude=45.0,
                    longitude=19.8, opening_hours=parse_opening_hours(["mon-sun 07:00-21:00"]),
                    slot_minutes=10, vaccinators=4, products=["comirnaty"]),
            actor="bench",
        )  # fmt: skip
        nurse_id = uuid7()
        citizens: list[uuid.UUID] = []
        with hub.sessions() as session, session.begin():
            session.add(
                SiteUser(id=nurse_id, site_id=row.id, username=f"n-{code}", full_name="Sestra",
                         password_hash="x", role="nurse", active=True, updated_at=START,
                         origin_site_id=None, created_at=START, created_by="bench", stored_at=START)
            )  # fmt: skip
            changes = []
            pending: list[Appointment] = []
            for _ in range(args.doses):
                serial += 1
                citizen = Citizen(
                    id=uuid7(), jmbg=_jmbg(serial), first_name_latin="Petar",
                    last_name_latin="Petrović", first_name_cyrillic="Петар",
                    last_name_cyrillic="Петровић", birth_date=date(1950, 1, 1), sex="M",
                    phone=None, email=None, municipality="Novi Sad", priority_group="general",
                    conditions=[], vaccine_preferences=["any"], registered_at=START,
                    withdrawn_at=None, field_hlc={}, hlc=stamp, updated_at=START,
                    origin_site_id=None, stored_at=START, created_at=START, created_by="bench",
                )  # fmt: skip
                appointment = Appointment(
                    id=uuid7(), citizen_id=citizen.id, site_id=row.id, day=START.date(),
                    slot_start=Time(9, 0), product_id="comirnaty", dose_number=1,
                    scheduler_run_id=None, replaces_appointment_id=None, origin_site_id=None,
                    created_at=START, created_by="bench", stored_at=START,
                )  # fmt: skip
                session.add(citizen)
                pending.append(appointment)
                changes += [
                    upsert_change(citizen, audience_site_id=row.id, hlc=stamp),
                    upsert_change(appointment, audience_site_id=row.id),
                ]
                citizens.append(citizen.id)
            session.flush()  # citizens before their appointments (no ORM relationship)
            session.add_all(pending)
            announce(session, changes, START)
        issued = issue_enrol_code(hub, code, actor="bench")
        credential = enrol(hub, EnrolRequest(code=issued.code, client_version="imuno-site/0.1"))
        store = folder / f"{code}.sqlite"
        shutil.copy2(template, store)
        specs.append(
            SiteSpec(code, row.id, nurse_id, citizens, str(store), credential.credential.credential)
        )
    return hub, specs


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_hub(db_url: str, workers: int, folder: Path) -> Iterator[tuple[str, int]]:
    """``imuno-hub serve`` in its own process group; yields (base URL, pid) once healthy."""
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IMUNO_HUB_")}
    environment["PYTHONPATH"] = str(REPO)
    log_path = folder / "hub.log"
    command = [
        sys.executable, "-m", "central.cli", "serve", "--db", db_url, "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--log-level", "warning",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + HUB_START_TIMEOUT_S
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the hub did not start:\n{log_path.read_text()[-3000:]}")
            try:
                if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        # Every worker up: uvicorn starts them one after the other.
        while len(descendants(process.pid)) < 1 + (workers if workers > 1 else 0):
            time.sleep(0.1)
        yield base_url, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def book_next_day(hub: Hub, site: SiteSpec, day: int) -> None:
    """The scheduler books every citizen of the site again for `day` (their next dose)."""
    when = START + timedelta(days=day)
    with hub.sessions() as session, session.begin():
        rows = []
        for citizen_id in site.citizens:
            rows.append(
                Appointment(
                    id=uuid7(), citizen_id=citizen_id, site_id=site.site_id, day=when.date(),
                    slot_start=Time(9, 0), product_id="comirnaty", dose_number=day + 1,
                    scheduler_run_id=None, replaces_appointment_id=None, origin_site_id=None,
                    created_at=when, created_by="bench", stored_at=when,
                )
            )  # fmt: skip
        session.add_all(rows)
        session.flush()
        announce(session, [upsert_change(row, audience_site_id=site.site_id) for row in rows], when)


# --- the run ---------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--doses", type=int, default=50, help="doses per site per day")
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--db", help="hub database URL (default: a temporary SQLite file)")
    parser.add_argument(
        "--hub-workers", type=int, help="uvicorn worker processes [2 on PostgreSQL, 1 on SQLite]"
    )
    parser.add_argument("--site-processes", type=int, default=2, help="processes running sites")
    parser.add_argument("--workers", type=int, default=8, help="sites syncing at once, in all")
    parser.add_argument("--store-dir", help="folder for the site stores [/dev/shm or the tmp dir]")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    shm = Path("/dev/shm")
    parent = args.store_dir or (str(shm) if shm.is_dir() else None)
    folder = Path(tempfile.mkdtemp(prefix="imuno-fleet-", dir=parent))
    db_url = args.db or f"sqlite:///{folder / 'central.sqlite'}"
    url = make_url(db_url)
    database = url.database if url.get_backend_name() == "postgresql" else None
    hub_workers = args.hub_workers or (1 if database is None else 2)
    try:
        t0 = time.perf_counter()
        hub, specs = build_hub(args, db_url, folder)
        print(f"set-up: {args.sites} sites, {args.sites * args.doses} citizens, credentials "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        with serve_hub(db_url, hub_workers, folder) as (base_url, hub_pid):
            fleet = start_sites(base_url, specs, args)
            site_pids = [p.pid for p in fleet.processes if p.pid is not None]
            try:
                processes = Processes(hub_pid, site_pids, database)
                return run(args, hub, specs, fleet, processes, hub_workers)
            finally:
                fleet.stop()
                hub.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(
    args: argparse.Namespace,
    hub: Hub,
    specs: list[SiteSpec],
    fleet: SiteFleet,
    processes: Processes,
    hub_workers: int,
) -> int:
    site_processes = len(fleet.processes)
    print(f"deployment: hub = imuno-hub serve (uvicorn, {hub_workers} worker process"
          f"{'es' if hub_workers > 1 else ''}) on "
          f"{'PostgreSQL' if processes.database else 'SQLite'}; sites = {site_processes} "
          f"process{'es' if site_processes > 1 else ''} x {max(1, args.workers // site_processes)} "
          f"threads, real HttpTransport over HTTP on 127.0.0.1")  # fmt: skip
    first = Timed()
    with first.phase(processes):
        fleet.all("sync")
    print(f"first pull of every roster: {first.wall:.2f} s")
    timed = Timed()
    latencies: list[float] = []
    pushed_bytes = 0
    rounds = 0
    for day in range(args.days):
        fleet.all("record", day)
        with timed.phase(processes):
            answers = fleet.all("sync")
        latencies += [x for a in answers for x in a["latencies"]]
        pushed_bytes += sum(a["sent"] for a in answers)
        rounds += 1
    fleet.all("heal")
    heal_rounds, healed_sites = 0, []
    while heal_rounds < 5:
        with timed.phase(processes):
            answers = fleet.all("sync", True)
        latencies += [x for a in answers for x in a["latencies"]]
        pushed_bytes += sum(a["sent"] for a in answers)
        healed_sites.append(sum(a["sites"] for a in answers))
        heal_rounds += 1
        if sum(a["failures"] for a in answers) == 0:
            break
    held: dict[uuid.UUID, tuple[list[uuid.UUID], list[uuid.UUID]]] = {}
    for answer in fleet.all("held"):
        held.update(answer)
    created = [dose for made, _ in held.values() for dose in made]
    with hub.read_sessions() as session:
        at_hub = list(session.scalars(sa.select(DoseRecord.id)))
        converged = 0
        for site_id, (_, replica) in held.items():
            expected = set(verify_service.replica_ids(session, site_id, "dose_records").ids)
            converged += set(replica) == expected
    lost = len(set(created) - set(at_hub))
    duplicated = len(at_hub) - len(set(at_hub))
    latencies.sort()
    latencies = latencies or [0.0]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    counts = {role: len(pids) for role, pids in processes.roles.items()}
    print(f"doses created:   {len(created)}")
    print(f"lost:            {lost}")
    print(f"duplicated:      {duplicated}")
    print(f"converged sites: {converged}/{len(specs)}")
    print(f"rounds:          {rounds} daily (every site) + {heal_rounds} after healing "
          f"({'+'.join(map(str, healed_sites))} sites: those whose last round failed)")  # fmt: skip
    print(f"wall time:       {timed.wall:.2f} s (sync rounds; load average "
          f"{min(timed.loads):.1f}-{max(timed.loads):.1f} on {os.cpu_count()} cores)")  # fmt: skip
    print(f"CPU in them:     {timed.describe(counts)}")
    print(f"records/s:       {len(created) / timed.wall:.0f}")
    print(f"push latency:    p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms ({len(latencies)} pushes, HTTP included)")  # fmt: skip
    print(f"bytes on wire:   {pushed_bytes} pushed (gzip), "
          f"{pushed_bytes / max(1, args.sites * args.days):.0f} per site-day")  # fmt: skip
    site = specs[0]
    book_next_day(hub, site, args.days)
    one = fleet.one(site.site_id, "incremental", site.site_id, args.days)
    print(f"one site-day:    {one['wall']:.2f} s ({one['cpu']:.2f} s CPU in the site process; "
          f"load average {os.getloadavg()[0]:.1f}), "
          f"{(one['sent'] + one['received']) / 1024:.1f} KB on the wire "
          f"({one['sent'] / 1024:.1f} KB pushed, gzip; {one['received'] / 1024:.1f} KB received: "
          f"the push's answer and the pulled pages, gzip; "
          f"{args.doses} doses up, {args.doses} appointments down)")  # fmt: skip
    return 0 if lost == 0 and duplicated == 0 and converged == len(specs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
