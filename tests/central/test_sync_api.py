"""The sync API over real HTTP (uvicorn in a thread): push, pull, verify, status, gzip, 409."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.sync.engine import SyncEngine
from app.sync.errors import SyncRefused
from app.sync.transport import HttpTransport
from central.api import create_app
from central.db import DoseRecord, StaffRole
from central.services.enrolment import issue_enrol_code
from central.services.staff import add_user
from domain.wire import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.app.sync.world import SiteClient, World
from tests.central.api.conftest import _Server


@pytest.fixture
def served(central_db_url: str, tmp_path: Path) -> Iterator[tuple[World, str]]:
    world = World(central_db_url, tmp_path)
    server = _Server(create_app(world.hub.settings, hub=world.hub))
    base_url = server.__enter__()
    try:
        yield world, base_url
    finally:
        server.__exit__()
        world.close()


def _enrol(world: World, base_url: str, site: SiteClient) -> str:
    code = issue_enrol_code(world.hub, site.code, actor="test").code
    response = httpx.post(
        f"{base_url}/v1/enrol",
        json={"code": code},
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["credential"]["credential"]
    return token


def _http_site(world: World, base_url: str, code: str) -> tuple[SiteClient, HttpTransport]:
    site = world.add_site(code)
    transport = HttpTransport(base_url, _enrol(world, base_url, site))
    site.engine = SyncEngine(site.store, transport, clock=site.clock, site_id=site.site_id)
    return site, transport


def test_a_round_over_http_moves_roster_and_doses(served: tuple[World, str]) -> None:
    world, base_url = served
    site, transport = _http_site(world, base_url, "HT-01")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    assert site.sync().pulled >= 3
    doses = [site.record_dose(citizen.id, dose_number=n) for n in (1, 2)]
    sent_before = transport.stats.bytes_sent
    report = site.sync()
    assert report.pushed == 2
    assert report.applied_at_hub == 2
    assert report.verified
    assert all(world.hub_count(DoseRecord, id=d) == 1 for d in doses)
    assert 0 < transport.stats.bytes_sent - sent_before < 4000  # gzip on the wire


def test_retry_with_the_same_key_gets_the_stored_answer(served: tuple[World, str]) -> None:
    world, base_url = served
    site, transport = _http_site(world, base_url, "HT-02")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    site.sync()
    site.record_dose(citizen.id)
    from app.local_db.unit_of_work import session_scope
    from app.sync.outbox import claim_batch
    from domain.sync_wire import PushRequest

    with session_scope(site.store) as session:
        batch = claim_batch(session, site.clock.now())
    assert batch is not None
    request = PushRequest(
        idempotency_key=batch.key,
        first_seq=batch.first_seq,
        last_seq=batch.last_seq,
        records=list(batch.records),
        sent_at=site.clock.now(),
        backlog=1,
        client_version="test",
    )
    first = transport.push(request)
    second = transport.push(request)
    assert not first.replayed
    assert second.replayed
    assert first.results == second.results
    assert world.hub_count(DoseRecord) == 1


def test_the_site_comes_from_the_credential_and_bodies_are_capped(
    served: tuple[World, str],
) -> None:
    world, base_url = served
    _site, transport = _http_site(world, base_url, "HT-03")
    headers = {
        "Authorization": f"Bearer {transport.credential}",
        PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        "Content-Encoding": "gzip",
        "Idempotency-Key": "bomb-key-1",
        "Content-Type": "application/json",
    }
    bomb = gzip.compress(b"{" + b" " * (20 * 1024 * 1024) + b"}")
    response = httpx.post(f"{base_url}/v1/sync/push", content=bomb, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "sync.batch_too_large"
    no_protocol = {k: v for k, v in headers.items() if k != PROTOCOL_HEADER}
    response = httpx.get(f"{base_url}/v1/sync/pull", headers=no_protocol)
    assert response.status_code == 400
    response = httpx.get(f"{base_url}/v1/sync/pull", headers={**headers, PROTOCOL_HEADER: "99"})
    assert response.status_code == 426


def test_staff_see_every_sites_sync_status(served: tuple[World, str]) -> None:
    world, base_url = served
    site, _transport = _http_site(world, base_url, "HT-04")
    world.add_site("HT-05")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    site.sync()
    site.record_dose(citizen.id)
    site.sync()
    add_user(
        world.hub, username="desk", full_name="Help Desk", role=StaffRole.CENTRAL_VIEWER,
        password="correct horse battery staple", actor="test",
    )  # fmt: skip
    login = httpx.post(
        f"{base_url}/v1/staff/login",
        json={"username": "desk", "password": "correct horse battery staple"},
    )
    token = login.json()["token"]
    response = httpx.get(
        f"{base_url}/v1/admin/sync-status", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    rows = {row["site_code"]: row for row in response.json()["items"]}
    assert rows["HT-04"]["last_push_at"] is not None
    assert rows["HT-04"]["client_version"] == "imuno-site/0.1"
    assert rows["HT-04"]["backlog"] == 0
    assert rows["HT-05"]["last_push_at"] is None


def test_a_site_cannot_read_staff_status(served: tuple[World, str]) -> None:
    world, base_url = served
    _site, transport = _http_site(world, base_url, "HT-06")
    response = httpx.get(
        f"{base_url}/v1/admin/sync-status",
        headers={
            "Authorization": f"Bearer {transport.credential}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        },
    )
    assert response.status_code == 403
    with pytest.raises(SyncRefused):
        transport.fetch("staff_users", [world.hub_citizen().id])
    # A verified table gives only what the site should hold: not a citizen booked nowhere.
    assert transport.fetch("citizens", [world.hub_citizen().id]).changes == []
