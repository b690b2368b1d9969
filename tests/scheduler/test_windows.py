"""Interval windows at the edges of the horizon."""

from __future__ import annotations

from scheduler import Reason
from tests.scheduler.factory import booked, citizen, problem, reasons, session, solve

WEEK = [session("XA", d, "pfizer", slots=10) for d in range(7)]


def test_window_opening_on_the_last_day_is_booked_on_the_last_day() -> None:
    result = solve(problem([citizen("c", earliest=6)], WEEK))

    assert booked(result) == {("c", 1): ("XA", 6, "pfizer")}


def test_window_opening_the_day_after_the_horizon_is_not_reached() -> None:
    result = solve(problem([citizen("c", earliest=7)], WEEK))

    assert booked(result) == {}
    assert reasons(result) == {"c": Reason.INTERVAL_NOT_REACHED}


def test_window_closing_on_the_first_day_is_booked_on_the_first_day() -> None:
    c = citizen("c", dose=2, earliest=-20, latest=0, preferred_site="XA")
    result = solve(problem([c], WEEK))

    assert booked(result) == {("c", 2): ("XA", 0, "pfizer")}


def test_window_closed_the_day_before_the_horizon_has_passed() -> None:
    c = citizen("c", dose=2, earliest=-20, latest=-1, preferred_site="XA")
    result = solve(problem([c], WEEK))

    assert booked(result) == {}
    assert reasons(result) == {"c": Reason.INTERVAL_PASSED}


def test_closed_window_inside_the_horizon_is_respected_when_earlier_days_are_free() -> None:
    c = citizen("c", dose=2, earliest=3, latest=4, preferred_site="XA")
    result = solve(problem([c], WEEK))

    assert booked(result) == {("c", 2): ("XA", 3, "pfizer")}


def test_full_last_day_of_a_window_leaves_the_citizen_unbooked() -> None:
    citizens = [
        citizen("early", dose=2, earliest=0, latest=0, preferred_site="XA", registered=0),
        citizen("late", dose=2, earliest=0, latest=0, preferred_site="XA", registered=1),
    ]
    sessions = [session("XA", 0, "pfizer", slots=1), session("XA", 1, "pfizer", slots=5)]
    result = solve(problem(citizens, sessions))

    assert booked(result) == {("early", 2): ("XA", 0, "pfizer")}
    assert reasons(result) == {"late": Reason.NO_CAPACITY}
