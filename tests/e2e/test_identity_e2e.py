"""Identity end to end: a real hub, `imuno-site enrol`, logins, a dose by a site-made nurse.

The operator adds the site and its manager at the hub (``imuno-hub sites add``,
``imuno-hub site-users add``) and prints an enrolment code; the workstation
enrols with ``imuno-site enrol`` (its own signer key, certified by the hub)
and syncs, so the manager can log in offline; the manager creates a nurse
there; the nurse logs in and records a dose; after a sync the hub holds the
dose under that nurse, with nothing quarantined.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import argon2
import pytest
import sqlalchemy as sa

from app.local_db.engine import open_site_store
from app.local_db.models.doses import DoseRecord, InjectionSite
from app.local_db.sealing import SecretBox
from app.local_db.unit_of_work import session_scope
from app.services import accounts
from app.services.enrolment import load_document_signer
from app.sync.engine import SyncEngine
from app.sync.identity import load_connection
from app.sync.outbox import record_change
from app.sync.transport import HttpTransport
from app.sync.wire_forms import dose_payload
from central.db import DoseRecord as HubDose
from central.db import Quarantine, SiteUser
from domain.clock import SystemClock
from domain.ids import uuid7
from domain.site_accounts import SiteRole
from tests.app.sync.world import GTIN, LOT, World
from tests.e2e.conftest import REPO_ROOT, RunningHub

pytestmark = pytest.mark.e2e

FAST = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@dataclass(frozen=True)
class _SiteRef:
    site_id: uuid.UUID


@pytest.fixture
def world(live_hub: RunningHub, tmp_path: Path) -> Iterator[World]:
    w = World(live_hub.db_url, tmp_path)
    w.clock.set(datetime.now(UTC))
    yield w
    w.close()


def _site_id(db_url: str, code: str) -> uuid.UUID:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT id FROM sites WHERE code = :c"), {"c": code})
            return uuid.UUID(str(found.scalar_one()))
    finally:
        engine.dispose()


def test_enrol_log_in_create_a_nurse_and_her_dose_is_applied_at_the_hub(
    live_hub: RunningHub, world: World, tmp_path: Path
) -> None:
    live_hub.add_site("ID-01")
    live_hub.admin(
        "site-users", "add", "ID-01", "mara", "--role", "manager", "--full-name", "Mara Marić",
        "--password-stdin", input="manager password\n",
    )  # fmt: skip
    code = live_hub.enrol_code("ID-01")
    db, key = tmp_path / "site.sqlite", tmp_path / "site-secrets.key"

    enrolled = subprocess.run(
        [sys.executable, "-m", "app.cli", "enrol", "--hub", live_hub.base_url, "--code", code,
         "--db", str(db), "--key", str(key)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert enrolled.returncode == 0, enrolled.stderr
    assert "Enrolled as site ID-01" in enrolled.stdout
    assert "Warning" not in enrolled.stderr

    again = subprocess.run(
        [sys.executable, "-m", "app.cli", "enrol", "--hub", live_hub.base_url, "--code", code,
         "--db", str(db), "--key", str(key), "--no-sync"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert again.returncode == 1
    assert "already enrolled" in again.stderr

    store = open_site_store(db)
    box = SecretBox.load(key)
    try:
        assert load_document_signer(store, box).may_sign_vaccinations
        clock = SystemClock()
        manager = accounts.login(store, "mara", "manager password", clock)
        assert manager.is_manager
        nurse = accounts.create_user(
            store, manager.id, username="jelena", full_name="Jelena Jelić", role=SiteRole.NURSE,
            password="nurse password", clock=clock, hasher=FAST,
        )  # fmt: skip

        citizen = world.hub_citizen()
        world.book(citizen.id, _SiteRef(_site_id(live_hub.db_url, "ID-01")))  # type: ignore[arg-type]
        connection = load_connection(store, box)
        transport = HttpTransport(connection.hub_url, connection.credential)
        engine = SyncEngine(store, transport, site_id=connection.site_id)
        first = engine.run_round()
        assert first.quarantined == []

        signed = accounts.login(store, "jelena", "nurse password", clock, hasher=FAST)
        now = clock.now()
        with session_scope(store) as session:
            dose = DoseRecord(
                id=uuid7(), origin_site_id=connection.site_id, created_at=now,
                created_by=signed.id, citizen_id=citizen.id, appointment_id=None,
                product_code="comirnaty", gtin=GTIN, lot_number=LOT, vial_id=None,
                dose_number=1, administered_at=now, injection_site=InjectionSite.LEFT_DELTOID,
                vaccinator_name=signed.full_name, notes=None, voids_dose_id=None,
            )  # fmt: skip
            session.add(dose)
            session.flush()
            record_change(session, "dose_record", dose.id, dose_payload(dose), now=now)
        second = engine.run_round()
        transport.close()
        assert second.quarantined == []
        assert second.applied_at_hub >= 1
    finally:
        store.dispose()

    hub_db = sa.create_engine(live_hub.db_url)
    try:
        with hub_db.connect() as conn:
            nurse_id = conn.execute(sa.select(HubDose.nurse_id).where(HubDose.id == dose.id))
            assert nurse_id.scalar_one() == nurse.id
            role = conn.execute(sa.select(SiteUser.role).where(SiteUser.id == nurse.id))
            assert role.scalar_one() == "nurse"
            quarantined = conn.execute(sa.select(sa.func.count()).select_from(Quarantine))
            assert quarantined.scalar_one() == 0
    finally:
        hub_db.dispose()
