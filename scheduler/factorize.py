"""Dense codes for rows of small integer columns (a fast multi-column ``np.unique``)."""

from __future__ import annotations

import numpy as np

from scheduler.prepared import I64


def factorize(columns: list[I64]) -> tuple[I64, I64]:
    """Codes of the row-wise tuples of integer `columns`, in lexicographic order.

    Returns (code of each row, first row of each code). Columns are combined in
    mixed radix over their value ranges, so only one sort runs when the ranges
    fit in 62 bits together.
    """
    n = len(columns[0]) if columns else 0
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = np.zeros(n, dtype=np.int64)
    radix = 1
    for column in columns:
        col = np.asarray(column, dtype=np.int64)
        low = int(col.min())
        span = int(col.max()) - low + 1
        if radix * span >= 2**62:
            # Re-densify the key built so far to keep it inside int64.
            _, key = np.unique(key, return_inverse=True)
            key = key.reshape(-1).astype(np.int64)
            radix = int(key.max()) + 1
        key = key * span + (col - low)
        radix *= span
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), first.astype(np.int64)
