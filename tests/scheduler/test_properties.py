"""Random small instances: valid, and lexicographically optimal against an exact MIP.

The reference books citizen by citizen in HiGHS (binary variables, one per
citizen and usable session), maximising each priority group in turn with the
groups before it held at their optimum. It shares nothing with the solver but
the input types.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import highspy
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler import (
    Citizen,
    CitizenTable,
    Config,
    Municipality,
    Problem,
    Product,
    Schedule,
    Session,
    Site,
    Stock,
    schedule,
)
from scheduler.check import check

START = date(2021, 5, 3)
KM = 80.0  # km per degree of longitude at lat 44
MUNIS = (
    Municipality("A", 44.0, 20.0),
    Municipality("B", 44.0, 20.0 + 20 / KM),
    Municipality("C", 44.0, 20.0 + 45 / KM),
)
SITES = (
    Site("S0", "A", 44.0, 20.0),
    Site("S1", "B", 44.0, 20.0 + 20 / KM),
    Site("S2", "C", 44.0, 20.0 + 45 / KM),
)
LONG = (
    Product("p1", 1, 1),
    Product("p2", 3, 2, None, 21, 30),
    Product("p3", 2, 2, "p4", 21, 40),
    Product("p4", 2, 2),
)
SHORT = (
    Product("p1", 1, 1),
    Product("p2", 3, 2, None, 1, 2),
    Product("p3", 2, 2, "p4", 1, 3),
    Product("p4", 2, 2),
)
CONFIG = Config(reach_km=30)


@st.composite
def instances(draw: st.DrawFn, products: tuple[Product, ...] = LONG) -> Problem:
    days = draw(st.integers(1, 3))
    names = [p.id for p in products]
    sessions = []
    for s in SITES:
        for d in range(days):
            for p in names:
                if draw(st.integers(0, 2)) == 0:
                    continue
                slots = draw(st.integers(0, 3))
                vacc = draw(st.integers(1, 2))
                opens = datetime(2021, 1, 1, 8)
                sessions.append(
                    Session(
                        s.id,
                        START + timedelta(days=d),
                        p,
                        time(8),
                        (opens + timedelta(minutes=15 * slots)).time(),
                        vacc,
                    )
                )
    stock = []
    for s in SITES:
        for p in names:
            for _ in range(draw(st.integers(0, 2))):
                arrive = draw(st.integers(0, days))
                stock.append(
                    Stock(s.id, p, draw(st.integers(0, 6)), START + timedelta(days=arrive))
                )
    citizens = []
    for i in range(draw(st.integers(1, 10))):
        dose = draw(st.integers(1, 2))
        ineligible = draw(st.integers(0, 9)) == 0
        # Component II ("p4") is never a first dose: the eligibility rules see to that.
        allowed = names if dose >= 2 else [n for n in names if n != "p4"]
        perm = draw(st.permutations(allowed))
        plist = tuple(perm[: draw(st.integers(1, len(perm)))])
        earliest = draw(st.integers(-3, days + 1))
        span = draw(st.one_of(st.none(), st.integers(-1, 4)))
        citizens.append(
            Citizen(
                id=f"c{i}",
                dose_number=dose,
                products=() if ineligible else plist,
                earliest=START + timedelta(days=earliest),
                latest=None if span is None else START + timedelta(days=earliest + span),
                municipality_id=draw(st.sampled_from([m.id for m in MUNIS])),
                rank=draw(st.integers(1, 3)),
                registered=datetime(2021, 1, 1) + timedelta(minutes=draw(st.integers(0, 5))),
                preferred_site=draw(st.sampled_from([s.id for s in SITES])) if dose >= 2 else None,
                ineligible_reason="rule.x" if ineligible else None,
            )
        )
    return Problem(
        START,
        days,
        products,
        MUNIS,
        SITES,
        tuple(sessions),
        tuple(stock),
        CitizenTable.from_citizens(citizens),
    )


def _km(a: Municipality, s: Site) -> float:
    lat = np.radians(a.lat)
    dl = np.radians(s.lon - a.lon)
    h = np.cos(lat) ** 2 * np.sin(dl / 2) ** 2
    return float(2 * 6371.0088 * np.arcsin(np.sqrt(h)))


def optimum(p: Problem) -> dict[tuple[int, int], int]:
    """Lexicographic optimum of booked citizens per (tier, rank), by MIP."""
    t = p.citizens
    munis = {m.id: m for m in p.municipalities}
    sites = {s.id: s for s in p.sites}
    pairs: list[tuple[int, int]] = []
    for i in range(len(t)):
        if t.ineligible[i] >= 0:
            continue
        plist = t.product_lists[t.products[i]]
        home = munis[t.municipality_ids[t.municipality[i]]]
        pref = t.site_ids[t.preferred_site[i]] if t.preferred_site[i] >= 0 else None
        for x_idx, ses in enumerate(p.sessions):
            when = np.datetime64(ses.day, "D")
            if ses.product_id not in plist or when < t.earliest[i]:
                continue
            if not np.isnat(t.latest[i]) and when > t.latest[i]:
                continue
            site = sites[ses.site_id]
            near = site.municipality_id == home.id or _km(home, site) <= CONFIG.reach_km
            if near or (t.dose[i] >= 2 and pref == ses.site_id):
                pairs.append((i, x_idx))
    groups = sorted({(0 if t.dose[i] >= 2 else 1, int(t.rank[i])) for i in range(len(t))})
    if not pairs:
        return dict.fromkeys(groups, 0)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    var = [h.addBinary() for _ in pairs]
    for i in range(len(t)):
        mine = [var[k] for k, (r, _) in enumerate(pairs) if r == i]
        if len(mine) > 1:
            h.addConstr(sum(mine[1:], mine[0]) <= 1)
    for s_idx, ses in enumerate(p.sessions):
        mine = [var[k] for k, (_, s) in enumerate(pairs) if s == s_idx]
        if mine:
            h.addConstr(sum(mine[1:], mine[0]) <= ses.capacity)
    for site in p.sites:
        for prod in p.products:
            for offset in range(p.days):
                day = START + timedelta(days=offset)
                mine = [
                    var[k]
                    for k, (_, s) in enumerate(pairs)
                    if p.sessions[s].site_id == site.id
                    and p.sessions[s].product_id == prod.id
                    and p.sessions[s].day <= day
                ]
                if not mine:
                    continue
                have = sum(
                    lot.doses
                    for lot in p.stock
                    if lot.site_id == site.id
                    and lot.product_id == prod.id
                    and (lot.available_from is None or lot.available_from <= day)
                )
                h.addConstr(sum(mine[1:], mine[0]) <= have)
    result: dict[tuple[int, int], int] = {}
    for g in groups:
        mine = [
            var[k]
            for k, (i, _) in enumerate(pairs)
            if (0 if t.dose[i] >= 2 else 1, int(t.rank[i])) == g
        ]
        if not mine:
            result[g] = 0
            continue
        expr = sum(mine[1:], mine[0])
        h.maximize(expr)
        best = round(h.getObjectiveValue())
        result[g] = best
        h.addConstr(expr >= best)
    return result


def achieved(result: Schedule) -> dict[tuple[int, int], int]:
    t = result.problem.citizens
    out = {(0 if t.dose[i] >= 2 else 1, int(t.rank[i])): 0 for i in range(len(t))}
    for row, dose in zip(
        result.appointment_row.tolist(), result.appointment_dose.tolist(), strict=True
    ):
        if dose == t.dose[row]:
            out[(0 if t.dose[row] >= 2 else 1, int(t.rank[row]))] += 1
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_solution_is_valid_and_lexicographically_optimal(p: Problem) -> None:
    result = schedule(p, CONFIG)
    assert check(result, CONFIG) == []
    assert achieved(result) == optimum(p)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(SHORT))
def test_second_doses_inside_the_horizon_keep_every_hard_constraint(p: Problem) -> None:
    result = schedule(p, CONFIG)
    assert check(result, CONFIG) == []


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_input_order(p: Problem, rnd: object) -> None:
    from dataclasses import replace

    t = p.citizens
    order = np.arange(len(t))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = CitizenTable(
        **{
            **t.__dict__,
            **{
                k: getattr(t, k)[order]
                for k in (
                    "ids",
                    "dose",
                    "rank",
                    "municipality",
                    "products",
                    "earliest",
                    "latest",
                    "registered",
                    "preferred_site",
                    "ineligible",
                )
            },
        }
    )
    a = schedule(p, CONFIG)
    b = schedule(replace(p, citizens=shuffled), CONFIG)
    assert a.appointments() == b.appointments()
    assert sorted(a.unbooked(), key=str) == sorted(b.unbooked(), key=str)
    assert a.standby() == b.standby()
