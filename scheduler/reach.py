"""Which sessions a demand node could use at all, whatever their capacity or stock.

A demand node (municipality, previous site, product, window) may use a session
of its product on a day inside the window at a site within reach of the
municipality, or at the previous dose's site.
"""

from __future__ import annotations

import numpy as np

from scheduler.prepared import I64, Prepared


def expand(starts: I64, counts: I64) -> I64:
    """Concatenation of ``range(starts[i], starts[i] + counts[i])`` over i."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    return np.repeat(starts - offsets, counts) + np.arange(total, dtype=np.int64)


def reachable_sites(prepared: Prepared, municipality: I64, preferred: I64) -> tuple[I64, I64]:
    """Pairs (index into `municipality`, site) of sites within reach.

    A non-negative `preferred` site is always within reach.
    """
    reach_m, reach_s = np.nonzero(prepared.in_reach)
    ptr = np.searchsorted(reach_m, np.arange(len(prepared.in_reach) + 1))
    counts = (ptr[municipality + 1] - ptr[municipality]).astype(np.int64)
    pos = expand(ptr[municipality].astype(np.int64), counts)
    owner = np.repeat(np.arange(len(municipality), dtype=np.int64), counts)
    site = reach_s[pos].astype(np.int64)
    extra = np.flatnonzero(
        (preferred >= 0) & ~prepared.in_reach[municipality, np.maximum(preferred, 0)]
    )
    return np.concatenate([owner, extra]), np.concatenate([site, preferred[extra]])


def usable_sessions(
    prepared: Prepared,
    municipality: I64,
    preferred: I64,
    product: I64,
    earliest: I64,
    latest: I64,
) -> tuple[I64, I64]:
    """Pairs (node index, session) for every session each node could use."""
    owner, site = reachable_sites(prepared, municipality, preferred)
    width = np.maximum(latest[owner] - earliest[owner] + 1, 0)
    day = expand(earliest[owner], width)
    rep = np.repeat(np.arange(len(owner)), width)
    session = prepared.session_at[site[rep], day, product[owner[rep]]].astype(np.int64)
    ok = session >= 0
    return owner[rep][ok], session[ok]
