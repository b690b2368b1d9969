"""Voids: a manager marks a wrong dose record, which stops counting, as a new record."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.local_db import models as m
from app.local_db.unit_of_work import session_scope
from app.services import errors
from app.services.check_in import check_in, find_by_appointment_code
from app.services.vaccinate import InjectionSite, RecordedDose, check_vial, record_dose
from app.services.voids import void_dose
from tests.app.services.site import MANAGER, NOW, NURSE, ClinicSite, label


def dose_for_new_person(clinic: ClinicSite) -> tuple[uuid.UUID, RecordedDose]:
    appointment_id = clinic.appointment(clinic.citizen())
    check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    dose = record_dose(
        clinic.engine, clinic.clock, NURSE, appointment_id, label(), InjectionSite.LEFT_DELTOID
    )
    return appointment_id, dose


def test_a_manager_voids_a_wrong_record_which_stays_and_stops_counting(
    clinic: ClinicSite,
) -> None:
    appointment_id, dose = dose_for_new_person(clinic)
    voided = void_dose(
        clinic.engine, clinic.clock, MANAGER, dose.dose_id, "recorded for the wrong person"
    )
    assert voided.dose_id == dose.dose_id
    assert voided.voided_by_name == "Marko Ilić"
    assert voided.voided_at == NOW

    with session_scope(clinic.engine, write=False) as session:
        assert session.get(m.DoseRecord, dose.dose_id) is not None  # never deleted
        void = session.scalars(sa.select(m.DoseVoid)).one()
        assert (void.dose_id, void.created_by) == (dose.dose_id, MANAGER)
        voided_trail = session.scalars(
            sa.select(m.AuditEntry).where(m.AuditEntry.action == "dose.voided")
        ).one()
        assert voided_trail.actor_name == "Marko Ilić"
        assert voided_trail.details == {"reason": "recorded for the wrong person"}
    waiting = [payload for kind, payload in clinic.outbox() if kind == "dose_void"]
    assert waiting == [
        {
            "id": str(voided.void_id),
            "dose_id": str(dose.dose_id),
            "reason": "recorded for the wrong person",
            "voided_at": NOW.isoformat().replace("+00:00", "Z"),
            "voided_by": str(MANAGER),
            "created_at": NOW.isoformat().replace("+00:00", "Z"),
        }
    ]
    found = find_by_appointment_code(clinic.engine, clinic.clock, appointment_id)
    assert found.doses == ()  # the voided dose is no dose
    # The double-dose check no longer sees it: the person can get dose 1 after all.
    again = check_vial(clinic.engine, clinic.clock, appointment_id, label())
    assert errors.DoseAlreadyRecorded not in [type(r) for r in again.refusals]


def test_a_nurse_may_not_void(clinic: ClinicSite) -> None:
    _, dose = dose_for_new_person(clinic)
    with pytest.raises(errors.ManagerRequired):
        void_dose(clinic.engine, clinic.clock, NURSE, dose.dose_id, "wrong person")


def test_a_void_needs_a_reason_and_happens_once(clinic: ClinicSite) -> None:
    _, dose = dose_for_new_person(clinic)
    with pytest.raises(errors.VoidReasonRequired):
        void_dose(clinic.engine, clinic.clock, MANAGER, dose.dose_id, "  ok ")
    void_dose(clinic.engine, clinic.clock, MANAGER, dose.dose_id, "wrong lot typed")
    with pytest.raises(errors.DoseAlreadyVoided) as raised:
        void_dose(clinic.engine, clinic.clock, MANAGER, dose.dose_id, "wrong lot typed")
    assert "wrong lot typed" in str(raised.value)
    assert [kind for kind, _ in clinic.outbox()].count("dose_void") == 1


def test_voiding_an_unknown_dose_is_refused(clinic: ClinicSite) -> None:
    with pytest.raises(errors.DoseNotFound):
        void_dose(clinic.engine, clinic.clock, MANAGER, uuid.uuid4(), "no such dose")
