"""Exponential backoff with full jitter between failed sync rounds.

After the n-th consecutive failure the next attempt waits a random time in
``[0, min(cap, base * 2**n)]`` ("full jitter"): 400 sites that lost the hub
at the same moment do not all come back at the same moment.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays between retries; `reset` after a success."""

    base_s: float = 2.0
    cap_s: float = 600.0
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next_delay(self) -> float:
        """Count one more failure and return how long to wait before retrying."""
        ceiling = min(self.cap_s, self.base_s * (2 ** min(self.failures, 32)))
        self.failures += 1
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        self.failures = 0
