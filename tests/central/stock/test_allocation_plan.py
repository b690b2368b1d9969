"""The allocation rule's guarantees, for any demand and stock (hypothesis)."""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from central.stock.allocation_plan import LotStock, Need, plan_allocation

DAY0 = date(2021, 6, 1)
SITES = [uuid.UUID(int=i + 1) for i in range(4)]
LOTS = [uuid.UUID(int=100 + i) for i in range(5)]
PER_VIAL = {"comirnaty": 6, "bbibp": 1}

needs_strategy = st.lists(
    st.builds(
        Need,
        site_id=st.sampled_from(SITES),
        product_id=st.sampled_from(sorted(PER_VIAL)),
        day=st.integers(0, 6).map(lambda d: DAY0 + timedelta(days=d)),
        doses=st.integers(0, 40),
    ),
    max_size=30,
)
lots_strategy = st.lists(
    st.builds(
        LotStock,
        lot_id=st.sampled_from(LOTS),
        product_id=st.sampled_from(sorted(PER_VIAL)),
        expiry=st.integers(-1, 8).map(lambda d: DAY0 + timedelta(days=d)),
        vials=st.integers(0, 60),
    ),
    max_size=5,
    unique_by=lambda s: s.lot_id,
)


@settings(max_examples=300, deadline=None)
@given(needs_strategy, lots_strategy, st.integers(0, 50))
def test_the_plan_keeps_its_promises(
    needs: list[Need], warehouse: list[LotStock], margin: int
) -> None:
    plan = plan_allocation(needs, PER_VIAL, warehouse, {}, margin)

    lots = {s.lot_id: s for s in warehouse}
    taken: dict[uuid.UUID, int] = defaultdict(int)
    for line in plan.lines:
        lot = lots[line.lot_id]
        taken[line.lot_id] += line.vials
        assert line.vials > 0
        assert lot.product_id == line.product_id
        assert lot.expiry >= line.first_day  # never a lot expiring before its day
    for lot_id, vials in taken.items():
        assert vials <= lots[lot_id].vials  # never more than the warehouse holds
    booked: dict[tuple[uuid.UUID, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for need in needs:
        if need.doses:
            booked[(need.site_id, need.product_id)][need.day] += need.doses
    assert {(n.site_id, n.product_id) for n in plan.needs} == set(booked)
    for n in plan.needs:
        days = booked[(n.site_id, n.product_id)]
        vials = sum(math.ceil(d / PER_VIAL[n.product_id]) for d in days.values())
        assert n.vials_needed == vials + math.ceil(vials * margin / 100)
        assert n.vials_held + n.vials_planned + n.vials_short == n.vials_needed
        assert n.vials_held == 0
    # A shortfall only where no usable vial of the product was left unallocated.
    for n in plan.needs:
        if n.vials_short:
            spare = sum(
                s.vials - taken[s.lot_id]
                for s in warehouse
                if s.product_id == n.product_id and s.expiry >= n.last_day
            )
            assert spare == 0


def test_first_expiry_first_out_and_site_stock_first() -> None:
    site = SITES[0]
    early = LotStock(LOTS[0], "comirnaty", DAY0 + timedelta(days=3), 10)
    late = LotStock(LOTS[1], "comirnaty", DAY0 + timedelta(days=30), 10)
    held_lot = LotStock(LOTS[2], "comirnaty", DAY0 + timedelta(days=30), 1)
    needs = [
        Need(site, "comirnaty", DAY0, 13),  # 3 vials
        Need(site, "comirnaty", DAY0 + timedelta(days=5), 6),  # 1 vial, after `early` expires
    ]

    plan = plan_allocation(needs, PER_VIAL, [late, early], {(site, "comirnaty"): [held_lot]}, 25)

    (need,) = plan.needs
    assert (need.vials_needed, need.vials_held, need.vials_short) == (5, 1, 0)
    assert [(line.lot_id, line.vials, line.first_day) for line in plan.lines] == [
        (LOTS[0], 2, DAY0),
        (LOTS[1], 2, DAY0 + timedelta(days=5)),
    ]


def test_a_shortage_is_shared_in_proportion() -> None:
    a, b = SITES[0], SITES[1]
    stock = [LotStock(LOTS[0], "bbibp", DAY0 + timedelta(days=30), 10)]
    plan = plan_allocation(
        [Need(a, "bbibp", DAY0, 15), Need(b, "bbibp", DAY0, 5)], PER_VIAL, stock, {}, 0
    )

    assert {n.site_id: n.vials_planned for n in plan.needs} == {a: 8, b: 2}
    assert plan.vials_short == 10
