"""What the clinical services queue is what the hub accepts: a nurse's day, offline, then synced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.local_db import models as m
from app.local_db.unit_of_work import session_scope
from app.services.check_in import check_in, find_by_appointment_code
from app.services.vaccinate import InjectionSite, record_dose
from app.services.vials import discard_vial
from app.services.voids import void_dose
from app.services.walk_in import WalkInPerson, book_walk_in
from central.db import (
    Appointment,
    AppointmentEvent,
    Citizen,
    DoseRecord,
    DoseVoid,
    Lot,
    Quarantine,
    VialEvent,
)
from central.scheduling.demand import existing_appointments, waiting_citizens
from domain.data import rules_in_force
from tests.app.services.site import COMIRNATY, label
from tests.app.sync.world import NOW, SiteClient, World, new_jmbg


@pytest.fixture
def world(tmp_path: Path, sqlite_url: str) -> Iterator[World]:
    w = World(sqlite_url, tmp_path)
    with w.hub.sessions() as session, session.begin():
        session.add(
            Lot(
                gtin=COMIRNATY,
                lot_number="EW2239",
                product_id="comirnaty",
                expiry=date(2021, 12, 31),
                created_at=NOW,
                created_by="test",
            )
        )
    yield w
    w.close()


def staff_site(site: SiteClient) -> None:
    """Enrol the store and add the nurse (known to the hub) and a manager locally."""
    with session_scope(site.store) as session:
        session.add(
            m.SiteIdentity(
                site_id=site.site_id,
                site_code=site.code,
                site_name=f"Dom zdravlja {site.code}",
                municipality_code="Novi Sad",
                hub_url="in-process",
                credential_id="cred",
                credential_secret_sealed=b"\x01sealed",
                enrolled_at=NOW,
            )
        )
        session.add(
            m.LocalUser(
                id=site.nurse_id,
                username="nurse",
                full_name=f"Sestra {site.code}",
                role=m.Role.MANAGER,  # the only staff member: she may void too
                password_hash="$argon2id$v=19$m=65536,t=3,p=4$x$y",
                active=True,
                failed_logins=0,
                created_at=NOW,
                updated_at=NOW,
            )
        )


def test_a_day_recorded_offline_reaches_the_hub_without_quarantine(world: World) -> None:
    site = world.add_site("NS-01")
    staff_site(site)
    citizen = world.hub_citizen(priority_group="health-workers")
    appointment_id = world.book(citizen.id, site)
    assert not site.sync().skipped

    # Offline: check in, vaccinate from a new vial, record by mistake, void.
    found = find_by_appointment_code(site.store, site.clock, appointment_id)
    assert found.eligibility is not None
    assert found.eligibility.eligible
    check_in(site.store, site.clock, site.nurse_id, appointment_id)
    scan = label(COMIRNATY, "EW2239", expiry=date(2021, 12, 31))
    dose = record_dose(
        site.store, site.clock, site.nurse_id, appointment_id, scan, InjectionSite.LEFT_DELTOID
    )
    void_dose(site.store, site.clock, site.nurse_id, dose.dose_id, "recorded on the wrong person")
    discard_vial(site.store, site.clock, site.nurse_id, scan, "dropped")

    report = site.sync()
    assert report.ok, report.error
    assert report.quarantined == []
    assert report.pushed == report.applied_at_hub == 7  # 2 events, dose, 3 vial events, void
    assert world.hub_count(DoseRecord, id=dose.dose_id) == 1
    assert world.hub_count(AppointmentEvent, appointment_id=appointment_id) == 3
    assert world.hub_count(VialEvent, vial_id=dose.vial_id) == 3  # opened, drawn, discarded
    assert world.hub_count(DoseVoid, dose_id=dose.dose_id) == 1
    assert world.hub_count(Quarantine) == 0
    with session_scope(site.store, write=False) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.OutboxEntry)) == 0


def test_a_walk_in_and_their_dose_reach_the_hub_linked_and_are_not_booked_again(
    world: World,
) -> None:
    site = world.add_site("NS-02")
    staff_site(site)
    assert not site.sync().skipped  # the site's hours and vaccinators come down
    walk_in = WalkInPerson(
        given_name="Dragan",
        family_name="Nikolić",
        municipality_code="Novi Sad",
        priority_group="health-workers",
        jmbg=new_jmbg(40),
    )

    # Offline: the person walks in, is booked, checked in and vaccinated.
    booked = book_walk_in(site.store, site.clock, site.nurse_id, walk_in, "comirnaty")
    scan = label(COMIRNATY, "EW2239", expiry=date(2021, 12, 31))
    dose = record_dose(
        site.store,
        site.clock,
        site.nurse_id,
        booked.appointment_id,
        scan,
        InjectionSite.LEFT_DELTOID,
    )

    report = site.sync()
    assert report.ok, report.error
    assert report.quarantined == []
    assert world.hub_count(Quarantine) == 0
    with world.hub.read_sessions() as session:
        assert session.get(Citizen, booked.citizen_id) is not None
        appointment = session.get_one(Appointment, booked.appointment_id)
        assert (appointment.site_id, appointment.origin_site_id) == (site.site_id, site.site_id)
        assert appointment.scheduler_run_id is None
        assert (appointment.product_id, appointment.dose_number) == ("comirnaty", 1)
        assert appointment.slot_start == booked.slot_start.replace(tzinfo=None).time()
        events = session.scalars(
            sa.select(AppointmentEvent.kind).where(
                AppointmentEvent.appointment_id == booked.appointment_id
            )
        ).all()
        assert sorted(events) == ["checked_in", "done"]
        hub_dose = session.get_one(DoseRecord, dose.dose_id)
        assert hub_dose.appointment_id == booked.appointment_id

        # The next scheduler run sees the walk-in done, and dose 2 not yet due.
        start = NOW.date()
        standing = existing_appointments(session, start)
        assert [(a.citizen_id, a.status.value) for a in standing] == [(booked.citizen_id, "done")]
        waiting = waiting_citizens(session, rules_in_force(start), start, standing)
        assert booked.citizen_id not in {w.id for w in waiting if w.dose_number == 1}

    # A second round moves nothing and quarantines nothing.
    again = site.sync()
    assert again.ok, again.error
    assert again.pushed == 0
    assert world.hub_count(Quarantine) == 0
