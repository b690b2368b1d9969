"""Everything random in the demo comes from the seed, through named streams.

Each part of the generator (ages, names, sites, lots, the ids of each table)
draws from its own stream, ``stream(seed, "citizens.ages")``: a stream depends
only on the seed and its name, so adding a draw to one part never changes
what another part generates. Same seed and same start date, same database,
byte for byte (on one numpy version: numpy does not promise identical
streams across its releases).

Ids are UUIDv7 like everywhere else (`domain.ids`), but not from the system
clock and `os.urandom`: the 48-bit time is the record's own creation time
and the 74 random bits come from the table's stream, with the record's
position in the table in the top 32 bits of ``rand_b`` so that ids are unique
within a table whatever the stream draws.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

_MS_MASK: Final = (1 << 48) - 1
_VERSION_7: Final = np.uint64(0x7 << 12)
_VARIANT: Final = np.uint64(0b10 << 62)
_RAND_B_LOW_BITS: Final = 30
MAX_ROWS_PER_TABLE: Final = 1 << 32


def stream(seed: int, name: str) -> np.random.Generator:
    """The random stream called `name` for `seed` (a non-negative integer)."""
    if seed < 0:
        raise ValueError(f"the seed must not be negative, got {seed}")
    key = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    return np.random.default_rng(np.random.SeedSequence([seed, key]))


@dataclass(frozen=True, eq=False)
class IdColumn:
    """The UUIDv7s of one table's rows, kept as two uint64 arrays (16 bytes a row).

    `at(i)` and `slice(a, b)` build `uuid.UUID` objects only when asked, so a
    million ids do not sit in memory as Python objects.
    """

    high: npt.NDArray[np.uint64]
    low: npt.NDArray[np.uint64]

    @classmethod
    def generate(cls, created_ms: npt.NDArray[np.int64], rng: np.random.Generator) -> IdColumn:
        """Ids for rows created at `created_ms` (Unix milliseconds), random bits from `rng`."""
        count = len(created_ms)
        if count > MAX_ROWS_PER_TABLE:
            raise ValueError(f"at most {MAX_ROWS_PER_TABLE} ids per table, asked for {count}")
        ms = created_ms.astype(np.uint64) & np.uint64(_MS_MASK)
        rand_a = rng.integers(0, 1 << 12, size=count, dtype=np.uint64)
        low = rng.integers(0, 1 << _RAND_B_LOW_BITS, size=count, dtype=np.uint64)
        position = np.arange(count, dtype=np.uint64)
        return cls(
            high=(ms << np.uint64(16)) | _VERSION_7 | rand_a,
            low=_VARIANT | (position << np.uint64(_RAND_B_LOW_BITS)) | low,
        )

    def __len__(self) -> int:
        return len(self.high)

    def window(self, start: int, stop: int) -> IdColumn:
        """The ids of rows `start` to `stop - 1`, as a column of their own."""
        return IdColumn(self.high[start:stop], self.low[start:stop])

    def at(self, index: int) -> uuid.UUID:
        """The id of row `index`."""
        return uuid.UUID(int=(int(self.high[index]) << 64) | int(self.low[index]))

    def slice(self, start: int, stop: int) -> list[uuid.UUID]:
        """The ids of rows `start` to `stop - 1`."""
        return [
            uuid.UUID(int=(high << 64) | low)
            for high, low in zip(
                self.high[start:stop].tolist(), self.low[start:stop].tolist(), strict=True
            )
        ]

    def all(self) -> list[uuid.UUID]:
        """Every id, in row order."""
        return self.slice(0, len(self))
