"""Telling a keyboard-wedge scanner's burst from a person typing.

A USB or Bluetooth scanner in keyboard mode "types" its code a few
milliseconds per character and ends with Enter; a person leaves 80 ms or more
between keys. `BurstDetector` is fed every character as it arrives, with the
time the key was pressed, and holds characters back while they might still
be a scan. It answers with `Typed` (release the held keys: a person typed
them) or `Scanned` (swallow them: a scanner sent this text).

The rules, with the numbers in `WedgeConfig`:

- Characters whose gaps are all at most `max_gap_ms` form one segment; a
  longer gap closes the segment. The caller asks `poll` at `deadline()` so
  a segment also closes when no further key comes.
- A closed segment is `Scanned` when it ends in a terminator (Enter: ``\\r``
  or ``\\n``) and has at least `min_length` characters before it; anything
  else is `Typed`, unchanged. Terminators inside a segment are kept: a
  document reader separates the lines of a passport's MRZ with Enter.
- A segment that is fast and long enough but has no Enter yet is held a
  little longer (`stall_ms` after its last key) before it is released: a
  busy event loop can deliver a scan's keys late, and their timestamps
  still show they belong together.
- The GS separator (0x1D) of GS1 codes is an ordinary character here and is
  kept in the scanned text.
- A segment holds at most `max_length` characters; the next character
  starts a new one. No scanner code is that long; a key stuck in
  auto-repeat may be.

A person who happens to type `min_length` keys within `max_gap_ms` of each
other and then Enter is taken for a scanner; at 30 ms that is over 30 keys a
second, which nobody types.

Times are milliseconds on any clock that only moves forward (a key event's
timestamp); `poll` must be given times on the same clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["BurstDetector", "Scanned", "Typed", "WedgeConfig", "WedgeOutput"]

ENTER: Final = "\r"


@dataclass(frozen=True, slots=True)
class WedgeConfig:
    """Thresholds of the burst heuristic.

    - `max_gap_ms`: the longest gap between two keys of one scan.
    - `min_length`: the fewest characters (without the terminator) a scan has.
    - `stall_ms`: how long after its last key a fast segment without Enter is
      held before it is released as typing.
    - `max_length`: the longest scan; longer segments are typing.
    - `terminators`: characters that end a scan.
    """

    max_gap_ms: int = 30
    min_length: int = 6
    stall_ms: int = 120
    max_length: int = 4096
    terminators: str = "\r\n"

    def __post_init__(self) -> None:
        if self.max_gap_ms <= 0 or self.min_length <= 0 or self.max_length < self.min_length:
            raise ValueError(f"inconsistent wedge thresholds: {self}")
        if self.stall_ms < self.max_gap_ms:
            raise ValueError("stall_ms must be at least max_gap_ms")
        if not self.terminators:
            raise ValueError("at least one terminator is needed")


@dataclass(frozen=True, slots=True)
class Typed:
    """The held characters were typed by a person: deliver them as they are."""

    text: str


@dataclass(frozen=True, slots=True)
class Scanned:
    """The held characters were a scan: swallow them; `text` is the code without Enter."""

    text: str


WedgeOutput = Typed | Scanned


class BurstDetector:
    """Holds keys while they may be a scan; see the module docstring.

    Not thread-safe: feed it from one thread (the UI thread).
    """

    def __init__(self, config: WedgeConfig | None = None) -> None:
        self.config: Final = config or WedgeConfig()
        self._held: list[str] = []
        self._last_ms = 0

    @property
    def holding(self) -> bool:
        """Whether characters are held back now."""
        return bool(self._held)

    @property
    def held_text(self) -> str:
        """The characters held back now, in order."""
        return "".join(self._held)

    def feed(self, char: str, at_ms: int) -> list[WedgeOutput]:
        """Take one character pressed at `at_ms`; return decisions on what was held before it.

        At most one decision comes back, and it covers every character held
        before this one; the new character is held afterwards (see `holding`).
        """
        if len(char) != 1:
            raise ValueError(f"feed one character at a time, got {char!r}")
        out: list[WedgeOutput] = []
        if self._held and (
            at_ms - self._last_ms > self.config.max_gap_ms
            or len(self._held) >= self.config.max_length
        ):
            out.append(self._close())
        self._held.append(char)
        self._last_ms = at_ms
        return out

    def deadline(self) -> int | None:
        """When `poll` should be called next (None: nothing is held)."""
        if not self._held:
            return None
        if self._scan_in_progress():
            return self._last_ms + self.config.stall_ms
        # The first moment at which no key can join the segment any more.
        return self._last_ms + self.config.max_gap_ms + 1

    def poll(self, now_ms: int) -> list[WedgeOutput]:
        """Decide on the held characters if no key can still join them at `now_ms`."""
        deadline = self.deadline()
        if deadline is None or now_ms < deadline:
            return []
        return [self._close()]

    def flush(self) -> list[WedgeOutput]:
        """Decide on the held characters now, as if time had run out."""
        return [self._close()] if self._held else []

    def _scan_in_progress(self) -> bool:
        # A fast segment long enough for a scan whose Enter has not come yet.
        return (
            len(self._held) >= self.config.min_length
            and self._held[-1] not in self.config.terminators
        )

    def _take(self) -> str:
        text = "".join(self._held)
        self._held.clear()
        return text

    def _close(self) -> WedgeOutput:
        text = self._take()
        body = text.rstrip(self.config.terminators)
        if len(body) < len(text) and len(body) >= self.config.min_length:
            return Scanned(body)
        return Typed(text)
