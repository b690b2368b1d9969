"""The flow machinery under the solver: contraction, the optimality certificate, two costs.

Random acyclic networks are solved as given and contracted; the contracted
optimum must cost exactly the same, and expand to a feasible flow of the
original with that cost. The certificate must accept optimal flows and reject
a feasible flow that is not optimal. The two-cost solve must give the
lexicographic optimum, including when its fast first attempt is not.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.graph.python import max_flow, min_cost_flow

from scheduler.certify import proves_min_cost
from scheduler.contraction import contract
from scheduler.network import lexicographic_min_cost

SOURCE, SINK = 0, 1


@st.composite
def networks(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An acyclic network: nodes in topological order 2..n-1 between source and sink."""
    n = draw(st.integers(3, 12))
    arcs: list[tuple[int, int, int, int, int]] = []
    inner = list(range(2, n))
    for _ in range(draw(st.integers(1, 30))):
        u = draw(st.sampled_from([SOURCE, *inner]))
        later = [v for v in inner if v > u] + [SINK]
        v = draw(st.sampled_from(later))
        cap = draw(st.integers(0, 9))
        arcs.append((u, v, cap, draw(st.integers(-3, 6)), draw(st.integers(-2, 5))))
    a = np.array(arcs, dtype=np.int64)
    return n, a[:, 0], a[:, 1], a[:, 2], a[:, 3:5]


def _max_flow(n: int, tails: np.ndarray, heads: np.ndarray, caps: np.ndarray) -> int:
    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(tails.astype(np.int32), heads.astype(np.int32), caps)
    solver.solve(SOURCE, SINK)
    return int(solver.optimal_flow())


def _min_cost(
    n: int, tails: np.ndarray, heads: np.ndarray, caps: np.ndarray, costs: np.ndarray, value: int
) -> np.ndarray:
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    supplies = np.zeros(n, dtype=np.int64)
    supplies[SOURCE], supplies[SINK] = value, -value
    solver.set_nodes_supplies(np.arange(n, dtype=np.int32), supplies)
    assert solver.solve() == solver.OPTIMAL
    return np.asarray(solver.flows(np.arange(len(tails), dtype=np.int32)), dtype=np.int64)


def _feasible(
    n: int, tails: np.ndarray, heads: np.ndarray, caps: np.ndarray, flows: np.ndarray, value: int
) -> bool:
    balance = np.bincount(tails, weights=flows, minlength=n) - np.bincount(
        heads, weights=flows, minlength=n
    )
    expected = np.zeros(n)
    expected[SOURCE], expected[SINK] = value, -value
    return bool((flows >= 0).all() and (flows <= caps).all() and (balance == expected).all())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_contraction_keeps_the_optimum_and_maps_flows_back(
    net: tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    n, tails, heads, caps, costs = net
    value = _max_flow(n, tails, heads, caps)
    fixed = np.zeros(n, dtype=bool)
    fixed[[SOURCE, SINK]] = True
    small = contract(n, tails, heads, caps, costs, fixed, max(value, 1))
    assert len(small.kept) <= len(tails)
    for column in (0, 1):
        full = _min_cost(n, tails, heads, caps, costs[:, column], value)
        reduced = _min_cost(n, small.tails, small.heads, small.caps, small.costs[:, column], value)
        assert int(reduced @ small.costs[:, column]) == int(full @ costs[:, column])
        back = small.expand(reduced)
        assert _feasible(n, tails, heads, caps, back, value)
        assert int(back @ costs[:, column]) == int(full @ costs[:, column])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_certificate_accepts_optimal_flows_and_rejects_others(
    net: tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    n, tails, heads, caps, costs = net
    value = _max_flow(n, tails, heads, caps)
    cost = costs[:, 0]
    best = _min_cost(n, tails, heads, caps, cost, value)
    assert proves_min_cost(n, tails, heads, caps, cost, best)
    # The optimum of the opposite cost is feasible; it is certified exactly when
    # it happens to be optimal for `cost` too.
    other = _min_cost(n, tails, heads, caps, -cost, value)
    optimal = int(other @ cost) == int(best @ cost)
    assert proves_min_cost(n, tails, heads, caps, cost, other) == optimal


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_two_costs_give_the_lexicographic_optimum(
    net: tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    n, tails, heads, caps, costs = net
    value = _max_flow(n, tails, heads, caps)
    supplies = np.zeros(n, dtype=np.int64)
    supplies[SOURCE], supplies[SINK] = value, -value
    # Reference: one weight so large that no second-cost gain can pay for a
    # unit of the first; the solver's fallback weight is at least as large.
    weight = 1 + int(np.abs(costs[:, 1]).sum() * max(value, 1)) * 2
    flows = lexicographic_min_cost(tails, heads, caps, costs, supplies, 2, 2 * weight)
    assert _feasible(n, tails, heads, caps, flows, value)
    ref = _min_cost(n, tails, heads, caps, weight * costs[:, 0] + costs[:, 1], value)
    assert int(flows @ costs[:, 0]) == int(ref @ costs[:, 0])
    assert int(flows @ costs[:, 1]) == int(ref @ costs[:, 1])


def test_a_failed_certificate_falls_back_to_the_exact_weight() -> None:
    # Two ways from source to sink: closeness 0 but 10 days late, or closeness
    # 1 on the first day. With weight = days = 2, the solver alone would take
    # the second; the certificate refuses it and the exact weight takes the first.
    tails = np.array([SOURCE, 2, SOURCE, 3], dtype=np.int64)
    heads = np.array([2, SINK, 3, SINK], dtype=np.int64)
    caps = np.array([1, 1, 1, 1], dtype=np.int64)
    costs = np.array([[0, 10], [0, 0], [1, 0], [0, 0]], dtype=np.int64)
    supplies = np.array([1, -1, 0, 0], dtype=np.int64)
    flows = lexicographic_min_cost(tails, heads, caps, costs, supplies, 2, 40)
    assert flows.tolist() == [1, 1, 0, 0]
