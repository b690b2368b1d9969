"""UUIDv7 identifiers made in blocks, for runs that create hundreds of thousands of rows.

`domain.ids.uuid7` makes one id per call (about 15 µs in Python); a
scheduling run needs half a million. `Uuid7Blocks.take` makes a whole block
with numpy in one go, with the same layout as `domain.ids` (RFC 9562
UUIDv7: 48-bit Unix milliseconds, version 7, a 12-bit counter in ``rand_a``
(method 1 of §6.2), the variant, 62 random bits from `os.urandom`) and the
same ordering rule: every id a `Uuid7Blocks` makes is greater than every id
it made before, also across blocks, even when the clock stands still or runs
back. A block longer than the counter's 4,096 values per millisecond borrows
the following milliseconds, as `domain.ids` does.

A block keeps its ids as 16-byte rows and gives them in the form each use
needs, each computed once: 32 hex digits (what `central.db.insert_columns`
stores, on both engines), the canonical text (wire payloads), or
`uuid.UUID` objects.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Final

import numpy as np
import numpy.typing as npt

from domain.clock import Clock, SystemClock

_COUNTER_VALUES: Final = 0x1000
_FRESH_COUNTER_MAX: Final = 0x1FF
"""A new millisecond starts its counter at random below this (as `domain.ids`),
leaving room for thousands of ids in that millisecond."""
_RAND_B_MASK: Final = np.uint64((1 << 62) - 1)
_VARIANT: Final = np.uint64(0b10 << 62)
_VERSION: Final = np.uint64(0x7 << 12)


class HexUuids(list[str]):
    """UUIDs as 32 lowercase hex digits each (`uuid.UUID.hex`), the form
    `central.db.insert_columns` stores on both engines: a UUID column given as
    `HexUuids` skips the conversion per value (the text is checked as a whole)."""


@dataclass(frozen=True, eq=False)
class UuidBlock:
    """Ids made together, in increasing order; `raw` holds one 16-byte row per id."""

    raw: npt.NDArray[np.uint8]

    def __len__(self) -> int:
        return int(self.raw.shape[0])

    def __iter__(self) -> Iterator[uuid.UUID]:
        return iter(self.uuids)

    @cached_property
    def hex(self) -> HexUuids:
        """Each id as 32 lowercase hex digits (`uuid.UUID.hex`)."""
        digits = self.raw.tobytes().hex()
        return HexUuids(digits[i : i + 32] for i in range(0, len(digits), 32))

    @cached_property
    def text(self) -> list[str]:
        """Each id in canonical text form (``str(uuid.UUID)``)."""
        return [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" for h in self.hex]

    @cached_property
    def uuids(self) -> list[uuid.UUID]:
        """Each id as a `uuid.UUID`."""
        return [uuid.UUID(hex=h) for h in self.hex]


class Uuid7Blocks:
    """Makes blocks of monotonic UUIDv7s from a clock. Thread-safe."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def take(self, count: int) -> UuidBlock:
        """`count` new ids, increasing, each greater than every id made before."""
        if count < 0:
            raise ValueError(f"count must not be negative, got {count}")
        if count == 0:
            return UuidBlock(np.zeros((0, 16), dtype=np.uint8))
        with self._lock:
            now_ms = self._clock.time_ns() // 1_000_000
            if now_ms > self._last_ms:
                first_ms = now_ms
                first = int.from_bytes(os.urandom(2), "big") & _FRESH_COUNTER_MAX
            else:
                first_ms, first = self._last_ms, self._counter + 1
            steps = first + np.arange(count, dtype=np.uint64)
            ms = np.uint64(first_ms) + steps // np.uint64(_COUNTER_VALUES)
            counter = steps % np.uint64(_COUNTER_VALUES)
            self._last_ms, self._counter = int(ms[-1]), int(counter[-1])
        rand_b = np.frombuffer(os.urandom(8 * count), dtype=np.uint64) & _RAND_B_MASK
        words = np.empty((count, 2), dtype=">u8")
        words[:, 0] = ((ms & np.uint64((1 << 48) - 1)) << np.uint64(16)) | _VERSION | counter
        words[:, 1] = _VARIANT | rand_b
        return UuidBlock(words.view(np.uint8).reshape(count, 16))


_default = Uuid7Blocks()


def uuid7_block(count: int) -> UuidBlock:
    """`count` new ids from the system clock, in increasing order, each greater
    than every id this process made with `uuid7_block` before."""
    return _default.take(count)
