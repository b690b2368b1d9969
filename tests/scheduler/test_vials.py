"""Objective (5): fill opened vials, keep standby lists for what is left."""

from __future__ import annotations

import numpy as np

from scheduler import Citizen, Config, Session, StandbyList
from tests.scheduler.factory import booked, citizen, day, problem, session, solve


def _vials(result_counts: list[int], per_vial: int) -> int:
    return sum(-(-k // per_vial) for k in result_counts)


def _two_towns() -> tuple[list[Citizen], list[Session]]:
    # Six citizens at home near each site, both sites in everyone's reach.
    citizens = [
        citizen(f"a{i}", municipality_id="A", products=("vial5",), registered=i) for i in range(6)
    ]
    citizens += [
        citizen(f"b{i}", municipality_id="B", products=("vial5",), registered=i) for i in range(6)
    ]
    sessions = [session("XA", 0, "vial5", slots=10), session("XB", 0, "vial5", slots=10)]
    return citizens, sessions


def test_bookings_are_merged_into_open_vials_without_unbooking_anyone() -> None:
    citizens, sessions = _two_towns()
    result = solve(problem(citizens, sessions))

    counts = result.booked_per_session().tolist()
    assert sum(counts) == 12  # nobody lost
    assert _vials(counts, 5) == 3  # the minimum for 12 doses in two sessions of 10
    assert counts == [5, 7]
    # The one who moved is the latest registered at home in A.
    assert booked(result)[("a5", 1)] == ("XB", 0, "vial5")


def test_without_consolidation_each_town_opens_two_vials() -> None:
    citizens, sessions = _two_towns()
    result = solve(problem(citizens, sessions), Config(consolidate_vials=False))

    counts = result.booked_per_session().tolist()
    assert counts == [6, 6]
    assert _vials(counts, 5) == 4


def test_bookings_move_to_a_later_day_to_share_a_vial() -> None:
    citizens = [citizen("early", products=("vial5",), earliest=0, registered=0)]
    citizens += [
        citizen(f"late{i}", products=("vial5",), earliest=2, registered=i + 1) for i in range(3)
    ]
    sessions = [session("XA", d, "vial5", slots=10) for d in range(3)]
    result = solve(problem(citizens, sessions))

    assert {d for (_, d, _) in booked(result).values()} == {2}
    assert result.booked_per_session().tolist() == [0, 0, 4]


def test_standby_list_names_unbooked_citizens_for_the_last_vial() -> None:
    citizens = [citizen(f"c{i}", products=("vial5",), rank=2, registered=i) for i in range(10)]
    citizens.append(citizen("first-in-line", products=("vial5",), rank=1, registered=50))
    citizens.append(citizen("other-product", products=("pfizer",), rank=1, registered=0))
    result = solve(problem(citizens, [session("XA", 0, "vial5", slots=8)]))

    assert np.count_nonzero(result.booked_per_session()) == 1
    # 8 booked open 2 vials; ceil(1.5 * 4) = 6 standby places, higher group first.
    assert result.standby() == [
        StandbyList("XA", day(0), "vial5", ("c7", "c8", "c9")),
    ]
    assert "first-in-line" in {cid for (cid, _) in booked(result)}


def test_single_dose_vials_need_no_standby() -> None:
    citizens = [citizen(f"c{i}", products=("janssen",), registered=i) for i in range(5)]
    result = solve(problem(citizens, [session("XA", 0, "janssen", slots=2)]))

    assert result.standby() == []
