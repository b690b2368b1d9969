"""Certificate that a flow minimises a cost: no negative cycle in its residual network.

A feasible flow is a min-cost flow exactly when its residual network (an arc
with room left forward at cost ``c``, an arc carrying flow backward at cost
``-c``) has no cycle of negative cost. Bellman-Ford from a virtual root joined
to every node at cost 0 settles within ``n - 1`` rounds when there is no such
cycle; here it runs until nothing changes, relaxing only the arcs whose tail
improved in the previous round, and gives up after a work budget. So `True` is
a proof of optimality and `False` only means "not proven".
"""

from __future__ import annotations

import numpy as np

from scheduler.prepared import I64


def proves_min_cost(
    n_nodes: int,
    tails: I64,
    heads: I64,
    caps: I64,
    costs: I64,
    flows: I64,
    budget: float = 64.0,
) -> bool:
    """Whether `flows` provably minimises `costs` among flows with the same supplies.

    `budget` bounds the work at that many passes over the residual arcs.
    """
    room, used = flows < caps, flows > 0
    rt = np.concatenate([tails[room], heads[used]])
    rh = np.concatenate([heads[room], tails[used]])
    rc = np.concatenate([costs[room], -costs[used]])
    order = np.argsort(rh, kind="stable")
    rt, rh, rc = rt[order], rh[order], rc[order]
    dist = np.zeros(n_nodes, dtype=np.int64)
    changed = np.ones(n_nodes, dtype=bool)
    work, limit = 0, budget * max(len(rt), 1)
    while work <= limit:
        live = np.flatnonzero(changed[rt])
        if len(live) == 0:
            return True
        work += len(live)
        head = rh[live]
        reach = dist[rt[live]] + rc[live]
        # Arcs are sorted by head: the best offer per head is a segment minimum.
        first = np.flatnonzero(np.concatenate([[True], head[1:] != head[:-1]]))
        best = np.minimum.reduceat(reach, first)
        node = head[first]
        better = best < dist[node]
        changed[:] = False
        changed[node[better]] = True
        dist[node[better]] = best[better]
    return False
