"""The independent checker catches each kind of broken schedule."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scheduler import Schedule, schedule
from scheduler.check import ScheduleInvalid, assert_valid, check
from tests.scheduler.factory import citizen, problem, session


def _valid() -> Schedule:
    citizens = [
        citizen("a", rank=1, registered=0),
        citizen("b", rank=2, registered=1),
        citizen("c", rank=2, registered=2, products=("astrazeneca",)),
        citizen("z", ineligible="age.below_minimum"),
    ]
    sessions = [
        session("XA", 0, "pfizer", slots=1, vaccinators=1),
        session("XA", 1, "pfizer", slots=2, vaccinators=1),
        session("XA", 2, "astrazeneca", slots=1),
    ]
    result = schedule(problem(citizens, sessions))
    assert_valid(result)
    assert len(result.appointment_row) == 3
    return result


def _rules(result: Schedule) -> set[str]:
    return {v.rule for v in check(result)}


def test_valid_schedule_has_no_violations() -> None:
    assert check(_valid()) == []


def test_overbooked_session_is_caught() -> None:
    ok = _valid()
    moved = ok.appointment_session.copy()
    moved[:] = 0  # everyone into the one-place session
    assert {"capacity", "slot"} <= _rules(replace(ok, appointment_session=moved))


def test_wrong_product_is_caught() -> None:
    ok = _valid()
    ses = ok.appointment_session.copy()
    c_row = int(np.flatnonzero(ok.problem.citizens.ids == "c")[0])
    ses[ok.appointment_row == c_row] = 1  # astrazeneca-only citizen into a pfizer session
    assert "eligibility" in _rules(replace(ok, appointment_session=ses))


def test_day_outside_the_window_is_caught() -> None:
    p = problem(
        [citizen("w", earliest=2)], [session("XA", 0, "pfizer"), session("XA", 2, "pfizer")]
    )
    ok = schedule(p)
    assert check(ok) == []
    assert "window" in _rules(replace(ok, appointment_session=np.array([0])))


def test_booking_an_ineligible_citizen_is_caught() -> None:
    ok = _valid()
    z_row = int(np.flatnonzero(ok.problem.citizens.ids == "z")[0])
    bad = replace(
        ok,
        appointment_row=np.append(ok.appointment_row, z_row),
        appointment_dose=np.append(ok.appointment_dose, 1),
        appointment_session=np.append(ok.appointment_session, 1),
        appointment_slot=np.append(ok.appointment_slot, 1),
    )
    assert {"eligibility", "coverage"} <= _rules(bad)


def test_two_appointments_for_one_dose_are_caught() -> None:
    ok = _valid()
    bad = replace(
        ok,
        appointment_row=np.append(ok.appointment_row, ok.appointment_row[0]),
        appointment_dose=np.append(ok.appointment_dose, ok.appointment_dose[0]),
        appointment_session=np.append(ok.appointment_session, 1),
        appointment_slot=np.append(ok.appointment_slot, 1),
    )
    assert "duplicate" in _rules(bad)


def test_stock_overrun_is_caught() -> None:
    from scheduler import Stock

    p = problem([citizen("s")], [session("XA", 0, "pfizer")], stock=[Stock("XA", "pfizer", 1)])
    ok = schedule(p)
    assert check(ok) == []
    no_stock = replace(ok, problem=replace(p, stock=(Stock("XA", "pfizer", 0),)))
    assert "stock" in _rules(no_stock)


def test_site_out_of_reach_is_caught() -> None:
    p = problem([citizen("r")], [session("XA", 0, "pfizer"), session("XC", 0, "pfizer")])
    ok = schedule(p)
    assert "reach" in _rules(replace(ok, appointment_session=np.array([1])))


def test_citizen_neither_booked_nor_explained_is_caught() -> None:
    ok = _valid()
    bad = replace(ok, unbooked_row=ok.unbooked_row[:0], unbooked_reason=ok.unbooked_reason[:0])
    assert "coverage" in _rules(bad)


def test_assert_valid_raises_with_the_violations() -> None:
    ok = _valid()
    with pytest.raises(ScheduleInvalid, match="capacity"):
        assert_valid(replace(ok, appointment_session=np.zeros_like(ok.appointment_session)))
