"""Hybrid logical clock (Kulkarni et al., 2014) for field-by-field merges.

A `Timestamp` is (wall milliseconds, logical counter, node). It orders events
like physical time when clocks are sane, never goes backwards when they are
not, and ties between nodes break deterministically on the node name, so two
replicas merging the same writes always pick the same winner.

Timestamps serialise to a fixed-width string that sorts like the timestamp
(``"0177ba3c5f10.0000.site-042"``), so databases can compare them as text.

Wrong clocks are expected (DESIGN.md, sync rule 6): `HybridClock.receive`
never refuses a remote timestamp; it reports how far ahead of the local wall
clock it was, for the caller to record and flag.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final

from domain.clock import Clock, SystemClock

_WALL_HEX: Final = 12  # milliseconds, good until the year 10889
_COUNTER_HEX: Final = 4
MAX_COUNTER: Final = 0xFFFF


class HlcFormatError(ValueError):
    """A serialised timestamp that is not of the form ``wall.counter.node``."""


@dataclass(frozen=True, order=True, slots=True)
class Timestamp:
    """A point on a hybrid logical clock. Orders by wall, counter, then node."""

    wall_ms: int
    counter: int
    node: str

    def __post_init__(self) -> None:
        if not 0 <= self.wall_ms < 16**_WALL_HEX:
            raise ValueError(f"HLC wall time out of range: {self.wall_ms}")
        if not 0 <= self.counter <= MAX_COUNTER:
            raise ValueError(f"HLC counter out of range: {self.counter}")
        if not self.node or "." in self.node:
            raise ValueError(f"HLC node must be non-empty and contain no '.': {self.node!r}")

    def encode(self) -> str:
        """The sortable text form."""
        return f"{self.wall_ms:0{_WALL_HEX}x}.{self.counter:0{_COUNTER_HEX}x}.{self.node}"

    @classmethod
    def decode(cls, text: str) -> Timestamp:
        """Parse the text form made by `encode`."""
        parts = text.split(".", 2)
        if len(parts) != 3 or len(parts[0]) != _WALL_HEX or len(parts[1]) != _COUNTER_HEX:
            raise HlcFormatError(f"not an HLC timestamp: {text!r}")
        try:
            return cls(int(parts[0], 16), int(parts[1], 16), parts[2])
        except ValueError as exc:
            raise HlcFormatError(f"not an HLC timestamp: {text!r}") from exc

    def __str__(self) -> str:
        return self.encode()


class HybridClock:
    """One node's hybrid logical clock. Thread-safe."""

    def __init__(self, node: str, clock: Clock | None = None, last: Timestamp | None = None):
        self.node = node
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._wall = last.wall_ms if last else 0
        self._counter = last.counter if last else 0

    def _physical_ms(self) -> int:
        return self._clock.time_ns() // 1_000_000

    def now(self) -> Timestamp:
        """A timestamp for a local event (a write), later than all seen before."""
        with self._lock:
            physical = self._physical_ms()
            if physical > self._wall:
                self._wall, self._counter = physical, 0
            else:
                self._bump()
            return Timestamp(self._wall, self._counter, self.node)

    def receive(self, remote: Timestamp) -> int:
        """Advance past a timestamp seen from another node.

        Returns how many milliseconds `remote` was ahead of this node's wall
        clock (negative when behind), for the caller to record as skew.
        """
        with self._lock:
            physical = self._physical_ms()
            wall = max(self._wall, remote.wall_ms, physical)
            if wall == self._wall == remote.wall_ms:
                self._counter = max(self._counter, remote.counter)
                self._wall = wall
                self._bump()
            elif wall == self._wall:
                self._bump()
            elif wall == remote.wall_ms:
                self._wall, self._counter = wall, remote.counter
                self._bump()
            else:
                self._wall, self._counter = wall, 0
            return remote.wall_ms - physical

    def _bump(self) -> None:
        if self._counter >= MAX_COUNTER:
            # The counter is spent within this millisecond: borrow the next one.
            self._wall += 1
            self._counter = 0
        else:
            self._counter += 1
