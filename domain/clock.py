"""Where time comes from.

Code that needs "now" takes a `Clock` so tests (and the sync fault injection)
can set and jump time without patching `datetime`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> datetime:
        """The current time, timezone-aware in UTC."""
        ...

    def time_ns(self) -> int:
        """Nanoseconds since the Unix epoch."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time_ns(self) -> int:
        return time.time_ns()


@dataclass
class FixedClock:
    """A clock that only moves when told to; for tests and simulations."""

    current: datetime = field(default_factory=lambda: datetime(2021, 3, 1, 8, 0, tzinfo=UTC))

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")

    def now(self) -> datetime:
        return self.current

    def time_ns(self) -> int:
        delta = self.current - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta // timedelta(microseconds=1)) * 1000

    def advance(self, delta: timedelta) -> None:
        """Move the clock by `delta` (negative to make it jump back)."""
        self.current += delta

    def set(self, when: datetime) -> None:
        """Jump to `when`."""
        if when.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.current = when
