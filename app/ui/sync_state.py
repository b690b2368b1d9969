"""The sync state the window shows, and the signal that carries each round to it.

`SyncSignals.round_finished` carries a `RoundOutcome` from the sync thread
to the UI thread (a queued connection, because the emitter runs on the sync
worker's thread and the receivers live on the UI thread). The composition
root (`app.bootstrap`) turns `app.sync.worker.SyncWorker`'s callback into
these values, so nothing here imports the sync package.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal


@dataclass(frozen=True)
class RoundOutcome:
    """How one sync round ended, as the status bar needs it."""

    ok: bool
    #: The hub could not be reached at all (network down): work continues offline.
    offline: bool
    pushed: int = 0
    pulled: int = 0
    #: Records still waiting in the outbox after the round.
    waiting: int = 0
    #: The failure, translated for the person at the site; None when it went well.
    message: str | None = None


class SyncSignals(QObject):
    """``round_finished(RoundOutcome)``: emitted from any thread after each sync round."""

    round_finished = Signal(object)
