"""A site keeps the standby lists of its own sessions that the hub's scheduler sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.local_db.models.citizens import Citizen as LocalCitizen
from app.local_db.models.standby import StandbyEntry as LocalStandby
from app.local_db.unit_of_work import session_scope
from central.db import Site, StandbyEntry, StockMovement
from central.scheduling.run import run_schedule
from tests.app.sync.facts import world_lot_id
from tests.app.sync.world import NOW, World

START = date(2021, 6, 2)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(f"sqlite:///{tmp_path / 'central.sqlite'}", tmp_path)
    yield w
    w.close()


def test_a_site_keeps_its_standby_list_with_the_citizens_on_it(world: World) -> None:
    site = world.add_site("ST-09")
    other = world.add_site("ST-10")
    with world.hub.sessions() as session, session.begin():
        # 8 places on the day (08:00-10:00, 15 minutes, one vaccinator) and
        # two six-dose vials: the ninth health worker stands by.
        session.execute(
            sa.update(Site)
            .where(Site.id == site.site_id)
            .values(opening_hours={"wed": [["08:00", "10:00"]]}, slot_minutes=15, vaccinators=1)
        )
        session.execute(sa.update(Site).where(Site.id == other.site_id).values(active=False))
        session.add(
            StockMovement(
                kind="receipt",
                occurred_at=NOW,
                from_location="warehouse",
                to_location=f"site:{site.site_id}",
                lot_id=world_lot_id(world),
                quantity_vials=2,
                created_at=NOW,
                created_by="test",
                stored_at=NOW,
            )
        )
    for _ in range(9):
        world.hub_citizen(priority_group="health-workers", vaccine_preferences=["comirnaty"])

    summary = run_schedule(world.hub, START, 1, actor="operator:test")

    assert (summary.appointments, summary.unbooked) == (8, {"no_capacity": 1})
    with world.hub.sessions() as session:
        (entry,) = session.scalars(sa.select(StandbyEntry)).all()
    report = site.sync()
    assert not report.skipped
    with session_scope(site.store, write=False) as session:
        (kept,) = session.scalars(sa.select(LocalStandby)).all()
        assert (kept.id, kept.run_id, kept.day, kept.product_code, kept.position) == (
            entry.id,
            summary.run_id,
            START,
            "comirnaty",
            1,
        )
        # The citizen on the list came with it, so the nurse can call them.
        assert session.get(LocalCitizen, entry.citizen_id) is not None
    # Pulling again changes nothing; the other site is sent no list.
    assert not site.sync().skipped
    other.sync()
    assert other.local_ids(LocalStandby) == set()
    assert site.local_ids(LocalStandby) == {entry.id}
