"""Bootstrap from the hub's snapshot: the same replica as replaying the log, resumable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.local_db.engine import open_site_store
from app.local_db.models.appointments import Appointment, AppointmentEvent
from app.local_db.models.citizens import Citizen
from app.local_db.models.doses import DoseRecord
from app.local_db.models.site import Setting
from app.local_db.models.sync import SyncState
from app.local_db.unit_of_work import session_scope
from app.sync import snapshot
from app.sync.apply import apply_changes
from app.sync.apply_chunks import apply_in_chunks
from app.sync.engine import SyncEngine
from app.sync.errors import HubUnreachable
from app.sync.snapshot import SNAPSHOT_TOKEN_SETTING, SnapshotSource
from central.db import Citizen as HubCitizen
from central.db import SiteSyncStatus
from central.services.records import announce, upsert_change
from central.services.sync.in_process import InProcessTransport
from domain.sync_wire import (
    FetchResponse,
    IdList,
    PullPage,
    PushRequest,
    PushResponse,
    SnapshotPage,
    VerifyResponse,
)
from tests.app.sync.world import SiteClient, World, gap_to_restore

TABLES: tuple[Any, ...] = (Citizen, Appointment, AppointmentEvent, DoseRecord, Setting)


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    yield w
    w.close()


@dataclass
class ReplayOnly:
    """The in-process transport without snapshots, as an older hub: the log is replayed."""

    inner: InProcessTransport

    def push(self, request: PushRequest) -> PushResponse:
        return self.inner.push(request)

    def pull(self, cursor: str | None, limit: int) -> PullPage:
        return self.inner.pull(cursor, limit)

    def verify(self) -> VerifyResponse:
        return self.inner.verify()

    def ids(self, table: str) -> IdList:
        return self.inner.ids(table)

    def fetch(self, table: str, ids: list[uuid.UUID]) -> FetchResponse:
        return self.inner.fetch(table, ids)


@dataclass
class FailingAfter:
    """Serves `pages` snapshot pages, then loses the connection once."""

    inner: InProcessTransport
    pages: int
    served: int = 0
    failed: bool = False

    def snapshot(self, token: str | None, limit: int) -> SnapshotPage | None:
        if self.served == self.pages and not self.failed:
            self.failed = True
            raise HubUnreachable(detail="connection reset")
        self.served += 1
        return self.inner.snapshot(token, limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _second_store(world: World, site: SiteClient, name: str, transport: Any) -> SyncEngine:
    """Another replica of `site` (same credential), on its own store."""
    store = open_site_store(world.folder / f"{name}.sqlite")
    return SyncEngine(store, transport, clock=site.clock, site_id=site.site_id, page_size=7)


def _sync(world: World, engine: SyncEngine) -> Any:
    # Two replicas of one site: the hub must not take the other's position for a restore.
    with world.hub.sessions() as session, session.begin():
        session.execute(sa.delete(SiteSyncStatus))
    return engine.run_round(verify=False)


def _contents(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    contents: dict[str, list[dict[str, Any]]] = {}
    with session_scope(engine, write=False) as session:
        for model in TABLES:
            table = model.__table__
            rows = session.execute(sa.select(table).order_by(*table.primary_key.columns))
            contents[table.name] = [
                dict(row._mapping)
                for row in rows
                if row._mapping.get("key") != SNAPSHOT_TOKEN_SETTING
            ]
    return contents


def _rename_at_hub(world: World, citizen_id: uuid.UUID, site: SiteClient, name: str) -> None:
    with world.hub.sessions() as session, session.begin():
        citizen = session.get(HubCitizen, citizen_id)
        assert citizen is not None
        world.clock.advance(timedelta(seconds=1))  # a later write: its timestamp wins
        hlc = f"{int(world.clock.now().timestamp() * 1000):012x}.0000.hub"
        citizen.last_name_latin = name
        citizen.field_hlc = {**citizen.field_hlc, "last_name_latin": hlc}
        citizen.hlc = max(citizen.hlc, hlc)
        session.flush()
        announce(
            session,
            [upsert_change(citizen, audience_site_id=site.site_id, hlc=citizen.hlc)],
            world.clock.now(),
        )


def _history(world: World, site: SiteClient, other: SiteClient) -> list[uuid.UUID]:
    """Bookings, a renamed citizen, a dose given elsewhere and its record's correction."""
    citizens = [world.hub_citizen() for _ in range(12)]
    for citizen in citizens:
        world.book(citizen.id, site)
    _rename_at_hub(world, citizens[0].id, site, "Jovanović")
    world.book(citizens[1].id, other)
    other.sync()
    other.record_dose(citizens[1].id)
    other.sync()
    _rename_at_hub(world, citizens[0].id, site, "Janković")
    return [c.id for c in citizens]


def test_a_snapshot_bootstrap_leaves_the_replica_a_replay_leaves(world: World) -> None:
    site, other = world.add_site("SN-01"), world.add_site("SN-02")
    citizens = _history(world, site, other)
    inner = InProcessTransport(world.hub, site.site_id, on_gap=gap_to_restore)
    assert isinstance(inner, SnapshotSource)
    replay = _second_store(world, site, "replay", ReplayOnly(inner))
    assert not isinstance(replay.transport, SnapshotSource)

    booted = _sync(world, site.engine)
    replayed = _sync(world, replay)
    assert booted.applied_here > 0
    assert not booted.skipped
    assert not replayed.skipped
    assert _contents(site.store) == _contents(replay.engine)
    # Bootstrapped with the newest version of each record, not every version.
    assert booted.pulled < replayed.pulled

    # Later changes reach both the same way.
    more = world.hub_citizen()
    world.book(more.id, site)
    _rename_at_hub(world, citizens[2], site, "Marković")
    other.record_dose(citizens[1], dose_number=2)
    other.sync()
    _sync(world, site.engine)
    _sync(world, replay)
    contents = _contents(site.store)
    assert contents == _contents(replay.engine)
    names = {row["id"]: row["family_name_latin"] for row in contents["citizens"]}
    assert names[citizens[0]] == "Janković"
    assert names[citizens[2]] == "Marković"
    assert len(contents["dose_records"]) == 2
    assert len(contents["citizens"]) == 13
    replay.engine.dispose()


def test_an_interrupted_bootstrap_resumes_and_stores_the_cursor_last(world: World) -> None:
    site, other = world.add_site("SN-01"), world.add_site("SN-02")
    _history(world, site, other)
    flaky = FailingAfter(InProcessTransport(world.hub, site.site_id, on_gap=gap_to_restore), 2)
    engine = _second_store(world, site, "flaky", flaky)
    with pytest.raises(HubUnreachable):
        snapshot.bootstrap(engine.engine, flaky, site.site_id, site.clock, page_size=5)
    with session_scope(engine.engine, write=False) as session:
        state = session.get(SyncState, 1)
        token = session.get(Setting, SNAPSHOT_TOKEN_SETTING)
        held = session.scalar(sa.select(sa.func.count()).select_from(Citizen))
    assert state is None or state.pull_cursor is None  # no cursor before the last page
    assert token is not None
    assert token.value
    assert held is not None
    assert 0 < held < 12

    report = snapshot.bootstrap(engine.engine, flaky, site.site_id, site.clock, page_size=5)
    assert report is not None
    assert not report.skipped
    assert snapshot.bootstrap(engine.engine, flaky, site.site_id, site.clock) is None
    _sync(world, site.engine)
    assert _contents(engine.engine) == _contents(site.store)
    engine.engine.dispose()


def _stored(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The rows as SQLite holds them (no type conversion on the way out)."""
    with engine.connect() as connection:
        return {
            model.__tablename__: list(
                connection.exec_driver_sql(f"SELECT * FROM {model.__tablename__} ORDER BY id")
            )
            for model in (Citizen, Appointment, AppointmentEvent, DoseRecord)
        }


def test_rows_inserted_in_bulk_are_stored_as_the_appliers_store_them(world: World) -> None:
    site, other = world.add_site("SN-01"), world.add_site("SN-02")
    _history(world, site, other)
    inner = InProcessTransport(world.hub, site.site_id, on_gap=gap_to_restore)
    changes = []
    token = None
    while True:
        page = inner.snapshot(token, 4)
        assert page is not None
        changes += page.changes
        if (token := page.next_token) is None:
            break
    stores = {}
    for name, apply in (("bulk", apply_in_chunks), ("one_by_one", apply_changes)):
        stores[name] = open_site_store(world.folder / f"{name}.sqlite")
        with session_scope(stores[name]) as session:
            report = apply(session, site.site_id, changes, site.clock.now())
        assert not report.skipped
    bulk, one_by_one = _stored(stores["bulk"]), _stored(stores["one_by_one"])
    assert len(bulk["citizens"]) == 12
    assert len(bulk["dose_records"]) == 1
    assert bulk == one_by_one
    for engine in stores.values():
        engine.dispose()
