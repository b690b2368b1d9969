"""Objective (1): priority groups first, through chains of moves if need be."""

from __future__ import annotations

from scheduler import Config, Reason
from tests.scheduler.factory import (
    booked,
    citizen,
    municipality,
    problem,
    reasons,
    session,
    site,
    solve,
)

# Three one-place sites on a line, 20 km apart; reach 25 km.
CHAIN_SITES = (site("X1", "M1", 0), site("X2", "M2", 20), site("X3", "M3", 40))
CHAIN_MUNIS = (
    municipality("M0", -15),  # reaches X1 only
    municipality("M1", 0),  # reaches X1 (0 km) and X2 (20 km)
    municipality("M2", 20),
    municipality("M3", 40),
    municipality("M23", 30),  # reaches X2 (10 km) and X3 (10 km)
)
CONFIG = Config(reach_km=25)


def greedy(choices: list[tuple[str, list[str]]], capacity: dict[str, int]) -> dict[str, str]:
    """Priority-greedy: each citizen in turn takes their nearest free site."""
    left = dict(capacity)
    out = {}
    for cid, sites in choices:
        for s in sites:
            if left[s] > 0:
                left[s] -= 1
                out[cid] = s
                break
    return out


def test_chain_of_moves_books_everyone_where_greedy_leaves_the_lowest_group_out() -> None:
    citizens = [
        citizen("r1", rank=1, municipality_id="M1", products=("janssen",)),
        citizen("r2", rank=2, municipality_id="M23", products=("janssen",)),
        citizen("r3", rank=3, municipality_id="M0", products=("janssen",)),
    ]
    sessions = [session(s, 0, "janssen", slots=1) for s in ("X1", "X2", "X3")]
    p = problem(citizens, sessions, municipalities=CHAIN_MUNIS, sites=CHAIN_SITES)

    result = solve(p, CONFIG)

    # The unique optimum moves r1 away from X1 and r2 away from X2 for r3.
    assert booked(result) == {
        ("r1", 1): ("X2", 0, "janssen"),
        ("r2", 1): ("X3", 0, "janssen"),
        ("r3", 1): ("X1", 0, "janssen"),
    }
    # The greedy trap: nearest-first in priority order strands r3.
    trap = greedy(
        [("r1", ["X1", "X2"]), ("r2", ["X2", "X3"]), ("r3", ["X1"])],
        {"X1": 1, "X2": 1, "X3": 1},
    )
    assert "r3" not in trap


def test_higher_group_is_served_before_an_earlier_registered_lower_group() -> None:
    citizens = [
        citizen("low", rank=5, registered=0),
        citizen("high", rank=1, registered=100),
    ]
    p = problem(citizens, [session("XA", 0, "pfizer", slots=1)])

    result = solve(p)

    assert booked(result) == {("high", 1): ("XA", 0, "pfizer")}
    assert reasons(result) == {"low": Reason.NO_CAPACITY}


def test_higher_group_is_not_left_out_to_book_more_of_a_lower_group() -> None:
    # high can only use X1; two of rank 2 could fill X1 and X2 between them.
    citizens = [
        citizen("high", rank=1, municipality_id="M0", products=("janssen",)),
        citizen("l1", rank=2, municipality_id="M1", products=("janssen",)),
        citizen("l2", rank=2, municipality_id="M0", products=("janssen",)),
    ]
    sessions = [session(s, 0, "janssen", slots=1) for s in ("X1", "X2")]
    p = problem(citizens, sessions, municipalities=CHAIN_MUNIS, sites=CHAIN_SITES)

    result = solve(p, CONFIG)

    assert booked(result) == {
        ("high", 1): ("X1", 0, "janssen"),
        ("l1", 1): ("X2", 0, "janssen"),
    }
    assert reasons(result) == {"l2": Reason.NO_CAPACITY}
    assert result.group_booked.tolist() == [1, 1]


def test_second_doses_come_before_every_first_dose_group() -> None:
    citizens = [
        citizen("first", rank=1, registered=0),
        citizen("second", rank=9, dose=2, registered=50, preferred_site="XA"),
    ]
    p = problem(citizens, [session("XA", 0, "pfizer", slots=1)])

    result = solve(p)

    assert booked(result) == {("second", 2): ("XA", 0, "pfizer")}
    assert reasons(result) == {"first": Reason.NO_CAPACITY}
    assert result.group_keys == ((0, 9), (1, 1))


def test_within_a_group_earlier_registration_wins_the_last_place() -> None:
    citizens = [citizen(f"c{i}", registered=10 - i) for i in range(3)]
    p = problem(citizens, [session("XA", 0, "pfizer", slots=2)])

    result = solve(p)

    assert set(booked(result)) == {("c2", 1), ("c1", 1)}
    assert reasons(result) == {"c0": Reason.NO_CAPACITY}
