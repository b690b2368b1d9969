"""Fleet sync benchmark: N sites x D days x doses per day against one hub, with faults.

Every site is a real site store (SQLite file) with a real `SyncEngine`; the hub
is the real sync service over SQLite or PostgreSQL, called in process through
`central.services.sync.in_process.InProcessTransport` (the HTTP layer is
measured by the e2e tests, not here). Sites push concurrently from a thread
pool. Each day: every site records its doses offline (one local transaction
per dose, outbox row included), then all sites sync at once; with
``--fault-rate`` that share of pushes is lost before or after the hub commits.
After the last day the network heals and every site runs rounds until its
outbox is empty (counted as rounds to converge).

Prints: doses created, lost (created, not at the hub), duplicated, sites
converged (replica's dose ids equal the hub's view), rounds, wall time of the
pushes, records/s, p50/p99 push latency, bytes on the wire (gzip of each push
body as the HTTP transport would send it). Then one incremental site-day: the
hub books one site's roster for the next day and the site records that day's
doses; one round (push and pull) is timed and its gzip bytes both ways counted.

    .venv/bin/python bench/fleet.py                                   # 20 sites x 1 day x 50
    .venv/bin/python bench/fleet.py --sites 400 --doses 250 --db postgresql+psycopg://...
    .venv/bin/python bench/fleet.py --sites 50 --days 3 --doses 100 --fault-rate 0.2

Targets (issue): 400 sites x 1 day (~100,000 doses) in <= 30 s on PostgreSQL,
0 lost, 0 duplicated; one site-day incremental sync <= 2 s and <= 100 KB.
A new site's first pull bootstraps from the hub's snapshot (see bench/bootstrap.py).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as Time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.local_db.engine import open_site_store
from app.local_db.models.doses import DoseRecord as LocalDose
from app.local_db.models.doses import InjectionSite
from app.local_db.unit_of_work import session_scope
from app.sync.engine import SyncEngine
from app.sync.errors import HubUnreachable, RestoreDetected, SyncError
from app.sync.outbox import record_change
from app.sync.wire_forms import dose_payload
from central.db import (
    Appointment,
    Citizen,
    DoseRecord,
    Lot,
    SiteUser,
    upgrade_to_head,
)
from central.services.context import Hub
from central.services.records import announce, upsert_change
from central.services.sites import NewSite, add_site, parse_opening_hours
from central.services.sync import verify as verify_service
from central.services.sync.errors import SequenceGap
from central.services.sync.in_process import InProcessTransport
from central.settings import HubSettings
from domain.clock import FixedClock
from domain.ids import uuid7
from domain.jmbg import Sex, make_jmbg
from domain.sync_wire import PullPage, PushRequest, PushResponse

START = datetime(2021, 6, 1, 7, 0, tzinfo=UTC)
GTIN, LOT = "08901234567894", "LOT42A"


def _gap(gap: SequenceGap) -> Exception:
    return RestoreDetected(expected_seq=gap.expected, recovery_cursor=gap.recovery_cursor)


@dataclass
class Meter:
    """Latency and bytes of every push, across threads."""

    latencies: list[float] = field(default_factory=list)
    bytes_sent: int = 0
    bytes_received: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class MeasuredTransport:
    """The in-process transport, timing pushes, counting gzip bytes, injecting faults."""

    inner: InProcessTransport
    meter: Meter
    fault_rate: float
    rng: random.Random
    healed: bool = False

    def push(self, request: PushRequest) -> PushResponse:
        body = gzip.compress(request.model_dump_json().encode(), compresslevel=6)
        fault = None if self.healed else self._fault()
        if fault == "before":
            raise HubUnreachable(detail="dropped before the hub")
        started = time.perf_counter()
        answer = self.inner.push(request)
        elapsed = time.perf_counter() - started
        with self.meter.lock:
            self.meter.latencies.append(elapsed)
            self.meter.bytes_sent += len(body)
        if fault == "after":
            raise HubUnreachable(detail="answer lost after the hub committed")
        return answer

    def pull(self, cursor: str | None, limit: int) -> PullPage:
        page = self.inner.pull(cursor, limit)
        body = gzip.compress(page.model_dump_json().encode(), compresslevel=6)
        with self.meter.lock:
            self.meter.bytes_received += len(body)
        return page

    def _fault(self) -> str | None:
        if self.rng.random() >= self.fault_rate:
            return None
        return self.rng.choice(["before", "after"])

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@dataclass
class Site:
    code: str
    site_id: uuid.UUID
    nurse_id: uuid.UUID
    store: sa.Engine
    citizens: list[uuid.UUID]
    engine: SyncEngine
    transport: MeasuredTransport
    created: list[uuid.UUID] = field(default_factory=list)


def _jmbg(n: int) -> str:
    """A distinct valid JMBG for each n below 900,000: a birth day, a block of 11 serials."""
    birth = date(1940, 1, 1) + timedelta(days=n % 20000)
    for serial in range((n // 20000) * 11, (n // 20000) * 11 + 11):
        try:
            return make_jmbg(birth, 71, serial, Sex.MALE)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def build(args: argparse.Namespace, folder: Path, meter: Meter) -> tuple[Hub, list[Site]]:
    db_url = args.db or f"sqlite:///{folder / 'central.sqlite'}"
    upgrade_to_head(db_url)
    clock = FixedClock(START)
    hub = Hub.open(HubSettings(database_url=db_url), clock=clock)
    template = folder / "site-template.sqlite"
    open_site_store(template).dispose()
    rng = random.Random(args.seed)
    stamp = f"{int(START.timestamp() * 1000):012x}.0000.hub"
    with hub.sessions() as session, session.begin():
        session.add(
            Lot(gtin=GTIN, lot_number=LOT, product_id="comirnaty", expiry=date(2022, 1, 1),
                created_at=START, created_by="bench")
        )  # fmt: skip
    sites: list[Site] = []
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
        path = folder / f"{code}.sqlite"
        shutil.copy2(template, path)
        store = open_site_store(path)
        transport = MeasuredTransport(
            InProcessTransport(hub, row.id, on_gap=_gap), meter, args.fault_rate,
            random.Random(rng.random()),
        )  # fmt: skip
        engine = SyncEngine(store, transport, clock=FixedClock(START), site_id=row.id)  # type: ignore[arg-type]
        sites.append(Site(code, row.id, nurse_id, store, citizens, engine, transport))
    return hub, sites


def record_day(site: Site, day: int) -> None:
    now = START + timedelta(days=day, hours=2)
    for citizen_id in site.citizens:
        with session_scope(site.store) as session:
            dose = LocalDose(
                id=uuid7(), origin_site_id=site.site_id, created_at=now, created_by=site.nurse_id,
                citizen_id=citizen_id, appointment_id=None, product_code="comirnaty", gtin=GTIN,
                lot_number=LOT, vial_id=None, dose_number=day + 1, administered_at=now,
                injection_site=InjectionSite.LEFT_DELTOID, vaccinator_name="Sestra",
                notes=None, voids_dose_id=None,
            )  # fmt: skip
            session.add(dose)
            session.flush()
            record_change(session, "dose_record", dose.id, dose_payload(dose), now=now)
            site.created.append(dose.id)


def sync_all(sites: list[Site], workers: int) -> tuple[float, int, float]:
    """One round at every site, `workers` at a time: wall seconds, failures, CPU seconds."""
    failures = 0

    def one(site: Site) -> int:
        try:
            site.engine.run_round(verify=False)
        except SyncError:
            return 1
        return 0

    started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        failures = sum(pool.map(one, sites))
    return time.perf_counter() - started, failures, time.process_time() - cpu


def book_next_day(hub: Hub, site: Site, day: int) -> None:
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


def incremental_day(hub: Hub, site: Site, day: int) -> tuple[float, float, int, int]:
    """One site's next day: roster down, doses up. Wall and CPU seconds, bytes up, down."""
    meter = site.transport.meter
    book_next_day(hub, site, day)
    record_day(site, day)
    with meter.lock:
        sent, received = meter.bytes_sent, meter.bytes_received
    started, cpu = time.perf_counter(), time.process_time()
    site.engine.run_round(verify=False)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    with meter.lock:
        return elapsed, cpu, meter.bytes_sent - sent, meter.bytes_received - received


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--doses", type=int, default=50, help="doses per site per day")
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--db", help="hub database URL (default: a temporary SQLite file)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent syncing sites")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="imuno-fleet-"))
    meter = Meter()
    try:
        t0 = time.perf_counter()
        hub, sites = build(args, folder, meter)
        print(f"set-up: {args.sites} sites, {args.sites * args.doses} citizens "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        bootstrap_s, _, _ = sync_all(sites, args.workers)
        print(f"first pull of every roster: {bootstrap_s:.2f} s")
        meter.latencies.clear()
        meter.bytes_sent = 0
        push_wall = push_cpu = 0.0
        loads = [os.getloadavg()[0]]
        rounds = 0
        for day in range(args.days):
            for site in sites:
                record_day(site, day)
            elapsed, _failures, cpu = sync_all(sites, args.workers)
            push_wall += elapsed
            push_cpu += cpu
            loads.append(os.getloadavg()[0])
            rounds += 1
        for site in sites:
            site.transport.healed = True
        heal_rounds = 0
        while heal_rounds < 5:
            elapsed, failures, cpu = sync_all(sites, args.workers)
            push_wall += elapsed
            push_cpu += cpu
            loads.append(os.getloadavg()[0])
            heal_rounds += 1
            if failures == 0:
                break
        created = [d for s in sites for d in s.created]
        with hub.read_sessions() as session:
            at_hub = list(session.scalars(sa.select(DoseRecord.id)))
            converged = 0
            for site in sites:
                expected = set(
                    verify_service.replica_ids(session, site.site_id, "dose_records").ids
                )
                with session_scope(site.store, write=False) as local:
                    held = set(local.scalars(sa.select(LocalDose.id)))
                converged += held == expected
        lost = len(set(created) - set(at_hub))
        duplicated = len(at_hub) - len(set(at_hub))
        latencies = sorted(meter.latencies) or [0.0]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"doses created:   {len(created)}")
        print(f"lost:            {lost}")
        print(f"duplicated:      {duplicated}")
        print(f"converged sites: {converged}/{len(sites)}")
        print(f"rounds:          {rounds} daily + {heal_rounds} after healing")
        print(f"wall time:       {push_wall:.2f} s (sync rounds; {push_cpu:.1f} s CPU in this "
              f"process; load average {min(loads):.1f}-{max(loads):.1f} on "
              f"{os.cpu_count()} cores)")  # fmt: skip
        print(f"records/s:       {len(created) / push_wall:.0f}")
        print(f"push latency:    p50 {statistics.median(latencies) * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.1f} ms ({len(meter.latencies)} pushes)")  # fmt: skip
        print(f"bytes on wire:   {meter.bytes_sent} pushed (gzip), "
              f"{meter.bytes_sent / max(1, args.sites * args.days):.0f} per site-day")  # fmt: skip
        inc_s, inc_cpu, inc_up, inc_down = incremental_day(hub, sites[0], args.days)
        print(f"one site-day:    {inc_s:.2f} s ({inc_cpu:.2f} s CPU; load average "
              f"{os.getloadavg()[0]:.1f}), {(inc_up + inc_down) / 1024:.1f} KB on the wire "
              f"({inc_up / 1024:.1f} KB pushed, {inc_down / 1024:.1f} KB pulled, gzip; "
              f"{args.doses} doses up, {args.doses} appointments down)")  # fmt: skip
        for site in sites:
            site.store.dispose()
        hub.close()
        return 0 if lost == 0 and duplicated == 0 else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
