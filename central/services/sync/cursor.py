"""The pull cursor: opaque to sites, parsed only here.

Text form ``"1.<seq>.<own_until>"``: the site has stored every change-log
entry concerning it up to ``seq``; entries the site itself originated are
normally not sent back to it, except those with a seq up to ``own_until``
(set after a restore from a backup, so the site gets back its own records
that the backup lacked).
"""

from __future__ import annotations

from dataclasses import dataclass

from central.services.errors import HubError

_VERSION = "1"


class CursorInvalid(HubError):
    code = "sync.cursor_invalid"
    template = (
        "The sync position this site sent is not one the hub issued. "
        "Run a full re-synchronisation of the site (call the central help desk)."
    )


@dataclass(frozen=True)
class Cursor:
    """A position in the change log, as seen by one site."""

    seq: int = 0
    own_until: int = 0

    def encode(self) -> str:
        return f"{_VERSION}.{self.seq}.{self.own_until}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        """Parse `text`; None or empty is the beginning of the log."""
        if not text:
            return cls()
        parts = text.split(".")
        if len(parts) != 3 or parts[0] != _VERSION or not all(p.isdigit() for p in parts[1:]):
            raise CursorInvalid()
        return cls(int(parts[1]), int(parts[2]))
