"""The flow network of one booking round, and solving it.

Layers (``cap`` capacity, ``c`` cost)::

    group g --(cap: size of class (g, P))--> profile P
    profile P = (municipality, previous site, product list, window)
      --(c: preference position)--> demand node (municipality, previous site, product, window)
    demand node without previous site = base node (municipality, product, window)
    demand node with previous site q --(c: distance to q)--> entry at q
                                    --(c: away penalty)--> its base node
    base node --(c: distance)--> entry at each site in reach
    entry, window [e, last day] --(c: e)--> Y(s, p, e);  Y(s, p, d) --(c: +1)--> Y(s, p, d+1)
    entry, window [0, l]        --(c: l)--> R(s, p, l);  R(s, p, d) --(c: -1)--> R(s, p, d-1)
    entry, window [e, l]        --(c: d)--> Z(session on each day d inside)
    Y(s, p, d), R(s, p, d) --> Z(session s, d, p) --(cap: free places)--> T(s, p, d)
    T(s, p, d) --(cap: doses arrived by day d)--> T(s, p, d+1) ... --> sink

A class is a (group, profile) pair: groups share profile nodes because
nothing after the profile depends on the group. Citizens with a previous site
share their base node's fan-out to the sites in reach instead of each having
their own. The day chains let every window share one path per site and
product, so the graph grows with sites x days, not with citizens. The T chain
carries the bookings made up to each day, so its capacities are the stock
arrived by that day: stock never runs ahead of deliveries.

Objective (1)+(2): with sources of groups 0..k only, the max flow ``F_k`` is the
largest number of citizens of those groups that can be booked together.
Bookable sets are the independent sets of a gammoid (a matroid), so greedy by
group is optimal: group k's share of a lexicographic optimum is
``F_k - F_(k-1)``, and every such share vector is reachable at once.

Before solving, `scheduler.contraction` removes the nodes that only pass flow
on (chain days without a session, stock days without a delivery, profiles with
one product, previous sites without the product): exact, and it shrinks the
national network about 3.5 times in nodes and 1.5 times in arcs.

Objectives (3) then (4): a min-cost flow in which each group supplies exactly
its share. Every arc has a closeness/preference cost ``c`` and a day cost: the
day part of a path is the day of the session it reaches.
`lexicographic_min_cost` minimises ``W * c + day`` with a small W (the number
of days) and then certifies the result closeness-optimal (`scheduler.certify`:
no negative cycle of ``c`` in the residual network). The certificate makes the
result lexicographically optimal whatever W is: it minimises ``c``, and any
flow with the same ``c`` and fewer days would have a lower ``W * c + day``. A
small W keeps the cost range, hence the cost-scaling solver's phases, small
(the national run's min-cost flow takes about 60 % of the time it takes with
the large W). If the certificate fails, the flow is solved again with a W that
is exact on its own: along a residual cycle the day costs add up to a
difference of session days over the session arcs the cycle uses, in pairs, at
most ``(days - 1) * sessions / 2``; W above that means no cycle trades
closeness for days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from scheduler.certify import proves_min_cost
from scheduler.contraction import contract
from scheduler.decompose import Arrivals, Entries, Exits, route
from scheduler.factorize import factorize
from scheduler.prepared import I64, Bool, Prepared
from scheduler.reach import expand, reachable_sites

SOURCE = 0
SINK = 1


@dataclass(frozen=True, eq=False)
class Demand:
    """Classes to book in one round.

    A class is ``(group, profile)`` with `size` citizens. A profile fixes where
    and when its citizens can go; ``option_*`` list per profile the products it
    accepts and their preference position (0: first choice).
    """

    class_group: I64
    class_profile: I64
    class_size: I64
    profile_municipality: I64
    profile_earliest: I64
    profile_latest: I64
    profile_preferred_site: I64
    option_profile: I64
    option_product: I64
    option_position: I64
    n_groups: int

    @property
    def n_classes(self) -> int:
        return len(self.class_size)

    @property
    def n_profiles(self) -> int:
        return len(self.profile_municipality)


@dataclass(frozen=True, eq=False)
class Outcome:
    """Bookings of a round, as counts along the network's layers."""

    class_booked: I64  # per class
    # profile -> demand node bookings
    pd_profile: I64
    pd_node: I64
    pd_position: I64
    pd_count: I64
    # demand node -> session bookings
    ds_node: I64
    ds_session: I64
    ds_count: I64
    # demand node attributes
    dp_municipality: I64
    dp_preferred_site: I64
    dp_product: I64
    dp_earliest: I64
    dp_latest: I64
    option_dp: I64  # demand node of each option of the `Demand`
    group_booked: I64


def solve_round(
    prepared: Prepared,
    demand: Demand,
    free_capacity: I64,
    free_stock: I64,
) -> Outcome:
    """Book `demand` into sessions with `free_capacity` places and `free_stock` doses.

    `free_stock[site, product, day]` is how many more bookings of the product the
    site can take up to that day (cumulative).
    """
    n_days = prepared.n_days
    n_s, n_p = prepared.n_sites, prepared.n_products
    cfg = prepared.config
    n_sessions = len(free_capacity)
    last = n_days - 1

    # Active (site, product) chains: a session with a free place and stock left.
    has_session = np.zeros((n_s, n_p), dtype=bool)
    usable = np.flatnonzero(free_capacity > 0)
    has_session[prepared.session_site[usable], prepared.session_product[usable]] = True
    active = has_session & (free_stock[:, :, last] > 0)
    sp_index = np.full((n_s, n_p), -1, dtype=np.int64)
    active_pairs = np.argwhere(active)  # sorted by (site, product)
    sp_index[active_pairs[:, 0], active_pairs[:, 1]] = np.arange(len(active_pairs))
    n_active = len(active_pairs)

    # Demand nodes: one per distinct (municipality, previous site, product, window).
    op = demand.option_profile
    option_dp, first = factorize(
        [
            demand.profile_municipality[op],
            demand.profile_preferred_site[op],
            demand.option_product,
            demand.profile_earliest[op],
            demand.profile_latest[op],
        ]
    )
    dp_m = demand.profile_municipality[op][first]
    dp_pref = demand.profile_preferred_site[op][first]
    dp_p = demand.option_product[first]
    dp_e = demand.profile_earliest[op][first]
    dp_l = demand.profile_latest[op][first]
    # Base nodes (municipality, product, window) fan out to the sites in reach;
    # a demand node with a previous site is its own node, with one arc to that
    # site and one to its base node charged the away penalty.
    dp_base, base_first = factorize([dp_m, dp_p, dp_e, dp_l])
    n_base = len(base_first)
    b_m, b_p = dp_m[base_first], dp_p[base_first]
    b_e, b_l = dp_e[base_first], dp_l[base_first]
    pref_dp = np.flatnonzero(dp_pref >= 0)
    n_pref = len(pref_dp)

    # Node numbering.
    g0 = 2
    p0 = g0 + demand.n_groups
    b0 = p0 + demand.n_profiles
    q0 = b0 + n_base
    y0 = q0 + n_pref
    r0 = y0 + n_active * n_days
    z0 = r0 + n_active * n_days
    t0 = z0 + n_sessions
    n_nodes = t0 + n_active * n_days
    dp_node = b0 + dp_base
    dp_node[pref_dp] = q0 + np.arange(n_pref)

    # Entry arcs: tail node, site, product, window and closeness of each.
    base_pair, base_site = reachable_sites(prepared, b_m, np.full(n_base, -1, dtype=np.int64))
    own = prepared.closeness[dp_m[pref_dp], dp_pref[pref_dp]]
    e_tail = np.concatenate([b0 + base_pair, q0 + np.arange(n_pref)])
    e_site = np.concatenate([base_site, dp_pref[pref_dp]])
    e_prod = np.concatenate([b_p[base_pair], dp_p[pref_dp]])
    e_lo = np.concatenate([b_e[base_pair], dp_e[pref_dp]])
    e_hi = np.concatenate([b_l[base_pair], dp_l[pref_dp]])
    e_c3 = np.concatenate([prepared.closeness[b_m[base_pair], base_site], own])
    e_sp = sp_index[e_site, e_prod]
    keep = e_sp >= 0
    e_tail, e_site, e_prod, e_lo, e_hi, e_c3, e_sp = (
        x[keep] for x in (e_tail, e_site, e_prod, e_lo, e_hi, e_c3, e_sp)
    )
    is_open = e_hi == last
    is_deadline = (e_lo == 0) & ~is_open
    is_general = ~is_open & ~is_deadline
    # Other windows go straight to each session day inside the window.
    gi = np.flatnonzero(is_general)
    width = e_hi[gi] - e_lo[gi] + 1
    g_day = expand(e_lo[gi], width)
    g_rep = gi[np.repeat(np.arange(len(gi)), width)]
    g_session = prepared.session_at[e_site[g_rep], g_day, e_prod[g_rep]].astype(np.int64)
    ok = g_session >= 0
    ok[ok] = free_capacity[g_session[ok]] > 0
    g_rep, g_day, g_session = g_rep[ok], g_day[ok], g_session[ok]

    # Chains, per active (site, product) and day.
    a = np.repeat(np.arange(n_active, dtype=np.int64), n_days)
    dd = np.tile(np.arange(n_days, dtype=np.int64), n_active)
    chain_site = active_pairs[a, 0] if n_active else a
    chain_product = active_pairs[a, 1] if n_active else a
    node = a * n_days + dd
    not_last = dd < last
    not_first = dd > 0
    chain_session = prepared.session_at[chain_site, dd, chain_product].astype(np.int64)
    has = chain_session >= 0
    has[has] = free_capacity[chain_session[has]] > 0
    stock_cap = np.maximum(free_stock[chain_site, chain_product, dd], 0)

    big = max(int(demand.class_size.sum()), 1)
    profile_size = np.bincount(
        demand.class_profile, weights=demand.class_size, minlength=demand.n_profiles
    ).astype(np.int64)

    def zeros(k: int) -> I64:
        return np.zeros(k, dtype=np.int64)

    def full(k: int, value: int) -> I64:
        return np.full(k, value, dtype=np.int64)

    oi, di = np.flatnonzero(is_open), np.flatnonzero(is_deadline)
    n_yz, n_chain = int(has.sum()), int(not_last.sum())
    # Arc blocks in a fixed order (reproducible results): tail, head, capacity,
    # closeness/preference cost, day cost.
    blocks: list[tuple[I64, I64, I64, I64, I64]] = [
        # 0 groups -> profiles: one arc per class
        (
            g0 + demand.class_group,
            p0 + demand.class_profile,
            demand.class_size,
            zeros(demand.n_classes),
            zeros(demand.n_classes),
        ),
        # 1 profiles -> demand nodes, by preference
        (
            p0 + op,
            dp_node[option_dp],
            profile_size[op],
            cfg.preference_step * demand.option_position,
            zeros(len(op)),
        ),
        # 2 previous-site nodes -> their base node, away from the previous site
        (
            q0 + np.arange(n_pref),
            b0 + dp_base[pref_dp],
            full(n_pref, big),
            full(n_pref, cfg.other_site_penalty),
            zeros(n_pref),
        ),
        # 3 open windows enter the forward chain at their first day
        (e_tail[oi], y0 + e_sp[oi] * n_days + e_lo[oi], full(len(oi), big), e_c3[oi], e_lo[oi]),
        # 4 deadlines enter the backward chain at their last day
        (e_tail[di], r0 + e_sp[di] * n_days + e_hi[di], full(len(di), big), e_c3[di], e_hi[di]),
        # 5 other windows go to each session day
        (e_tail[g_rep], z0 + g_session, full(len(g_rep), big), e_c3[g_rep], g_day),
        # 6 forward chain: a day later costs a day; 7 backward: a day earlier saves one
        (
            y0 + node[not_last],
            y0 + node[not_last] + 1,
            full(n_chain, big),
            zeros(n_chain),
            full(n_chain, 1),
        ),
        (
            r0 + node[not_first],
            r0 + node[not_first] - 1,
            full(n_chain, big),
            zeros(n_chain),
            full(n_chain, -1),
        ),
        # 8, 9 chains -> sessions
        (y0 + node[has], z0 + chain_session[has], full(n_yz, big), zeros(n_yz), zeros(n_yz)),
        (r0 + node[has], z0 + chain_session[has], full(n_yz, big), zeros(n_yz), zeros(n_yz)),
        # 10 sessions -> stock chain: free places
        (
            z0 + chain_session[has],
            t0 + node[has],
            free_capacity[chain_session[has]],
            zeros(n_yz),
            zeros(n_yz),
        ),
        # 11 stock chain: bookings up to day d within the doses arrived by d; 12 exit
        (
            t0 + node[not_last],
            t0 + node[not_last] + 1,
            stock_cap[not_last],
            zeros(n_chain),
            zeros(n_chain),
        ),
        (
            t0 + node[~not_last],
            full(n_active, SINK),
            stock_cap[~not_last],
            zeros(n_active),
            zeros(n_active),
        ),
    ]
    bounds = np.cumsum([0, *(len(b[0]) for b in blocks)])
    tails = np.concatenate([b[0] for b in blocks]).astype(np.int64)
    heads = np.concatenate([b[1] for b in blocks]).astype(np.int64)
    caps = np.concatenate([b[2] for b in blocks]).astype(np.int64)
    costs = np.stack(
        [np.concatenate([b[3] for b in blocks]), np.concatenate([b[4] for b in blocks])], axis=1
    ).astype(np.int64)

    # Which profiles have any usable session at all.
    reached = np.zeros(n_nodes, dtype=bool)
    reached[e_tail[oi]] = True
    reached[e_tail[di]] = True
    reached[e_tail[g_rep]] = True
    dp_reached = reached[dp_node] | reached[b0 + dp_base]
    profile_has_option = np.zeros(demand.n_profiles, dtype=bool)
    profile_has_option[op[dp_reached[option_dp]]] = True

    # Contract pass-through nodes first (exact; see `scheduler.contraction`),
    # then number the nodes left densely: the solvers' work grows with both.
    # The network is acyclic (chains run one way), so no arc carries more than
    # the whole demand `big`.
    fixed = np.zeros(n_nodes, dtype=bool)
    fixed[[SOURCE, SINK]] = True
    fixed[g0 : g0 + demand.n_groups] = True
    small = contract(n_nodes, tails, heads, caps, costs, fixed, big)
    nodes = np.unique(np.concatenate([small.tails, small.heads, np.flatnonzero(fixed)]))
    index = np.full(n_nodes, -1, dtype=np.int64)
    index[nodes] = np.arange(len(nodes))
    s_tails, s_heads = index[small.tails], index[small.heads]
    group_nodes = index[g0 : g0 + demand.n_groups]

    group_booked = lexicographic_counts(
        demand,
        profile_has_option,
        s_tails,
        s_heads,
        small.caps,
        group_nodes,
        index[SOURCE],
        index[SINK],
    )
    supplies = np.zeros(len(nodes), dtype=np.int64)
    supplies[group_nodes] = group_booked
    supplies[index[SINK]] = -int(group_booked.sum())
    flows = small.expand(
        lexicographic_min_cost(
            s_tails, s_heads, small.caps, small.costs, supplies, n_days, int(has.sum())
        )
    )

    def block(i: int) -> I64:
        return flows[bounds[i] : bounds[i + 1]]

    # Label every unit with the demand node its citizen belongs to, then follow
    # it through its base node and the chains to a session.
    f_opt, f_pref = block(1), block(2)
    own_opt = (dp_pref[option_dp] < 0) & (f_opt > 0)
    to_pref = dp_pref[option_dp] >= 0
    pref_in = np.bincount(
        np.searchsorted(pref_dp, option_dp[to_pref]), weights=f_opt[to_pref], minlength=n_pref
    ).astype(np.int64)
    arrivals = Arrivals(
        node=np.concatenate(
            [b0 + dp_base[option_dp[own_opt]], b0 + dp_base[pref_dp], q0 + np.arange(n_pref)]
        ),
        label=np.concatenate([option_dp[own_opt], pref_dp, pref_dp]),
        count=np.concatenate([f_opt[own_opt], f_pref, pref_in - f_pref]),
    )
    entries = Entries(
        tail=np.concatenate([e_tail[oi], e_tail[di], e_tail[g_rep]]),
        kind=np.concatenate([zeros(len(oi)), full(len(di), 1), full(len(g_rep), 2)]),
        chain=np.concatenate([e_sp[oi], e_sp[di], full(len(g_rep), -1)]),
        day=np.concatenate([e_lo[oi], e_hi[di], g_day]),
        session=np.concatenate([full(len(oi) + len(di), -1), g_session]),
        count=np.concatenate([block(3), block(4), block(5)]),
    )
    ds_node, ds_session, ds_count = route(
        arrivals,
        entries,
        Exits(
            chain=a[has],
            day=dd[has],
            session=chain_session[has],
            forward=block(8),
            backward=block(9),
        ),
    )
    pd_used = f_opt > 0
    return Outcome(
        class_booked=block(0).copy(),
        pd_profile=op[pd_used],
        pd_node=option_dp[pd_used],
        pd_position=demand.option_position[pd_used],
        pd_count=f_opt[pd_used],
        ds_node=ds_node,
        ds_session=ds_session,
        ds_count=ds_count,
        dp_municipality=dp_m,
        dp_preferred_site=dp_pref,
        dp_product=dp_p,
        dp_earliest=dp_e,
        dp_latest=dp_l,
        option_dp=option_dp,
        group_booked=group_booked,
    )


def lexicographic_counts(
    demand: Demand,
    profile_has_option: Bool,
    tails: I64,
    heads: I64,
    caps: I64,
    group_nodes: I64,
    source: int,
    sink: int,
) -> I64:
    """Citizens of each group that a lexicographically optimal booking serves.

    One max flow per group k, from `source` feeding the `group_nodes` of groups
    0..k through the booking network (`tails`, `heads`, `caps`) to `sink`.
    """
    booked = np.zeros(demand.n_groups, dtype=np.int64)
    if demand.n_classes == 0:
        return booked
    solver = max_flow.SimpleMaxFlow()
    n_groups = demand.n_groups
    # Arcs 0..n_groups-1 feed the groups; they open one group at a time.
    solver.add_arcs_with_capacity(
        np.concatenate([np.full(n_groups, source), tails]).astype(np.int32),
        np.concatenate([group_nodes, heads]).astype(np.int32),
        np.concatenate([np.zeros(n_groups, dtype=np.int64), caps]).astype(np.int64),
    )
    servable = profile_has_option[demand.class_profile]
    size = np.bincount(
        demand.class_group[servable], weights=demand.class_size[servable], minlength=n_groups
    ).astype(np.int64)
    previous = 0
    for g in range(n_groups):
        if size[g] == 0:
            continue
        solver.set_arc_capacity(g, int(size[g]))
        status = solver.solve(source, sink)
        if status != solver.OPTIMAL:
            raise RuntimeError(f"max flow failed with status {status!r}")
        value = int(solver.optimal_flow())
        booked[g] = value - previous
        previous = value
    return booked


def lexicographic_min_cost(
    tails: I64,
    heads: I64,
    caps: I64,
    costs: I64,
    supplies: I64,
    n_days: int,
    n_sessions: int,
) -> I64:
    """Arc flows minimising closeness (``costs[:, 0]``), then days (``costs[:, 1]``).

    Solved with ``W * closeness + day`` for a small W; the result is then
    certified closeness-optimal (`scheduler.certify`), which makes it
    lexicographically optimal for any W > 0. If the certificate fails, the flow
    is solved again with a W large enough to be exact on its own.
    """
    closeness, day = costs[:, 0], costs[:, 1]
    for weight in (n_days, max(n_days - 1, 1) * (n_sessions // 2 + 1) + 1):
        flows = _min_cost_flow(tails, heads, caps, weight * closeness + day, supplies)
        if proves_min_cost(len(supplies), tails, heads, caps, closeness, flows):
            return flows
    return flows


def _min_cost_flow(tails: I64, heads: I64, caps: I64, costs: I64, supplies: I64) -> I64:
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    solver.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status!r}")
    return np.asarray(solver.flows(np.arange(len(tails), dtype=np.int32)), dtype=np.int64)
