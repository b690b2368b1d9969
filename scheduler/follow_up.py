"""Second doses of the first doses booked in this run.

A dose below the product's series length has a follow-up of
`Product.follow_up_product` (Sputnik V component II after component I) due
``min_interval_days`` to ``max_interval_days`` after the booked day.

- When that window starts after the horizon, the run returns a
  `SecondDosePlan`; the caller feeds it back as a waiting later dose, and later
  doses are served before any first dose, so its place comes first then.
- When the window starts inside the horizon, the follow-up is booked in this
  run, after the main round, on the places and stock the main round left,
  at the first dose's site where possible (`Config.other_site_penalty`).
  If no place is free and the window also ends inside the horizon, the series
  could never be completed, so the first dose is withdrawn
  (`Reason.SECOND_DOSE_UNAVAILABLE`); if the window reaches past the horizon,
  a plan is returned instead. Withdrawn places are not offered again in the
  same run. With every product's minimum interval (21 days and more) longer
  than the scheduling horizon, this branch only serves short test intervals and
  long horizons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scheduler.assign import place_members
from scheduler.factorize import factorize
from scheduler.network import Demand, solve_round
from scheduler.prepared import I64, Prepared


@dataclass(frozen=True, eq=False)
class FollowUps:
    """Follow-up appointments, withdrawn first doses and plans for later runs."""

    booked_index: I64  # index into the given bookings
    booked_session: I64
    withdrawn_index: I64
    plan_index: I64
    plan_product: I64
    plan_earliest: I64
    plan_latest: I64
    plan_site: I64


def follow_ups(
    prepared: Prepared,
    session: I64,
    dose: I64,
    group: I64,
    municipality: I64,
    seniority: I64,
    n_groups: int,
    booked_per_session: I64,
) -> FollowUps:
    """Book or plan the next dose of each booking (`session`, `dose`, ...)."""
    product = prepared.session_product[session].astype(np.int64)
    due = dose < prepared.series_doses[product]
    idx = np.flatnonzero(due)
    day = prepared.session_day[session[idx]].astype(np.int64)
    p = product[idx]
    q = prepared.follow_up_product[p].astype(np.int64)
    e2 = day + prepared.min_interval[p]
    l2 = day + prepared.max_interval[p]
    site = prepared.session_site[session[idx]].astype(np.int64)
    last = prepared.n_days - 1
    inside = e2 <= last

    empty = np.zeros(0, dtype=np.int64)
    booked_index, booked_session, withdrawn = empty, empty, empty
    planned = ~inside
    if inside.any():
        members = np.flatnonzero(inside)
        lo = np.minimum(l2[members], last)
        profile, first = factorize(
            [municipality[idx[members]], site[members], q[members], e2[members], lo]
        )
        cls, cls_first = factorize([group[idx[members]], profile])
        rows = members[first]
        demand = Demand(
            class_group=group[idx[members]][cls_first],
            class_profile=profile[cls_first],
            class_size=np.bincount(cls).astype(np.int64),
            profile_municipality=municipality[idx[rows]],
            profile_earliest=e2[rows],
            profile_latest=np.minimum(l2[rows], last),
            profile_preferred_site=site[rows],
            option_profile=np.arange(len(rows), dtype=np.int64),
            option_product=q[rows],
            option_position=np.zeros(len(rows), dtype=np.int64),
            n_groups=n_groups,
        )
        free = prepared.session_capacity - booked_per_session
        per_day = np.zeros_like(prepared.stock_by_day)
        np.add.at(
            per_day,
            (prepared.session_site, prepared.session_product, prepared.session_day),
            booked_per_session,
        )
        free_stock = prepared.stock_by_day - np.cumsum(per_day, axis=2)
        outcome = solve_round(prepared, demand, free, free_stock)
        member_class = np.full(len(idx), -1, dtype=np.int64)
        member_class[members] = cls
        placed = place_members(
            member_class,
            group[idx],
            seniority[idx],
            demand.class_profile,
            outcome,
            prepared.session_day.astype(np.int64),
        )
        ok = placed >= 0
        booked_index, booked_session = idx[ok], placed[ok]
        missing = inside & ~ok
        withdrawn = idx[missing & (l2 <= last)]
        planned = planned | (missing & (l2 > last))
    return FollowUps(
        booked_index=booked_index,
        booked_session=booked_session,
        withdrawn_index=withdrawn,
        plan_index=idx[planned],
        plan_product=q[planned],
        plan_earliest=e2[planned],
        plan_latest=l2[planned],
        plan_site=site[planned],
    )
