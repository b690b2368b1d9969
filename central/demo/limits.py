"""How large a demo the generator makes (checked before any work starts)."""

from __future__ import annotations

from typing import Final

MAX_CITIZENS: Final = 10_000_000
"""Well within the JMBG's serials per birth day, area and sex."""
MAX_SITES: Final = 9_999
"""Site codes are ``S0001`` to ``S9999``."""
MAX_WORKERS: Final = 8
