"""Bootstrap benchmark: a new site with N citizens on its roster fills its store from the hub.

The hub (SQLite or PostgreSQL) holds the site's roster as the scheduler leaves
it: every citizen, appointment and "scheduled" event announced in the change
log to the site (a tenth of the citizens also renamed later, so the log holds
two versions of them), plus the rosters of other sites (entries the site must
not receive). A fresh site store then runs one sync round through the real
`SyncEngine` over the in-process transport: by default it bootstraps from the
hub's snapshot (`app.sync.snapshot`); ``--replay`` replays the change log
instead, for comparison.

Each answer travels as over HTTP, without the sockets: the hub's service
writes the JSON body and gzips it (as `central.api.routers.sync` does), the
site inflates it and reads it into the wire models (as `app.sync.transport`
does). Prints: wall time of the round with CPU seconds and the load average,
split into the hub (answers built and gzipped; on PostgreSQL also the
server's CPU, read from /proc), the site's decoding and the site's applying;
records stored, pages, bytes on the wire (gzip), records/s, and whether the
store holds exactly the roster.

    .venv/bin/python bench/bootstrap.py                                  # 50,000 citizens
    .venv/bin/python bench/bootstrap.py --db postgresql+psycopg://...    # hub on PostgreSQL
    .venv/bin/python bench/bootstrap.py --citizens 5000 --replay         # the old way

Target (issue): a site with 50,000 citizens bootstrapped in <= 20 s.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as Time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.local_db.engine import open_site_store
from app.local_db.models.appointments import Appointment as LocalAppointment
from app.local_db.models.citizens import Citizen as LocalCitizen
from app.local_db.unit_of_work import session_scope
from app.sync.engine import SyncEngine
from app.sync.errors import RestoreDetected
from central.db import Appointment, AppointmentEvent, Citizen, append_changes, upgrade_to_head
from central.db.bulk import insert_rows
from central.services.context import Hub
from central.services.records import upsert_change
from central.services.sites import NewSite, add_site, parse_opening_hours
from central.services.sync import snapshot as snapshot_service
from central.services.sync.errors import SequenceGap
from central.services.sync.in_process import InProcessTransport
from central.settings import HubSettings
from domain.clock import FixedClock
from domain.ids import uuid7
from domain.jmbg import Sex, make_jmbg
from domain.sync_wire import PullPage, SnapshotPage

START = datetime(2021, 6, 1, 7, 0, tzinfo=UTC)
CHUNK = 10_000


def _gap(gap: SequenceGap) -> Exception:
    return RestoreDetected(expected_seq=gap.expected, recovery_cursor=gap.recovery_cursor)


def _jmbg(n: int) -> str:
    """A distinct valid JMBG for each n below 900,000."""
    birth = date(1940, 1, 1) + timedelta(days=n % 20000)
    for serial in range((n // 20000) * 11, (n // 20000) * 11 + 11):
        try:
            return make_jmbg(birth, 71, serial, Sex.MALE)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass
class Span:
    """Wall and CPU seconds of this process spent in one part of the round."""

    wall: float = 0.0
    cpu: float = 0.0

    @contextmanager
    def timing(self) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall += time.perf_counter() - wall
            self.cpu += time.process_time() - cpu


@dataclass
class Wire:
    """The hub's answers as HTTP carries them, without the sockets.

    The hub's side is what `central.api.routers.sync` does (the service's
    answer as JSON, gzip-compressed), the site's what `app.sync.transport`
    does (inflate, read the JSON into the wire models). Counts the pages and
    each answer's gzip size, and times the two sides.
    """

    hub: Hub
    site_id: uuid.UUID
    inner: InProcessTransport
    replay: bool
    pages: int = 0
    bytes_received: int = 0
    records: int = 0
    at_hub: Span = field(default_factory=Span)
    decoding: Span = field(default_factory=Span)

    def _carry(self, body: bytes) -> bytes:
        """The hub's gzip answer (timed as the hub's); the inflated body as the site reads it."""
        with self.at_hub.timing():
            sent = gzip.compress(body, compresslevel=6)
        self.pages += 1
        self.bytes_received += len(sent)
        return gzip.decompress(sent)

    def pull(self, cursor: str | None, limit: int) -> PullPage:
        with self.at_hub.timing():
            body = self.inner.pull(cursor, limit).model_dump_json().encode("utf-8")
        received = self._carry(body)
        with self.decoding.timing():
            page = PullPage.model_validate_json(received)
        self.records += len(page.changes)
        return page

    def snapshot(self, token: str | None, limit: int) -> SnapshotPage | None:
        if self.replay:
            return None  # as a hub without snapshots: the engine replays the log
        with self.at_hub.timing():
            body = snapshot_service.snapshot_json(self.hub, self.site_id, token, limit=limit)
        received = self._carry(body)
        with self.decoding.timing():
            page = SnapshotPage.model_validate_json(received)
        self.records += len(page.changes)
        return page

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class ServerCpu:
    """CPU seconds of the PostgreSQL backends serving the hub (0 for SQLite: in this process).

    Read from /proc, which works because the test cluster runs on this machine.
    """

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._start = self._read()

    def _read(self) -> dict[int, float]:
        if self._hub.engine.dialect.name != "postgresql":
            return {}
        with self._hub.engine.connect() as connection:
            pids = connection.scalars(
                sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            ).all()
        ticks = os.sysconf("SC_CLK_TCK")
        seconds: dict[int, float] = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # not on this machine, or gone
            seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
        return seconds

    def spent(self) -> float:
        now = self._read()
        return sum(cpu - self._start.get(pid, 0.0) for pid, cpu in now.items())


@dataclass
class Roster:
    site_id: uuid.UUID
    citizens: set[uuid.UUID] = field(default_factory=set)


def _site(hub: Hub, code: str) -> uuid.UUID:
    row = add_site(
        hub,
        NewSite(code=code, name=f"Punkt {code}", municipality="Novi Sad", latitude=45.0,
                longitude=19.8, opening_hours=parse_opening_hours(["mon-sun 07:00-21:00"]),
                slot_minutes=10, vaccinators=8, products=["comirnaty"]),
        actor="bench",
    )  # fmt: skip
    return row.id


def _book(hub: Hub, site_id: uuid.UUID, count: int, first_serial: int, renamed: float) -> Roster:
    """`count` citizens booked at the site and announced to it, in chunks, as the scheduler does."""
    roster = Roster(site_id)
    stamp = f"{int(START.timestamp() * 1000):012x}.0000.hub"
    later = f"{int(START.timestamp() * 1000) + 60_000:012x}.0000.hub"
    serial = first_serial
    every = max(1, round(1 / renamed)) if renamed > 0 else 0
    for start in range(0, count, CHUNK):
        citizens: list[Citizen] = []
        appointments: list[Appointment] = []
        events: list[AppointmentEvent] = []
        changes = []
        for n in range(start, min(count, start + CHUNK)):
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
                id=uuid7(), citizen_id=citizen.id, site_id=site_id,
                day=START.date() + timedelta(days=1 + n % 14),
                slot_start=Time(7 + (n // 8) % 14, (n % 6) * 10), product_id="comirnaty",
                dose_number=1, scheduler_run_id=None, replaces_appointment_id=None,
                origin_site_id=None, created_at=START, created_by="bench", stored_at=START,
            )  # fmt: skip
            event = AppointmentEvent(
                id=uuid7(), appointment_id=appointment.id, kind="scheduled", occurred_at=START,
                reason=None, new_appointment_id=None, payload_hash="0" * 64,
                origin_site_id=None, created_at=START, created_by="bench", stored_at=START,
            )  # fmt: skip
            citizens.append(citizen)
            appointments.append(appointment)
            events.append(event)
            changes += [
                upsert_change(citizen, audience_site_id=site_id, hlc=stamp),
                upsert_change(appointment, audience_site_id=site_id),
                upsert_change(event, audience_site_id=site_id),
            ]
            roster.citizens.add(citizen.id)
        renames = []
        for n, citizen in enumerate(citizens):
            if every and n % every == 0:
                citizen.last_name_latin = "Petrović-Jovanović"
                citizen.field_hlc = {"last_name_latin": later}
                citizen.hlc = later
                renames.append(upsert_change(citizen, audience_site_id=site_id, hlc=later))
        with hub.sessions() as session, session.begin():
            tables: tuple[tuple[type[Any], list[Any]], ...] = (
                (Citizen, citizens), (Appointment, appointments), (AppointmentEvent, events),
            )  # fmt: skip
            for model, rows in tables:
                columns = [c.key for c in sa.inspect(model).column_attrs]
                insert_rows(session, model, ({k: getattr(r, k) for k in columns} for r in rows))
            append_changes(session, changes + renames, START)
    return roster


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=50_000, help="on the new site's roster")
    parser.add_argument("--other-sites", type=int, default=10)
    parser.add_argument("--other-citizens", type=int, default=2_000, help="per other site")
    parser.add_argument("--renamed", type=float, default=0.1, help="share renamed later")
    parser.add_argument("--replay", action="store_true", help="replay the log, no snapshot")
    parser.add_argument("--db", help="hub database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="imuno-bootstrap-"))
    try:
        db_url = args.db or f"sqlite:///{folder / 'central.sqlite'}"
        upgrade_to_head(db_url)
        hub = Hub.open(HubSettings(database_url=db_url), clock=FixedClock(START))
        t0 = time.perf_counter()
        serial = 0
        for n in range(args.other_sites):
            _book(hub, _site(hub, f"O-{n:03d}"), args.other_citizens, serial, args.renamed)
            serial += args.other_citizens
        site_id = _site(hub, "NEW-001")
        roster = _book(hub, site_id, args.citizens, serial, args.renamed)
        print(f"set-up: {args.citizens} citizens at the new site, {args.other_sites} other "
              f"sites x {args.other_citizens} in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        store = open_site_store(folder / "new-site.sqlite")
        wire = Wire(hub, site_id, InProcessTransport(hub, site_id, on_gap=_gap), args.replay)
        engine = SyncEngine(store, wire, clock=FixedClock(START), site_id=site_id)
        server = ServerCpu(hub)
        load_before = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        report = engine.run_round(verify=False)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        load_after = os.getloadavg()[0]
        server_cpu = server.spent()
        with session_scope(store, write=False) as session:
            held = set(session.scalars(sa.select(LocalCitizen.id)))
            appointments = session.scalar(sa.select(sa.func.count()).select_from(LocalAppointment))
        exact = held == roster.citizens and appointments == len(roster.citizens)
        site_wall = wall - wire.at_hub.wall - wire.decoding.wall
        site_cpu = cpu - wire.at_hub.cpu - wire.decoding.cpu
        print(f"mode:            {'replay of the change log' if args.replay else 'snapshot'}")
        print(f"wall time:       {wall:.2f} s ({cpu:.1f} s CPU in this process; load average "
              f"{load_before:.1f}-{load_after:.1f} on {os.cpu_count()} cores)")  # fmt: skip
        print(f"  hub:           {wire.at_hub.wall:.2f} s wall, {wire.at_hub.cpu:.1f} s CPU "
              f"(answers built and gzipped)"
              + (f"; PostgreSQL server {server_cpu:.1f} s CPU" if server_cpu else ""))  # fmt: skip
        print(f"  site decode:   {wire.decoding.wall:.2f} s wall, {wire.decoding.cpu:.1f} s CPU "
              f"(inflate, read the JSON into wire models)")  # fmt: skip
        print(f"  site apply:    {site_wall:.2f} s wall, {site_cpu:.1f} s CPU "
              f"(applied and stored)")  # fmt: skip
        print(f"records served:  {wire.records} in {wire.pages} pages "
              f"({report.applied_here} stored, {len(report.skipped)} skipped)")  # fmt: skip
        print(f"records/s:       {wire.records / wall:.0f}")
        print(f"bytes on wire:   {wire.bytes_received} (gzip), "
              f"{wire.bytes_received / max(1, args.citizens):.0f} per citizen")  # fmt: skip
        print(f"roster held:     {'exactly' if exact else 'NO'} "
              f"({len(held)} citizens, {appointments} appointments)")  # fmt: skip
        store.dispose()
        hub.close()
        return 0 if exact else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
