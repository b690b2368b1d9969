"""Receiving a shipment: pick the notice, scan the cartons, see sent vs scanned, finish.

The site manager picks one of the shipments that came down in the last sync
and scans each carton's GS1 DataMatrix (scans arrive through `handle_scan`;
the window forwards them while this page is showing). Each carton is checked
against the notice on the store thread (`StockBackend.check_carton`) and then
counted: the tally per lot (`app.ui.stock_models.tally`) shows sent against
scanned live, lots the notice lacks included. How many vials a carton holds
comes from its label (AI 30 or 37) or, for a carton label without a count,
from the "vials per carton" box; a label with a serial number is one vial.
A carton found broken is selected and marked with its number of broken
vials; a wrong scan is removed. "Finish" records the receipt through the
service, which writes every difference (missing, extra, damaged, wrong lot,
cold chain) as a discrepancy; the summary lists them.

Signals (for the window and for tests, which wait on them):
``shipments_shown(list)``, ``carton_added(ScanCheck)``,
``received(ReceiptResult)``, ``refused(str)`` (the translated reason).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Final

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from app.scanning.scan import Gs1Scan, Scan
from app.services.receiving import (
    CartonScan,
    Difference,
    ReceiptResult,
    ScanCheck,
    ShipmentNotice,
)
from app.ui.stock_models import cartons_model, shown_day, tally, tally_model
from app.ui.stock_screen import StockScreen, read_only_table, vials_per_carton_box
from app.ui.text import tr
from domain.gs1 import Gs1Label

#: Application identifiers that carry how many items a carton holds (count, contained).
_COUNT_AIS: Final = ("30", "37")


def vials_on_label(label: Gs1Label) -> int | None:
    """The count a carton label states (AI 30/37), 1 for a serialised vial, else None."""
    for ai, value in label.others:
        if ai in _COUNT_AIS and value.isdigit() and int(value) > 0:
            return int(value)
    return 1 if label.serial else None


def difference_text(difference: Difference, names: Mapping[str, str]) -> str:
    """One discrepancy as a sentence the manager can check against the boxes."""
    kind = str(difference.kind)
    lot = difference.lot_number or ""
    expected, got = difference.expected_vials, difference.received_vials
    if kind == "missing":
        return tr(
            "ui.stock.diff.missing",
            "Lot {lot}: {missing} vials missing ({got} of {expected} sent arrived).",
            lot=lot, missing=expected - got, got=got, expected=expected,
        )  # fmt: skip
    if kind == "extra":
        return tr(
            "ui.stock.diff.extra",
            "Lot {lot}: {extra} vials more than sent ({got} arrived, {expected} sent).",
            lot=lot, extra=got - expected, got=got, expected=expected,
        )  # fmt: skip
    if kind == "damaged":
        return tr(
            "ui.stock.diff.damaged",
            "Lot {lot}: {broken} vials broken ({got} usable of {expected} arrived).",
            lot=lot, broken=expected - got, got=got, expected=expected,
        )  # fmt: skip
    if kind == "wrong_lot":
        return tr(
            "ui.stock.diff.wrong_lot",
            "Lot {lot}: {got} vials arrived that the shipment does not list.",
            lot=lot, got=got,
        )  # fmt: skip
    if kind == "temperature_excursion":
        return tr("ui.stock.diff.cold_chain", "The cold chain was broken on the way.")
    return f"{kind}: {lot} {expected} -> {got}"


class ReceivingView(StockScreen):
    """The receiving page; see the module docstring."""

    shipments_shown = Signal(object)
    carton_added = Signal(object)
    received = Signal(object)

    screen_name = "receivingView"

    def _build(self) -> None:
        self._notices: tuple[ShipmentNotice, ...] = ()
        self._cartons: tuple[CartonScan, ...] = ()
        #: True while a carton check runs: scans wait their turn so none is counted twice.
        self._checking = False
        self._queued: list[Gs1Label] = []

        self.shipment_label = QLabel(self)
        self.shipment_box = QComboBox(self)
        self.shipment_box.setObjectName("shipmentBox")
        self.shipment_box.currentIndexChanged.connect(self._shipment_picked)
        self.refresh_button = QPushButton(self)
        self.refresh_button.clicked.connect(self.load)
        self.carton_vials_label = QLabel(self)
        self.carton_vials = vials_per_carton_box(self, "vialsPerCarton")
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)

        self.tally = tally_model(self._names, self)
        self.tally_table = read_only_table(self, "tallyTable")
        self.tally_table.setModel(self.tally)
        self.cartons = cartons_model(self)
        self.cartons_table = read_only_table(self, "cartonsTable")
        self.cartons_table.setModel(self.cartons)

        self.damaged = QSpinBox(self)
        self.damaged.setObjectName("damagedVials")
        self.damaged.setRange(0, 10_000)
        self.damaged.setValue(1)
        self.damaged_button = QPushButton(self)
        self.damaged_button.setObjectName("markDamaged")
        self.damaged_button.clicked.connect(self.mark_damaged)
        self.remove_button = QPushButton(self)
        self.remove_button.setObjectName("removeCarton")
        self.remove_button.clicked.connect(self.remove_carton)
        self.cold_chain_broken = QCheckBox(self)
        self.cold_chain_broken.setObjectName("coldChainBroken")
        self.finish_button = QPushButton(self)
        self.finish_button.setObjectName("finishReceiving")
        self.finish_button.clicked.connect(self.finish)
        self.summary = QLabel(self)
        self.summary.setObjectName("receiptSummary")
        self.summary.setWordWrap(True)

        pick = QHBoxLayout()
        pick.addWidget(self.shipment_label)
        pick.addWidget(self.shipment_box, 1)
        pick.addWidget(self.refresh_button)
        form = QFormLayout()
        form.addRow(self.carton_vials_label, self.carton_vials)
        carton_actions = QHBoxLayout()
        carton_actions.addWidget(self.damaged)
        carton_actions.addWidget(self.damaged_button)
        carton_actions.addWidget(self.remove_button)
        carton_actions.addStretch(1)
        finish = QHBoxLayout()
        finish.addWidget(self.cold_chain_broken)
        finish.addStretch(1)
        finish.addWidget(self.finish_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(pick)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.banner)
        layout.addWidget(self.tally_table, 3)
        layout.addWidget(self.cartons_table, 2)
        layout.addLayout(carton_actions)
        layout.addLayout(finish)
        layout.addWidget(self.summary)

    # -- values ----------------------------------------------------------------------------

    @property
    def notice(self) -> ShipmentNotice | None:
        """The shipment being received, if one is picked."""
        index = self.shipment_box.currentIndex()
        return self._notices[index] if 0 <= index < len(self._notices) else None

    @property
    def scanned_cartons(self) -> tuple[CartonScan, ...]:
        return self._cartons

    # -- loading ---------------------------------------------------------------------------

    def load(self) -> None:
        """Read the shipments waiting to be received."""
        self.tasks.run(self.backend.pending_shipments, self._show_shipments, self._failed)

    def _show_shipments(self, notices: Sequence[ShipmentNotice]) -> None:
        current = self.notice.shipment_id if self.notice is not None else None
        self._notices = tuple(notices)
        self.shipment_box.blockSignals(True)
        self.shipment_box.clear()
        for notice in self._notices:
            self.shipment_box.addItem(self._notice_text(notice))
        keep = next((n for n, x in enumerate(self._notices) if x.shipment_id == current), 0)
        self.shipment_box.setCurrentIndex(keep if self._notices else -1)
        self.shipment_box.blockSignals(False)
        if self.notice is None or self.notice.shipment_id != current:
            self._start_over()
        else:
            self._refresh_tables()  # the same shipment re-read: its cartons still count
        self.shipments_shown.emit(list(self._notices))

    def _notice_text(self, notice: ShipmentNotice) -> str:
        return tr(
            "ui.stock.receiving.notice",
            "{reference}: {vials} vials in {lots} lots, expected {day}",
            reference=notice.reference,
            vials=sum(line.vials for line in notice.lines),
            lots=len({(line.gtin, line.lot_number) for line in notice.lines}),
            day=shown_day(notice.expected_on),
        )

    def _shipment_picked(self, *_: object) -> None:
        """The manager picked another shipment."""
        self.summary.clear()
        self.banner.clear_message()
        self._start_over()

    def _start_over(self) -> None:
        """The cartons scanned for the previous shipment no longer count."""
        self._cartons = ()
        self._queued.clear()
        self._refresh_tables()

    # -- scanning --------------------------------------------------------------------------

    def handle_scan(self, scan: Scan) -> bool:
        """Take a GS1 carton scan; False for any other kind of scan (not ours)."""
        if not isinstance(scan, Gs1Scan):
            return False
        self.scan_carton(scan.label)
        return True

    def scan_carton(self, label: Gs1Label) -> None:
        """Check the carton against the notice on the store thread, then count it."""
        notice = self.notice
        if notice is None:
            self._refuse(
                tr(
                    "ui.stock.receiving.no_shipment",
                    "No shipment is picked. Pick the shipment from the list above (synchronise "
                    "first if it is not there), then scan the cartons.",
                )
            )
            return
        if self._checking:
            self._queued.append(label)
            return
        if label.serial and any(
            c.label.serial == label.serial and c.label.gtin == label.gtin for c in self._cartons
        ):
            self._refuse(
                tr(
                    "ui.stock.receiving.twice",
                    "Vial {serial} of lot {lot} was already scanned. Each vial is counted once; "
                    "scan the next one.",
                    serial=label.serial,
                    lot=label.lot or "",
                )
            )
            return
        vials = vials_on_label(label) or self.carton_vials.value()
        before = self._cartons
        reference = notice.reference
        self._checking = True
        self.tasks.run(
            lambda: self.backend.check_carton(reference, label, vials, before),
            lambda check: self._carton_checked(reference, label, vials, check),
            self._carton_failed,
        )

    def _carton_checked(
        self, reference: str, label: Gs1Label, vials: int, check: ScanCheck
    ) -> None:
        self._checking = False
        notice = self.notice
        if notice is None or notice.reference != reference:
            return  # another shipment was picked meanwhile: this carton was not for it
        self._cartons = (*self._cartons, CartonScan(label, vials))
        self._refresh_tables()
        self.cartons_table.selectRow(len(self._cartons) - 1)
        lot = label.lot or ""
        if check.recalled_reason is not None:
            self.banner.show_bad(
                tr(
                    "ui.stock.receiving.recalled",
                    "Lot {lot} is RECALLED ({reason}). It is counted as arrived; set these "
                    "vials aside in quarantine and do not use them.",
                    lot=lot,
                    reason=check.recalled_reason,
                )
            )
        elif check.expired:
            self.banner.show_bad(
                tr(
                    "ui.stock.receiving.expired",
                    "Lot {lot} has EXPIRED. It is counted as arrived; set these vials aside "
                    "and do not use them.",
                    lot=lot,
                )
            )
        elif not check.on_shipment:
            self.banner.show_warning(
                tr(
                    "ui.stock.receiving.not_on_shipment",
                    "Lot {lot} is not on this shipment. Check the carton; if it really came "
                    "with this delivery it will be recorded as a wrong lot.",
                    lot=lot,
                )
            )
        elif check.scanned_vials > check.sent_vials:
            self.banner.show_warning(
                tr(
                    "ui.stock.receiving.over",
                    "Lot {lot}: {scanned} vials scanned, but only {sent} were sent. If this "
                    "carton was scanned twice, select it below and remove it.",
                    lot=lot,
                    scanned=check.scanned_vials,
                    sent=check.sent_vials,
                )
            )
        else:
            self.banner.show_ok(
                tr(
                    "ui.stock.receiving.counted",
                    "Lot {lot}: {vials} vials counted ({scanned} of {sent} sent).",
                    lot=lot,
                    vials=vials,
                    scanned=check.scanned_vials,
                    sent=check.sent_vials,
                )
            )
        self.carton_added.emit(check)
        self._next_queued()

    def _carton_failed(self, error: BaseException) -> None:
        self._checking = False
        self._failed(error)
        self._next_queued()

    def _next_queued(self) -> None:
        if self._queued:
            self.scan_carton(self._queued.pop(0))

    # -- corrections -----------------------------------------------------------------------

    def _selected_carton(self) -> int | None:
        rows = self.cartons_table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def mark_damaged(self) -> None:
        """Set the selected carton's broken vials to the number in the box."""
        row = self._selected_carton()
        if row is None:
            self._refuse(
                tr(
                    "ui.stock.receiving.pick_carton",
                    "Select the carton in the list of scanned cartons first.",
                )
            )
            return
        carton = self._cartons[row]
        broken = self.damaged.value()
        if broken > carton.vials:
            self._refuse(
                tr(
                    "ui.stock.receiving.too_many_broken",
                    "This carton holds {vials} vials, so no more than {vials} can be broken.",
                    vials=carton.vials,
                )
            )
            return
        self._cartons = (
            *self._cartons[:row],
            replace(carton, damaged_vials=broken),
            *self._cartons[row + 1 :],
        )
        self._refresh_tables()
        self.cartons_table.selectRow(row)

    def remove_carton(self) -> None:
        """Forget the selected carton (scanned by mistake)."""
        row = self._selected_carton()
        if row is None:
            return
        self._cartons = (*self._cartons[:row], *self._cartons[row + 1 :])
        self._refresh_tables()

    # -- finishing -------------------------------------------------------------------------

    def finish(self) -> None:
        """Record the receipt with what was scanned; the differences become discrepancies."""
        notice = self.notice
        if notice is None or self._checking:
            return
        cartons = self._cartons
        cold_chain_ok = not self.cold_chain_broken.isChecked()
        reference = notice.reference
        self.finish_button.setEnabled(False)
        self.tasks.run(
            lambda: self.backend.receive_shipment(reference, cartons, cold_chain_ok=cold_chain_ok),
            self._received,
            self._finish_failed,
        )

    def _received(self, result: ReceiptResult) -> None:
        lines = [
            tr(
                "ui.stock.receiving.done",
                "Shipment {reference} received.",
                reference=result.reference,
            )
        ]
        if result.differences:
            lines.append(
                tr(
                    "ui.stock.receiving.differences",
                    "Recorded differences ({count}), sent to the central warehouse:",
                    count=len(result.differences),
                )
            )
            lines.extend(f"• {difference_text(d, self._names)}" for d in result.differences)
            self.banner.show_warning(lines[0])
        else:
            lines.append(tr("ui.stock.receiving.no_differences", "Everything arrived as sent."))
            self.banner.show_ok(lines[0])
        self.cold_chain_broken.setChecked(False)
        self.summary.setText("\n".join(lines))
        self.received.emit(result)
        self.load()

    def _finish_failed(self, error: BaseException) -> None:
        self._update_actions()
        self._failed(error)

    # -- messages and labels ---------------------------------------------------------------

    def _refresh_tables(self) -> None:
        notice = self.notice
        lines = notice.lines if notice is not None else ()
        self.tally.set_rows(tally(lines, self._cartons, self._product_of))
        self.cartons.set_rows(self._cartons)
        self._update_actions()

    def _product_of(self, gtin: str) -> str:
        notice = self.notice
        for line in notice.lines if notice is not None else ():
            if line.gtin == gtin:
                return line.product_code
        return ""

    def _update_actions(self) -> None:
        has_notice = self.notice is not None
        self.finish_button.setEnabled(has_notice)
        self.damaged_button.setEnabled(bool(self._cartons))
        self.remove_button.setEnabled(bool(self._cartons))

    def retranslate(self, *_: object) -> None:
        self.title.setText(tr("ui.stock.receiving.title", "Receive a shipment"))
        self.shipment_label.setText(tr("ui.stock.receiving.shipment", "Shipment:"))
        self.refresh_button.setText(tr("ui.stock.refresh", "Refresh"))
        self.carton_vials_label.setText(
            tr("ui.stock.receiving.per_carton", "Vials in a carton whose label gives no count:")
        )
        self.hint.setText(
            tr(
                "ui.stock.receiving.hint",
                "Scan every carton (or single vial) of the delivery. A broken carton: select it "
                "below, enter the broken vials and press “Broken vials”.",
            )
        )
        self.damaged_button.setText(tr("ui.stock.receiving.mark_damaged", "Broken vials"))
        self.remove_button.setText(tr("ui.stock.receiving.remove", "Remove scanned carton"))
        self.cold_chain_broken.setText(
            tr("ui.stock.receiving.cold_chain", "The cold chain was broken on the way")
        )
        self.finish_button.setText(tr("ui.stock.receiving.finish", "Finish receiving"))
        for number, notice in enumerate(self._notices):
            self.shipment_box.setItemText(number, self._notice_text(notice))
