"""Counting the fridge: the books' vials per lot, what was counted, and the differences.

"Start a count" reads what the books expect per lot
(`StockBackend.expected_stock`); the manager types the vials found in the
"Counted" column, or scans vials and cartons (a vial label counts one, a
carton label its stated count, or the "vials per carton" box). A lot the
books lack is added by its scan. The difference (counted minus expected) is
shown live; "Record the count" sends the counted lines to the service (with
"lots not found count as 0" when the whole fridge was counted) and shows the
differences the service recorded. Counting is for site managers: the service
refuses anyone else, and the refusal is shown.

Signals: ``sheet_shown(tuple)``, ``counted(CountResult)``, ``refused(str)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from app.scanning.scan import Gs1Scan, Scan
from app.services.errors import UnknownVaccine
from app.services.stock_count import CountedLot, CountResult, ExpectedStock
from app.ui.receiving_view import vials_on_label
from app.ui.stock_models import COUNT_COL_COUNTED, CountModel
from app.ui.stock_screen import StockScreen, fit_columns, vials_per_carton_box
from app.ui.text import tr, translate_error


class StockCountView(StockScreen):
    """The stock count page; see the module docstring."""

    sheet_shown = Signal(object)
    counted = Signal(object)

    screen_name = "stockCountView"

    def _build(self) -> None:
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.start_button = QPushButton(self)
        self.start_button.setObjectName("startCount")
        self.start_button.clicked.connect(self.start_count)
        self.carton_vials_label = QLabel(self)
        self.carton_vials = vials_per_carton_box(self, "countVialsPerCarton")
        self.model = CountModel(self._names, self)
        self.model.dataChanged.connect(self._update_actions)
        self.model.rowsInserted.connect(self._update_actions)
        self.model.modelReset.connect(self._update_actions)
        self.table = QTableView(self)
        self.table.setObjectName("countTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        fit_columns(self.table)
        self.complete = QCheckBox(self)
        self.complete.setObjectName("countComplete")
        self.record_button = QPushButton(self)
        self.record_button.setObjectName("recordCount")
        self.record_button.clicked.connect(self.record)
        self.summary = QLabel(self)
        self.summary.setObjectName("countSummary")
        self.summary.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.carton_vials_label)
        top.addWidget(self.carton_vials)
        top.addWidget(self.start_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.complete)
        bottom.addStretch(1)
        bottom.addWidget(self.record_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.summary)

    # -- the sheet -------------------------------------------------------------------------

    def start_count(self) -> None:
        """Read the books and start an empty count sheet from them."""
        self.tasks.run(self.backend.expected_stock, self._show_sheet, self._failed)

    def _show_sheet(self, stock: Sequence[ExpectedStock]) -> None:
        self.model.from_books(stock)
        self.summary.clear()
        self.banner.clear_message()
        self.sheet_shown.emit(self.model.rows)

    def enter_counted(self, row: int, vials: int) -> None:
        """Type `vials` into the counted cell of `row` (as the manager does)."""
        self.model.setData(self.model.index(row, COUNT_COL_COUNTED), str(vials))

    def handle_scan(self, scan: Scan) -> bool:
        """A vial or carton label counts its vials into its lot; False for other scans."""
        if not isinstance(scan, Gs1Scan):
            return False
        label = scan.label
        if label.lot is None:
            self._refuse(
                tr(
                    "ui.stock.count.no_lot",
                    "This label has no lot number. Type the vials of that lot in the table.",
                )
            )
            return True
        gtin = label.gtin.zfill(14)
        product = self.backend.product_of_gtin(gtin)
        if not product:
            self._refuse(translate_error(UnknownVaccine(gtin=gtin)))
            return True
        vials = vials_on_label(label) or self.carton_vials.value()
        row = self.model.add_scanned(product, gtin, label.lot, label.expiry_date, vials)
        self.table.selectRow(row)
        counted = self.model.row_at(row).counted_vials
        self.banner.show_ok(
            tr(
                "ui.stock.count.scanned",
                "Lot {lot}: {vials} counted, {total} so far.",
                lot=label.lot,
                vials=vials,
                total=counted,
            )
        )
        return True

    # -- recording -------------------------------------------------------------------------

    def record(self) -> None:
        """Record the counted lines (the service compares them with the books)."""
        lines = tuple(
            CountedLot(line.gtin, line.lot_number, line.counted_vials)
            for line in self.model.counted_lines()
            if line.counted_vials is not None
        )
        complete = self.complete.isChecked()
        if not lines and not complete:
            self._refuse(
                tr(
                    "ui.stock.count.nothing",
                    "Nothing is counted yet. Type the vials found next to each lot, or scan them.",
                )
            )
            return
        self.record_button.setEnabled(False)
        self.tasks.run(
            lambda: self.backend.record_count(lines, complete=complete),
            self._recorded,
            self._record_failed,
        )

    def _recorded(self, result: CountResult) -> None:
        differences = result.differences
        lines = [
            tr(
                "ui.stock.count.done",
                "Count recorded: {lots} lots, {differences} with a difference.",
                lots=len(result.lines),
                differences=len(differences),
            )
        ]
        for line in differences:
            lines.append(
                "• "
                + tr(
                    "ui.stock.count.difference",
                    "Lot {lot}: {counted} counted, {expected} in the books ({difference:+d}).",
                    lot=line.lot_number,
                    counted=line.counted_vials,
                    expected=line.expected_vials,
                    difference=line.difference,
                )
            )
        self.summary.setText("\n".join(lines))
        if differences:
            self.banner.show_warning(lines[0])
        else:
            self.banner.show_ok(lines[0])
        self.model.set_rows(())
        self.complete.setChecked(False)
        self._update_actions()
        self.counted.emit(result)

    def _record_failed(self, error: BaseException) -> None:
        self._update_actions()
        self._failed(error)

    # -- messages and labels ---------------------------------------------------------------

    def _update_actions(self, *_: object) -> None:
        self.record_button.setEnabled(bool(self.model.rows))

    def retranslate(self, *_: object) -> None:
        self.title.setText(tr("ui.stock.count.title", "Stock count"))
        self.start_button.setText(tr("ui.stock.count.start", "Start a count"))
        self.carton_vials_label.setText(
            tr("ui.stock.count.per_carton", "Vials in a carton without a count:")
        )
        self.hint.setText(
            tr(
                "ui.stock.count.hint",
                "Type the vials found in the fridge next to each lot (double-click the "
                "“Counted” cell), or scan vials and cartons. Lots left empty are not part of "
                "the count unless “The whole fridge was counted” is ticked.",
            )
        )
        self.complete.setText(
            tr(
                "ui.stock.count.complete",
                "The whole fridge was counted (lots not counted count as 0)",
            )
        )
        self.record_button.setText(tr("ui.stock.count.record", "Record the count"))
