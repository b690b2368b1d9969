"""Keyboard-wedge burst detection with synthetic key timings (app/scanning/wedge.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.scanning.scan import Gs1Scan, MrzScan, classify
from app.scanning.wedge import BurstDetector, Scanned, Typed, WedgeConfig, WedgeOutput
from domain.gs1 import GS, encode_gs1
from domain.jmbg import Sex
from domain.mrz import make_td1

TODAY = date(2026, 11, 26)
JMBG = "0101990710016"
GS1 = encode_gs1("09520000100018", date(2027, 3, 31), "LOT42A", "SN000123")

Keys = list[tuple[str, int]]


def keys(text: str, start: int, gap: int) -> Keys:
    """`text` pressed from `start` ms, one key every `gap` ms."""
    return [(char, start + i * gap) for i, char in enumerate(text)]


def run(detector: BurstDetector, events: Iterable[tuple[str, int]]) -> list[WedgeOutput]:
    """Feed `events`, firing the caller's timer at each deadline, as the Qt filter does."""
    out: list[WedgeOutput] = []
    for char, at in events:
        deadline = detector.deadline()
        while deadline is not None and deadline <= at:
            out += detector.poll(deadline)
            deadline = detector.deadline()
        out += detector.feed(char, at)
    deadline = detector.deadline()
    while deadline is not None:
        out += detector.poll(deadline)
        deadline = detector.deadline()
    return out


def typed(out: list[WedgeOutput]) -> str:
    return "".join(o.text for o in out if isinstance(o, Typed))


def scanned(out: list[WedgeOutput]) -> list[str]:
    return [o.text for o in out if isinstance(o, Scanned)]


def test_human_typing_is_not_swallowed() -> None:
    out = run(BurstDetector(), keys("Petrović Marko\r", 0, 110))
    assert typed(out) == "Petrović Marko\r"
    assert scanned(out) == []


def test_a_scanner_burst_is_one_scan_without_enter() -> None:
    out = run(BurstDetector(), keys(JMBG + "\r", 1000, 4))
    assert out == [Scanned(JMBG)]


def test_a_scan_in_the_middle_of_typing() -> None:
    events = keys("ab", 0, 150) + keys(JMBG + "\r", 400, 5) + keys("cd", 700, 150)
    out = run(BurstDetector(), events)
    assert scanned(out) == [JMBG]
    assert typed(out) == "abcd"
    # Order is kept: the typed keys before the scan are released before it.
    assert [type(o) for o in out] == [Typed, Typed, Scanned, Typed, Typed]


def test_the_gs_separator_is_kept() -> None:
    out = run(BurstDetector(), keys("]d2" + GS1 + "\r", 0, 3))
    assert scanned(out) == ["]d2" + GS1]
    assert GS in scanned(out)[0]
    scan = classify(scanned(out)[0], today=TODAY)
    assert isinstance(scan, Gs1Scan)
    assert (scan.lot, scan.serial) == ("LOT42A", "SN000123")


def test_mrz_lines_separated_by_enter_stay_one_scan() -> None:
    zone = make_td1(
        document_number="012345678",
        birth_date=date(1990, 1, 1),
        sex=Sex.MALE,
        expiry_date=date(2030, 5, 1),
        surname="Petrović",
        given_names="Marko",
        optional_data=JMBG,
    ).replace("\n", "\r")
    out = run(BurstDetector(), keys(zone + "\r", 0, 2))
    assert scanned(out) == [zone]
    assert isinstance(classify(zone, today=TODAY), MrzScan)


def test_a_fast_burst_without_enter_is_released_as_typing() -> None:
    detector = BurstDetector(WedgeConfig(max_gap_ms=30, stall_ms=120))
    for char, at in keys(JMBG, 0, 5):
        assert detector.feed(char, at) == []
    last = 12 * 5
    # Held longer than one gap: its Enter may still be on its way.
    assert detector.deadline() == last + 120
    assert detector.poll(last + 31) == []
    assert detector.poll(last + 120) == [Typed(JMBG)]
    assert not detector.holding


def test_a_late_enter_within_the_gap_completes_the_scan() -> None:
    out = run(BurstDetector(), [*keys(JMBG, 0, 5), ("\r", 12 * 5 + 29)])
    assert scanned(out) == [JMBG]


def test_short_fast_input_with_enter_is_typing() -> None:
    # Two quick keys and Enter (a person's rollover) are far below a scan's length.
    out = run(BurstDetector(), keys("ok\r", 0, 10))
    assert typed(out) == "ok\r"
    assert scanned(out) == []


def test_a_gap_splits_two_scans() -> None:
    events = keys(JMBG + "\r", 0, 4) + keys("]d2" + GS1 + "\r", 500, 4)
    assert scanned(run(BurstDetector(), events)) == [JMBG, "]d2" + GS1]


def test_a_stuck_key_is_released_at_max_length() -> None:
    detector = BurstDetector(WedgeConfig(max_length=10))
    out = run(detector, keys("a" * 25, 0, 5))
    assert typed(out) == "a" * 25
    assert scanned(out) == []


def test_enter_alone_passes_as_typing() -> None:
    assert run(BurstDetector(), [("\r", 0)]) == [Typed("\r")]


def test_feed_takes_single_characters() -> None:
    with pytest.raises(ValueError, match="one character"):
        BurstDetector().feed("ab", 0)


@pytest.mark.parametrize(
    "config",
    [
        {"max_gap_ms": 0},
        {"min_length": 0},
        {"max_length": 2, "min_length": 3},
        {"stall_ms": 10, "max_gap_ms": 30},
        {"terminators": ""},
    ],
)
def test_inconsistent_thresholds_are_refused(config: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WedgeConfig(**config)  # type: ignore[arg-type]


HUMAN_TEXT = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40).map(
    lambda t: t.replace("\x00", "")
)
SCAN_TEXT = st.text(
    alphabet=st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<-:" + GS),
    min_size=6,
    max_size=120,
)


@given(HUMAN_TEXT.filter(bool), st.lists(st.integers(31, 2000), min_size=40, max_size=40))
def test_typing_with_human_gaps_always_passes_through(text: str, gaps: list[int]) -> None:
    at, events = 0, []
    for char, gap in zip(text, gaps, strict=False):
        at += gap
        events.append((char, at))
    out = run(BurstDetector(), events)
    assert typed(out) == text
    assert scanned(out) == []


@given(
    st.text(alphabet="abcdef \r", max_size=10),
    SCAN_TEXT,
    st.lists(st.integers(0, 30), min_size=121, max_size=121),
    st.text(alphabet="abcdef \r", max_size=10),
)
def test_a_burst_between_typing_is_found_exactly(
    before: str, code: str, gaps: list[int], after: str
) -> None:
    events = keys(before, 0, 200)
    at = len(before) * 200 + 200
    for char, gap in zip(code + "\r", gaps, strict=False):
        at += gap
        events.append((char, at))
    events += keys(after, at + 200, 200)
    out = run(BurstDetector(), events)
    assert scanned(out) == [code]
    assert typed(out) == before + after
