"""Check-in: finding the person by JMBG, MRZ or invitation code, and recording arrival."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.local_db import models as m
from app.local_db.unit_of_work import session_scope
from app.services import errors
from app.services.check_in import (
    check_in,
    find_by_appointment_code,
    find_by_jmbg,
    find_by_mrz,
)
from domain.appointment_status import AppointmentStatus
from domain.eligibility import CitizenFacts, check_eligibility
from domain.jmbg import Sex, make_jmbg, parse_jmbg
from domain.mrz import MrzDocument, make_td1, make_td3, parse_mrz
from tests.app.services.site import NOW, NURSE, TODAY, ClinicSite, new_jmbg


def citizen_jmbg(clinic: ClinicSite, citizen_id: object) -> str:
    with session_scope(clinic.engine, write=False) as session:
        jmbg = session.get_one(m.Citizen, citizen_id).jmbg
    assert jmbg is not None
    return jmbg


def test_find_by_jmbg_gives_todays_appointment_and_eligibility(clinic: ClinicSite) -> None:
    citizen = clinic.citizen()
    clinic.appointment(citizen, day=TODAY - timedelta(days=1))  # yesterday's does not count
    appointment_id = clinic.appointment(citizen, at=time(11, 20))
    jmbg = citizen_jmbg(clinic, citizen)

    found = find_by_jmbg(clinic.engine, clinic.clock, parse_jmbg(jmbg, today=TODAY))

    assert found.citizen.citizen_id == citizen
    assert found.citizen.jmbg_masked == jmbg[:7] + "******"
    assert found.appointment is not None
    assert found.appointment.appointment_id == appointment_id
    assert found.appointment.slot_start.strftime("%H:%M") == "11:20"
    assert found.appointment.status is AppointmentStatus.SCHEDULED
    assert found.eligibility is not None
    assert found.eligibility.eligible
    assert found.doses == ()


def test_eligibility_shows_every_blocking_reason(clinic: ClinicSite) -> None:
    # Too young for the product and in a group that is not scheduled yet.
    citizen = clinic.citizen(
        birth_date=date(2010, 3, 3),
        jmbg=None,
        foreign_document="P:AUT:X1234567",
        priority_group="general",
    )
    appointment_id = clinic.appointment(citizen)
    found = find_by_appointment_code(clinic.engine, clinic.clock, appointment_id)
    assert found.eligibility is not None
    codes = {reason.code for reason in found.eligibility.blocking}
    assert {"eligibility.group_not_scheduled", "eligibility.too_young"} <= codes


def test_no_appointment_today_leaves_the_walk_in_path(clinic: ClinicSite) -> None:
    citizen = clinic.citizen()
    found = find_by_jmbg(
        clinic.engine, clinic.clock, parse_jmbg(citizen_jmbg(clinic, citizen), today=TODAY)
    )
    assert found.appointment is None
    assert found.eligibility is None


def test_unknown_jmbg_says_to_register_a_walk_in(clinic: ClinicSite) -> None:
    jmbg = parse_jmbg(new_jmbg(4321), today=TODAY)
    with pytest.raises(errors.CitizenNotFound) as raised:
        find_by_jmbg(clinic.engine, clinic.clock, jmbg)
    assert "walk-in" in str(raised.value)
    assert jmbg.value not in str(raised.value)  # the number is masked


def test_serbian_id_card_mrz_finds_the_person_by_the_jmbg_inside(clinic: ClinicSite) -> None:
    citizen = clinic.citizen(family_name_latin="Đorđević", given_name_latin="Čedomir")
    jmbg = citizen_jmbg(clinic, citizen)
    appointment_id = clinic.appointment(citizen)
    zone = make_td1(
        document_number="009876543",
        birth_date=parse_jmbg(jmbg, today=TODAY).birth_date,
        sex=Sex.FEMALE,
        expiry_date=date(2030, 1, 1),
        surname="Đorđević",
        given_names="Čedomir",
        optional_data=jmbg,
    )
    document = parse_mrz(zone, today=TODAY)
    found = find_by_mrz(clinic.engine, clinic.clock, document)
    assert found.citizen.citizen_id == citizen
    assert found.appointment is not None
    assert found.appointment.appointment_id == appointment_id


def test_foreign_passport_mrz_matches_document_number_then_name_and_birth(
    clinic: ClinicSite,
) -> None:
    born = date(1970, 5, 6)
    by_document = clinic.citizen(
        jmbg=None, foreign_document="P:AUT:U1234567", birth_date=born, family_name_latin="Huber"
    )
    by_name = clinic.citizen(
        jmbg=None,
        foreign_document="P:DEU:C01X00T47",
        birth_date=born,
        family_name_latin="Müller",
        given_name_latin="Anna",
    )

    def passport(number: str, state: str, surname: str, given: str) -> MrzDocument:
        return parse_mrz(
            make_td3(
                document_number=number,
                birth_date=born,
                sex=Sex.FEMALE,
                expiry_date=date(2030, 1, 1),
                surname=surname,
                given_names=given,
                issuing_state=state,
                nationality=state,
            ),
            today=TODAY,
        )

    found = find_by_mrz(clinic.engine, clinic.clock, passport("U1234567", "AUT", "HUBER", "EVA"))
    assert found.citizen.citizen_id == by_document
    # A renewed passport (new number): surname and date of birth still find her.
    found = find_by_mrz(clinic.engine, clinic.clock, passport("C99999999", "DEU", "MULLER", "ANNA"))
    assert found.citizen.citizen_id == by_name


def test_appointment_code_from_another_day_or_site_is_refused(clinic: ClinicSite) -> None:
    citizen = clinic.citizen()
    tomorrow = clinic.appointment(citizen, day=TODAY + timedelta(days=1))
    with pytest.raises(errors.AppointmentNotToday) as raised:
        find_by_appointment_code(clinic.engine, clinic.clock, tomorrow)
    assert "02.06.2021." in str(raised.value)
    with pytest.raises(errors.AppointmentNotFound):
        find_by_appointment_code(
            clinic.engine,
            clinic.clock,
            NURSE,  # any id that is no appointment here
        )


def test_check_in_appends_one_event_and_queues_it(clinic: ClinicSite) -> None:
    citizen = clinic.citizen()
    appointment_id = clinic.appointment(citizen, events=(m.AppointmentEventKind.SCHEDULED,))
    first = check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    assert not first.already_checked_in
    assert first.checked_in_at == NOW
    again = check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    assert again.already_checked_in
    assert again.event_id == first.event_id

    with session_scope(clinic.engine, write=False) as session:
        events = session.scalars(
            sa.select(m.AppointmentEvent)
            .where(m.AppointmentEvent.appointment_id == appointment_id)
            .order_by(m.AppointmentEvent.hlc)
        ).all()
    assert [e.kind for e in events] == [
        m.AppointmentEventKind.SCHEDULED,
        m.AppointmentEventKind.CHECKED_IN,
    ]
    assert events[1].created_by == NURSE
    outbox = clinic.outbox()
    assert [kind for kind, _ in outbox] == ["appointment_event"]
    assert outbox[0][1]["kind"] == "checked_in"
    assert outbox[0][1]["appointment_id"] == str(appointment_id)


def test_check_in_sorts_after_a_hub_event_stamped_in_the_future(clinic: ClinicSite) -> None:
    """The hub's clock runs ahead: the check-in must still be the latest event by HLC."""
    citizen = clinic.citizen()
    appointment_id = clinic.appointment(citizen)
    with session_scope(clinic.engine) as session:
        ahead = NOW + timedelta(hours=5)
        session.add(
            m.AppointmentEvent(
                appointment_id=appointment_id,
                kind=m.AppointmentEventKind.SCHEDULED,
                occurred_at=ahead,
                hlc=f"{int(ahead.timestamp() * 1000):012x}.0000.hub",
                origin_site_id=None,
                created_at=ahead,
                details={},
            )
        )
    check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    with session_scope(clinic.engine, write=False) as session:
        latest = session.scalars(
            sa.select(m.AppointmentEvent.kind)
            .where(m.AppointmentEvent.appointment_id == appointment_id)
            .order_by(m.AppointmentEvent.hlc.desc())
        ).first()
    assert latest == m.AppointmentEventKind.CHECKED_IN


@pytest.mark.parametrize("kind", [m.AppointmentEventKind.CANCELLED, m.AppointmentEventKind.DONE])
def test_a_closed_appointment_cannot_be_checked_in(
    clinic: ClinicSite, kind: m.AppointmentEventKind
) -> None:
    citizen = clinic.citizen()
    appointment_id = clinic.appointment(citizen, events=(kind,))
    with pytest.raises(errors.AppointmentClosed):
        check_in(clinic.engine, clinic.clock, NURSE, appointment_id)


def test_a_late_arrival_marked_no_show_can_still_check_in(clinic: ClinicSite) -> None:
    citizen = clinic.citizen()
    appointment_id = clinic.appointment(citizen, events=(m.AppointmentEventKind.NO_SHOW,))
    assert not check_in(clinic.engine, clinic.clock, NURSE, appointment_id).already_checked_in


def test_an_unknown_or_inactive_user_cannot_check_in(clinic: ClinicSite) -> None:
    citizen = clinic.citizen()
    appointment_id = clinic.appointment(citizen)
    with pytest.raises(errors.UnknownUser):
        check_in(clinic.engine, clinic.clock, citizen, appointment_id)
    assert clinic.outbox() == []


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(born=st.dates(date(1921, 1, 1), date(2003, 1, 1)), serial=st.integers(0, 499))
def test_any_valid_jmbg_read_from_an_id_card_finds_its_holder(
    clinic: ClinicSite, born: date, serial: int
) -> None:
    """Whatever JMBG a Serbian ID card carries, the MRZ path and the typed path agree."""
    try:
        jmbg = make_jmbg(born, 71, serial, Sex.MALE)
    except ValueError:
        return  # a serial the registry never issues
    with session_scope(clinic.engine, write=False) as session:
        known = session.scalar(sa.select(m.Citizen.id).where(m.Citizen.jmbg == jmbg))
    citizen = known or clinic.citizen(jmbg=jmbg, birth_date=born, sex=Sex.MALE)
    zone = make_td1(
        document_number="001234567",
        birth_date=born,
        sex=Sex.MALE,
        expiry_date=date(2031, 1, 1),
        surname="Petrović",
        given_names="Jovan",
        optional_data=jmbg,
    )
    by_mrz = find_by_mrz(clinic.engine, clinic.clock, parse_mrz(zone, today=TODAY))
    by_jmbg = find_by_jmbg(clinic.engine, clinic.clock, parse_jmbg(jmbg, today=TODAY))
    assert by_mrz.citizen == by_jmbg.citizen
    assert by_mrz.citizen.citizen_id == citizen


def test_eligibility_matches_the_domain_answer(clinic: ClinicSite) -> None:
    citizen = clinic.citizen(conditions=[])
    appointment_id = clinic.appointment(citizen)
    found = find_by_appointment_code(clinic.engine, clinic.clock, appointment_id)
    expected = check_eligibility(
        CitizenFacts(found.citizen.birth_date, "health-workers"),
        "comirnaty",
        TODAY,
        clinic.rules,
    )
    assert found.eligibility == expected
