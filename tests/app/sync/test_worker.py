"""The background worker, its backoff and the outbox watchdog."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.sync.backoff import Backoff
from app.sync.engine import RoundReport
from app.sync.errors import HubUnreachable, SyncError
from app.sync.watchdog import OutboxHealth, check_outbox
from app.sync.worker import SyncWorker
from tests.app.sync.world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(f"sqlite:///{tmp_path / 'central.sqlite'}", tmp_path)
    yield w
    w.close()


def test_backoff_grows_exponentially_with_full_jitter_and_a_cap() -> None:
    backoff = Backoff(base_s=1.0, cap_s=30.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(12)]
    ceilings = [min(30.0, 2.0**n) for n in range(12)]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert max(delays[6:]) > 2.0  # it does grow
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_watchdog_flags_an_outbox_that_stopped_draining(world: World) -> None:
    site = world.add_site("WD-01")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    site.sync()
    assert check_outbox(site.store, site.clock.now()) == OutboxHealth(0, None, False)
    site.record_dose(citizen.id)
    later = site.clock.now() + timedelta(hours=2)
    health = check_outbox(site.store, later, stall_after=timedelta(hours=1))
    assert health.backlog == 1
    assert health.stalled


def test_worker_syncs_in_the_background_and_on_demand(world: World) -> None:
    site = world.add_site("WD-02")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    rounds: list[tuple[RoundReport | None, SyncError | None]] = []
    done = threading.Event()

    def on_round(report: RoundReport | None, error: SyncError | None, _h: OutboxHealth) -> None:
        rounds.append((report, error))
        if len(rounds) >= 3:
            done.set()

    class FlakyOnce:
        calls = 0

        def __init__(self, inner: object) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def pull(self, cursor: str | None, limit: int) -> object:
            FlakyOnce.calls += 1
            if FlakyOnce.calls == 1:
                raise HubUnreachable(detail="no route to host")
            return self.inner.pull(cursor, limit)  # type: ignore[attr-defined]

    site.engine.transport = FlakyOnce(site.engine.transport)  # type: ignore[assignment]
    worker = SyncWorker(
        site.engine, interval_s=3600, backoff=Backoff(base_s=0.01, cap_s=0.02), on_round=on_round
    )
    worker.start()
    try:
        pause = threading.Event()
        while len(rounds) < 2 and not pause.wait(0.05):
            pass  # the failed round, then the retry after the backoff (roster pulled)
        site.record_dose(citizen.id)
        worker.sync_now()
        assert done.wait(30)
    finally:
        worker.stop()
    assert isinstance(rounds[0][1], HubUnreachable)
    assert rounds[1][0] is not None
    assert rounds[1][1] is None
    assert rounds[2][1] is None
    assert rounds[2][0] is not None
    assert rounds[2][0].pushed == 1
    assert worker.backoff.failures == 0
