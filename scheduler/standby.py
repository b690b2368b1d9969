"""Standby lists: who to call for the doses left in a session's last vial.

Every session of a multi-dose product with bookings gets up to
``ceil(standby_factor * (doses_per_vial - 1))`` citizens who were not booked
for lack of capacity or stock and who could use the session (product accepted,
home municipality within reach of the site, day inside their window). A
standby citizen must come at short notice, so the site's nearest municipality
is drawn first, then the next nearest; within a municipality, best priority
group first, then earliest registration. A citizen is on at most one list, so
two sites never call the same person for the same evening.
"""

from __future__ import annotations

import heapq

import numpy as np

from scheduler.factorize import lexorder
from scheduler.network import Outcome
from scheduler.prepared import I64, Prepared


def standby_lists(
    prepared: Prepared,
    outcome: Outcome,
    option_profile: I64,
    waiting_profile: I64,
    waiting_row: I64,
    waiting_key: I64,
    booked: I64,
) -> tuple[I64, I64]:
    """Standby (session, row) pairs, in call order within each session.

    `waiting_row` are the rows that may stand by, `waiting_profile` their profile
    in the main round and `waiting_key` their order (group, then seniority);
    `booked` is the number of bookings per session.
    """
    factor = prepared.config.standby_factor
    v = prepared.doses_per_vial[prepared.session_product]
    want = np.where((v > 1) & (booked > 0), np.ceil(factor * (v - 1)).astype(np.int64), 0).astype(
        np.int64
    )
    empty = np.zeros(0, dtype=np.int64)
    if not want.any() or len(waiting_row) == 0:
        return empty, empty

    # Pool of each profile: its waiting members in call order. A member belongs
    # to one profile, so pools never share anyone.
    order = lexorder([waiting_profile, waiting_key])
    pool_member = order.tolist()
    pool_profile = waiting_profile[order]
    n_profiles = int(option_profile.max(initial=-1)) + 1
    bounds = np.searchsorted(pool_profile, np.arange(n_profiles + 1))
    head = bounds[:-1].tolist()
    pool_end = bounds[1:].tolist()
    keys = waiting_key.tolist()

    # Profiles by (municipality, product) of their options, for lookup per session.
    by_mp: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    dp = outcome.option_dp
    for prof, m, p, e, lo in zip(
        option_profile.tolist(),
        outcome.dp_municipality[dp].tolist(),
        outcome.dp_product[dp].tolist(),
        outcome.dp_earliest[dp].tolist(),
        outcome.dp_latest[dp].tolist(),
        strict=True,
    ):
        if head[prof] < pool_end[prof]:
            by_mp.setdefault((m, p), []).append((e, lo, prof))

    out_session: list[int] = []
    out_member: list[int] = []
    near_cache: dict[int, list[int]] = {}
    reach, closeness = prepared.in_reach, prepared.closeness
    for session in np.flatnonzero(want > 0).tolist():
        site = int(prepared.session_site[session])
        day = int(prepared.session_day[session])
        product = int(prepared.session_product[session])
        need = int(want[session])
        near = near_cache.get(site)
        if near is None:
            # Municipalities in reach, nearest first: standby citizens must come
            # at short notice.
            ms = np.flatnonzero(reach[:, site])
            near = ms[np.lexsort((ms, closeness[ms, site]))].tolist()
            near_cache[site] = near
        for m in near:
            heap = [
                (keys[pool_member[head[prof]]], prof)
                for e, lo, prof in by_mp.get((m, product), ())
                if e <= day <= lo and head[prof] < pool_end[prof]
            ]
            heapq.heapify(heap)
            while need and heap:
                _, prof = heapq.heappop(heap)
                out_session.append(session)
                out_member.append(pool_member[head[prof]])
                head[prof] += 1
                need -= 1
                if head[prof] < pool_end[prof]:
                    heapq.heappush(heap, (keys[pool_member[head[prof]]], prof))
            if not need:
                break
    return (
        np.array(out_session, dtype=np.int64),
        waiting_row[np.array(out_member, dtype=np.int64)] if out_member else empty,
    )
