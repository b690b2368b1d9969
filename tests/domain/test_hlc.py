from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.clock import FixedClock
from domain.hlc import MAX_COUNTER, HlcFormatError, HybridClock, Timestamp

timestamps = st.builds(
    Timestamp,
    st.integers(0, 2**47),
    st.integers(0, MAX_COUNTER),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-0123456789", min_size=1, max_size=12),
)


@given(timestamps, timestamps)
def test_text_form_sorts_like_the_timestamp(a: Timestamp, b: Timestamp) -> None:
    assert Timestamp.decode(a.encode()) == a
    if a.node == b.node or (a.wall_ms, a.counter) != (b.wall_ms, b.counter):
        assert (a < b) == (a.encode() < b.encode())


def test_local_events_never_go_backwards_when_the_clock_does() -> None:
    wall = FixedClock()
    clock = HybridClock("site-1", wall)
    first = clock.now()
    wall.advance(timedelta(days=-3))
    second = clock.now()
    assert second > first
    assert second.wall_ms == first.wall_ms


def test_receive_moves_past_remote_and_reports_skew() -> None:
    wall = FixedClock()
    clock = HybridClock("hub", wall)
    ahead = Timestamp(clock.now().wall_ms + 86_400_000, 7, "site-9")  # a day ahead
    skew = clock.receive(ahead)
    assert skew == pytest.approx(86_400_000, abs=1)
    assert clock.now() > ahead


def test_receive_of_an_older_timestamp_still_advances() -> None:
    clock = HybridClock("hub", FixedClock())
    mine = clock.now()
    clock.receive(Timestamp(mine.wall_ms - 10, 3, "site-1"))
    assert clock.now() > mine


def test_counter_overflow_borrows_the_next_millisecond() -> None:
    clock = HybridClock("a", FixedClock())
    seen = [clock.now() for _ in range(MAX_COUNTER + 5)]
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)


@pytest.mark.parametrize(
    "text", ["", "abc", "0177ba3c5f10.0000.", "0177ba3c5f1.0000.a", "zz77ba3c5f10.0000.a"]
)
def test_decode_rejects_malformed(text: str) -> None:
    with pytest.raises(HlcFormatError):
        Timestamp.decode(text)
