"""The site client end to end: work offline at the desk, then sync to a real hub.

A real hub (``imuno-hub serve``) books a citizen at site S0001; the site
enrols and pulls its roster. The nurse then works with the network down (the
client points at a closed port): the status bar says offline, she checks the
person in and records the dose by scanning, and the dose waits in the outbox.
The next session reaches the hub: "Sync now" pushes the dose, the status bar
says online with nothing waiting, and the hub's database holds the dose.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.bootstrap import SiteClient
from app.local_db.models import LocalUser, Role, SiteIdentity
from app.local_db.sealing import SecretBox
from app.local_db.unit_of_work import session_scope
from app.services.accounts import SignedIn
from app.sync.engine import SyncEngine
from app.sync.identity import CREDENTIAL_PURPOSE
from app.sync.transport import HttpTransport
from central.db import DoseRecord as HubDose
from central.db import Lot as HubLot
from domain.gs1 import encode_gs1
from domain.site_accounts import SiteRole
from domain.wire import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.app.sync.world import World
from tests.app.ui.scanner import send_burst
from tests.e2e.conftest import RunningHub, free_port, start_hub

pytestmark = pytest.mark.e2e

WAIT_MS = 30_000
COMIRNATY_GTIN = "09520000100018"
LOT = "E2E01"


@pytest.fixture
def world(hub_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(hub_db_url, tmp_path)
    w.clock.set(datetime.now(UTC))
    yield w
    w.close()


def _enrol(hub: RunningHub, world: World, code: str, store: Any, box: SecretBox) -> None:
    """Enrol the site store with a one-time code, as the enrolment dialog does."""
    one_time = hub.enrol_code(code)
    answer = httpx.post(
        f"{hub.base_url}/v1/enrol",
        json={"code": one_time},
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    issued = answer.json()["credential"]
    with session_scope(store) as session:
        session.add(
            SiteIdentity(
                id=1,
                site_id=world.sites[code].site_id,
                site_code=code,
                site_name=f"Dom zdravlja {code}",
                municipality_code="80284",
                hub_url=hub.base_url,
                credential_id=str(issued["credential_id"]),
                credential_secret_sealed=box.seal(
                    issued["credential"].encode(), purpose=CREDENTIAL_PURPOSE
                ),
                signer_certificate=None,
                signer_private_key_sealed=None,
                enrolled_at=datetime.now(UTC),
            )
        )


def _ensure_local_nurse(store: Any, nurse_id: uuid.UUID) -> SignedIn:
    """The nurse the hub knows, as a local account (pulled, or added if not yet synced)."""
    now = datetime.now(UTC)
    with session_scope(store) as session:
        if session.get(LocalUser, nurse_id) is None:
            session.add(
                LocalUser(
                    id=nurse_id,
                    username="nurse-s0001",
                    full_name="Sestra S0001",
                    role=Role.NURSE,
                    password_hash="$argon2id$unused",
                    active=True,
                    failed_logins=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        user = session.get(LocalUser, nurse_id)
        assert user is not None
        return SignedIn(nurse_id, user.username, user.full_name, SiteRole.NURSE, now)


def _hub_dose_ids(db_url: str) -> set[uuid.UUID]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            return {uuid.UUID(str(v)) for v in connection.execute(sa.select(HubDose.id)).scalars()}
    finally:
        engine.dispose()


def test_offline_dose_reaches_the_hub_after_sync(
    qtbot: Any, world: World, hub_db_url: str, tmp_path: Path
) -> None:
    site = world.add_site("S0001")
    today = datetime.now(ZoneInfo("Europe/Belgrade")).date()
    citizen = world.hub_citizen()
    world.book(citizen.id, site, day=today)
    expiry = date(today.year + 1, 1, 31)
    # The hub knows the lot (it accepts doses of known lots only).
    with world.hub.sessions() as session, session.begin():
        session.add(
            HubLot(
                gtin=COMIRNATY_GTIN,
                lot_number=LOT,
                product_id="comirnaty",
                expiry=expiry,
                created_at=datetime.now(UTC),
                created_by="test",
            )
        )
    box = SecretBox.load_or_create(tmp_path / "site-secrets.key")
    artifacts = Path("artifacts") / "screenshots"
    artifacts.mkdir(parents=True, exist_ok=True)

    with start_hub(hub_db_url, tmp_path / "hub") as hub:
        _enrol(hub, world, "S0001", site.store, box)
        first = HttpTransport(hub.base_url, _credential(site.store, box))
        SyncEngine(site.store, first, site_id=site.site_id).run_round()
        first.close()
        user = _ensure_local_nurse(site.store, site.nurse_id)

        # Offline: the client cannot reach the hub (a closed port).
        offline = SiteClient(
            site.store, box, user, sync=True, hub_url=f"http://127.0.0.1:{free_port()}"
        )
        qtbot.addWidget(offline.window)
        window = offline.window
        with qtbot.waitSignal(window.roster_shown, timeout=WAIT_MS):
            offline.start()
        qtbot.waitUntil(lambda: window.status.online is False, timeout=WAIT_MS)
        assert window.roster_view.proxy.rowCount() == 1
        window.activateWindow()

        with qtbot.waitSignal(window.candidate_shown, timeout=WAIT_MS):
            send_burst(citizen.jmbg)
        with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS):
            qtbot.mouseClick(window.check_in_panel.check_in_button, Qt.MouseButton.LeftButton)
        label = encode_gs1(COMIRNATY_GTIN, expiry, LOT, "SN900001")
        with qtbot.waitSignal(window.vial_checked, timeout=WAIT_MS) as checked:
            send_burst(label)
        assert checked.args[0].ok, checked.args[0].refusals
        with qtbot.waitSignal(window.dose_recorded, timeout=WAIT_MS) as recorded:
            qtbot.mouseClick(window.vaccinate_panel.record_button, Qt.MouseButton.LeftButton)
        dose_id = recorded.args[0].dose_id
        qtbot.waitUntil(lambda: _waiting(window) > 0, timeout=WAIT_MS)
        window.grab().save(str(artifacts / "11-offline-dose-waiting.png"))
        assert dose_id not in _hub_dose_ids(hub_db_url)
        offline.close()

        # Back online: the next session syncs and the hub has the dose.
        online = SiteClient(site.store, box, user, sync=True, sync_interval_s=3600)
        qtbot.addWidget(online.window)
        window = online.window
        with qtbot.waitSignal(window.roster_shown, timeout=WAIT_MS):
            online.start()
        window.tabs.setCurrentWidget(window.sync_panel)
        with qtbot.waitSignal(online.sync_signals.round_finished, timeout=WAIT_MS) as round_:
            qtbot.mouseClick(window.sync_panel.sync_now, Qt.MouseButton.LeftButton)
        outcome = round_.args[0]
        if not outcome.ok:  # the start-up round may have been the one reported
            with qtbot.waitSignal(online.sync_signals.round_finished, timeout=WAIT_MS) as round_:
                qtbot.mouseClick(window.sync_panel.sync_now, Qt.MouseButton.LeftButton)
            outcome = round_.args[0]
        assert outcome.ok, outcome.message
        qtbot.waitUntil(lambda: dose_id in _hub_dose_ids(hub_db_url), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: window.status.online is True, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: _waiting(window) == 0, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: window.sync_panel.model.rowCount() >= 2, timeout=WAIT_MS)
        window.grab().save(str(artifacts / "12-synced.png"))
        online.close()


def _credential(store: Any, box: SecretBox) -> str:
    with session_scope(store, write=False) as session:
        identity = session.get(SiteIdentity, 1)
        assert identity is not None
        sealed = identity.credential_secret_sealed
    return box.unseal(sealed, purpose=CREDENTIAL_PURPOSE).decode()


def _waiting(window: Any) -> int:
    """The number of records the status bar says are waiting to be sent."""
    return int(window.status.waiting.text().rsplit(" ", 1)[-1])
