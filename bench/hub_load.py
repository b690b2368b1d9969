"""Hub load benchmark: registrations per second, and roster fetches by 400 sites at once.

Runs the real hub (``imuno-hub serve``, uvicorn workers) against a fresh
database on the PostgreSQL test cluster, with everything a production hub
does per request (bearer authentication, the per-credential rate-limit
counter in the database, JSON access logs, metrics):

1. set-up: 400 sites added, each enrolled over HTTP for its own credential;
   ``--appointments`` appointments per site on the benchmark day, bulk-loaded;
2. registrations: ``--registration-clients`` concurrent portal clients POST
   new registrations (unique valid JMBGs) until ``--registrations`` are in;
   reported as registrations per second;
3. rosters: every site client at once (400 concurrent connections) fetches
   its full roster for the day, ``--rounds`` times; reported as p50/p99
   latency and fetches per second.

The load generator (asyncio + httpx) runs on the same machine as the hub and
PostgreSQL and competes with them for the CPU, so the figures are a floor for
this machine, not a capacity of the design.

Usage: ``bench/hub_load.py [--pg-url URL] [--workers 2] ...``; the URL
defaults to $IMUNO_BENCH_PG_URL, then $IMUNO_TEST_PG_URL (``make bench``
starts the cluster). Without either it prints that it was skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as Time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from central.db import (  # noqa: E402
    Appointment,
    AppointmentEvent,
    Citizen,
    insert_rows,
    make_engine,
    session_factory,
    upgrade_to_head,
)
from central.services.context import Hub  # noqa: E402
from central.services.enrolment import issue_enrol_code  # noqa: E402
from central.services.sites import NewSite, add_site, parse_opening_hours  # noqa: E402
from central.settings import HubSettings  # noqa: E402
from domain.ids import uuid7  # noqa: E402
from domain.jmbg import Sex, make_jmbg  # noqa: E402

DAY = date(2021, 6, 2)
PROTOCOL = {"Imuno-Protocol": "1"}


def _jmbgs() -> Iterator[str]:
    """Distinct valid JMBGs: every day from 1940 on, every region-71 serial."""
    birth = date(1940, 1, 1)
    while True:
        for serial in range(500):
            for sex in (Sex.MALE, Sex.FEMALE):
                try:
                    yield make_jmbg(birth, 71, serial, sex)
                except ValueError:
                    continue  # a serial the registry skips
        birth += timedelta(days=1)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    name = f"imuno_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(url: str, sites: int, per_site: int, jmbgs: Iterator[str]) -> tuple[list[str], list[str]]:
    """Add sites, enrolment codes and a day of appointments; return (codes, site codes)."""
    hub = Hub.open(HubSettings(database_url=url))
    hours = parse_opening_hours(["mon-sun 07:00-21:00"])
    site_codes, enrol_codes, site_ids = [], [], []
    for n in range(sites):
        code = f"S{n:04d}"
        site = add_site(
            hub,
            NewSite(
                code=code, name=f"Punkt {n}", municipality="Beograd", latitude=44.8,
                longitude=20.4, opening_hours=hours, slot_minutes=10, vaccinators=4,
                products=["comirnaty"],
            ),
            actor="bench",
        )  # fmt: skip
        site_codes.append(code)
        site_ids.append(site.id)
        enrol_codes.append(issue_enrol_code(hub, code, actor="bench").code)
    hub.close()

    engine = make_engine(url)
    now = datetime.now(UTC)
    stamp = f"{int(now.timestamp() * 1000):012x}.0000.hub"
    citizens, appointments, events = [], [], []
    for site_id in site_ids:
        for k in range(per_site):
            citizen_id, appointment_id = uuid7(), uuid7()
            jmbg = next(jmbgs)
            citizens.append({
                "id": citizen_id, "jmbg": jmbg, "first_name_latin": "Milica",
                "last_name_latin": "Jovanović", "first_name_cyrillic": "Милица",
                "last_name_cyrillic": "Јовановић", "birth_date": date(1950, 1, 1), "sex": "F",
                "phone": "+381641234567", "email": None, "municipality": "Beograd",
                "priority_group": "general", "conditions": [], "vaccine_preferences": ["any"],
                "registered_at": now, "withdrawn_at": None, "field_hlc": {}, "hlc": stamp,
                "updated_at": now, "origin_site_id": None, "stored_at": now, "created_at": now,
                "created_by": "bench",
            })  # fmt: skip
            slot = (7 * 60 + (k // 4) * 10) % (24 * 60)
            appointments.append({
                "id": appointment_id, "citizen_id": citizen_id, "site_id": site_id, "day": DAY,
                "slot_start": Time(slot // 60, slot % 60), "product_id": "comirnaty",
                "dose_number": 1, "scheduler_run_id": None, "replaces_appointment_id": None,
                "origin_site_id": None, "created_at": now, "created_by": "bench", "stored_at": now,
            })  # fmt: skip
            events.append({
                "id": uuid7(), "appointment_id": appointment_id, "kind": "scheduled",
                "occurred_at": now, "reason": None, "new_appointment_id": None,
                "payload_hash": "0" * 64, "origin_site_id": None, "created_at": now,
                "created_by": "bench", "stored_at": now,
            })  # fmt: skip
    with session_factory(engine)() as session, session.begin():
        insert_rows(session, Citizen, citizens)
        insert_rows(session, Appointment, appointments)
        insert_rows(session, AppointmentEvent, events)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return enrol_codes, site_codes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(url: str, workers: int, log: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        # The portal posts from one address; the bench measures the hub, not the limit.
        "IMUNO_HUB_RATE_LIMIT_ANONYMOUS": "0",
        "IMUNO_HUB_DB_POOL_SIZE": "20",
        "IMUNO_HUB_LOG_LEVEL": "warning",
    }
    command = [
        sys.executable, "-m", "central.cli", "serve", "--db", url,
        "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the hub did not start:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


class RawConnection:
    """One keep-alive HTTP/1.1 connection, with as little client work as possible.

    The load generator shares the machine's two cores with the hub and
    PostgreSQL. With httpx's async client it used a whole core by itself at
    ~80 requests/s and so measured mostly itself; this client only writes
    the request and reads the status line, the headers and a
    Content-Length body (the hub always sends one).
    """

    def __init__(self, base: str) -> None:
        url = httpx.URL(base)
        self.host, self.port = url.host, url.port or 80
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await reader.readexactly(length)

    async def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            await self._streams[1].wait_closed()


async def enrol_all(base: str, codes: list[str]) -> list[str]:
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        semaphore = asyncio.Semaphore(50)

        async def one(code: str) -> str:
            async with semaphore:
                response = await client.post("/v1/enrol", json={"code": code}, headers=PROTOCOL)
                response.raise_for_status()
                token: str = response.json()["credential"]["credential"]
                return token

        return list(await asyncio.gather(*(one(c) for c in codes)))


def _registration(jmbg: str, n: int) -> dict[str, Any]:
    return {
        "jmbg": jmbg,
        "first_name": "Марко",
        "last_name": f"Петровић{n % 97}",
        "phone": f"+38164{n:07d}",
        "municipality": "Beograd",
        "conditions": ["diabetes"] if n % 5 == 0 else [],
        "vaccine_preferences": ["comirnaty", "spikevax"] if n % 2 else ["any"],
    }


async def register(base: str, total: int, clients: int, jmbgs: Iterator[str]) -> dict[str, float]:
    bodies = [json.dumps(_registration(next(jmbgs), n)).encode() for n in range(total)]
    pending = iter(bodies)
    latencies: list[float] = []
    failures = 0

    async def client_loop() -> None:
        nonlocal failures
        connection = RawConnection(base)
        try:
            for body in pending:
                started = time.perf_counter()
                status, _ = await connection.request("POST", "/v1/registrations", {}, body)
                latencies.append(time.perf_counter() - started)
                failures += status != 201
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "count": len(latencies),
        "failures": failures,
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": statistics.quantiles(latencies, n=100)[98] * 1000,
    }


async def rosters(base: str, tokens: list[str], codes: list[str], rounds: int) -> dict[str, float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    entries = 0

    async def site_client(token: str, code: str) -> None:
        nonlocal entries
        headers = {"Authorization": f"Bearer {token}", **PROTOCOL}
        path = f"/v1/sites/{code}/roster?date={DAY.isoformat()}&limit=1000"
        # One connection per site, as 400 separate workstations would have.
        connection = RawConnection(base)
        try:
            for _ in range(rounds):
                started = time.perf_counter()
                status, payload = await connection.request("GET", path, headers)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    entries += payload.count(b'"appointment_id"')
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(site_client(t, c) for t, c in zip(tokens, codes, strict=True)))
    elapsed = time.perf_counter() - started
    return {
        "fetches": len(latencies),
        "ok": statuses.get(200, 0),
        "entries": entries,
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": statistics.quantiles(latencies, n=100)[98] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("IMUNO_BENCH_PG_URL")
                        or os.environ.get("IMUNO_TEST_PG_URL"))  # fmt: skip
    parser.add_argument("--sites", type=int, default=400)
    parser.add_argument("--appointments", type=int, default=100, help="per site, on the day")
    parser.add_argument("--rounds", type=int, default=3, help="roster fetches per site")
    parser.add_argument("--registrations", type=int, default=3000)
    parser.add_argument("--registration-clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not args.pg_url:
        print("hub_load: skipped (no PostgreSQL: set IMUNO_BENCH_PG_URL or run `make bench`)")
        return 0
    jmbgs = _jmbgs()
    with fresh_database(args.pg_url) as url, tempfile.TemporaryDirectory() as folder:
        upgrade_to_head(url)
        started = time.perf_counter()
        enrol_codes, site_codes = seed(url, args.sites, args.appointments, jmbgs)
        print(f"seeded {args.sites} sites, {args.sites * args.appointments} appointments "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        with serve(url, args.workers, Path(folder) / "hub.log") as base:
            started = time.perf_counter()
            tokens = asyncio.run(enrol_all(base, enrol_codes))
            print(
                f"enrolled {len(tokens)} sites over HTTP in {time.perf_counter() - started:.1f} s"
            )
            reg = asyncio.run(register(base, args.registrations, args.registration_clients, jmbgs))
            print(
                f"registrations: {reg['count']:.0f} by {args.registration_clients} clients, "
                f"{reg['failures']:.0f} failed: {reg['per_second']:.0f}/s, "
                f"p50 {reg['p50_ms']:.1f} ms, p99 {reg['p99_ms']:.1f} ms"
            )
            ros = asyncio.run(rosters(base, tokens, site_codes, args.rounds))
            print(
                f"rosters: {ros['fetches']:.0f} fetches by {len(tokens)} concurrent sites "
                f"({ros['ok']:.0f} ok, {ros['entries'] / max(ros['ok'], 1):.0f} entries each): "
                f"{ros['per_second']:.0f}/s, p50 {ros['p50_ms']:.1f} ms, p99 {ros['p99_ms']:.1f} ms"
            )
        print(f"hub: {args.workers} uvicorn workers over PostgreSQL; load generator on the same "
              f"{os.cpu_count()}-core machine")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
