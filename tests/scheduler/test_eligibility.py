"""Eligibility comes from the caller: the scheduler books only what each list allows."""

from __future__ import annotations

from scheduler import Reason, Unbooked
from tests.scheduler.factory import booked, citizen, problem, reasons, session, solve


def test_age_limit_keeps_an_older_citizen_off_an_empty_session_of_an_excluded_product() -> None:
    # The rules excluded AstraZeneca for the 70-year-old; the younger accepts both.
    citizens = [
        citizen("older", products=("pfizer",), rank=1),
        citizen("younger", products=("pfizer", "astrazeneca"), rank=4),
    ]
    sessions = [session("XA", 0, "astrazeneca", slots=5), session("XA", 1, "pfizer", slots=1)]
    result = solve(problem(citizens, sessions))

    assert booked(result) == {
        ("older", 1): ("XA", 1, "pfizer"),
        ("younger", 1): ("XA", 0, "astrazeneca"),
    }


def test_citizen_whose_only_products_are_not_offered_in_reach_is_told_so() -> None:
    result = solve(
        problem([citizen("older", products=("pfizer",))], [session("XA", 0, "astrazeneca")])
    )

    assert booked(result) == {}
    assert reasons(result) == {"older": Reason.NO_SESSION_IN_REACH}


def test_ineligible_citizen_is_reported_with_the_rule() -> None:
    citizens = [citizen("child", ineligible="age.below_minimum"), citizen("adult")]
    result = solve(problem(citizens, [session("XA", 0, "pfizer")]))

    assert booked(result) == {("adult", 1): ("XA", 0, "pfizer")}
    assert result.unbooked() == [Unbooked("child", 1, Reason.INELIGIBLE, "age.below_minimum")]


def test_preference_order_is_followed_when_both_products_are_free() -> None:
    citizens = [citizen("c", products=("astrazeneca", "pfizer"))]
    sessions = [session("XA", 0, "pfizer"), session("XA", 1, "astrazeneca")]
    result = solve(problem(citizens, sessions))

    assert booked(result) == {("c", 1): ("XA", 1, "astrazeneca")}


def test_site_out_of_reach_is_not_used() -> None:
    # C is 200 km from A.
    result = solve(problem([citizen("c")], [session("XC", 0, "pfizer")]))

    assert booked(result) == {}
    assert reasons(result) == {"c": Reason.NO_SESSION_IN_REACH}


def test_closer_site_is_chosen_over_an_earlier_day() -> None:
    citizens = [citizen("c", municipality_id="B")]
    sessions = [session("XA", 0, "pfizer"), session("XB", 4, "pfizer")]
    result = solve(problem(citizens, sessions))

    assert booked(result) == {("c", 1): ("XB", 4, "pfizer")}
