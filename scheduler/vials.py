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
    slack = free_stock - np.cumsum(per_day, axis=2)
    in_reach, closeness = prepared.in_reach, prepared.closeness
    penalty = prepared.config.other_site_penalty
    dp_m, dp_pref = outcome.dp_municipality, outcome.dp_preferred_site
    dp_e, dp_l = outcome.dp_earliest, outcome.dp_latest

    def targets(dp: int, src: int, recv: I64) -> list[tuple[int, int, int, int]]:
        """(extra cost, day, session, dp) for each receiver `dp` could move to."""
        rs, rd = site[recv], day[recv]
        pref = int(dp_pref[dp])
        ok = (rd >= dp_e[dp]) & (rd <= dp_l[dp]) & (recv != src)
        if pref >= 0 and int(site[src]) == pref:
            ok &= rs == pref  # a later dose stays at the previous dose's site
        else:
            ok &= in_reach[dp_m[dp], rs] | (rs == pref)
        extra = closeness[dp_m[dp], rs] + penalty * ((pref >= 0) & (rs != pref)) - cost(dp, src)
        extra, rd, rv = extra[ok], rd[ok], recv[ok]
        best = np.lexsort((rv, rd, extra))[:MAX_TARGETS]
        return list(
            zip(
                extra[best].tolist(),
                rd[best].tolist(),
                rv[best].tolist(),
                [dp] * len(best),
                strict=True,
            )
        )

    def cost(dp: int, ses: int) -> int:
        s = int(site[ses])
        away = dp_pref[dp] >= 0 and s != dp_pref[dp]
        return int(closeness[dp_m[dp], s]) + (penalty if away else 0)

    def stock_allows(src: int, dst: int, k: int) -> bool:
        s, p, d = int(site[dst]), int(sess_p[dst]), int(day[dst])
        hi = n_days
        if int(site[src]) == s:
            if int(day[src]) <= d:
                return True  # later in the same chain: no day gets more bookings
            hi = int(day[src])
        return bool(slack[s, p, d:hi].min() >= k)

    def move(src: int, dst: int, dp: int, k: int) -> None:
        counts[src][dp] -= k
        if counts[src][dp] == 0:
            del counts[src][dp]
        counts[dst][dp] = counts[dst].get(dp, 0) + k
        booked[src] -= k
        booked[dst] += k
        p = int(sess_p[src])
        slack[int(site[src]), p, int(day[src]) :] += k
        slack[int(site[dst]), p, int(day[dst]) :] -= k

    for p in np.unique(sess_p[candidates]).tolist():
        vp = int(v_of[p])
        of_p = candidates[sess_p[candidates] == p].tolist()

        def receives(x: int, vp: int = vp) -> bool:
            return bool(booked[x] % vp > 0 and booked[x] < capacity[x])

        receivers = {x for x in of_p if receives(x)}
        recv = np.array(sorted(receivers), dtype=np.int64)

        # Smallest remainders first: they are the cheapest vials to close.
        def remainder_first(x: int, vp: int = vp) -> tuple[int, int]:
            return int(booked[x] % vp), x

        for src in sorted(of_p, key=remainder_first):
            r = int(booked[src] % vp)
            if r == 0 or not receivers - {src}:
                continue
            # The cheapest few targets decide; a long tail of costlier ones rarely
            # helps and would make the pass quadratic in the number of sessions.
            options = sorted(
                option for dp in sorted(counts[src]) for option in targets(dp, src, recv)
            )[:MAX_TARGETS]
            done: list[tuple[int, int, int]] = []
            left = r
            for _, _, dst, dp in options:
                if left == 0:
                    break
                room = min(vp - int(booked[dst] % vp), int(capacity[dst] - booked[dst]))
                if booked[dst] % vp == 0:
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
            before = len(receivers)
            changed = False
            for x in {src, *(d for d, _, _ in done)}:
                if receives(x) != (x in receivers):
                    changed = True
                    receivers.symmetric_difference_update({x})
            if changed or len(receivers) != before:
                recv = np.array(sorted(receivers), dtype=np.int64)

    rows = [(dp, ses, k) for ses in sorted(counts) for dp, k in sorted(counts[ses].items()) if k]
    arr = np.array(rows, dtype=np.int64).reshape(-1, 3)
    return replace(outcome, ds_node=arr[:, 0], ds_session=arr[:, 1], ds_count=arr[:, 2])
