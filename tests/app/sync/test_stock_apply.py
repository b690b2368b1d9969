"""What a site applies of the new kinds: its facts back after a restore, appointment
status whatever order events arrive in, and rebook requests the hub's scheduler honours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.local_db.models.appointments import AppointmentEventKind
from app.local_db.models.logistics import Receipt as LocalReceipt
from app.local_db.models.logistics import StockCount as LocalCount
from app.local_db.models.logistics import StockCountLine as LocalCountLine
from app.local_db.models.stock import Vial as LocalVial
from app.local_db.models.stock import VialEvent as LocalVialEvent
from app.local_db.models.stock import VialEventKind
from app.local_db.unit_of_work import session_scope
from app.sync.appointment_status import appointment_status, appointment_statuses
from central.db import Appointment, AppointmentEvent, StockMovement
from central.db import AppointmentEventKind as HubKind
from central.scheduling.run import run_schedule
from central.services.appointments import latest_kind, new_event
from central.services.records import announce, upsert_change
from domain.appointment_status import AppointmentStatus
from domain.ids import uuid7
from tests.app.sync.facts import (
    CountLine,
    count_stock,
    hub_shipment,
    new_vial,
    receive,
    vial_event,
    world_lot_id,
)
from tests.app.sync.world import GTIN, LOT, NOW, World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(f"sqlite:///{tmp_path / 'central.sqlite'}", tmp_path)
    yield w
    w.close()


def test_a_restored_site_gets_its_stock_facts_back(world: World, tmp_path: Path) -> None:
    site = world.add_site("ST-01")
    site.sync()
    backup = site.backup(tmp_path / "backup.sqlite")
    site.restore(backup)
    shipment_id = hub_shipment(world, site, [(world_lot_id(world), 10)], reference="DN-1")
    site.sync()
    vial_id = new_vial(site, "SER100")
    events = {
        vial_event(site, vial_id, VialEventKind.RECEIVED),
        vial_event(site, vial_id, VialEventKind.DISCARDED, reason="broken"),
    }
    receipt_id = receive(site, shipment_id, "DN-1")
    count_id, line_ids = count_stock(site, [CountLine(GTIN, LOT, 9, 10)])
    assert site.sync().applied_at_hub == 4

    site.restore(backup)  # last week's copy: none of it is here
    assert site.local_ids(LocalVialEvent) == set()
    report = site.sync()

    assert report.restored
    assert not report.skipped
    assert site.local_ids(LocalVialEvent) == events
    assert site.local_ids(LocalVial) == {vial_id}
    assert site.local_ids(LocalReceipt) == {receipt_id}
    assert site.local_ids(LocalCount) == {count_id}
    assert site.local_ids(LocalCountLine) == set(line_ids)
    with session_scope(site.store, write=False) as session:
        vial = session.get_one(LocalVial, vial_id)
        assert (vial.serial, vial.lot_number, vial.doses_per_vial) == ("SER100", LOT, 6)
        discarded = session.scalars(
            sa.select(LocalVialEvent).where(LocalVialEvent.kind == VialEventKind.DISCARDED)
        ).one()
        assert discarded.reason == "broken"
    again = site.sync()
    assert (again.pushed, again.applied_here) == (0, 0)


def _hub_event(world: World, appointment_id: object, kind: str, at: datetime) -> None:
    """An event made at the hub (central staff), announced to the appointment's site."""
    with world.hub.sessions() as session, session.begin():
        appointment = session.get_one(Appointment, appointment_id)
        event = new_event(appointment.id, HubKind(kind), now=at, actor="staff:test", reason="test")
        session.add(event)
        announce(session, [upsert_change(event, audience_site_id=appointment.site_id)], at)


def _hub_status(world: World, appointment_id: object) -> str:
    with world.hub.read_sessions() as session:
        kind = session.scalar(sa.select(latest_kind()).where(Appointment.id == appointment_id))
        return str(kind)


def test_a_late_reschedule_does_not_undo_a_done_appointment(world: World) -> None:
    site = world.add_site("ST-02")
    citizen = world.hub_citizen()
    appointment_id = world.book(citizen.id, site)
    site.sync()
    site.clock.advance(timedelta(minutes=30))
    site.record_event(appointment_id, AppointmentEventKind.CHECKED_IN)
    site.record_event(appointment_id, AppointmentEventKind.DONE)
    # Central staff, not knowing, reschedule it an hour later (before the site syncs).
    _hub_event(world, appointment_id, "rescheduled", NOW + timedelta(hours=1))
    site.sync()
    with session_scope(site.store, write=False) as session:
        assert appointment_status(session, appointment_id) is AppointmentStatus.DONE
    assert _hub_status(world, appointment_id) == "done"


def test_statuses_of_many_appointments_at_once(world: World) -> None:
    site = world.add_site("ST-03")
    booked = [world.book(world.hub_citizen().id, site) for _ in range(3)]
    site.sync()
    site.record_event(booked[0], AppointmentEventKind.NO_SHOW)
    _hub_event(world, booked[0], "cancelled", NOW + timedelta(days=1))
    _hub_event(world, booked[1], "cancelled", NOW + timedelta(days=1))
    site.sync()
    missing = uuid7()
    with session_scope(site.store, write=False) as session:
        statuses = appointment_statuses(session, [*booked, missing])
    assert statuses == {
        booked[0]: AppointmentStatus.NO_SHOW,
        booked[1]: AppointmentStatus.CANCELLED,
        booked[2]: AppointmentStatus.SCHEDULED,
        missing: AppointmentStatus.SCHEDULED,
    }


def test_a_rebook_request_from_the_site_is_booked_by_the_next_run(world: World) -> None:
    start = date(2021, 6, 2)
    site = world.add_site("ST-04")
    with world.hub.sessions() as session, session.begin():
        session.add(
            StockMovement(
                kind="receipt",
                occurred_at=NOW,
                from_location="warehouse",
                to_location=f"site:{site.site_id}",
                lot_id=world_lot_id(world),
                quantity_vials=10,
                created_at=NOW,
                created_by="test",
                stored_at=NOW,
            )
        )
    citizen = world.hub_citizen(priority_group="health-workers")
    old = world.book(citizen.id, site, day=start)
    site.sync()
    assert run_schedule(world.hub, start, 3, actor="operator:test").appointments == 0

    site.record_event(old, AppointmentEventKind.REBOOK_REQUESTED)
    assert site.sync().applied_at_hub == 1
    assert _hub_status(world, old) == "rebook_requested"
    summary = run_schedule(world.hub, start, 3, actor="operator:test")

    assert summary.appointments == 1
    with world.hub.read_sessions() as session:
        booked = session.scalars(
            sa.select(Appointment).where(
                Appointment.citizen_id == citizen.id, Appointment.id != old
            )
        ).all()
        assert len(booked) == 1
        assert booked[0].day >= start
        kinds = session.scalars(
            sa.select(AppointmentEvent.kind).where(AppointmentEvent.appointment_id == booked[0].id)
        ).all()
        assert kinds == ["scheduled"]
    site.sync()
    with session_scope(site.store, write=False) as session:
        assert appointment_status(session, old) is AppointmentStatus.REBOOK_REQUESTED
        assert appointment_status(session, booked[0].id) is AppointmentStatus.SCHEDULED
