"""The reason for each citizen who had a class but got no appointment.

Checked per demand node over every session it could use:

- none at all -> `NO_SESSION_IN_REACH`;
- none whose site holds the product in the horizon -> `NO_STOCK`;
- one with stock and a free place -> `NO_STOCK` (the flow is maximal, so the
  free place could only be blocked by the stock arrived by that day);
- otherwise every usable place is taken -> `NO_CAPACITY`.
"""

from __future__ import annotations

import numpy as np

from scheduler.classes import REASON_CODE
from scheduler.factorize import factorize
from scheduler.network import Demand, Outcome
from scheduler.prepared import I64, Prepared
from scheduler.reach import reachable_sites
from scheduler.reasons import Reason


def profile_reasons(
    prepared: Prepared,
    demand: Demand,
    outcome: Outcome,
    booked_per_session: I64,
) -> I64:
    """Reason code per profile, used for its members left unbooked."""
    n_s, n_p, n_d = prepared.n_sites, prepared.n_products, prepared.n_days
    # Per (site, product, day): a session exists / has stock / has a free place.
    ses_site, ses_product, ses_day = (
        prepared.session_site,
        prepared.session_product,
        prepared.session_day,
    )
    stocked_pair = prepared.stock_by_day[:, :, n_d - 1] > 0
    stocked = stocked_pair[ses_site, ses_product]
    free = stocked & (booked_per_session < prepared.session_capacity)
    flags = np.zeros((3, n_s, n_p, n_d + 1), dtype=np.int64)
    for k, mask in enumerate((np.ones(len(ses_site), dtype=bool), stocked, free)):
        np.add.at(flags[k], (ses_site[mask], ses_product[mask], ses_day[mask] + 1), 1)
    flags = np.cumsum(flags, axis=3)

    # Sites in reach depend on the municipality only: look them up once per
    # (municipality, product, window), then add each node's previous site.
    dp_p, dp_e, dp_hi = outcome.dp_product, outcome.dp_earliest, outcome.dp_latest + 1
    base, first = factorize([outcome.dp_municipality, dp_p, dp_e, dp_hi])
    pair_base, pair_site = reachable_sites(
        prepared, outcome.dp_municipality[first], np.full(len(first), -1, dtype=np.int64)
    )
    bf = first[pair_base]
    p = dp_p[bf]
    in_window = flags[:, pair_site, p, dp_hi[bf]] - flags[:, pair_site, p, dp_e[bf]] > 0
    pref = np.flatnonzero(outcome.dp_preferred_site >= 0)
    q_site, q_p = outcome.dp_preferred_site[pref], dp_p[pref]
    at_pref = flags[:, q_site, q_p, dp_hi[pref]] - flags[:, q_site, q_p, dp_e[pref]] > 0

    def any_per_dp(k: int) -> np.ndarray:
        hit = (np.bincount(pair_base[in_window[k]], minlength=len(first)) > 0)[base]
        hit[pref] |= at_pref[k]
        return hit

    dp_session = any_per_dp(0)
    dp_stock = any_per_dp(1)
    dp_free = any_per_dp(2)

    def any_per_profile(flag: np.ndarray) -> np.ndarray:
        hits = demand.option_profile[flag[outcome.option_dp]]
        return np.bincount(hits, minlength=demand.n_profiles) > 0

    has_session = any_per_profile(dp_session)
    has_stock = any_per_profile(dp_stock)
    has_free = any_per_profile(dp_free)
    reason = np.full(demand.n_profiles, REASON_CODE[Reason.NO_CAPACITY], dtype=np.int64)
    reason[has_free] = REASON_CODE[Reason.NO_STOCK]
    reason[~has_stock] = REASON_CODE[Reason.NO_STOCK]
    reason[~has_session] = REASON_CODE[Reason.NO_SESSION_IN_REACH]
    return reason
