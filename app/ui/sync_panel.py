"""The sync panel: the history of rounds, the last error and a "Sync now" button.

The panel shows what it is given (`show_history`, `show_overview`) and emits
``sync_requested`` when the button is pressed; the main window runs the round
on the sync worker and refreshes the panel when it ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.sync_status import SyncOverview, SyncRoundRow
from app.ui.text import language_changed, tr
from app.ui.times import day_hm

_Index = QModelIndex | QPersistentModelIndex


class SyncHistoryModel(QAbstractTableModel):
    """Sync rounds, newest first: started, outcome, sent, received, error."""

    COL_STARTED, COL_OUTCOME, COL_PUSHED, COL_PULLED, COL_ERROR = range(5)

    def __init__(self, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[SyncRoundRow, ...] = ()
        self._today = today
        language_changed.connect(self._relabel)

    def set_rows(self, rows: Sequence[SyncRoundRow], today: date) -> None:
        self.beginResetModel()
        self._rows = tuple(rows)
        self._today = today
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 5

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        row = self._rows[index.row()]
        column = index.column()
        if column == self.COL_STARTED:
            return day_hm(row.started_at, self._today)
        if column == self.COL_OUTCOME:
            return _outcome_text(row.outcome)
        if column == self.COL_PUSHED:
            return row.pushed
        if column == self.COL_PULLED:
            return row.pulled
        return row.error or ""

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            tr("ui.main.sync.col.started", "Started"),
            tr("ui.main.sync.col.outcome", "Result"),
            tr("ui.main.sync.col.pushed", "Sent"),
            tr("ui.main.sync.col.pulled", "Received"),
            tr("ui.main.sync.col.error", "Problem"),
        )[section]

    def _relabel(self, *_: object) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, 4)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 4))


def _outcome_text(outcome: str | None) -> str:
    if outcome == "ok":
        return tr("ui.main.sync.outcome.ok", "Done")
    if outcome == "partial":
        return tr("ui.main.sync.outcome.partial", "Partly done")
    if outcome == "failed":
        return tr("ui.main.sync.outcome.failed", "Failed")
    return tr("ui.main.sync.outcome.running", "Running")


class SyncPanel(QWidget):
    """History of sync rounds with a "Sync now" button."""

    sync_requested = Signal()

    def __init__(self, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._today = today
        self._overview: SyncOverview | None = None
        self._running = False
        self.title = QLabel(self)
        self.title.setStyleSheet("font-size: 16pt; font-weight: bold;")
        self.summary = QLabel(self)
        self.summary.setObjectName("syncSummary")
        self.summary.setWordWrap(True)
        self.sync_now = QPushButton(self)
        self.sync_now.setObjectName("syncNow")
        self.sync_now.clicked.connect(self._on_sync_now)
        self.model = SyncHistoryModel(today, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.sync_now)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        language_changed.connect(self.retranslate)
        self.retranslate()

    def show_history(self, rows: Sequence[SyncRoundRow], today: date) -> None:
        self._today = today
        self.model.set_rows(rows, today)

    def show_overview(self, overview: SyncOverview) -> None:
        self._overview = overview
        self.retranslate()

    def set_running(self, running: bool) -> None:
        """Disable the button while a requested round is under way."""
        self._running = running
        self.sync_now.setEnabled(not running)
        self.retranslate()

    def _on_sync_now(self) -> None:
        self.set_running(True)
        self.sync_requested.emit()

    def retranslate(self, *_: object) -> None:
        self.title.setText(tr("ui.main.sync.title", "Synchronisation with the hub"))
        self.sync_now.setText(
            tr("ui.main.sync.running", "Synchronising…")
            if self._running
            else tr("ui.main.sync.now", "Sync now")
        )
        overview = self._overview
        if overview is None:
            self.summary.setText("")
            return
        parts = [
            tr("ui.main.sync.waiting", "Records waiting to send: {count}.", count=overview.waiting)
        ]
        if overview.last_success_at is not None:
            parts.append(
                tr(
                    "ui.main.sync.last_success",
                    "Last successful sync: {when}.",
                    when=day_hm(overview.last_success_at, self._today),
                )
            )
        if overview.last_round_failed and overview.last_error:
            parts.append(
                tr(
                    "ui.main.sync.last_error",
                    "Last attempt failed: {error}",
                    error=overview.last_error,
                )
            )
        self.summary.setText(" ".join(parts))
