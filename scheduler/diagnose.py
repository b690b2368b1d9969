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
    n_dp = len(outcome.dp_product)
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

    pair_dp, pair_site = reachable_sites(
        prepared, outcome.dp_municipality, outcome.dp_preferred_site
    )
    p = outcome.dp_product[pair_dp]
    lo, hi = outcome.dp_earliest[pair_dp], outcome.dp_latest[pair_dp] + 1
    in_window = flags[:, pair_site, p, hi] - flags[:, pair_site, p, lo] > 0

    def any_per_dp(flag: np.ndarray) -> np.ndarray:
        return np.bincount(pair_dp[flag], minlength=n_dp) > 0

    dp_session = any_per_dp(in_window[0])
    dp_stock = any_per_dp(in_window[1])
    dp_free = any_per_dp(in_window[2])

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
