"""The hub's API served for real in the test process, with a clock the test drives.

`api_factory(**settings)` migrates the test database (``central_db_url``:
SQLite, and PostgreSQL when configured), builds the app with a `FixedClock`,
serves it with uvicorn on a free loopback port in a background thread and
returns an `Api`: an httpx client plus helpers that set up sites, enrolled
site credentials and staff tokens the way operators and sites do. Requests
go through the whole stack (HTTP parsing, middleware, handlers, database).

Databases come from `migrated_db_url`: like ``central_db_url`` (SQLite,
and PostgreSQL when configured) but already at the newest schema, copied
from a template migrated once per session.

Fixtures: ``api`` (default settings), ``api_factory`` (settings overrides,
e.g. ``api_factory(max_body_bytes=4096)``), ``migrated_db_url``.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as Time
from pathlib import Path
from typing import Any

import argon2
import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from central.api import create_app
from central.auth import PasswordHasher
from central.db import (
    Appointment,
    AppointmentEvent,
    Citizen,
    Site,
    StaffRole,
    upgrade_to_head,
)
from central.services.context import Hub
from central.services.enrolment import issue_enrol_code
from central.services.sites import NewSite, add_site, parse_opening_hours
from central.services.staff import add_user
from central.settings import HubSettings
from domain.clock import FixedClock
from domain.ids import uuid7
from domain.jmbg import Sex, make_jmbg, parse_jmbg
from domain.wire import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.conftest import _pg_admin_url

NOW = datetime(2021, 6, 1, 8, 0, tzinfo=UTC)
"""The tests' "now": a Tuesday during the campaign, rules 2021.06 in force."""

STAFF_PASSWORD = "correct horse battery staple"

sqlite_only = pytest.mark.parametrize("migrated_db_url", ["sqlite"], indirect=True)
"""For tests of logic that does nothing engine-specific (validation, headers,
the schema): run on SQLite alone, to keep the suite quick."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def new_jmbg(n: int, sex: Sex = Sex.FEMALE) -> str:
    """A valid JMBG, distinct for each `n`: born `n` days after 17 May 1960."""
    birth = date(1960, 5, 17) + timedelta(days=n)
    for serial in range(10):
        try:
            return make_jmbg(birth, 71, serial, sex)
        except ValueError:
            continue  # a serial the registry skips: take the next
    raise AssertionError("unreachable: at most one serial in eleven is skipped")


@dataclass
class Api:
    """A served hub and ways to act on it as sites, staff and the portal."""

    client: httpx.Client
    hub: Hub
    clock: FixedClock
    app: FastAPI
    _count: int = field(default=0)

    def site_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}

    @staticmethod
    def staff_headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def add_site(self, code: str, **fields: Any) -> Site:
        values: dict[str, Any] = {
            "code": code,
            "name": f"Dom zdravlja {code}",
            "municipality": "Novi Sad",
            "latitude": 45.2671,
            "longitude": 19.8335,
            "opening_hours": parse_opening_hours(["mon-sun 08:00-20:00"]),
            "slot_minutes": 10,
            "vaccinators": 2,
            "products": ["comirnaty", "spikevax"],
        }
        values.update(fields)
        return add_site(self.hub, NewSite(**values), actor="test")

    def enrol_code(self, site_code: str) -> str:
        return issue_enrol_code(self.hub, site_code, actor="test").code

    def enrol(self, code: str) -> httpx.Response:
        return self.client.post(
            "/v1/enrol", json={"code": code}, headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        )

    def enrolled_site(self, site_code: str, **fields: Any) -> str:
        """Add a site, enrol it; return its credential."""
        self.add_site(site_code, **fields)
        response = self.enrol(self.enrol_code(site_code))
        assert response.status_code == 200, response.text
        token: str = response.json()["credential"]["credential"]
        return token

    def staff_token(self, role: StaffRole = StaffRole.CENTRAL_ADMIN) -> str:
        """Create a staff account with `role`, log in; return the token."""
        self._count += 1
        username = f"staff{self._count}"
        add_user(
            self.hub, username=username, full_name=f"Staff {self._count}", role=role,
            password=STAFF_PASSWORD, actor="test",
        )  # fmt: skip
        response = self.client.post(
            "/v1/staff/login", json={"username": username, "password": STAFF_PASSWORD}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token

    def citizen(self, serial: int, **fields: Any) -> Citizen:
        """Store a citizen directly (as the scheduler's input would be)."""
        stamp = f"{int(NOW.timestamp() * 1000):012x}.0000.hub"
        jmbg = new_jmbg(serial)
        values: dict[str, Any] = {
            "jmbg": jmbg,
            "first_name_latin": "Ljubica",
            "last_name_latin": "Đorđević",
            "first_name_cyrillic": "Љубица",
            "last_name_cyrillic": "Ђорђевић",
            "birth_date": parse_jmbg(jmbg).birth_date,
            "sex": "F",
            "phone": "+381641234567",
            "email": None,
            "municipality": "Novi Sad",
            "priority_group": "general",
            "conditions": [],
            "vaccine_preferences": ["any"],
            "registered_at": NOW,
            "withdrawn_at": None,
            "field_hlc": {},
            "hlc": stamp,
            "updated_at": NOW,
            "origin_site_id": None,
            "stored_at": NOW,
            "created_at": NOW,
            "created_by": "test",
        }
        values.update(fields)
        with self.hub.sessions() as session, session.begin():
            citizen = Citizen(**values)
            session.add(citizen)
        return citizen

    def appointment(
        self, site: Site, citizen: Citizen, day: date, slot: Time, **fields: Any
    ) -> Appointment:
        """Store a scheduled appointment with its ``scheduled`` event."""
        values: dict[str, Any] = {
            "id": uuid7(),
            "citizen_id": citizen.id,
            "site_id": site.id,
            "day": day,
            "slot_start": slot,
            "product_id": "comirnaty",
            "dose_number": 1,
            "scheduler_run_id": None,
            "replaces_appointment_id": None,
            "origin_site_id": None,
            "created_at": NOW,
            "created_by": "scheduler:test",
            "stored_at": NOW,
        }
        values.update(fields)
        with self.hub.sessions() as session, session.begin():
            appointment = Appointment(**values)
            session.add(appointment)
            session.flush()
            session.add(
                AppointmentEvent(
                    id=uuid7(), appointment_id=appointment.id, kind="scheduled",
                    occurred_at=NOW, reason=None, new_appointment_id=None,
                    payload_hash="0" * 64, origin_site_id=None, created_at=NOW,
                    created_by="scheduler:test", stored_at=NOW,
                )
            )  # fmt: skip
        return appointment


class _Server:
    """uvicorn serving `app` in a background thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, access_log=False,
            lifespan="on",
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test hub did not start")
            time.sleep(0.01)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


class _Templates:
    """Databases migrated once per test session, copied for each test.

    Running every migration for each test costs ~0.3 s on SQLite and ~0.8 s
    on PostgreSQL; a copy of a migrated database costs a few milliseconds
    (SQLite: a file copy; PostgreSQL: ``CREATE DATABASE ... TEMPLATE``).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._pg: str | None = None
        self._admin: sa.Engine | None = None

    def sqlite(self, target: Path) -> str:
        if self._sqlite is None:
            self._sqlite = self.folder / "template.sqlite"
            upgrade_to_head(f"sqlite:///{self._sqlite}")
        shutil.copyfile(self._sqlite, target)
        return f"sqlite:///{target}"

    def postgresql(self) -> Iterator[str]:
        admin_url = _pg_admin_url()
        if admin_url is None:
            pytest.skip("PostgreSQL not configured: set IMUNO_TEST_PG_URL (make test does)")
        if self._admin is None:
            self._admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        if self._pg is None:
            self._pg = f"imuno_tpl_{uuid.uuid4().hex[:12]}"
            with self._admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{self._pg}"'))
            upgrade_to_head(sa.make_url(admin_url).set(database=self._pg))
        name = f"imuno_t_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg}"'))
        try:
            yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with self._admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self._admin is not None:
            if self._pg is not None:
                with self._admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self._pg}" WITH (FORCE)'))
            self._admin.dispose()


@pytest.fixture(scope="session")
def _migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    templates = _Templates(tmp_path_factory.mktemp("hub-templates"))
    yield templates
    templates.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def migrated_db_url(
    request: pytest.FixtureRequest, tmp_path: Path, _migrated_templates: _Templates
) -> Iterator[str]:
    """A central database at the newest schema, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield _migrated_templates.sqlite(tmp_path / "central.sqlite")
    else:
        yield from _migrated_templates.postgresql()


@pytest.fixture
def api_factory(migrated_db_url: str) -> Iterator[Callable[..., Api]]:
    """Serve a hub on the test database with settings overrides; see `Api`."""
    central_db_url = migrated_db_url
    started: list[tuple[_Server, httpx.Client, Hub]] = []

    def make(**overrides: Any) -> Api:
        settings = HubSettings(database_url=central_db_url, **overrides)
        clock = FixedClock(NOW)
        hub = Hub.open(settings, clock=clock)
        # Cheap argon2 parameters: every staff log-in in these tests would
        # otherwise cost 0.3 s. The real parameters are tested in test_auth_*.
        hub.passwords = PasswordHasher(argon2.PasswordHasher(time_cost=1, memory_cost=1024))
        app = create_app(settings, hub=hub)
        server = _Server(app)
        base_url = server.__enter__()
        client = httpx.Client(base_url=base_url, timeout=30)
        started.append((server, client, hub))
        return Api(client=client, hub=hub, clock=clock, app=app)

    yield make
    for server, client, hub in started:
        client.close()
        server.__exit__()
        hub.close()


@pytest.fixture
def api(api_factory: Callable[..., Api]) -> Api:
    """A served hub with default settings."""
    return api_factory()
