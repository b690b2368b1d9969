"""Exact series contraction of an acyclic flow network before it is solved.

The booking network has long runs of nodes that only pass flow on: chain days
without a session, stock days without a delivery, profiles with one product,
previous sites that do not hold the product. The solvers' time grows faster
than the network, so such nodes are contracted away first. Four rules, applied
in rounds until none applies; nodes with a supply (sources, sink, groups) are
never touched:

- *Loose capacity.* An arc into a node whose only way out has a capacity no
  larger than the arc's own (or, mirrored, out of a node whose only way in is
  as narrow) never carries more than that way: its capacity is raised to
  `bound`, which lets the next rules see the node as a pass-through. (A stock
  chain's day before a day without a delivery is such a case.)
- *One way out.* A node ``v`` with a single outgoing arc ``a = (v, w)`` whose
  capacity covers everything that can enter ``v`` (the sum of its incoming
  capacities, or `bound`): every arc ``(u, v)`` becomes ``(u, w)`` with cost
  ``c(u, v) + c(a)``, and ``a`` is dropped.
- *One way in.* A node ``v`` with a single incoming arc ``a = (u, v)`` whose
  capacity covers everything that can leave ``v``: every arc ``(v, w)`` becomes
  ``(u, w)`` with cost ``c(a) + c(v, w)``, and ``a`` is dropped.
- *Dead end.* A node with arcs in but none out, or out but none in, carries no
  flow; its arcs are dropped.

Why it is exact: in the loose-capacity rule, conservation at the node bounds
the arc's flow by the narrow way's capacity, which stays in place. In the
one-way-out rule, conservation at ``v`` forces ``f(a) = sum of f(u, v)``, which
never exceeds ``a``'s capacity, so ``a``'s capacity constraint is redundant and
``f(a)`` is a function of the other flows. Substituting it maps the feasible
flows of the two networks one to one, with ``sum f(u, v) * (c(u, v) + c(a)) =
sum f(u, v) * c(u, v) + f(a) * c(a)``: equal costs, for every cost vector (the
costs may have several columns). The one-way-in rule is the mirror image; the
dead-end rule drops arcs whose flow is zero in every feasible flow. So a
min-cost (or max) flow of the contracted network maps back
(`Contraction.expand`) to a min-cost (or max) flow of the original, and every
optimum of the original is the image of one of the contracted network.
`bound` must be at least the flow any arc can carry in a feasible flow: on an
acyclic network with the given supplies, their total.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scheduler.prepared import I64, Bool

_MAX_ROUNDS = 200


@dataclass(frozen=True, eq=False)
class Contraction:
    """The contracted network: arcs `kept` of the original, re-ended and re-costed."""

    tails: I64
    heads: I64
    caps: I64
    costs: I64
    kept: I64  # original arc index of each contracted arc
    n_arcs: int  # arcs of the original network
    # Dropped arc -> the arcs whose flow it carried, in the order they were dropped.
    _steps: list[tuple[I64, I64]] = field(default_factory=list)

    def expand(self, flows: I64) -> I64:
        """Original arc flows from the contracted network's `flows`."""
        out = np.zeros(self.n_arcs, dtype=np.int64)
        out[self.kept] = flows
        for via, carried in reversed(self._steps):
            np.add.at(out, via, out[carried])
        return out


def contract(
    n_nodes: int,
    tails: I64,
    heads: I64,
    caps: I64,
    costs: I64,
    fixed: Bool,
    bound: int,
) -> Contraction:
    """Contract the network (see the module docstring); `fixed` nodes are kept as they are."""
    m = len(tails)
    t = tails.astype(np.int64, copy=True)
    h = heads.astype(np.int64, copy=True)
    cost = costs.astype(np.int64, copy=True)
    cap = np.minimum(caps.astype(np.int64), bound)
    ids = np.arange(m, dtype=np.int64)  # alive arcs
    steps: list[tuple[I64, I64]] = []
    for _ in range(_MAX_ROUNDS):
        if len(ids) == 0:
            break
        changed = False
        for one_way_out in (True, False):
            # Seen from the node: `at` ends its arcs on this side, `other` the far ends.
            at, other = (t, h) if one_way_out else (h, t)
            a_at, a_other = at[ids], other[ids]
            degree = np.bincount(a_at, minlength=n_nodes)
            single = np.full(n_nodes, -1, dtype=np.int64)
            ones = degree[a_at] == 1
            single[a_at[ones]] = ids[ones]
            # An arc into (out of) a node whose only arc out (in) has a smaller
            # capacity carries at most that much: its own capacity is redundant.
            guard = single[a_other]
            loose = (
                (guard >= 0)
                & ~fixed[a_other]
                & (cap[ids] < bound)
                & (cap[ids] >= cap[np.maximum(guard, 0)])
            )
            cap[ids[loose]] = bound
            # Capacity that can reach the node from the other side.
            feed = np.bincount(a_other, weights=cap[ids], minlength=n_nodes)
            other_degree = np.bincount(a_other, minlength=n_nodes)
            cand = (
                ~fixed
                & (single >= 0)
                & (other_degree >= 1)
                & (cap[np.maximum(single, 0)] >= np.minimum(feed, bound))
            )
            if not cand.any():
                continue
            changed = True
            # Contract in waves: first the nodes whose single arc leads to a
            # node that stays, then those leading to a node just contracted, and
            # so on, so that each step moves arcs past one contracted node.
            pending = cand
            movers = ids[cand[a_other]]
            dead = np.zeros(m, dtype=bool)
            while True:
                far = other[np.maximum(single, 0)]
                wave = pending & ~pending[far]
                if not wave.any():
                    break  # what is left pends on a cycle: kept as it is
                moved = movers[wave[other[movers]]]
                via = single[other[moved]]
                cost[moved] += cost[via]
                other[moved] = other[via]
                steps.append((via, moved))
                dead[single[wave]] = True
                pending = pending & ~wave
            ids = ids[~dead[ids]]
        # Dead ends: no way in or no way out.
        outdeg = np.bincount(t[ids], minlength=n_nodes)
        indeg = np.bincount(h[ids], minlength=n_nodes)
        dead_node = ~fixed & ((outdeg == 0) | (indeg == 0)) & ((outdeg + indeg) > 0)
        if dead_node.any():
            changed = True
            ids = ids[~dead_node[t[ids]] & ~dead_node[h[ids]]]
        if not changed:
            break
    return Contraction(
        tails=t[ids],
        heads=h[ids],
        caps=cap[ids],
        costs=cost[ids],
        kept=ids,
        n_arcs=m,
        _steps=steps,
    )
