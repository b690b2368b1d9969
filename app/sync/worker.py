"""Sync rounds in a background thread, never on the UI thread.

`SyncWorker` runs `SyncEngine.run_round` on its own thread: every
`interval_s` when rounds succeed, after a backoff with jitter when they fail,
and at once when `sync_now` is called (a manager's button). After each round
it calls `on_round` with the report (or the error) and the outbox health
from the watchdog; the UI layer turns that into a Qt signal. `stop` ends the
thread after the current round.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from app.sync.backoff import Backoff
from app.sync.engine import RoundReport, SyncEngine
from app.sync.errors import SyncError
from app.sync.watchdog import DEFAULT_STALL_AFTER, OutboxHealth, check_outbox

log = logging.getLogger("imuno.site.sync")

RoundCallback = Callable[[RoundReport | None, SyncError | None, OutboxHealth], None]


class SyncWorker:
    """A background thread running sync rounds."""

    def __init__(
        self,
        engine: SyncEngine,
        *,
        interval_s: float = 60.0,
        backoff: Backoff | None = None,
        stall_after: timedelta = DEFAULT_STALL_AFTER,
        on_round: RoundCallback | None = None,
    ) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.backoff = backoff or Backoff()
        self.stall_after = stall_after
        self.on_round = on_round
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="imuno-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def sync_now(self) -> None:
        """Run a round as soon as the current one (if any) ends."""
        self._wake.set()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop after the current round; wait up to `timeout_s` for the thread."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stopping.is_set():
            report: RoundReport | None = None
            error: SyncError | None = None
            try:
                report = self.engine.run_round()
                self.backoff.reset()
                delay = self.interval_s
            except SyncError as exc:
                error = exc
                delay = self.backoff.next_delay()
                log.warning("sync round failed, next try in %.0f s: %s", delay, exc)
            health = check_outbox(
                self.engine.engine, self.engine.clock.now(), stall_after=self.stall_after
            )
            if health.stalled:
                log.error("the outbox has not drained for %s", health.oldest_age)
            if self.on_round is not None:
                self.on_round(report, error, health)
            self._wake.wait(delay)
            self._wake.clear()
