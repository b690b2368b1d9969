"""The vials at the site: their state, time left once opened, open and discard; warnings.

The table lists every vial registered here (`StockBackend.site_vials`) as a
`VialRow`: unopened, open (with the time left until it must be discarded),
open too long, empty, discarded (when and why). Above it, warnings that must
not be missed: lots in the fridge that expire soon and opened vials near
their limit (`StockBackend.stock_warnings`). The time left is recomputed
every `TICK_MS` without reading the store again; the store is re-read after
every change and on `load`.

A vial is picked by selecting its row or by scanning its label (a scan while
this page shows goes to `handle_scan`; a vial not registered yet can still
be opened, which registers it). "Open vial" starts its time after opening;
"Discard" asks for one of the reasons the wastage report counts (expired
after opening, broken, cold-chain breach, recalled).

Signals: ``vials_shown(tuple)``, ``warnings_shown(StockWarnings)``,
``vial_changed(VialState)``, ``refused(str)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.scanning.scan import Gs1Scan, Scan
from app.services.recalls import StockWarnings
from app.services.vials import VialState
from app.ui.stock_models import (
    DiscardReason,
    RowRole,
    RowsModel,
    SortRole,
    VialCondition,
    VialRow,
    condition_text,
    discard_reason_text,
    shown_day,
    shown_time,
    vial_row,
    vials_model,
)
from app.ui.stock_screen import StockScreen, read_only_table
from app.ui.text import tr
from domain.gs1 import Gs1Label, encode_gs1, parse_gs1

#: How often the time left of opened vials is recomputed on screen.
TICK_MS: Final = 30_000

_FINISHED: Final = (VialCondition.EMPTY, VialCondition.DISCARDED)


def label_of(state: VialState) -> Gs1Label:
    """The vial's label as its DataMatrix would give it (to act on a selected row)."""
    return parse_gs1(encode_gs1(state.gtin, state.expiry_date, state.lot_number, state.serial))


class _InUseFilter(QSortFilterProxyModel):
    """Hides vials used up or discarded unless asked to show them."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.show_finished = False
        self.setSortRole(SortRole)

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        if self.show_finished:
            return True
        value: VialRow = self.sourceModel().index(row, 0, parent).data(RowRole)
        return value.condition not in _FINISHED


class VialsView(StockScreen):
    """The vials page; see the module docstring."""

    vials_shown = Signal(object)
    warnings_shown = Signal(object)
    vial_changed = Signal(object)

    screen_name = "vialsView"

    def _build(self) -> None:
        self._states: tuple[VialState, ...] = ()
        self._warnings = StockWarnings((), ())
        self._now: datetime | None = None
        #: The vial scanned last that is not in the list (not registered here yet).
        self._scanned: Gs1Label | None = None

        self.warnings = QLabel(self)
        self.warnings.setObjectName("stockWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.hide()
        self.model: RowsModel[VialRow] = vials_model(self._names, self)
        self.proxy = _InUseFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = read_only_table(self, "vialsTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        # The most urgent first: opened vials by the time they have left.
        self.table.sortByColumn(6, Qt.SortOrder.AscendingOrder)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.show_finished = QCheckBox(self)
        self.show_finished.setObjectName("showFinished")
        self.show_finished.toggled.connect(self._filter_changed)
        self.refresh_button = QPushButton(self)
        self.refresh_button.clicked.connect(self.load)
        self.open_button = QPushButton(self)
        self.open_button.setObjectName("openVial")
        self.open_button.clicked.connect(self.open_selected)
        self.reason = QComboBox(self)
        self.reason.setObjectName("discardReason")
        for reason in DiscardReason:
            self.reason.addItem("", reason.value)
        self.discard_button = QPushButton(self)
        self.discard_button.setObjectName("discardVial")
        self.discard_button.clicked.connect(self.discard_selected)

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.show_finished)
        top.addWidget(self.refresh_button)
        actions = QHBoxLayout()
        actions.addWidget(self.open_button)
        actions.addStretch(1)
        actions.addWidget(self.reason)
        actions.addWidget(self.discard_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.warnings)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)

        self.ticker = QTimer(self)
        self.ticker.setInterval(TICK_MS)
        self.ticker.timeout.connect(self.tick)
        self.ticker.start()

    # -- reading ---------------------------------------------------------------------------

    def load(self) -> None:
        """Read the vials, the warnings and the time from the store."""

        def read() -> tuple[Sequence[VialState], StockWarnings, datetime]:
            return self.backend.site_vials(), self.backend.stock_warnings(), self.backend.now()

        self.tasks.run(read, self._show, self._failed)

    def _show(self, values: tuple[Sequence[VialState], StockWarnings, datetime]) -> None:
        states, warnings, now = values
        self._states = tuple(states)
        self._warnings = warnings
        self._now = now
        self._render()
        self.warnings_shown.emit(warnings)
        self.vials_shown.emit(self.model.rows)

    def tick(self, now: datetime | None = None) -> None:
        """Recompute the time left at `now` (default: the clock advanced by the tick)."""
        if self._now is None:
            return
        self._now = now or self.backend.now()
        self._render()

    def _render(self) -> None:
        selected = self.selected_state()
        assert self._now is not None
        self.model.set_rows(vial_row(state, self._now) for state in self._states)
        self._show_warnings()
        if selected is not None:
            self.select_vial(selected.gtin, selected.serial, reveal=False)
        self._update_actions()

    def _show_warnings(self) -> None:
        lines = [
            tr(
                "ui.stock.warn.lot",
                "Lot {lot} ({product}, {vials} vials) expires on {day}: use it first.",
                lot=lot.lot_number,
                product=self._names.get(lot.product_code, lot.product_code),
                vials=lot.vials,
                day=shown_day(lot.expiry_date),
            )
            if lot.days_left >= 0
            else tr(
                "ui.stock.warn.lot_expired",
                "Lot {lot} ({vials} vials) expired on {day}: set it aside, do not use it.",
                lot=lot.lot_number,
                vials=lot.vials,
                day=shown_day(lot.expiry_date),
            )
            for lot in self._warnings.lots
        ]
        now = self._now
        for vial in self._warnings.vials:
            left = int((vial.use_by - now).total_seconds() // 60) if now else vial.minutes_left
            if left >= 0:
                lines.append(
                    tr(
                        "ui.stock.warn.vial",
                        "Open vial {serial} (lot {lot}) must be used by {until}: {minutes} min "
                        "left, {doses} doses in it.",
                        serial=vial.serial,
                        lot=vial.lot_number,
                        until=shown_time(vial.use_by),
                        minutes=left,
                        doses=vial.doses_left,
                    )
                )
            else:
                lines.append(
                    tr(
                        "ui.stock.warn.vial_over",
                        "Open vial {serial} (lot {lot}) passed its time at {until}: discard it "
                        "(reason: expired after opening).",
                        serial=vial.serial,
                        lot=vial.lot_number,
                        until=shown_time(vial.use_by),
                    )
                )
        self.warnings.setText("\n".join(f"⚠ {line}" for line in lines))
        self.warnings.setStyleSheet(
            "background: #fff4c2; color: #5a4300; padding: 8px; font-weight: bold;"
        )
        self.warnings.setVisible(bool(lines))

    # -- picking a vial --------------------------------------------------------------------

    def selected_state(self) -> VialState | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        value: VialRow = rows[0].data(RowRole)
        return value.state

    def select_vial(self, gtin: str, serial: str, *, reveal: bool = True) -> bool:
        """Select the vial's row; False if not listed (or hidden, unless `reveal`).

        `reveal` shows used-up and discarded vials when the vial is one of them.
        """
        for number, row in enumerate(self.model.rows):
            if row.state.gtin == gtin.zfill(14) and row.state.serial == serial:
                if row.condition in _FINISHED and not self.show_finished.isChecked():
                    if not reveal:
                        return False
                    self.show_finished.setChecked(True)
                index = self.proxy.mapFromSource(self.model.index(number, 0))
                self.table.selectRow(index.row())
                self.table.scrollTo(index)
                return True
        return False

    def handle_scan(self, scan: Scan) -> bool:
        """A scanned vial label picks the vial; False for any other kind of scan."""
        if not isinstance(scan, Gs1Scan):
            return False
        label = scan.label
        if label.serial is None:
            self._refuse(
                tr(
                    "ui.stock.vials.no_serial",
                    "This label has no serial number, so it is a carton, not a vial. Scan the "
                    "vial's own label.",
                )
            )
            return True
        if self.select_vial(label.gtin, label.serial):
            self._scanned = None
            state = self.selected_state()
            assert state is not None
            self.banner.show_ok(self._state_sentence(state))
        else:
            self.table.clearSelection()
            self._scanned = label
            self.banner.show_warning(
                tr(
                    "ui.stock.vials.new",
                    "Vial {serial} of lot {lot} is not registered here yet. Press “Open vial” "
                    "to open it (it is registered then).",
                    serial=label.serial,
                    lot=label.lot or "",
                )
            )
        self._update_actions()
        return True

    def _state_sentence(self, state: VialState) -> str:
        assert self._now is not None
        row = vial_row(state, self._now)
        return tr(
            "ui.stock.vials.picked",
            "Vial {serial} of lot {lot}: {state}.",
            serial=state.serial,
            lot=state.lot_number,
            state=condition_text(row.condition),
        )

    def _target(self) -> Gs1Label | None:
        state = self.selected_state()
        if state is not None:
            return label_of(state)
        return self._scanned

    def _selection_changed(self, *_: Any) -> None:
        if self.selected_state() is not None:
            self._scanned = None
        self._update_actions()

    def _filter_changed(self, checked: bool) -> None:
        self.proxy.show_finished = checked
        self.proxy.invalidate()

    # -- actions ---------------------------------------------------------------------------

    def open_selected(self) -> None:
        """Open the picked vial (its time after opening starts now)."""
        label = self._target()
        if label is None:
            return
        self.tasks.run(lambda: self.backend.open_vial(label), self._changed, self._failed)

    def discard_selected(self) -> None:
        """Discard the picked vial with the reason chosen in the list."""
        label = self._target()
        if label is None:
            return
        reason = str(self.reason.currentData())
        self.tasks.run(
            lambda: self.backend.discard_vial(label, reason), self._changed, self._failed
        )

    def _changed(self, state: VialState) -> None:
        self._scanned = None
        if state.is_discarded:
            message = tr(
                "ui.stock.vials.discarded",
                "Vial {serial} discarded ({reason}).",
                serial=state.serial,
                reason=discard_reason_text(state.discard_reason or ""),
            )
        else:
            message = tr(
                "ui.stock.vials.opened",
                "Vial {serial} opened at {at}: use it by {until}.",
                serial=state.serial,
                at=shown_time(state.opened_at),
                until=shown_time(state.use_by),
            )
        self.banner.show_ok(message)
        self.vial_changed.emit(state)
        self._states = (
            *(s for s in self._states if s.vial_id != state.vial_id),
            state,
        )
        if self._now is not None:
            self._render()
            self.select_vial(state.gtin, state.serial, reveal=False)
        self.load()

    # -- messages and labels ---------------------------------------------------------------

    def _update_actions(self) -> None:
        state = self.selected_state()
        if state is not None and self._now is not None:
            condition = vial_row(state, self._now).condition
            self.open_button.setEnabled(condition is VialCondition.UNOPENED)
            self.discard_button.setEnabled(condition is not VialCondition.DISCARDED)
        else:
            self.open_button.setEnabled(self._scanned is not None)
            self.discard_button.setEnabled(False)

    def retranslate(self, *_: object) -> None:
        self.title.setText(tr("ui.stock.vials.title", "Vials at this site"))
        self.show_finished.setText(tr("ui.stock.vials.show_finished", "Show used up and discarded"))
        self.refresh_button.setText(tr("ui.stock.refresh", "Refresh"))
        self.open_button.setText(tr("ui.stock.vials.open", "Open vial"))
        self.discard_button.setText(tr("ui.stock.vials.discard", "Discard vial"))
        for number in range(self.reason.count()):
            self.reason.setItemText(number, discard_reason_text(str(self.reason.itemData(number))))
        if self._now is not None:
            self._show_warnings()
