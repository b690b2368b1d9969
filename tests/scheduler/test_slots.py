"""Slots inside a session: by group, then registration; `vaccinators` per slot."""

from __future__ import annotations

from collections import Counter
from datetime import time

from tests.scheduler.factory import citizen, problem, session, solve


def test_slots_are_handed_out_by_group_then_registration() -> None:
    citizens = [
        citizen("r3-early", rank=3, registered=0),
        citizen("r1-late", rank=1, registered=30),
        citizen("r1-early", rank=1, registered=10),
        citizen("r2", rank=2, registered=5),
        citizen("d2", dose=2, rank=4, registered=99, preferred_site="XA"),
    ]
    p = problem(citizens, [session("XA", 0, "pfizer", slots=3, vaccinators=2)])
    result = solve(p)

    order = [(a.citizen_id, a.slot, a.starts) for a in result.appointments()]
    assert order == [
        ("d2", 0, time(8, 0)),
        ("r1-early", 0, time(8, 0)),
        ("r1-late", 1, time(8, 15)),
        ("r2", 1, time(8, 15)),
        ("r3-early", 2, time(8, 30)),
    ]


def test_no_slot_holds_more_citizens_than_vaccinators() -> None:
    citizens = [citizen(f"c{i}", registered=i) for i in range(20)]
    result = solve(problem(citizens, [session("XA", 0, "pfizer", slots=4, vaccinators=3)]))

    per_slot = Counter(a.slot for a in result.appointments())
    assert per_slot == {0: 3, 1: 3, 2: 3, 3: 3}
