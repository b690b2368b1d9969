"""The stock screens' tables: frozen rows, the pure functions that make them, Qt models.

Every table of the stock screens is a `RowsModel` over frozen values (never
ORM rows): the receiving tally per lot (`LotTally`, made by `tally` from the
shipment notice and the cartons scanned so far), the cartons scanned
(`CartonScan`), the vials at the site (`VialRow`, made by `vial_row` from a
service `VialState` and the time now), the stock count (`CountLine`, whose
counted column is editable), recalled lots and the doses given from them.

Columns are declared once as `Column` values (header text, cell text, sort
key), translated through `app.ui.text.tr` when Qt asks, so a language switch
only has to tell the views to repaint (`RowsModel` does that itself).
The functions here touch no store and no widget; tests drive them directly.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Final, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from app.services.recalls import AffectedCitizen, QuarantineVial, RecalledLot
from app.services.receiving import CartonScan, ExpectedLine
from app.services.stock_count import ExpectedStock
from app.services.vials import VialState
from app.ui.text import language_changed, tr
from app.ui.times import local
from domain.jmbg import mask_jmbg

_Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R")

#: Sort by the value behind the text (dates, numbers), not the text.
SortRole: Final = Qt.ItemDataRole.UserRole
#: The row value (frozen dataclass) of an index.
RowRole: Final = Qt.ItemDataRole.UserRole + 1

#: An opened vial this close to its use-by time is flagged.
OPEN_VIAL_WARNING: Final = timedelta(minutes=60)

_WARN: Final = QColor("#fff4c2")
_BAD: Final = QColor("#fbdada")
_GOOD: Final = QColor("#d9f2dd")
_GREY: Final = QColor("#eeeeee")


def shown_day(day: date | None) -> str:
    """``31.12.2021.``: a date as people in Serbia write it."""
    return day.strftime("%d.%m.%Y.") if day is not None else ""


def shown_time(when: datetime | None) -> str:
    """``31.12. 14:05`` in the site's zone."""
    return local(when).strftime("%d.%m. %H:%M") if when is not None else ""


# -- the generic table ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: its header (translated when asked), cell text, sort key, colour."""

    header: Callable[[], str]
    text: Callable[[R], str]
    sort: Callable[[R], Any] | None = None
    background: Callable[[R], QColor | None] | None = None
    numeric: bool = False


class RowsModel(QAbstractTableModel, Generic[R]):
    """A read-only table over a tuple of frozen rows, described by `Column`s."""

    def __init__(self, columns: Sequence[Column[R]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._rows: tuple[R, ...] = ()
        language_changed.connect(self.relabel)

    @property
    def rows(self) -> tuple[R, ...]:
        return self._rows

    def set_rows(self, rows: Iterable[R]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self._rows = tuple(rows)
        self.endResetModel()

    def row_at(self, row: int) -> R:
        return self._rows[row]

    def relabel(self, *_: object) -> None:
        """Repaint headers and cells in the current language."""
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self._columns) - 1)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(self._columns) - 1)
            )

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section].header()
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == SortRole:
            return column.sort(row) if column.sort is not None else column.text(row)
        if role == RowRole:
            return row
        if role == Qt.ItemDataRole.BackgroundRole and column.background is not None:
            colour = column.background(row)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def product_column(names: Mapping[str, str], code_of: Callable[[Any], str]) -> Column[Any]:
    return Column(
        lambda: tr("ui.stock.col.product", "Vaccine"),
        lambda r: names.get(code_of(r), code_of(r)),
    )


# -- receiving -----------------------------------------------------------------------------


class TallyStatus(enum.Enum):
    """How the scanned vials of one lot compare with the notice so far."""

    WAITING = "waiting"  # on the notice, nothing scanned yet
    SHORT = "short"  # some scanned, fewer than sent
    COMPLETE = "complete"
    OVER = "over"  # more than sent
    NOT_SHIPPED = "not_shipped"  # a lot the notice does not list


def tally_status_text(status: TallyStatus) -> str:
    return {
        TallyStatus.WAITING: lambda: tr("ui.stock.tally.waiting", "Not scanned yet"),
        TallyStatus.SHORT: lambda: tr("ui.stock.tally.short", "Fewer than sent"),
        TallyStatus.COMPLETE: lambda: tr("ui.stock.tally.complete", "All here"),
        TallyStatus.OVER: lambda: tr("ui.stock.tally.over", "More than sent"),
        TallyStatus.NOT_SHIPPED: lambda: tr("ui.stock.tally.not_shipped", "Not on this shipment"),
    }[status]()


@dataclass(frozen=True)
class LotTally:
    """One lot while a shipment is scanned: sent, scanned so far, of them broken."""

    product_code: str
    gtin: str
    lot_number: str
    expiry_date: date | None
    expected_vials: int
    scanned_vials: int
    damaged_vials: int

    @property
    def status(self) -> TallyStatus:
        if self.expected_vials == 0:
            return TallyStatus.NOT_SHIPPED
        if self.scanned_vials == 0:
            return TallyStatus.WAITING
        if self.scanned_vials < self.expected_vials:
            return TallyStatus.SHORT
        if self.scanned_vials > self.expected_vials:
            return TallyStatus.OVER
        return TallyStatus.COMPLETE


def carton_key(carton: CartonScan) -> tuple[str, str]:
    """(GTIN-14, lot) of a scanned carton; a label without a lot is keyed by ``""``."""
    return carton.label.gtin.zfill(14), carton.label.lot or ""


def tally(
    lines: Sequence[ExpectedLine],
    cartons: Sequence[CartonScan],
    product_of: Callable[[str], str] = lambda gtin: "",
) -> tuple[LotTally, ...]:
    """Sent vs scanned per lot: the notice's lots in its order, then lots it lacks.

    `product_of` names the product of a GTIN for lots the notice does not list.
    """
    rows: dict[tuple[str, str], LotTally] = {}
    for line in lines:
        key = (line.gtin.zfill(14), line.lot_number)
        known = rows.get(key)
        sent = line.vials + (known.expected_vials if known else 0)
        rows[key] = LotTally(line.product_code, key[0], key[1], line.expiry_date, sent, 0, 0)
    for carton in cartons:
        key = carton_key(carton)
        row = rows.get(key) or LotTally(
            product_of(key[0]), key[0], key[1], carton.label.expiry_date, 0, 0, 0
        )
        rows[key] = replace(
            row,
            scanned_vials=row.scanned_vials + carton.vials,
            damaged_vials=row.damaged_vials + carton.damaged_vials,
        )
    return tuple(rows.values())


def _tally_colour(row: LotTally) -> QColor | None:
    status = row.status
    if row.damaged_vials or status in (TallyStatus.NOT_SHIPPED, TallyStatus.OVER):
        return _BAD
    if status is TallyStatus.COMPLETE:
        return _GOOD
    if status is TallyStatus.SHORT:
        return _WARN
    return None


def tally_model(names: Mapping[str, str], parent: QObject | None = None) -> RowsModel[LotTally]:
    """Columns: vaccine, lot, expiry, sent, scanned, broken, state."""
    columns: list[Column[LotTally]] = [
        product_column(names, lambda r: r.product_code),
        Column(lambda: tr("ui.stock.col.lot", "Lot"), lambda r: r.lot_number),
        Column(
            lambda: tr("ui.stock.col.expiry", "Expiry"),
            lambda r: shown_day(r.expiry_date),
            lambda r: r.expiry_date or date.max,
        ),
        Column(
            lambda: tr("ui.stock.col.sent", "Sent"),
            lambda r: str(r.expected_vials),
            lambda r: r.expected_vials,
            numeric=True,
        ),
        Column(
            lambda: tr("ui.stock.col.scanned", "Scanned"),
            lambda r: str(r.scanned_vials),
            lambda r: r.scanned_vials,
            _tally_colour,
            numeric=True,
        ),
        Column(
            lambda: tr("ui.stock.col.damaged", "Broken"),
            lambda r: str(r.damaged_vials) if r.damaged_vials else "",
            lambda r: r.damaged_vials,
            numeric=True,
        ),
        Column(
            lambda: tr("ui.stock.col.state", "State"),
            lambda r: tally_status_text(r.status),
            background=_tally_colour,
        ),
    ]
    return RowsModel(columns, parent)


def cartons_model(parent: QObject | None = None) -> RowsModel[CartonScan]:
    """Columns: lot, serial, vials, broken (one row per scan, newest last)."""
    columns: list[Column[CartonScan]] = [
        Column(lambda: tr("ui.stock.col.lot", "Lot"), lambda c: c.label.lot or ""),
        Column(lambda: tr("ui.stock.col.serial", "Serial"), lambda c: c.label.serial or ""),
        Column(
            lambda: tr("ui.stock.col.vials", "Vials"),
            lambda c: str(c.vials),
            lambda c: c.vials,
            numeric=True,
        ),
        Column(
            lambda: tr("ui.stock.col.damaged", "Broken"),
            lambda c: str(c.damaged_vials) if c.damaged_vials else "",
            lambda c: c.damaged_vials,
            lambda c: _BAD if c.damaged_vials else None,
            numeric=True,
        ),
    ]
    return RowsModel(columns, parent)


# -- vials --------------------------------------------------------------------------------


class VialCondition(enum.Enum):
    """What can be done with a vial now."""

    UNOPENED = "unopened"
    OPEN = "open"
    PAST_USE_BY = "past_use_by"  # open, and its time after opening is over
    EMPTY = "empty"
    DISCARDED = "discarded"


def condition_text(condition: VialCondition) -> str:
    return {
        VialCondition.UNOPENED: lambda: tr("ui.stock.vial.unopened", "Unopened"),
        VialCondition.OPEN: lambda: tr("ui.stock.vial.open", "Open"),
        VialCondition.PAST_USE_BY: lambda: tr(
            "ui.stock.vial.past_use_by", "Open too long: discard"
        ),
        VialCondition.EMPTY: lambda: tr("ui.stock.vial.empty", "Empty"),
        VialCondition.DISCARDED: lambda: tr("ui.stock.vial.discarded", "Discarded"),
    }[condition]()


@dataclass(frozen=True)
class VialRow:
    """A vial as the vials table shows it at one moment."""

    state: VialState
    condition: VialCondition
    #: Whole minutes until the opened vial must be discarded (0 once past); None if not open.
    minutes_left: int | None
    #: Open and within `OPEN_VIAL_WARNING` of its use-by time (or past it, not yet discarded).
    near_limit: bool


def vial_row(state: VialState, now: datetime) -> VialRow:
    """Classify `state` at `now` (see `VialCondition`)."""
    minutes_left: int | None = None
    if state.is_discarded:
        condition = VialCondition.DISCARDED
    elif state.doses_left <= 0:
        condition = VialCondition.EMPTY
    elif state.use_by is not None and state.past_use_by(now):
        condition = VialCondition.PAST_USE_BY
    elif state.is_open:
        condition = VialCondition.OPEN
    else:
        condition = VialCondition.UNOPENED
    if state.use_by is not None and condition in (VialCondition.OPEN, VialCondition.PAST_USE_BY):
        minutes_left = max(int((state.use_by - now).total_seconds() // 60), 0)
    near = minutes_left is not None and (
        condition is VialCondition.PAST_USE_BY
        or timedelta(minutes=minutes_left) <= OPEN_VIAL_WARNING
    )
    return VialRow(state, condition, minutes_left, near)


def _time_left(row: VialRow) -> str:
    if row.condition is VialCondition.OPEN and row.minutes_left is not None:
        hours, minutes = divmod(row.minutes_left, 60)
        left = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
        return tr(
            "ui.stock.vial.left",
            "{left} left (until {until})",
            left=left,
            until=shown_time(row.state.use_by),
        )
    if row.condition is VialCondition.DISCARDED:
        return tr(
            "ui.stock.vial.discarded_at",
            "{when}: {reason}",
            when=shown_time(row.state.discarded_at),
            reason=discard_reason_text(row.state.discard_reason or ""),
        )
    return ""


def _vial_colour(row: VialRow) -> QColor | None:
    if row.condition is VialCondition.PAST_USE_BY:
        return _BAD
    if row.near_limit:
        return _WARN
    if row.condition in (VialCondition.EMPTY, VialCondition.DISCARDED):
        return _GREY
    return None


def vials_model(names: Mapping[str, str], parent: QObject | None = None) -> RowsModel[VialRow]:
    """Columns: vaccine, lot, serial, expiry, state, doses left, time left / discard."""
    columns: list[Column[VialRow]] = [
        product_column(names, lambda r: r.state.product_code),
        Column(lambda: tr("ui.stock.col.lot", "Lot"), lambda r: r.state.lot_number),
        Column(lambda: tr("ui.stock.col.serial", "Serial"), lambda r: r.state.serial),
        Column(
            lambda: tr("ui.stock.col.expiry", "Expiry"),
            lambda r: shown_day(r.state.expiry_date),
            lambda r: r.state.expiry_date,
        ),
        Column(
            lambda: tr("ui.stock.col.state", "State"),
            lambda r: condition_text(r.condition),
            lambda r: list(VialCondition).index(r.condition),
            _vial_colour,
        ),
        Column(
            lambda: tr("ui.stock.col.doses_left", "Doses left"),
            lambda r: f"{r.state.doses_left}/{r.state.doses_per_vial}",
            lambda r: r.state.doses_left,
            numeric=True,
        ),
        Column(
            lambda: tr("ui.stock.col.time_left", "Time left / discarded"),
            _time_left,
            lambda r: r.minutes_left if r.minutes_left is not None else 1 << 30,
            _vial_colour,
        ),
    ]
    return RowsModel(columns, parent)


class DiscardReason(enum.Enum):
    """Why a vial is discarded; the value is what the store and the hub's report keep."""

    EXPIRED_AFTER_OPENING = "expired after opening"
    BROKEN = "broken"
    COLD_CHAIN = "cold-chain breach"
    RECALLED = "recalled"


def discard_reason_text(reason: str) -> str:
    """A stored reason in the current language (free text stays as written)."""
    texts = {
        DiscardReason.EXPIRED_AFTER_OPENING.value: lambda: tr(
            "ui.stock.reason.expired_after_opening", "Expired after opening"
        ),
        DiscardReason.BROKEN.value: lambda: tr("ui.stock.reason.broken", "Broken"),
        DiscardReason.COLD_CHAIN.value: lambda: tr(
            "ui.stock.reason.cold_chain", "Cold-chain breach"
        ),
        DiscardReason.RECALLED.value: lambda: tr("ui.stock.reason.recalled", "Recalled lot"),
    }
    text = texts.get(reason)
    return text() if text is not None else reason


# -- recalls -----------------------------------------------------------------------------


def recalls_model(
    names: Mapping[str, str], parent: QObject | None = None
) -> RowsModel[RecalledLot]:
    """Columns: vaccine, lot, recalled on, reason, vials to set aside, in the books, doses."""
    columns: list[Column[RecalledLot]] = [
        product_column(names, lambda r: r.product_code),
        Column(lambda: tr("ui.stock.col.lot", "Lot"), lambda r: r.lot_number),
        Column(
            lambda: tr("ui.stock.col.recalled_at", "Recalled"),
            lambda r: shown_day(local(r.recalled_at).date()),
            lambda r: r.recalled_at,
        ),
        Column(lambda: tr("ui.stock.col.reason", "Reason"), lambda r: r.reason),
        Column(
            lambda: tr("ui.stock.col.quarantine", "Vials to set aside"),
            lambda r: str(len(r.vials_to_quarantine)),
            lambda r: len(r.vials_to_quarantine),
            lambda r: _BAD if r.vials_to_quarantine else None,
            numeric=True,
        ),
        Column(
            lambda: tr("ui.stock.col.in_fridge", "In the books"),
            lambda r: str(r.vials_in_fridge),
            lambda r: r.vials_in_fridge,
            numeric=True,
        ),
        Column(
            lambda: tr("ui.stock.col.doses_given", "Doses given"),
            lambda r: str(len(r.citizens)),
            lambda r: len(r.citizens),
            numeric=True,
        ),
    ]
    return RowsModel(columns, parent)


def quarantine_model(parent: QObject | None = None) -> RowsModel[QuarantineVial]:
    """Columns: serial, opened?, doses drawn."""
    columns: list[Column[QuarantineVial]] = [
        Column(lambda: tr("ui.stock.col.serial", "Serial"), lambda v: v.serial),
        Column(
            lambda: tr("ui.stock.col.state", "State"),
            lambda v: condition_text(VialCondition.OPEN if v.opened else VialCondition.UNOPENED),
        ),
        Column(
            lambda: tr("ui.stock.col.doses_drawn", "Doses drawn"),
            lambda v: str(v.doses_drawn),
            lambda v: v.doses_drawn,
            numeric=True,
        ),
    ]
    return RowsModel(columns, parent)


def affected_model(parent: QObject | None = None) -> RowsModel[AffectedCitizen]:
    """Columns: name, masked JMBG, dose, date given, phone."""
    columns: list[Column[AffectedCitizen]] = [
        Column(lambda: tr("ui.stock.col.name", "Name"), lambda c: c.name),
        Column(
            lambda: tr("ui.stock.col.jmbg", "JMBG"),
            lambda c: mask_jmbg(c.jmbg) if c.jmbg else "",
        ),
        Column(
            lambda: tr("ui.stock.col.dose", "Dose"),
            lambda c: str(c.dose_number),
            lambda c: c.dose_number,
            numeric=True,
        ),
        Column(
            lambda: tr("ui.stock.col.given_on", "Given on"),
            lambda c: local(c.administered_at).strftime("%d.%m.%Y. %H:%M"),
            lambda c: c.administered_at,
        ),
        Column(lambda: tr("ui.stock.col.phone", "Phone"), lambda c: c.phone or ""),
    ]
    return RowsModel(columns, parent)


# -- stock count --------------------------------------------------------------------------


@dataclass(frozen=True)
class CountLine:
    """One lot of a count in progress: the books' number and what was counted (if yet)."""

    product_code: str
    gtin: str
    lot_number: str
    expiry_date: date | None
    expected_vials: int
    counted_vials: int | None = None

    @property
    def difference(self) -> int | None:
        """Counted minus expected; None until counted."""
        return None if self.counted_vials is None else self.counted_vials - self.expected_vials


COUNT_COL_COUNTED: Final = 4


class CountModel(RowsModel[CountLine]):
    """The count sheet; the counted column is editable (a number, zero or more)."""

    def __init__(self, names: Mapping[str, str], parent: QObject | None = None) -> None:
        columns: list[Column[CountLine]] = [
            product_column(names, lambda r: r.product_code),
            Column(lambda: tr("ui.stock.col.lot", "Lot"), lambda r: r.lot_number),
            Column(
                lambda: tr("ui.stock.col.expiry", "Expiry"),
                lambda r: shown_day(r.expiry_date),
                lambda r: r.expiry_date or date.max,
            ),
            Column(
                lambda: tr("ui.stock.col.expected", "In the books"),
                lambda r: str(r.expected_vials),
                lambda r: r.expected_vials,
                numeric=True,
            ),
            Column(
                lambda: tr("ui.stock.col.counted", "Counted"),
                lambda r: "" if r.counted_vials is None else str(r.counted_vials),
                lambda r: -1 if r.counted_vials is None else r.counted_vials,
                numeric=True,
            ),
            Column(
                lambda: tr("ui.stock.col.difference", "Difference"),
                lambda r: "" if r.difference is None else f"{r.difference:+d}",
                lambda r: r.difference or 0,
                lambda r: None if not r.difference else (_BAD if r.difference < 0 else _WARN),
                numeric=True,
            ),
        ]
        super().__init__(columns, parent)

    def from_books(self, stock: Iterable[ExpectedStock]) -> None:
        """Start a count from the books: every lot held (or with vials expected), uncounted."""
        self.set_rows(
            CountLine(s.product_code, s.gtin, s.lot_number, s.expiry_date, max(s.expected_vials, 0))
            for s in stock
            if s.expected_vials != 0
        )

    def set_counted(self, row: int, vials: int | None) -> None:
        """Set (or clear, with None) the counted vials of `row`; refuses a negative number."""
        if vials is not None and vials < 0:
            raise ValueError("a count is zero or more")
        self._rows = (
            *self._rows[:row],
            replace(self._rows[row], counted_vials=vials),
            *self._rows[row + 1 :],
        )
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

    def add_scanned(
        self, product_code: str, gtin: str, lot: str, expiry: date | None, vials: int = 1
    ) -> int:
        """Count `vials` more of the lot (added at the end if the books lack it); its row."""
        key = (gtin.zfill(14), lot)
        for number, line in enumerate(self._rows):
            if (line.gtin, line.lot_number) == key:
                self.set_counted(number, (line.counted_vials or 0) + vials)
                return number
        number = len(self._rows)
        self.beginInsertRows(QModelIndex(), number, number)
        self._rows = (*self._rows, CountLine(product_code, key[0], lot, expiry, 0, vials))
        self.endInsertRows()
        return number

    def counted_lines(self) -> tuple[CountLine, ...]:
        """The lines counted so far (uncounted ones are not part of the count)."""
        return tuple(line for line in self._rows if line.counted_vials is not None)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() == COUNT_COL_COUNTED:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.EditRole and index.isValid():
            counted = self._rows[index.row()].counted_vials
            return 0 if counted is None else counted
        return super().data(index, role)

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or index.column() != COUNT_COL_COUNTED:
            return False
        text = str(value).strip()
        if text == "":
            self.set_counted(index.row(), None)
            return True
        try:
            vials = int(text)
        except ValueError:
            return False
        if vials < 0:
            return False
        self.set_counted(index.row(), vials)
        return True
