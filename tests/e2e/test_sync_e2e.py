"""Sync end to end: a real hub (``imuno-hub serve``), a real client on a SQLite file.

The hub is killed with SIGKILL in the middle of a push and restarted; a TCP
proxy between client and hub cuts connections in the middle of requests and
after the hub answered. Every dose reaches the hub exactly once, and
``imuno-site sync`` then runs a clean round.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from app.local_db.models.site import SiteIdentity
from app.local_db.sealing import SecretBox
from app.local_db.unit_of_work import session_scope
from app.sync.engine import SyncEngine
from app.sync.errors import HubUnreachable
from app.sync.identity import CREDENTIAL_PURPOSE
from app.sync.transport import HttpTransport
from central.db import DoseRecord
from domain.clock import SystemClock
from domain.sync_wire import PushRequest, PushResponse
from domain.wire import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.app.sync.world import SiteClient, World
from tests.e2e.conftest import REPO_ROOT, RunningHub, free_port, start_hub

pytestmark = pytest.mark.e2e


@dataclass
class CuttingProxy:
    """A TCP proxy to `upstream` that cuts the first connections it is told to.

    ``cut_after_request``: forward the request, then close both ends before
    any answer reaches the client (the hub may have committed).
    ``cut_mid_request``: forward only part of the request, then close.
    """

    upstream: tuple[str, int]
    cut_mid_request: int = 0
    cut_after_request: int = 0
    port: int = field(default_factory=free_port)
    _server: socket.socket | None = None
    cuts: int = 0

    def __enter__(self) -> str:
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=30)
        except OSError:
            client.close()
            return
        try:
            self._relay(client, upstream)
        finally:
            client.close()
            upstream.close()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        if self.cut_mid_request > 0:
            self.cut_mid_request -= 1
            self.cuts += 1
            data = client.recv(200)
            upstream.sendall(data[: len(data) // 2])
            return
        cut_after = self.cut_after_request > 0
        if cut_after:
            self.cut_after_request -= 1
            self.cuts += 1

        def pump(src: socket.socket, dst: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while chunk := src.recv(65536):
                    dst.sendall(chunk)
            for end in (src, dst):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

        if cut_after:
            # Forward the request; drop the answer once it starts, then close.
            forward = threading.Thread(target=pump, args=(client, upstream), daemon=True)
            forward.start()
            with contextlib.suppress(OSError):
                upstream.recv(1)
            for end in (client, upstream):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
            forward.join(timeout=5)
            return
        forward = threading.Thread(target=pump, args=(client, upstream), daemon=True)
        forward.start()
        pump(upstream, client)
        forward.join(timeout=5)


class KillingTransport(HttpTransport):
    """Kills the hub (SIGKILL, whole process group) while the n-th push is in flight."""

    kill_on_push: int = 3
    hub: RunningHub | None = None
    pushes: int = 0

    def push(self, request: PushRequest) -> PushResponse:
        self.pushes += 1
        if self.hub is not None and self.pushes == self.kill_on_push:
            process = self.hub.process
            threading.Timer(0.01, lambda: os.killpg(process.pid, signal.SIGKILL)).start()
        return super().push(request)


@pytest.fixture
def world(hub_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(hub_db_url, tmp_path)
    w.clock.set(datetime.now(UTC))
    yield w
    w.close()


def _enrol(hub: RunningHub, world: World, site: SiteClient, key_path: Path) -> str:
    code = hub.enrol_code(site.code)
    response = httpx.post(
        f"{hub.base_url}/v1/enrol",
        json={"code": code},
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    issued = response.json()["credential"]
    box = SecretBox.load_or_create(key_path)
    with session_scope(site.store) as session:
        session.add(
            SiteIdentity(
                id=1,
                site_id=site.site_id,
                site_code=site.code,
                site_name=f"Dom zdravlja {site.code}",
                municipality_code="NS",
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
    token: str = issued["credential"]
    return token


def _hub_doses(db_url: str) -> list[str]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [str(v) for v in conn.execute(sa.select(DoseRecord.id)).scalars()]
    finally:
        engine.dispose()


def test_hub_killed_mid_push_and_connections_cut_lose_and_duplicate_nothing(
    world: World, hub_db_url: str, tmp_path: Path
) -> None:
    site = world.add_site("E2E-01")
    site.clock = SystemClock()  # type: ignore[assignment]
    citizens = [world.hub_citizen() for _ in range(5)]
    for citizen in citizens:
        world.book(citizen.id, site)
    key_path = tmp_path / "site-secrets.key"
    doses: list[str] = []

    with start_hub(hub_db_url, tmp_path / "hub1") as hub:
        token = _enrol(hub, world, site, key_path)
        transport = KillingTransport(hub.base_url, token, read_timeout_s=20)
        engine = SyncEngine(site.store, transport, site_id=site.site_id, max_batch_records=10)
        engine.run_round()  # the roster
        for n in range(60):
            doses.append(str(site.record_dose(citizens[n % 5].id, dose_number=n // 5 + 1)))
        transport.hub = hub
        with pytest.raises(HubUnreachable):
            engine.run_round()
        hub.process.wait(timeout=10)
        transport.close()

    with start_hub(hub_db_url, tmp_path / "hub2") as hub:
        host, port = hub.base_url.removeprefix("http://").split(":")
        proxy = CuttingProxy((host, int(port)), cut_mid_request=1, cut_after_request=2)
        with proxy as proxy_url:
            flaky = HttpTransport(proxy_url, token, read_timeout_s=20)
            engine = SyncEngine(site.store, flaky, site_id=site.site_id, max_batch_records=10)
            failures = 0
            for _attempt in range(10):
                try:
                    engine.run_round()
                    break
                except HubUnreachable:
                    failures += 1
            else:
                pytest.fail("the client never completed a round through the proxy")
            flaky.close()
            assert proxy.cuts == 3
            assert failures >= 1

            at_hub = _hub_doses(hub_db_url)
            assert sorted(at_hub) == sorted(doses)

            completed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "app.cli",
                    "sync",
                    "--db",
                    str(site.path),
                    "--key",
                    str(key_path),
                    "--hub",
                    proxy_url,
                ],
                capture_output=True,
                text=True,
                cwd=REPO_ROOT,
                timeout=120,
                check=False,
            )
    assert completed.returncode == 0, completed.stderr
    assert "pushed 0" in completed.stdout
    assert "verified with the hub: yes" in completed.stdout
    status = hub.cli("sites", "status")
    assert "E2E-01" in status.stdout
