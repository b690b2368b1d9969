"""Walk-ins: eligibility enforced, registration queued for the hub, booking only with room."""

from __future__ import annotations

import shutil
from datetime import date, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.local_db import models as m
from app.local_db.unit_of_work import session_scope
from app.services import errors
from app.services.check_in import find_by_jmbg
from app.services.roster import load_roster
from app.services.vaccinate import InjectionSite, record_dose
from app.services.walk_in import WalkInPerson, assess_walk_in, book_walk_in, day_capacity
from app.sync.apply import OPENING_HOURS_SETTING, VACCINATORS_SETTING
from domain.appointment_status import AppointmentStatus
from domain.i18n import message
from domain.jmbg import parse_jmbg
from tests.app.services.site import (
    COMIRNATY,
    NOW,
    NURSE,
    SITE_ID,
    TODAY,
    ClinicSite,
    label,
    new_jmbg,
)


def person(n: int, **overrides: object) -> WalkInPerson:
    values: dict[str, object] = {
        "given_name": "Dragan",
        "family_name": "Nikolić",
        "municipality_code": "70092",
        "priority_group": "health-workers",
        "jmbg": new_jmbg(n, born=date(1958, 3, 1)),
    }
    values.update(overrides)
    return WalkInPerson(**values)  # type: ignore[arg-type]


def set_setting(clinic: ClinicSite, key: str, value: object) -> None:
    with session_scope(clinic.engine) as session:
        session.get_one(m.Setting, key).value = value


def test_a_new_eligible_walk_in_is_registered_booked_checked_in_and_vaccinated(
    clinic: ClinicSite,
) -> None:
    walk_in = person(1)
    assessment = assess_walk_in(clinic.engine, clinic.clock, walk_in)
    assert assessment.known is None
    assert "comirnaty" in assessment.eligible_products
    assert "sputnik-v-2" not in assessment.eligible_products  # never a first dose
    assert assessment.capacity.has_room

    booked = book_walk_in(clinic.engine, clinic.clock, NURSE, walk_in, "comirnaty")
    assert booked.registered
    assert booked.dose_number == 1
    assert booked.slot_start.strftime("%H:%M") == "10:00"  # the slot running now

    with session_scope(clinic.engine, write=False) as session:
        citizen = session.get_one(m.Citizen, booked.citizen_id)
        assert citizen.walk_in
        assert citizen.family_name_cyrillic == "Николић"
        assert citizen.birth_date == parse_jmbg(walk_in.jmbg or "", today=TODAY).birth_date
        assert citizen.field_hlc  # every field stamped for the merge at the hub
    outbox = clinic.outbox()
    # The person, then the appointment, then what happened on it: the hub's order too.
    assert [kind for kind, _ in outbox] == ["citizen", "walk_in_appointment", "appointment_event"]
    assert outbox[0][1]["values"]["last_name_latin"] == "Nikolić"
    appointment = outbox[1][1]
    assert appointment["id"] == str(booked.appointment_id)
    assert appointment["citizen_id"] == str(booked.citizen_id)
    assert appointment["site_id"] == str(SITE_ID)
    assert appointment["product_code"] == "comirnaty"
    assert appointment["dose_number"] == 1
    assert appointment["booked_by"] == str(NURSE)
    assert outbox[2][1]["appointment_id"] == str(booked.appointment_id)
    assert outbox[2][1]["kind"] == "checked_in"

    (row,) = load_roster(clinic.engine, clinic.clock).rows
    assert row.status is AppointmentStatus.CHECKED_IN
    assert row.walk_in

    dose = record_dose(
        clinic.engine, clinic.clock, NURSE, booked.appointment_id, label(COMIRNATY),
        InjectionSite.RIGHT_DELTOID,
    )  # fmt: skip
    assert dose.citizen_id == booked.citizen_id
    kinds = [kind for kind, _ in clinic.outbox()]
    assert kinds.count("walk_in_appointment") == 1
    assert kinds.count("appointment_event") == 2  # checked in, done
    assert kinds.count("dose_record") == 1
    assert kinds.index("walk_in_appointment") < kinds.index("appointment_event")


def test_an_ineligible_walk_in_is_refused_with_the_reasons_and_nothing_is_written(
    clinic: ClinicSite,
) -> None:
    too_young = person(2, jmbg=new_jmbg(2, born=date(2008, 1, 1)), priority_group="general")
    with pytest.raises(errors.NotEligible) as raised:
        book_walk_in(clinic.engine, clinic.clock, NURSE, too_young, "comirnaty")
    english = str(raised.value)
    assert "Comirnaty" in english
    assert "Do not vaccinate" in english
    serbian = message(raised.value, "sr-Latn")
    assert serbian.startswith("Osoba danas ne može da primi Comirnaty")
    assert clinic.outbox() == []
    with session_scope(clinic.engine, write=False) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Citizen)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Appointment)) == 0


def test_a_product_that_cannot_start_a_series_is_refused(clinic: ClinicSite) -> None:
    with pytest.raises(errors.NotEligible):
        book_walk_in(clinic.engine, clinic.clock, NURSE, person(3), "sputnik-v-2")


def test_a_known_citizen_is_booked_without_registering_again(clinic: ClinicSite) -> None:
    jmbg = new_jmbg(4, born=date(1961, 1, 1))
    citizen = clinic.citizen(jmbg=jmbg, birth_date=parse_jmbg(jmbg, today=TODAY).birth_date)
    clinic.past_dose(citizen, given=NOW - timedelta(days=30))
    walk_in = person(4, jmbg=jmbg)
    assessment = assess_walk_in(clinic.engine, clinic.clock, walk_in)
    assert assessment.known is not None
    assert assessment.dose_number == 2
    assert assessment.eligible_products == ("comirnaty",)
    booked = book_walk_in(clinic.engine, clinic.clock, NURSE, walk_in, "comirnaty")
    assert not booked.registered
    assert booked.citizen_id == citizen
    assert booked.dose_number == 2
    # Nothing about the citizen changed: only the booking and the check-in travel.
    assert [kind for kind, _ in clinic.outbox()] == ["walk_in_appointment", "appointment_event"]


def test_someone_already_booked_today_is_sent_to_their_appointment(clinic: ClinicSite) -> None:
    jmbg = new_jmbg(5, born=date(1962, 1, 1))
    citizen = clinic.citizen(jmbg=jmbg, birth_date=parse_jmbg(jmbg, today=TODAY).birth_date)
    clinic.appointment(citizen, at=time(14, 30))
    with pytest.raises(errors.AlreadyBookedToday) as raised:
        book_walk_in(clinic.engine, clinic.clock, NURSE, person(5, jmbg=jmbg), "comirnaty")
    assert "14:30" in str(raised.value)


def test_a_full_day_is_refused(tmp_path: Path, migrated_store: Path) -> None:
    path = tmp_path / "full.sqlite"
    shutil.copyfile(migrated_store, path)
    clinic = ClinicSite.open(path, vaccinators=1)
    try:
        set_setting(clinic, OPENING_HOURS_SETTING, {"tue": [["10:00", "10:30"]]})
        for n in range(3):  # 10:00, 10:10, 10:20: every slot taken
            clinic.appointment(clinic.citizen(), at=time(10, 10 * n))
        capacity = day_capacity(clinic.engine, clinic.clock)
        assert (capacity.capacity, capacity.booked, capacity.has_room) == (3, 3, False)
        with pytest.raises(errors.NoCapacityToday) as raised:
            book_walk_in(clinic.engine, clinic.clock, NURSE, person(6), "comirnaty")
        assert "3 of 3" in str(raised.value)
        assert clinic.outbox() == []
    finally:
        clinic.engine.dispose()


def test_a_cancelled_appointment_frees_its_slot(clinic: ClinicSite) -> None:
    set_setting(clinic, OPENING_HOURS_SETTING, {"tue": [["10:00", "10:10"]]})
    set_setting(clinic, VACCINATORS_SETTING, 1)
    clinic.appointment(clinic.citizen(), at=time(10, 0), events=(m.AppointmentEventKind.CANCELLED,))
    booked = book_walk_in(clinic.engine, clinic.clock, NURSE, person(7), "comirnaty")
    assert booked.slot_start.strftime("%H:%M") == "10:00"


def test_slots_already_over_are_not_offered(clinic: ClinicSite) -> None:
    clinic.clock.advance(timedelta(hours=9, minutes=55))  # 19:55 in Belgrade
    assert day_capacity(clinic.engine, clinic.clock).next_free_slot is not None
    clinic.clock.advance(timedelta(minutes=10))  # 20:05: the day is over
    with pytest.raises(errors.NoCapacityToday):
        book_walk_in(clinic.engine, clinic.clock, NURSE, person(8), "comirnaty")


def test_a_closed_day_and_missing_hours_are_refused(clinic: ClinicSite) -> None:
    set_setting(clinic, OPENING_HOURS_SETTING, {"mon": [["08:00", "20:00"]]})
    with pytest.raises(errors.SiteClosedToday):
        book_walk_in(clinic.engine, clinic.clock, NURSE, person(9), "comirnaty")
    with session_scope(clinic.engine) as session:
        session.delete(session.get_one(m.Setting, OPENING_HOURS_SETTING))
    with pytest.raises(errors.CapacityUnknown):
        book_walk_in(clinic.engine, clinic.clock, NURSE, person(9), "comirnaty")


def test_details_that_cannot_be_right_are_refused(clinic: ClinicSite) -> None:
    jmbg = new_jmbg(10, born=date(1958, 3, 1))
    wrong_birth = person(10, jmbg=jmbg, birth_date=date(1959, 1, 1))
    with pytest.raises(errors.InvalidWalkIn) as raised:
        book_walk_in(clinic.engine, clinic.clock, NURSE, wrong_birth, "comirnaty")
    assert "datum rođenja" in message(raised.value, "sr-Latn")
    with pytest.raises(errors.InvalidWalkIn):
        book_walk_in(clinic.engine, clinic.clock, NURSE, person(11, given_name=" "), "comirnaty")
    with pytest.raises(errors.InvalidWalkIn):
        book_walk_in(clinic.engine, clinic.clock, NURSE, person(12, jmbg=None), "comirnaty")


def test_a_foreigner_without_jmbg_is_registered_by_document(clinic: ClinicSite) -> None:
    foreigner = person(
        13,
        jmbg=None,
        foreign_document="P:AUT:U7654321",
        birth_date=date(1980, 2, 2),
        sex=parse_jmbg(new_jmbg(1), today=TODAY).sex,
    )
    booked = book_walk_in(clinic.engine, clinic.clock, NURSE, foreigner, "comirnaty")
    assert booked.registered
    again = assess_walk_in(clinic.engine, clinic.clock, foreigner)
    assert again.known is not None
    assert again.known.citizen_id == booked.citizen_id


def test_the_booked_walk_in_is_found_at_the_desk(clinic: ClinicSite) -> None:
    walk_in = person(14)
    booked = book_walk_in(clinic.engine, clinic.clock, NURSE, walk_in, "comirnaty")
    found = find_by_jmbg(clinic.engine, clinic.clock, parse_jmbg(walk_in.jmbg or "", today=TODAY))
    assert found.appointment is not None
    assert found.appointment.appointment_id == booked.appointment_id
    assert found.appointment.status is AppointmentStatus.CHECKED_IN
