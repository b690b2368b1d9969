"""Trust but verify, end to end on both hub engines: a damaged replica is repaired, never wiped.

After each round the site compares every verified table with the hub
(`central.services.sync.verify`, `app.sync.replica`). Rows lost or left
stale in the site store come back by a targeted re-pull of exactly those
rows; records born at the site that the hub lacks (their outbox row was
lost) are queued again and sent in the same round.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.local_db.models import APPEND_ONLY_TABLES
from app.local_db.models.appointments import AppointmentEvent as LocalEvent
from app.local_db.models.citizens import Citizen as LocalCitizen
from app.local_db.models.doses import DoseRecord as LocalDose
from app.local_db.models.doses import DoseVoid as LocalVoid
from app.local_db.models.logistics import Receipt as LocalReceipt
from app.local_db.models.stock import Lot as LocalLot
from app.local_db.models.stock import Recall as LocalRecall
from app.local_db.models.stock import VialEvent as LocalVialEvent
from app.local_db.models.stock import VialEventKind
from app.local_db.models.sync import OutboxEntry
from app.local_db.unit_of_work import session_scope
from app.sync import replica
from app.sync.citizen_writes import write_fields
from central.db import Citizen, DoseRecord, DoseVoid, Recall, Receipt, VialEvent
from central.services.sync.publish import publish
from domain.sync_wire import replica_digest
from tests.app.sync.facts import (
    hub_lot,
    hub_recall,
    hub_shipment,
    new_vial,
    receive,
    vial_event,
    void_dose,
    world_lot_id,
)
from tests.app.sync.world import SiteClient, World


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    yield w
    w.close()


def _counts(site: SiteClient) -> dict[str, int]:
    with session_scope(site.store, write=False) as session:
        return {table: len(replica.held(session, table)) for table in replica.TABLES}


def _agrees(world: World, site: SiteClient) -> bool:
    view = site.engine.transport.verify()
    for digest in [*view.tables, *view.replica_tables]:
        with session_scope(site.store, write=False) as session:
            local = replica.held(session, digest.table)
        if (len(local), replica_digest(local.items())) != (digest.count, digest.digest):
            return False
    return True


def _delete(site: SiteClient, model: Any, record_id: uuid.UUID) -> None:
    """Lose one row from the site store behind sync's back (a damaged disk, a bad tool).

    The store's append-only guard is lifted for the deletion: damage does not ask.
    """
    table = model.__tablename__
    guard = f"{table}_no_delete"
    with session_scope(site.store) as session:
        if table in APPEND_ONLY_TABLES:
            session.execute(sa.text(f"DROP TRIGGER {guard}"))
        session.execute(sa.delete(model).where(model.id == record_id))
        if table in APPEND_ONLY_TABLES:
            session.execute(
                sa.text(
                    f"CREATE TRIGGER {guard} BEFORE DELETE ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'imuno:append_only:{table}'); END"
                )
            )


def _busy_site(world: World) -> tuple[SiteClient, SiteClient, uuid.UUID]:
    """Site `a` holding a citizen with an appointment, a dose from site `b`, a lot and a recall."""
    a, b = world.add_site("VR-A"), world.add_site("VR-B")
    citizen = world.hub_citizen()
    world.book(citizen.id, a)
    world.book(citizen.id, b)
    hub_recall(world, hub_lot(world, "LOT77B"))
    a.sync()
    b.sync()
    b.record_dose(citizen.id)
    b.sync()
    a.sync()
    assert _agrees(world, a)
    return a, b, citizen.id


def test_rows_lost_from_the_site_store_come_back_by_a_targeted_pull(world: World) -> None:
    a, _b, citizen_id = _busy_site(world)
    before = _counts(a)
    with session_scope(a.store, write=False) as session:
        lost = {
            LocalDose: session.scalars(sa.select(LocalDose.id)).one(),
            LocalEvent: session.scalars(sa.select(LocalEvent.id)).one(),
            LocalRecall: session.scalars(sa.select(LocalRecall.id)).one(),
        }
    for model, record_id in lost.items():
        _delete(a, model, record_id)
    assert not _agrees(world, a)

    report = a.sync()

    assert not report.verified  # it found the damage ...
    assert report.refetched == len(lost)  # ... and fetched exactly the lost rows
    assert report.resent == 0
    assert _counts(a) == before
    for model, record_id in lost.items():
        assert record_id in a.local_ids(model)
    assert a.sync().verified
    with session_scope(a.store, write=False) as session:
        assert session.get(LocalCitizen, citizen_id) is not None


def test_a_stale_citizen_and_a_missed_lift_of_a_recall_are_pulled_again(world: World) -> None:
    a, b, citizen_id = _busy_site(world)
    with world.hub.sessions() as session, session.begin():
        recall = session.scalars(sa.select(Recall)).one()
        recall.lifted_at, recall.lifted_by = world.clock.now(), "test"
        publish(session, [recall], world.clock.now())
    # b corrects the surname; a pulls it ... and a's store then loses that update.
    with session_scope(b.store) as session:
        citizen = session.get_one(LocalCitizen, citizen_id)
        write_fields(
            session, citizen, {"family_name_latin": "Nikolić"}, clock=b.hlc, now=b.clock.now()
        )
    b.sync()
    a.sync()
    with session_scope(a.store) as session:
        stale = session.get_one(LocalCitizen, citizen_id)
        stamps = dict(stale.field_hlc)
        stamps["family_name_latin"] = "0179c6962800.0000.hub"
        stale.field_hlc, stale.family_name_latin = stamps, "Staro"
        session.execute(sa.update(LocalRecall).values(lifted_at=None))
    assert not _agrees(world, a)

    report = a.sync()

    assert report.refetched == 2
    with session_scope(a.store, write=False) as session:
        assert session.get_one(LocalCitizen, citizen_id).family_name_latin == "Nikolić"
        assert session.scalars(sa.select(LocalRecall.lifted_at)).one() is not None
    with world.hub.read_sessions() as session:
        assert session.get_one(Citizen, citizen_id).last_name_latin == "Nikolić"
    assert a.sync().verified


def test_records_whose_outbox_rows_were_lost_are_sent_again(world: World) -> None:
    """The hub lacks records born here with nothing queued to send them: queued and sent."""
    site = world.add_site("VR-C")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    shipment_id = hub_shipment(world, site, [(world_lot_id(world), 10)], reference="DN-VR")
    site.sync()
    given = site.record_dose(citizen.id)
    site.sync()
    dose_id = site.record_dose(citizen.id, dose_number=2)
    void_id = void_dose(site, given)
    event_id = vial_event(site, new_vial(site, "VR0001"), VialEventKind.RECEIVED)
    receipt_id = receive(site, shipment_id, "DN-VR")
    with session_scope(site.store) as session:
        session.execute(sa.delete(OutboxEntry))  # the rows are gone, the records stay

    report = site.sync()

    assert report.pushed == 4  # nothing to push, then the four re-queued records
    assert report.resent == 4
    assert not report.verified
    for model, record_id in (
        (DoseRecord, dose_id),
        (DoseVoid, void_id),
        (VialEvent, event_id),
        (Receipt, receipt_id),
    ):
        assert world.hub_count(model, id=record_id) == 1
    with session_scope(site.store, write=False) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry)) == 0
        assert session.get(LocalReceipt, receipt_id) is not None
        assert session.get(LocalVoid, void_id) is not None
        assert session.get(LocalVialEvent, event_id) is not None
    following = site.sync()
    assert following.verified
    assert following.pushed == 0


def test_records_still_waiting_are_not_counted(world: World) -> None:
    """What waits in the outbox cannot be at the hub yet: no mismatch, no re-send."""
    site = world.add_site("VR-D")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    site.sync()
    dose_id = site.record_dose(citizen.id)
    with session_scope(site.store, write=False) as session:
        assert dose_id not in replica.held(session, "dose_records")
        assert replica.waiting(session, "dose_records") == {dose_id}
    assert _agrees(world, site)
    report = site.sync()
    assert (report.pushed, report.resent, report.verified) == (1, 0, True)
    assert world.hub_count(DoseRecord, id=dose_id) == 1


def test_lots_are_verified_as_announced(world: World) -> None:
    """A lot the hub created without announcing it (the world's first) is no mismatch."""
    site = world.add_site("VR-E")
    site.sync()
    assert site.sync().verified
    hub_lot(world, "LOT88C")
    with session_scope(site.store, write=False) as session:
        assert session.scalars(sa.select(LocalLot.id)).all() == []
    report = site.sync()  # pulls the new lot: agreed without any repair
    assert report.verified
    assert report.refetched == 0
