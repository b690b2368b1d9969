"""Dense codes and sort orders agree with numpy's multi-key unique and lexsort."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.factorize import factorize, lexorder

WIDE = 2**40  # three such columns do not fit one int64 key: the fallback path


@st.composite
def tables(draw: st.DrawFn) -> list[np.ndarray]:
    n = draw(st.integers(1, 40))
    spans = draw(st.lists(st.sampled_from([1, 3, 50, WIDE]), min_size=1, max_size=5))
    return [
        np.array(draw(st.lists(st.integers(-span, span), min_size=n, max_size=n)), dtype=np.int64)
        for span in spans
    ]


@settings(max_examples=300, deadline=None)
@given(tables())
def test_factorize_numbers_rows_like_unique(columns: list[np.ndarray]) -> None:
    codes, first = factorize(columns)
    rows = np.stack(columns, axis=1)
    unique, index, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    assert codes.tolist() == inverse.reshape(-1).tolist()
    assert first.tolist() == index.tolist()
    assert len(unique) == len(first)


@settings(max_examples=300, deadline=None)
@given(tables())
def test_lexorder_sorts_like_lexsort(columns: list[np.ndarray]) -> None:
    expected = np.lexsort(tuple(reversed(columns)))
    assert lexorder(columns).tolist() == expected.tolist()


def test_empty_input() -> None:
    empty = np.zeros(0, dtype=np.int64)
    codes, first = factorize([empty, empty])
    assert len(codes) == 0
    assert len(first) == 0
    assert len(lexorder([empty])) == 0
