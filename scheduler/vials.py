"""Open-vial waste: fill the vials a session opens (objective 5).

A session of a multi-dose product opens ``ceil(booked / doses_per_vial)``
vials; the doses left in the last one are wasted unless someone takes them.
Two measures, neither of which unbooks anyone or changes a group's count:

- `consolidate` moves the bookings that only half-fill a session's last vial
  to other sessions of the same product whose open vial has room, when every
  moved citizen can use the target (site within reach, day inside the window)
  and the target has a free place and stock. The partial vial disappears and
  the target's vial count stays the same. Moves may cost closeness or days
  (objectives 3 and 4), never (1) or (2), never the product, and never take a
  later dose away from the site of the previous dose.
- `standby.py` lists citizens to call for the doses still left over.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import numpy as np

from scheduler.network import Outcome
from scheduler.prepared import I64, Prepared

MAX_TARGETS = 32


def consolidate(prepared: Prepared, outcome: Outcome, capacity: I64, free_stock: I64) -> Outcome:
    """`outcome` with partial vials merged into other sessions' open vials.

    `capacity` and `free_stock` are what the round was solved against.
    """
    n_sessions = len(capacity)
    sess_p = prepared.session_product
    v_of = prepared.doses_per_vial
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for dp, ses, k in zip(
        outcome.ds_node.tolist(),
        outcome.ds_session.tolist(),
        outcome.ds_count.tolist(),
        strict=True,
    ):
        counts[ses][dp] = counts[ses].get(dp, 0) + k
    booked = np.bincount(outcome.ds_session, weights=outcome.ds_count, minlength=n_sessions).astype(
        np.int64
    )
    v = v_of[sess_p]
    remainder = booked % v
    candidates = np.flatnonzero((v > 1) & (remainder > 0))
    if len(candidates) == 0:
        return outcome

    n_days = prepared.n_days
    site, day = prepared.session_site, prepared.session_day
    # Bookings per (site, product, day), for the cumulative stock check.
    per_day = np.zeros_like(free_stock)
    np.add.at(per_day, (site, sess_p, day), booked)
    # Nested lists: read and updated a few days at a time in the loop below.
    slack: list[list[list[int]]] = (free_stock - np.cumsum(per_day, axis=2)).tolist()
    in_reach, closeness = prepared.in_reach, prepared.closeness
    penalty = prepared.config.other_site_penalty
    dp_m, dp_pref = outcome.dp_municipality, outcome.dp_preferred_site
    dp_e, dp_l = outcome.dp_earliest, outcome.dp_latest
    # Plain lists for the scalar work of the loop below (numpy scalars are slow).
    site_of: list[int] = site.tolist()
    day_of: list[int] = day.tolist()
    product_of: list[int] = sess_p.tolist()
    capacity_of: list[int] = capacity.tolist()
    booked_of: list[int] = booked.tolist()
    m_of: list[int] = dp_m.tolist()
    pref_of: list[int] = dp_pref.tolist()
    closeness_of: list[list[int]] = closeness.tolist()

    # Receivers a demand node could move to, per (product, municipality,
    # previous site): sessions at sites in reach, cheapest first (then by day
    # and session), found once; which of them still receive is checked per call.
    is_receiver = np.zeros(n_sessions, dtype=bool)
    nearby: dict[tuple[int, int], tuple[I64, I64, I64, list[int]]] = {}
    of_product: I64 = np.zeros(0, dtype=np.int64)

    def reachable(m: int, pref: int) -> tuple[I64, I64, I64, list[int]]:
        key = (m, pref)
        found = nearby.get(key)
        if found is None:
            rs = site[of_product]
            ok = in_reach[m, rs] | (rs == pref)
            x, xs, xd = of_product[ok], rs[ok], day[of_product[ok]]
            extra = closeness[m, xs] + penalty * ((pref >= 0) & (xs != pref))
            order = np.lexsort((x, xd, extra))
            found = (x[order], xs[order], xd[order], extra[order].tolist())
            nearby[key] = found
        return found

    def targets(dp: int, src: int) -> list[tuple[int, int, int, int]]:
        """(extra cost, day, session, dp) for the cheapest receivers `dp` could move to."""
        pref = pref_of[dp]
        x, xs, xd, extra = reachable(m_of[dp], pref)
        ok = is_receiver[x] & (xd >= dp_e[dp]) & (xd <= dp_l[dp]) & (x != src)
        if pref >= 0 and site_of[src] == pref:
            ok &= xs == pref  # a later dose stays at the previous dose's site
        best = np.flatnonzero(ok)[:MAX_TARGETS]
        here = cost(dp, src)
        return [
            (extra[i] - here, d, x_, dp)
            for i, d, x_ in zip(best.tolist(), xd[best].tolist(), x[best].tolist(), strict=True)
        ]

    def cost(dp: int, ses: int) -> int:
        s, pref = site_of[ses], pref_of[dp]
        return closeness_of[m_of[dp]][s] + (penalty if pref >= 0 and s != pref else 0)

    def stock_allows(src: int, dst: int, k: int) -> bool:
        s, p, d = site_of[dst], product_of[dst], day_of[dst]
        hi = n_days
        if site_of[src] == s:
            if day_of[src] <= d:
                return True  # later in the same chain: no day gets more bookings
            hi = day_of[src]
        return min(slack[s][p][d:hi]) >= k

    def move(src: int, dst: int, dp: int, k: int) -> None:
        counts[src][dp] -= k
        if counts[src][dp] == 0:
            del counts[src][dp]
        counts[dst][dp] = counts[dst].get(dp, 0) + k
        booked_of[src] -= k
        booked_of[dst] += k
        p = product_of[src]
        back, out = slack[site_of[src]][p], slack[site_of[dst]][p]
        for d in range(day_of[src], n_days):
            back[d] += k
        for d in range(day_of[dst], n_days):
            out[d] -= k

    for p in np.unique(sess_p[candidates]).tolist():
        vp = int(v_of[p])
        of_p = candidates[sess_p[candidates] == p].tolist()

        def receives(x: int, vp: int = vp) -> bool:
            return booked_of[x] % vp > 0 and booked_of[x] < capacity_of[x]

        receivers = {x for x in of_p if receives(x)}
        is_receiver[:] = False
        is_receiver[sorted(receivers)] = True
        of_product = np.array(sorted(of_p), dtype=np.int64)
        nearby.clear()

        # Smallest remainders first: they are the cheapest vials to close.
        def remainder_first(x: int, vp: int = vp) -> tuple[int, int]:
            return booked_of[x] % vp, x

        for src in sorted(of_p, key=remainder_first):
            r = booked_of[src] % vp
            if r == 0 or len(receivers) == (src in receivers):
                continue
            # The cheapest few targets decide; a long tail of costlier ones rarely
            # helps and would make the pass quadratic in the number of sessions.
            # Demand nodes are visited by the least extra cost they could have,
            # and the visit stops once no further node can reach the cheapest few.
            bounds = []
            for dp in counts[src]:
                near = reachable(m_of[dp], pref_of[dp])[3]
                if near:
                    bounds.append((near[0] - cost(dp, src), dp))
            found: list[tuple[int, int, int, int]] = []
            for least, dp in sorted(bounds):
                if len(found) >= MAX_TARGETS:
                    found.sort()
                    del found[MAX_TARGETS:]
                    if least > found[-1][0]:
                        break
                found.extend(targets(dp, src))
            options = sorted(found)[:MAX_TARGETS]
            done: list[tuple[int, int, int]] = []
            left = r
            for _, _, dst, dp in options:
                if left == 0:
                    break
                room = min(vp - booked_of[dst] % vp, capacity_of[dst] - booked_of[dst])
                if booked_of[dst] % vp == 0:
                    room = 0  # a full vial: another unit would open a new one
                k = min(left, room, counts[src].get(dp, 0))
                if k <= 0 or not stock_allows(src, dst, k):
                    continue
                move(src, dst, dp, k)
                done.append((dst, dp, k))
                left -= k
            if left:
                for dst, dp, k in reversed(done):
                    move(dst, src, dp, k)
            for x in {src, *(d for d, _, _ in done)}:
                if receives(x) != (x in receivers):
                    receivers.symmetric_difference_update({x})
                    is_receiver[x] = x in receivers

    rows = [(dp, ses, k) for ses in sorted(counts) for dp, k in sorted(counts[ses].items()) if k]
    arr = np.array(rows, dtype=np.int64).reshape(-1, 3)
    return replace(outcome, ds_node=arr[:, 0], ds_session=arr[:, 1], ds_count=arr[:, 2])
