"""Vaccinate: the checks on a scanned vial, and the one transaction that records a dose."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.local_db import models as m
from app.local_db.errors import DoubleDose
from app.local_db.unit_of_work import session_scope
from app.services import errors
from app.services.check_in import check_in, find_by_appointment_code
from app.services.roster import load_roster
from app.services.vaccinate import (
    InjectionSite,
    RecordedDose,
    VialCheck,
    check_vial,
    record_dose,
)
from domain.appointment_status import AppointmentStatus
from domain.eligibility import InvalidDoseHistory
from domain.errors import DomainError
from domain.gs1 import Gs1Label, encode_gs1, parse_gs1
from domain.gtin import with_check_digit
from domain.i18n import message
from tests.app.services.site import (
    BBIBP,
    COMIRNATY,
    NOW,
    NURSE,
    RULES,
    SITE_ID,
    SPUTNIK_1,
    SPUTNIK_2,
    TODAY,
    ClinicSite,
    label,
)


def checked_in(clinic: ClinicSite, **appointment: Any) -> tuple[uuid.UUID, uuid.UUID]:
    citizen = clinic.citizen()
    appointment_id = clinic.appointment(citizen, **appointment)
    check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    return citizen, appointment_id


def give(clinic: ClinicSite, appointment_id: uuid.UUID, scan: Gs1Label) -> RecordedDose:
    return record_dose(
        clinic.engine, clinic.clock, NURSE, appointment_id, scan, InjectionSite.LEFT_DELTOID
    )


def refusal_types(check: VialCheck) -> list[type[DomainError]]:
    return [type(r) for r in check.refusals]


def test_a_normal_dose_is_recorded_with_vial_events_appointment_done_and_outbox(
    clinic: ClinicSite,
) -> None:
    citizen, appointment_id = checked_in(clinic)
    scan = label(COMIRNATY, "EW2239")

    check = check_vial(clinic.engine, clinic.clock, appointment_id, scan)
    assert check.ok, check.refusals
    assert check.product_code == "comirnaty"
    assert check.vial is None  # never seen: the first dose opens it
    assert check.expected_products == ("comirnaty",)

    dose = record_dose(
        clinic.engine, clinic.clock, NURSE, appointment_id, scan, InjectionSite.LEFT_DELTOID
    )
    assert dose.citizen_id == citizen
    assert dose.dose_number == 1
    assert dose.vaccinator_name == "Ana Petrović"
    assert dose.lot_number == "EW2239"
    assert dose.vial_doses_left == 5  # Comirnaty: 6 doses a vial
    assert dose.vial_use_by is not None
    assert dose.vial_use_by - dose.administered_at == timedelta(minutes=360)

    with session_scope(clinic.engine, write=False) as session:
        record = session.get_one(m.DoseRecord, dose.dose_id)
        assert record.origin_site_id == SITE_ID
        assert record.created_by == NURSE
        assert record.administered_at == NOW
        kinds = [
            e.kind
            for e in session.scalars(
                sa.select(m.VialEvent)
                .where(m.VialEvent.vial_id == dose.vial_id)
                .order_by(m.VialEvent.created_at, m.VialEvent.id)
            )
        ]
        assert kinds == [m.VialEventKind.OPENED, m.VialEventKind.DOSE_DRAWN]
        drawn = session.scalars(
            sa.select(m.VialEvent).where(m.VialEvent.kind == m.VialEventKind.DOSE_DRAWN)
        ).one()
        assert drawn.dose_record_id == dose.dose_id
        trail = session.execute(
            sa.select(
                m.AuditEntry.action, m.AuditEntry.actor_name, m.AuditEntry.entity_id
            ).order_by(m.AuditEntry.created_at, m.AuditEntry.id)
        ).all()
        assert [tuple(row) for row in trail] == [
            ("appointment.checked_in", "Ana Petrović", appointment_id),
            ("dose.recorded", "Ana Petrović", dose.dose_id),
        ]

    outbox = clinic.outbox()
    kinds_out = [kind for kind, _ in outbox]
    assert kinds_out.count("appointment_event") == 2  # checked in, done
    assert kinds_out.count("vial_event") == 2
    assert kinds_out.count("dose_record") == 1
    dose_payload = next(p for k, p in outbox if k == "dose_record")
    assert dose_payload["injection_site"] == "left_arm"
    assert dose_payload["vaccinator_id"] == str(NURSE)

    roster = load_roster(clinic.engine, clinic.clock)
    (row,) = roster.rows
    assert row.status is AppointmentStatus.DONE
    assert roster.counts.done == 1


def test_a_second_person_draws_from_the_same_open_vial(clinic: ClinicSite) -> None:
    scan = label(COMIRNATY, "EW2239", serial="VIAL1")
    _, first = checked_in(clinic)
    _, second = checked_in(clinic)
    record_dose(clinic.engine, clinic.clock, NURSE, first, scan, InjectionSite.LEFT_DELTOID)
    clinic.clock.advance(timedelta(minutes=5))
    check = check_vial(clinic.engine, clinic.clock, second, scan)
    assert check.ok
    assert check.vial is not None
    assert check.vial.doses_left == 5
    dose = record_dose(
        clinic.engine, clinic.clock, NURSE, second, scan, InjectionSite.RIGHT_DELTOID
    )
    assert dose.vial_doses_left == 4


def test_wrong_product_vial_is_refused_and_nothing_is_written(clinic: ClinicSite) -> None:
    _, appointment_id = checked_in(clinic, product="comirnaty")
    before = clinic.outbox()
    scan = label(BBIBP, "SIN01")
    check = check_vial(clinic.engine, clinic.clock, appointment_id, scan)
    assert errors.WrongProduct in refusal_types(check)
    assert "Comirnaty" in str(check.refusals[0])
    with pytest.raises(errors.WrongProduct):
        record_dose(
            clinic.engine, clinic.clock, NURSE, appointment_id, scan, InjectionSite.LEFT_DELTOID
        )
    assert clinic.outbox() == before
    with session_scope(clinic.engine, write=False) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.DoseRecord)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Vial)) == 0


def test_sputnik_dose_2_needs_component_two(clinic: ClinicSite) -> None:
    citizen = clinic.citizen()
    clinic.past_dose(citizen, product="sputnik-v-1", gtin=SPUTNIK_1, given=NOW - timedelta(days=25))
    appointment_id = clinic.appointment(citizen, product="sputnik-v-2", dose_number=2)
    check_in(clinic.engine, clinic.clock, NURSE, appointment_id)

    wrong = check_vial(clinic.engine, clinic.clock, appointment_id, label(SPUTNIK_1, "GAM1"))
    assert refusal_types(wrong) == [errors.WrongProduct]
    assert "Sputnik V (II)" in str(wrong.refusals[0])

    right = check_vial(clinic.engine, clinic.clock, appointment_id, label(SPUTNIK_2, "GAM2"))
    assert right.ok, right.refusals
    dose = record_dose(
        clinic.engine, clinic.clock, NURSE, appointment_id, label(SPUTNIK_2, "GAM2"),
        InjectionSite.LEFT_DELTOID,
    )  # fmt: skip
    assert (dose.dose_number, dose.product_code) == (2, "sputnik-v-2")


def test_expired_lot_is_refused(clinic: ClinicSite) -> None:
    _, appointment_id = checked_in(clinic)
    scan = label(COMIRNATY, "OLDLOT", expiry=date(2021, 5, 31))
    check = check_vial(clinic.engine, clinic.clock, appointment_id, scan)
    assert refusal_types(check) == [errors.LotExpired]
    with pytest.raises(errors.LotExpired):
        record_dose(
            clinic.engine, clinic.clock, NURSE, appointment_id, scan, InjectionSite.LEFT_DELTOID
        )


def test_the_last_day_of_expiry_is_still_usable(clinic: ClinicSite) -> None:
    _, appointment_id = checked_in(clinic)
    scan = label(COMIRNATY, "LASTDAY", expiry=date(2021, 6, 1))
    assert check_vial(clinic.engine, clinic.clock, appointment_id, scan).ok


def test_the_hubs_earlier_lot_expiry_wins_over_the_printed_one(clinic: ClinicSite) -> None:
    _, appointment_id = checked_in(clinic)
    clinic.lot(COMIRNATY, "SHORT", date(2021, 5, 20))
    scan = label(COMIRNATY, "SHORT", expiry=date(2021, 12, 31))
    check = check_vial(clinic.engine, clinic.clock, appointment_id, scan)
    assert refusal_types(check) == [errors.LotExpired]


def test_recalled_lot_is_refused_until_the_recall_is_lifted(clinic: ClinicSite) -> None:
    _, appointment_id = checked_in(clinic)
    clinic.recall(COMIRNATY, "BAD1")
    clinic.recall(COMIRNATY, "FINE1", lifted=True)
    bad = check_vial(clinic.engine, clinic.clock, appointment_id, label(COMIRNATY, "BAD1"))
    assert refusal_types(bad) == [errors.LotRecalled]
    assert "temperature excursion" in str(bad.refusals[0])
    with pytest.raises(errors.LotRecalled):
        record_dose(
            clinic.engine, clinic.clock, NURSE, appointment_id, label(COMIRNATY, "BAD1"),
            InjectionSite.LEFT_DELTOID,
        )  # fmt: skip
    fine = check_vial(clinic.engine, clinic.clock, appointment_id, label(COMIRNATY, "FINE1"))
    assert fine.ok


def test_an_opened_vial_past_its_use_by_is_refused(clinic: ClinicSite) -> None:
    scan = label(COMIRNATY, "EW2239", serial="OPENVIAL")
    _, first = checked_in(clinic)
    record_dose(clinic.engine, clinic.clock, NURSE, first, scan, InjectionSite.LEFT_DELTOID)
    clinic.clock.advance(timedelta(minutes=361))
    _, later = checked_in(clinic)
    check = check_vial(clinic.engine, clinic.clock, later, scan)
    assert refusal_types(check) == [errors.VialPastUseBy]
    assert "16:00" in str(check.refusals[0])  # opened 10:00 Belgrade + 6 h
    with pytest.raises(errors.VialPastUseBy):
        record_dose(clinic.engine, clinic.clock, NURSE, later, scan, InjectionSite.LEFT_DELTOID)


def test_the_dose_interval_must_be_reached(clinic: ClinicSite) -> None:
    citizen = clinic.citizen()
    clinic.past_dose(citizen, given=NOW - timedelta(days=10))
    appointment_id = clinic.appointment(citizen, dose_number=2)
    check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    check = check_vial(clinic.engine, clinic.clock, appointment_id, label(COMIRNATY))
    assert refusal_types(check) == [errors.IntervalNotReached]
    assert "12.06.2021." in str(check.refusals[0])  # 21 days after 22 May
    with pytest.raises(errors.IntervalNotReached):
        record_dose(
            clinic.engine, clinic.clock, NURSE, appointment_id, label(COMIRNATY),
            InjectionSite.LEFT_DELTOID,
        )  # fmt: skip


def test_a_second_attempt_at_the_same_dose_is_refused(clinic: ClinicSite) -> None:
    _, appointment_id = checked_in(clinic)
    scan = label(COMIRNATY)
    record_dose(
        clinic.engine, clinic.clock, NURSE, appointment_id, scan, InjectionSite.LEFT_DELTOID
    )
    again = check_vial(clinic.engine, clinic.clock, appointment_id, label(COMIRNATY))
    assert errors.DoseAlreadyRecorded in refusal_types(again)
    with pytest.raises(errors.DoseAlreadyRecorded):
        record_dose(
            clinic.engine, clinic.clock, NURSE, appointment_id, label(COMIRNATY),
            InjectionSite.LEFT_DELTOID,
        )  # fmt: skip


def test_a_dose_given_at_another_site_counts(clinic: ClinicSite) -> None:
    citizen = clinic.citizen()
    elsewhere = uuid.UUID("01890000-0000-7000-8000-000000000002")
    clinic.past_dose(citizen, given=NOW - timedelta(hours=3), origin=elsewhere)
    appointment_id = clinic.appointment(citizen, dose_number=1)
    check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    check = check_vial(clinic.engine, clinic.clock, appointment_id, label(COMIRNATY))
    assert errors.DoseAlreadyRecorded in refusal_types(check)


def test_the_store_guard_stops_a_race_the_checks_could_not_see(clinic: ClinicSite) -> None:
    """Two workstations: the other one's dose lands between this one's check and insert."""
    citizen = clinic.citizen()
    first = clinic.appointment(citizen)
    check_in(clinic.engine, clinic.clock, NURSE, first)
    # A second appointment for the same dose 1 (a hub double booking).
    second = clinic.appointment(citizen)
    check_in(clinic.engine, clinic.clock, NURSE, second)
    record_dose(clinic.engine, clinic.clock, NURSE, first, label(), InjectionSite.LEFT_DELTOID)
    with pytest.raises(errors.DoseAlreadyRecorded):
        record_dose(clinic.engine, clinic.clock, NURSE, second, label(), InjectionSite.LEFT_DELTOID)
    # Bypassing the checks, the store itself refuses the second live dose 1.
    with pytest.raises(DoubleDose), session_scope(clinic.engine) as session:
        session.add(
            m.DoseRecord(
                citizen_id=citizen,
                product_code="comirnaty",
                gtin=COMIRNATY,
                lot_number="X",
                dose_number=1,
                administered_at=NOW,
                injection_site=m.InjectionSite.LEFT_DELTOID,
                vaccinator_name="Ana Petrović",
                origin_site_id=SITE_ID,
                created_at=NOW,
                created_by=NURSE,
            )
        )


def test_a_person_not_checked_in_is_refused(clinic: ClinicSite) -> None:
    citizen = clinic.citizen()
    appointment_id = clinic.appointment(citizen)
    check = check_vial(clinic.engine, clinic.clock, appointment_id, label())
    assert refusal_types(check) == [errors.NotCheckedIn]


def test_a_label_without_serial_or_an_unknown_gtin_is_refused(clinic: ClinicSite) -> None:
    _, appointment_id = checked_in(clinic)
    no_serial = parse_gs1(encode_gs1(COMIRNATY, date(2021, 12, 31), "LOT9", None))
    check = check_vial(clinic.engine, clinic.clock, appointment_id, no_serial)
    assert refusal_types(check) == [errors.LabelIncomplete]
    assert "serial" in str(check.refusals[0])
    assert "serijski broj" in message(check.refusals[0], "sr-Latn")
    unknown = parse_gs1(
        encode_gs1(with_check_digit("0952000099999"), date(2021, 12, 31), "LOT9", "S1")
    )
    check = check_vial(clinic.engine, clinic.clock, appointment_id, unknown)
    assert refusal_types(check) == [errors.UnknownVaccine]


def test_every_refusal_reads_in_serbian(clinic: ClinicSite) -> None:
    _, appointment_id = checked_in(clinic)
    clinic.recall(COMIRNATY, "BAD2")
    scan = label(COMIRNATY, "BAD2", expiry=date(2021, 5, 1))
    check = check_vial(clinic.engine, clinic.clock, appointment_id, scan)
    assert refusal_types(check) == [errors.LotRecalled, errors.LotExpired]
    texts = [message(r, "sr-Latn") for r in check.refusals]
    assert texts[0].startswith("Serija BAD2 je povučena")
    assert "01.05.2021." in texts[1]
    assert message(check.refusals[0], "sr-Cyrl").startswith("Серија BAD2")


def test_ids_of_record_dose_results_are_timestamps_in_local_time(clinic: ClinicSite) -> None:
    _, appointment_id = checked_in(clinic)
    dose = record_dose(
        clinic.engine, clinic.clock, NURSE, appointment_id, label(), InjectionSite.LEFT_DELTOID
    )
    assert dose.administered_at == NOW
    assert dose.administered_at.utcoffset() == timedelta(hours=2)
    assert isinstance(dose.administered_at, datetime)


def test_records_that_cannot_be_a_history_refuse_instead_of_crashing(clinic: ClinicSite) -> None:
    """Two sites each gave a dose 1 while offline: the records must be fixed before dose 3."""
    citizen = clinic.citizen()
    elsewhere = uuid.UUID("01890000-0000-7000-8000-000000000002")
    clinic.past_dose(citizen, given=NOW - timedelta(days=40))
    clinic.past_dose(citizen, given=NOW - timedelta(days=39), origin=elsewhere)
    appointment_id = clinic.appointment(citizen, dose_number=3)
    check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    found = find_by_appointment_code(clinic.engine, clinic.clock, appointment_id)
    assert found.eligibility is None
    assert isinstance(found.eligibility_error, InvalidDoseHistory)
    check = check_vial(clinic.engine, clinic.clock, appointment_id, label())
    assert refusal_types(check) == [InvalidDoseHistory]
    assert "Correct the dose records" in str(check.refusals[0])


KNOWN_GTINS = [g for p in RULES.catalogue.products for g in p.gtins]
COMIRNATY_GTINS = RULES.catalogue.by_id("comirnaty").gtins


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    gtin=st.one_of(
        st.sampled_from(KNOWN_GTINS),
        st.from_regex(r"\A[0-9]{13}\Z").map(with_check_digit),
    ),
    lot=st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=1, max_size=20),
    expiry=st.dates(date(2021, 1, 1), date(2030, 12, 31)),
)
def test_any_scanned_label_gets_an_answer_not_a_crash(
    clinic: ClinicSite, gtin: str, lot: str, expiry: date
) -> None:
    """Whatever label is scanned, check_vial answers with the refusals that apply."""
    appointment_id = clinic.appointment(clinic.citizen())
    check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    check = check_vial(clinic.engine, clinic.clock, appointment_id, label(gtin, lot, expiry))
    kinds = set(refusal_types(check))
    assert (errors.UnknownVaccine in kinds) == (gtin not in KNOWN_GTINS)
    assert (errors.LotExpired in kinds) == (expiry < TODAY)
    assert (errors.WrongProduct in kinds) == (gtin in KNOWN_GTINS and gtin not in COMIRNATY_GTINS)
    assert check.ok == (gtin in COMIRNATY_GTINS and expiry >= TODAY)


def test_a_dose_queues_its_records_for_the_hub_in_the_order_they_happened(
    clinic: ClinicSite,
) -> None:
    """The vial opens, the dose is given from it, the appointment is done: the hub reads it so."""
    _, appointment_id = checked_in(clinic)
    dose = give(clinic, appointment_id, label(COMIRNATY, "EW2239"))
    queued = [(kind, payload.get("kind")) for kind, payload in clinic.outbox()]
    assert queued == [
        ("appointment_event", "checked_in"),
        ("vial_event", "opened"),
        ("dose_record", None),
        ("vial_event", "dose_drawn"),
        ("appointment_event", "done"),
    ]
    payloads = [payload for _, payload in clinic.outbox()]
    assert payloads[3]["dose_record_id"] == str(dose.dose_id)
    assert payloads[4]["appointment_id"] == str(appointment_id)
    with session_scope(clinic.engine, write=False) as session:
        done = session.scalars(
            sa.select(m.AppointmentEvent).where(
                m.AppointmentEvent.appointment_id == appointment_id,
                m.AppointmentEvent.kind == m.AppointmentEventKind.DONE,
            )
        ).one()
        assert done.dose_record_id == dose.dose_id
        checked = session.scalars(
            sa.select(m.AppointmentEvent).where(
                m.AppointmentEvent.kind == m.AppointmentEventKind.CHECKED_IN
            )
        ).one()
        assert done.hlc > checked.hlc  # the done event is the latest, whatever the clock


def test_a_refusal_inside_the_write_leaves_the_store_as_it_was(clinic: ClinicSite) -> None:
    """The re-check in the write transaction refuses what changed since the screen went green."""
    _, appointment_id = checked_in(clinic)
    scan = label(COMIRNATY, "EW2239")
    assert check_vial(clinic.engine, clinic.clock, appointment_id, scan).ok
    clinic.recall(COMIRNATY, "EW2239")  # arrives from the hub between the check and the click
    before = clinic.outbox()
    with pytest.raises(errors.LotRecalled):
        give(clinic, appointment_id, scan)
    assert clinic.outbox() == before
    with session_scope(clinic.engine, write=False) as session:
        for table in (m.DoseRecord, m.Vial, m.VialEvent):
            assert session.scalar(sa.select(sa.func.count()).select_from(table)) == 0
