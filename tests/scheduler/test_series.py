"""Series: the right product for each dose, intervals, second doses booked with the first."""

from __future__ import annotations

from scheduler import Reason, SecondDosePlan
from tests.scheduler.factory import START, booked, citizen, day, problem, reasons, session, solve


def test_sputnik_second_dose_gets_component_two_at_the_first_dose_site() -> None:
    citizens = [
        citizen(
            "d2", dose=2, products=("sputnik-2",), preferred_site="XB", earliest=-30, latest=60
        ),
    ]
    sessions = [
        session("XA", 0, "sputnik-1"),
        session("XA", 0, "sputnik-2"),
        session("XB", 1, "sputnik-1"),
        session("XB", 1, "sputnik-2"),
    ]
    result = solve(problem(citizens, sessions))

    # Component II, at the previous site even though XA is nearer and earlier.
    assert booked(result) == {("d2", 2): ("XB", 1, "sputnik-2")}
    assert result.second_dose_plans() == []


def test_second_dose_is_never_given_component_one() -> None:
    citizens = [citizen("d2", dose=2, products=("sputnik-2",), preferred_site="XA")]
    result = solve(problem(citizens, [session("XA", 0, "sputnik-1")]))

    assert booked(result) == {}
    assert reasons(result) == {"d2": Reason.NO_SESSION_IN_REACH}


def test_second_dose_moves_to_another_site_only_when_its_own_is_full() -> None:
    citizens = [
        citizen("first", dose=2, products=("pfizer",), preferred_site="XA", registered=0),
        citizen("later", dose=2, products=("pfizer",), preferred_site="XA", registered=5),
    ]
    sessions = [session("XA", 0, "pfizer", slots=1), session("XB", 0, "pfizer")]
    result = solve(problem(citizens, sessions))

    assert booked(result) == {
        ("first", 2): ("XA", 0, "pfizer"),
        ("later", 2): ("XB", 0, "pfizer"),
    }


def test_first_dose_of_sputnik_plans_component_two_inside_the_interval() -> None:
    citizens = [citizen("c", products=("sputnik-1",))]
    result = solve(problem(citizens, [session("XA", 2, "sputnik-1")]))

    assert booked(result) == {("c", 1): ("XA", 2, "sputnik-1")}
    assert result.second_dose_plans() == [
        SecondDosePlan("c", 2, "sputnik-2", day(2 + 21), day(2 + 90), "XA")
    ]


def test_single_dose_product_has_no_plan() -> None:
    result = solve(problem([citizen("c", products=("janssen",))], [session("XA", 0, "janssen")]))

    assert booked(result) == {("c", 1): ("XA", 0, "janssen")}
    assert result.second_dose_plans() == []


def test_second_dose_inside_the_horizon_is_booked_with_the_first() -> None:
    # "quick" has a 2-3 day interval, so its follow-up falls inside a week.
    sessions = [
        session("XA", 0, "quick"),
        session("XB", 2, "quick"),
        session("XA", 3, "quick"),
    ]
    result = solve(problem([citizen("c", products=("quick",))], sessions))

    # Day 2 is earlier, but the first dose's site wins (objective 3 before 4).
    assert booked(result) == {
        ("c", 1): ("XA", 0, "quick"),
        ("c", 2): ("XA", 3, "quick"),
    }
    assert result.second_dose_plans() == []


def test_first_dose_is_withdrawn_when_its_second_dose_cannot_fit_the_interval() -> None:
    result = solve(problem([citizen("c", products=("quick",))], [session("XA", 0, "quick")]))

    assert booked(result) == {}
    assert reasons(result) == {"c": Reason.SECOND_DOSE_UNAVAILABLE}
    assert result.second_dose_plans() == []


def test_interval_reaching_past_the_horizon_becomes_a_plan() -> None:
    # Horizon of 3 days: the follow-up window [day 2, day 3] ends after it.
    result = solve(
        problem([citizen("c", products=("quick",))], [session("XA", 0, "quick")], days=3)
    )

    assert booked(result) == {("c", 1): ("XA", 0, "quick")}
    assert result.second_dose_plans() == [SecondDosePlan("c", 2, "quick", day(2), day(3), "XA")]
    assert day(0) == START
