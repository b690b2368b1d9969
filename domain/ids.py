"""UUIDv7 identifiers (RFC 9562), born where the record is born.

Time-ordered ids keep B-tree inserts local on both engines and let a person
read roughly when a record was made. Python 3.11 has no `uuid.uuid7`, and the
ids must follow an injectable clock, so they are made here.

Within one generator, ids are strictly increasing even when the clock stands
still or jumps back: the 12-bit ``rand_a`` field counts within a millisecond
(RFC 9562 §6.2 method 1) and a clock that runs backwards keeps the last
timestamp until it catches up. ``rand_b`` (62 bits) comes from `os.urandom`,
so two sites generating in the same millisecond do not collide.
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime

from domain.clock import Clock, SystemClock

_MAX_COUNTER = 0xFFF


class UuidV7Generator:
    """Makes monotonic UUIDv7s from a clock. Thread-safe."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def new(self) -> uuid.UUID:
        """A new id, greater than every id this generator made before."""
        with self._lock:
            ms = self._clock.time_ns() // 1_000_000
            if ms > self._last_ms:
                self._last_ms = ms
                self._counter = int.from_bytes(os.urandom(2), "big") & 0x1FF
            else:
                self._counter += 1
                if self._counter > _MAX_COUNTER:
                    # 4,096 ids in one millisecond: borrow the next millisecond.
                    self._last_ms += 1
                    self._counter = 0
            ms = self._last_ms
            counter = self._counter
        rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = (ms & ((1 << 48) - 1)) << 80
        value |= 0x7 << 76
        value |= counter << 64
        value |= 0b10 << 62
        value |= rand_b
        return uuid.UUID(int=value)


_default = UuidV7Generator()


def uuid7() -> uuid.UUID:
    """A new UUIDv7 from the system clock."""
    return _default.new()


def uuid7_time(value: uuid.UUID) -> datetime:
    """The millisecond timestamp embedded in a UUIDv7."""
    if value.version != 7:
        raise ValueError(f"not a UUIDv7: {value}")
    return datetime.fromtimestamp((value.int >> 80) / 1000, tz=UTC)
