"""The status bar: online or offline, last successful sync, records waiting, clock warning.

Always visible, so a nurse knows at a glance whether today's doses have
reached the hub. It shows values it is given (`show_overview`,
`show_round`); it reads nothing itself.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.services.sync_status import SyncOverview
from app.ui.sync_state import RoundOutcome
from app.ui.text import language_changed, tr
from app.ui.times import day_hm


class SyncStatusBar(QStatusBar):
    """Four permanent labels: connection, last sync, waiting records, clock skew."""

    def __init__(self, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._today = today
        self._overview: SyncOverview | None = None
        #: None until the first round of this session: unknown, not offline.
        self._online: bool | None = None
        self.connection = QLabel(self)
        self.connection.setObjectName("connection")
        self.last_sync = QLabel(self)
        self.last_sync.setObjectName("lastSync")
        self.waiting = QLabel(self)
        self.waiting.setObjectName("waiting")
        self.clock = QLabel(self)
        self.clock.setObjectName("clockSkew")
        self.clock.setStyleSheet("color: #b00020; font-weight: bold;")
        for label in (self.connection, self.last_sync, self.waiting, self.clock):
            self.addPermanentWidget(label)
        language_changed.connect(self.retranslate)
        self.retranslate()

    @property
    def online(self) -> bool | None:
        """True after a round reached the hub, False after one could not; None before any."""
        return self._online

    def set_today(self, today: date) -> None:
        self._today = today
        self.retranslate()

    def show_overview(self, overview: SyncOverview) -> None:
        """Show the stored sync state (read after each round and at start)."""
        self._overview = overview
        self.retranslate()

    def show_round(self, outcome: RoundOutcome) -> None:
        """Note how the latest round ended (online when it reached the hub)."""
        self._online = not outcome.offline
        self.retranslate()

    def retranslate(self, *_: object) -> None:
        if self._online is None:
            self.connection.setText(tr("ui.main.status.connecting", "● Connecting…"))
            self.connection.setStyleSheet("color: #8a6d00;")
        elif self._online:
            self.connection.setText(tr("ui.main.status.online", "● Online"))
            self.connection.setStyleSheet("color: #1b7f2a;")
        else:
            self.connection.setText(tr("ui.main.status.offline", "● Offline: working locally"))
            self.connection.setStyleSheet("color: #b00020;")
        overview = self._overview
        if overview is None or overview.last_success_at is None:
            self.last_sync.setText(tr("ui.main.status.never_synced", "Never synchronised"))
        else:
            self.last_sync.setText(
                tr(
                    "ui.main.status.last_sync",
                    "Last sync: {when}",
                    when=day_hm(overview.last_success_at, self._today),
                )
            )
        waiting = overview.waiting if overview is not None else 0
        self.waiting.setText(
            tr("ui.main.status.waiting", "Waiting to send: {count}", count=waiting)
        )
        if overview is not None and overview.clock_skewed:
            offset_min = round((overview.hub_clock_offset_ms or 0) / 60_000)
            self.clock.setText(
                tr(
                    "ui.main.status.clock_skew",
                    "⚠ This computer's clock is off by {minutes} min: ask the manager to set it",
                    minutes=abs(offset_min),
                )
            )
            self.clock.show()
        else:
            self.clock.clear()
            self.clock.hide()
