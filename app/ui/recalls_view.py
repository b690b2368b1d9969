"""Recalled lots: what to take out of use here, and who already received a dose from them.

The upper table lists the recalls in force (`StockBackend.recalled_lots`):
product, lot, when and why, how many registered vials still need setting
aside, how many the books expect in the fridge, how many doses were given.
Selecting a recall shows its vials to quarantine and the people who received
a dose from the lot (name, masked JMBG, dose, date, phone) so they can be
contacted. "Discard all as recalled" discards every one of those vials with
the reason ``recalled`` in one action (`StockBackend.quarantine_recalled`).
Scans of a recalled lot are refused elsewhere (the vial services); this page
is where the site acts on the recall.

Signals: ``recalls_shown(tuple)``, ``quarantined(int)``, ``refused(str)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from app.services.recalls import RecalledLot
from app.ui.stock_models import affected_model, quarantine_model, recalls_model
from app.ui.stock_screen import StockScreen, read_only_table
from app.ui.text import tr


class RecallsView(StockScreen):
    """The recalls page; see the module docstring."""

    recalls_shown = Signal(object)
    quarantined = Signal(int)

    screen_name = "recallsView"

    def _build(self) -> None:
        self.refresh_button = QPushButton(self)
        self.refresh_button.clicked.connect(self.load)
        self.empty = QLabel(self)
        self.empty.setObjectName("noRecalls")
        self.recalls = recalls_model(self._names, self)
        self.recalls_table = read_only_table(self, "recallsTable")
        self.recalls_table.setModel(self.recalls)
        self.recalls_table.selectionModel().selectionChanged.connect(self._picked)
        self.vials_label = QLabel(self)
        self.vials = quarantine_model(self)
        self.vials_table = read_only_table(self, "quarantineTable")
        self.vials_table.setModel(self.vials)
        self.quarantine_button = QPushButton(self)
        self.quarantine_button.setObjectName("quarantineAll")
        self.quarantine_button.clicked.connect(self.quarantine_selected)
        self.people_label = QLabel(self)
        self.people = affected_model(self)
        self.people_table = read_only_table(self, "affectedTable")
        self.people_table.setModel(self.people)

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.refresh_button)
        vials_head = QHBoxLayout()
        vials_head.addWidget(self.vials_label, 1)
        vials_head.addWidget(self.quarantine_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.empty)
        layout.addWidget(self.recalls_table, 2)
        layout.addLayout(vials_head)
        layout.addWidget(self.vials_table, 2)
        layout.addWidget(self.people_label)
        layout.addWidget(self.people_table, 3)

    # -- reading ---------------------------------------------------------------------------

    def load(self) -> None:
        """Read the recalls in force."""
        self.tasks.run(self.backend.recalled_lots, self._show, self._failed)

    def _show(self, lots: Sequence[RecalledLot]) -> None:
        current = self.selected()
        self.recalls.set_rows(lots)
        self.empty.setVisible(not lots)
        keep = 0
        if current is not None:
            keep = next(
                (
                    n
                    for n, lot in enumerate(self.recalls.rows)
                    if (lot.gtin, lot.lot_number) == (current.gtin, current.lot_number)
                ),
                0,
            )
        if lots:
            self.recalls_table.selectRow(keep)
        self._show_selected()
        self.recalls_shown.emit(self.recalls.rows)

    def selected(self) -> RecalledLot | None:
        rows = self.recalls_table.selectionModel().selectedRows()
        return self.recalls.row_at(rows[0].row()) if rows else None

    def _picked(self, *_: object) -> None:
        self._show_selected()

    def _update_actions(self) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        lot = self.selected()
        self.vials.set_rows(lot.vials_to_quarantine if lot is not None else ())
        self.people.set_rows(lot.citizens if lot is not None else ())
        self.quarantine_button.setEnabled(lot is not None and bool(lot.vials_to_quarantine))
        self._label_details()

    # -- acting ----------------------------------------------------------------------------

    def quarantine_selected(self) -> None:
        """Discard every vial of the selected recalled lot still in use, as recalled."""
        lot = self.selected()
        if lot is None or not lot.vials_to_quarantine:
            return
        gtin, number = lot.gtin, lot.lot_number
        self.quarantine_button.setEnabled(False)
        self.tasks.run(
            lambda: self.backend.quarantine_recalled(gtin, number),
            lambda count: self._quarantined(number, count),
            self._quarantine_failed,
        )

    def _quarantined(self, lot_number: str, count: int) -> None:
        self.banner.show_ok(
            tr(
                "ui.stock.recalls.quarantined",
                "{count} vials of lot {lot} discarded as recalled. Keep them apart, labelled "
                "“recalled”, until the central warehouse collects them.",
                count=count,
                lot=lot_number,
            )
        )
        self.quarantined.emit(count)
        self.load()

    def _quarantine_failed(self, error: BaseException) -> None:
        self._show_selected()
        self._failed(error)

    # -- messages and labels ---------------------------------------------------------------

    def _label_details(self) -> None:
        lot = self.selected()
        if lot is None:
            self.vials_label.setText(tr("ui.stock.recalls.pick", "Select a recalled lot above."))
            self.people_label.clear()
            return
        self.vials_label.setText(
            tr(
                "ui.stock.recalls.vials",
                "Lot {lot}: {count} registered vials to take out of use. Vials of this lot "
                "still in their cartons: set them aside too ({fridge} in the books).",
                lot=lot.lot_number,
                count=len(lot.vials_to_quarantine),
                fridge=lot.vials_in_fridge,
            )
        )
        self.people_label.setText(
            tr(
                "ui.stock.recalls.people",
                "People who received a dose from lot {lot} here ({count}):",
                lot=lot.lot_number,
                count=len(lot.citizens),
            )
        )

    def retranslate(self, *_: object) -> None:
        self.title.setText(tr("ui.stock.recalls.title", "Recalled lots"))
        self.refresh_button.setText(tr("ui.stock.refresh", "Refresh"))
        self.empty.setText(tr("ui.stock.recalls.none", "No lot is recalled at the moment."))
        self.quarantine_button.setText(tr("ui.stock.recalls.quarantine", "Discard all as recalled"))
        self._label_details()
