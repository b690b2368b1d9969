"""A site and the hub in one process: doses and events reach the hub once, rosters the site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.local_db.models.appointments import Appointment as LocalAppointment
from app.local_db.models.appointments import AppointmentEventKind
from app.local_db.models.citizens import Citizen as LocalCitizen
from app.local_db.models.doses import DoseRecord as LocalDose
from app.local_db.models.sync import OutboxEntry
from app.local_db.unit_of_work import session_scope
from central.db import AppointmentEvent, DoseRecord, Quarantine, SyncBatch
from tests.app.sync.world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(f"sqlite:///{tmp_path / 'central.sqlite'}", tmp_path)
    yield w
    w.close()


def _outbox(store: sa.Engine) -> int:
    with session_scope(store, write=False) as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry)) or 0)


def test_roster_reaches_site_and_dose_reaches_hub_once(world: World) -> None:
    site = world.add_site("NS-01")
    citizen = world.hub_citizen()
    appointment_id = world.book(citizen.id, site)

    first = site.sync()
    assert first.pulled >= 3
    assert not first.skipped
    with session_scope(site.store, write=False) as session:
        local = session.get(LocalCitizen, citizen.id)
        assert local is not None
        assert local.jmbg == citizen.jmbg
        assert session.get(LocalAppointment, appointment_id) is not None

    site.record_event(appointment_id, AppointmentEventKind.CHECKED_IN)
    dose_id = site.record_dose(citizen.id, appointment_id=appointment_id)
    report = site.sync()
    assert report.pushed == 2
    assert report.applied_at_hub == 2
    assert _outbox(site.store) == 0
    assert world.hub_count(DoseRecord, id=dose_id) == 1
    assert world.hub_count(AppointmentEvent, appointment_id=appointment_id) == 2
    assert report.verified

    again = site.sync()
    assert again.pushed == 0
    assert again.pulled == 0
    assert again.verified


def test_a_batch_lost_after_the_hub_committed_is_answered_from_store(world: World) -> None:
    site = world.add_site("NS-02")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    site.sync()
    dose_id = site.record_dose(citizen.id)

    class LoseAnswer:
        """The hub commits, the answer never arrives (the client dies before its ack)."""

        def __init__(self, inner: object) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def push(self, request: object) -> object:
            self.inner.push(request)  # type: ignore[attr-defined]
            from app.sync.errors import HubUnreachable

            raise HubUnreachable(detail="connection reset")

    real = site.engine.transport
    site.engine.transport = LoseAnswer(real)  # type: ignore[assignment]
    with pytest.raises(Exception, match="could not be reached"):
        site.sync()
    assert _outbox(site.store) == 1  # not acknowledged: kept
    site.engine.transport = real
    report = site.sync()
    assert report.pushed == 1
    assert report.applied_at_hub == 1
    assert world.hub_count(DoseRecord, id=dose_id) == 1
    assert world.hub_count(SyncBatch) == 1
    assert _outbox(site.store) == 0


def test_same_id_other_payload_is_quarantined_not_dropped(world: World) -> None:
    site = world.add_site("NS-03")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    site.sync()
    dose_id = site.record_dose(citizen.id)
    site.sync()
    with session_scope(site.store) as session:
        row = session.scalars(sa.select(LocalDose).where(LocalDose.id == dose_id)).one()
        from app.sync.outbox import record_change
        from app.sync.wire_forms import dose_payload

        payload = dose_payload(row)
        payload["dose_number"] = 2
        record_change(session, "dose_record", dose_id, payload)
    report = site.sync()
    assert len(report.quarantined) == 1
    assert "conflicting_payload" in report.quarantined[0]
    assert world.hub_count(DoseRecord, id=dose_id) == 1
    assert world.hub_count(Quarantine, record_id=str(dose_id)) == 1


def test_a_dose_for_a_citizen_unknown_at_the_hub_is_quarantined(world: World) -> None:
    site = world.add_site("NS-04")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    site.sync()
    dose_id = site.record_dose(citizen.id)
    with session_scope(site.store) as session:
        entry = session.scalars(sa.select(OutboxEntry)).one()
        entry.payload = {**entry.payload, "lot_number": "NOPE"}
    report = site.sync()
    assert [q.split(": ")[1] for q in report.quarantined] == ["unknown_lot"]
    assert world.hub_count(DoseRecord, id=dose_id) == 0
    assert world.hub_count(Quarantine, reason_code="unknown_lot") == 1
    # In quarantine the dose reached the hub (a person must look): the replicas
    # agree, and it is not sent again round after round.
    assert report.verified
    assert report.resent == 0
    following = site.sync()
    assert following.pushed == 0
    assert world.hub_count(Quarantine, reason_code="unknown_lot") == 1


def test_other_sites_dose_reaches_the_site_holding_the_citizen(world: World) -> None:
    a, b = world.add_site("NS-05"), world.add_site("NS-06")
    citizen = world.hub_citizen()
    world.book(citizen.id, a)
    world.book(citizen.id, b)
    a.sync()
    b.sync()
    dose_id = a.record_dose(citizen.id)
    a.sync()
    b.sync()
    assert dose_id in b.local_ids(LocalDose)
