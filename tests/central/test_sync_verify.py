"""The hub's side of trust but verify (`central.services.sync.verify`), on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.local_db.models.sync import OutboxEntry
from app.local_db.unit_of_work import session_scope
from central.db import Citizen
from central.services.sync import verify as verify_service
from domain.sync_wire import VerifyResponse, citizen_version, id_digest, replica_digest
from tests.app.sync.world import World


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    yield w
    w.close()


def test_clients_that_verify_only_doses_see_only_doses(world: World) -> None:
    site = world.add_site("HV-01")
    world.book(world.hub_citizen().id, site)
    view = verify_service.verify(world.hub, site.site_id)
    assert [d.table for d in view.tables] == ["dose_records"]
    assert {d.table for d in view.replica_tables} == set(verify_service.VERIFIED) - {"dose_records"}
    # What an older client reads of the answer: the field it knows, the rest ignored.
    old = VerifyResponse.model_validate({"tables": [], "hub_time": view.hub_time.isoformat()})
    assert old.replica_tables == []


def test_digests_cover_what_the_site_should_hold_with_citizen_versions(world: World) -> None:
    a, b = world.add_site("HV-02"), world.add_site("HV-03")
    mine, theirs = world.hub_citizen(), world.hub_citizen()
    world.book(mine.id, a)
    world.book(theirs.id, b)
    with world.hub.read_sessions() as session:
        citizens = verify_service.replica_ids(session, a.site_id, "citizens")
        appointments = verify_service.replica_ids(session, a.site_id, "appointments")
        found = {d.table: d for d in verify_service.digests(session, a.site_id)}
        hlc = session.get_one(Citizen, mine.id).field_hlc
    assert citizens.ids == [mine.id]
    assert citizens.versions == [citizen_version(hlc)]
    assert appointments.versions is None  # appointments are compared by id
    assert len(appointments.ids) == 1
    assert found["citizens"].digest == replica_digest([(mine.id, citizen_version(hlc))])
    assert found["appointments"].digest == id_digest(appointments.ids)
    assert found["dose_records"].count == 0


def test_a_write_changes_the_citizen_digest(world: World) -> None:
    site = world.add_site("HV-04")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    with world.hub.read_sessions() as session:
        before = {d.table: d.digest for d in verify_service.digests(session, site.site_id)}
    with world.hub.sessions() as session, session.begin():
        row = session.get_one(Citizen, citizen.id)
        row.field_hlc = {**row.field_hlc, "last_name_latin": "0179c6962900.0000.hub"}
    with world.hub.read_sessions() as session:
        after = {d.table: d.digest for d in verify_service.digests(session, site.site_id)}
    assert before["citizens"] != after["citizens"]
    assert before["appointments"] == after["appointments"]


def test_fetch_gives_only_records_the_site_should_hold(world: World) -> None:
    a, b = world.add_site("HV-05"), world.add_site("HV-06")
    mine, theirs = world.hub_citizen(), world.hub_citizen()
    world.book(mine.id, a)
    world.book(theirs.id, b)
    with world.hub.read_sessions() as session:
        fetched = verify_service.fetch(session, a.site_id, "citizens", [mine.id, theirs.id])
        with pytest.raises(verify_service.TableNotVerified):
            verify_service.fetch(session, a.site_id, "staff_users", [mine.id])
    assert [c.record_id for c in fetched.changes] == [mine.id]


def test_quarantined_records_of_the_site_count_as_held(world: World) -> None:
    site = world.add_site("HV-07")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    site.sync()
    dose_id = site.record_dose(citizen.id)
    with session_scope(site.store) as session:
        entry = session.scalars(sa.select(OutboxEntry)).one()
        entry.payload = {**entry.payload, "lot_number": "NOPE"}
    site.sync(verify=False)
    with world.hub.read_sessions() as session:
        held = verify_service.replica_ids(session, site.site_id, "dose_records")
    assert held.ids == [dose_id]


def test_the_fast_digest_equals_the_digest_of_the_id_list(world: World) -> None:
    """`digests` reads ids as text; it must hash exactly what `replica_rows` lists."""
    a, b = world.add_site("HV-08"), world.add_site("HV-09")
    shared = world.hub_citizen()
    world.book(shared.id, a)
    world.book(shared.id, b)
    world.book(world.hub_citizen().id, a)
    a.sync()
    b.sync()
    b.record_dose(shared.id)
    b.sync()
    with world.hub.read_sessions() as session:
        fast = {d.table: d for d in verify_service.digests(session, a.site_id)}
        for table in verify_service.VERIFIED:
            rows = verify_service.replica_rows(session, a.site_id, table)
            assert (fast[table].count, fast[table].digest) == (len(rows), replica_digest(rows))
    assert fast["dose_records"].count == 1
    assert fast["citizens"].count == 2


def test_receipts_recorded_at_the_hub_are_not_in_the_site_replica(
    migrated_url: str,
) -> None:
    # The demo's stock history books receipts at the hub for each site; receipts
    # travel up only, so a site never holds them and must not be asked to.
    from datetime import date

    from central.db import Receipt, Site, make_engine
    from central.demo.generate import generate_demo

    engine = make_engine(migrated_url)
    try:
        generate_demo(engine, citizens=50, sites=2, seed=3, start=date(2021, 6, 1), workers=1)
        with sa.orm.Session(engine) as session:
            site_id = session.scalars(sa.select(Site.id).order_by(Site.code)).first()
            assert site_id is not None
            held_at_hub = session.scalar(
                sa.select(sa.func.count()).select_from(Receipt).where(Receipt.site_id == site_id)
            )
            listed = verify_service.replica_rows(session, site_id, "receipts")
    finally:
        engine.dispose()
    assert held_at_hub
    assert listed == []
