"""Waiting citizens sorted into priority groups and interchangeable classes.

Second and later doses come before every first dose: the effective priority
group of a citizen is ``(0 if dose >= 2 else 1, rank)``, numbered 0, 1, ... in
that order. Two citizens are in the same class when the solver cannot tell
them apart: same group, home municipality, ordered product list, window (days
inside the horizon), previous site (later doses) and dose number. Citizens
who cannot be booked whatever the capacity (ineligible, window outside the
horizon) get their reason here and no class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scheduler.factorize import factorize
from scheduler.prepared import I32, I64, Prepared
from scheduler.reasons import Reason

REASONS: tuple[Reason, ...] = tuple(Reason)
REASON_CODE: dict[Reason, int] = {r: i for i, r in enumerate(REASONS)}
NO_REASON = -1


@dataclass(frozen=True, eq=False)
class Classes:
    """Rows sorted into classes; class arrays are indexed by class position.

    Classes are ordered by group first, so ``group`` is non-decreasing.
    """

    row_class: I64  # class of each row, -1 when the row has a reason already
    row_reason: npt.NDArray[np.int8]  # REASONS code, -1 when the row has a class
    row_group: I64  # effective priority group of each row (every row)
    group_keys: tuple[tuple[int, int], ...]  # group -> (tier, rank)
    group: I64
    municipality: I32
    product_list: I64
    earliest: I64  # first day offset inside the horizon
    latest: I64  # last day offset inside the horizon
    preferred_site: I64  # -1 for first doses
    dose: I64
    size: I64

    @property
    def n(self) -> int:
        return len(self.size)

    @property
    def n_groups(self) -> int:
        return len(self.group_keys)


def classify(prepared: Prepared) -> Classes:
    """Sort the problem's citizens into groups and classes."""
    table = prepared.problem.citizens
    n = len(table)
    start = np.datetime64(prepared.problem.start, "D")
    end = start + np.int64(prepared.n_days - 1)

    tier = (table.dose.astype(np.int64) < 2).astype(np.int64)
    rank = table.rank.astype(np.int64)
    group_key = tier * (int(rank.max(initial=1)) + 1) + rank
    # Keys are small non-negative integers (rank >= 1): number them by counting.
    present = np.bincount(group_key) > 0
    group_values = np.flatnonzero(present)
    row_group = (np.cumsum(present) - 1)[group_key]
    stride = int(rank.max(initial=1)) + 1
    group_keys = tuple((int(v) // stride, int(v) % stride) for v in group_values)

    empty_lists = np.array([len(lst) == 0 for lst in prepared.product_lists], dtype=bool)
    ineligible = (table.ineligible >= 0) | (
        empty_lists[table.products] if n else np.zeros(0, dtype=bool)
    )
    latest = table.latest
    no_limit = np.isnat(latest)
    not_reached = table.earliest > end
    passed = ~no_limit & (latest < start)
    closed = ~no_limit & (latest < table.earliest)

    row_reason = np.full(n, NO_REASON, dtype=np.int8)
    # Precedence: a rule that excludes the citizen outranks timing.
    row_reason[passed | closed] = REASON_CODE[Reason.INTERVAL_PASSED]
    row_reason[not_reached] = REASON_CODE[Reason.INTERVAL_NOT_REACHED]
    row_reason[ineligible] = REASON_CODE[Reason.INELIGIBLE]
    candidate = row_reason == NO_REASON

    rows = np.flatnonzero(candidate)
    e = np.maximum((table.earliest[rows] - start).astype(np.int64), 0)
    last = np.where(no_limit[rows], end, latest[rows])
    lo = np.minimum((last - start).astype(np.int64), prepared.n_days - 1)
    dose = table.dose[rows].astype(np.int64)
    pref = np.where(
        (dose >= 2) & (table.preferred_site[rows] >= 0),
        prepared.citizen_site[np.maximum(table.preferred_site[rows], 0)]
        if len(prepared.citizen_site)
        else -1,
        -1,
    ).astype(np.int64)
    muni = (
        prepared.citizen_municipality[table.municipality[rows]]
        if len(rows)
        else np.zeros(0, dtype=np.int32)
    )
    plist = table.products[rows].astype(np.int64)
    grp = row_group[rows].astype(np.int64)

    code, first = factorize([grp, muni.astype(np.int64), plist, e, lo, pref, dose])
    row_class = np.full(n, -1, dtype=np.int64)
    row_class[rows] = code
    return Classes(
        row_class=row_class,
        row_reason=row_reason,
        row_group=row_group.astype(np.int64),
        group_keys=group_keys,
        group=grp[first],
        municipality=muni[first].astype(np.int32),
        product_list=plist[first],
        earliest=e[first],
        latest=lo[first],
        preferred_site=pref[first],
        dose=dose[first],
        size=np.bincount(code, minlength=len(first)).astype(np.int64),
    )
