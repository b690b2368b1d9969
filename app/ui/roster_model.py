"""The roster as a Qt table: a model over frozen `RosterRow` values and a filtering proxy.

`RosterTableModel` holds the rows of one day exactly as
`app.services.roster` returned them and shows six columns: time, name,
masked JMBG, product, dose, status. `RosterFilterProxy` filters them as the
nurse types (name or the visible JMBG digits, in either script, with or
without diacritics) and by status, without touching the source.

Filtering 5,000 rows must take well under 50 ms, so each row's search text is
folded once when rows are set (`search_key`) and the proxy compares plain
strings instead of calling ``data()`` per cell.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from app.services.roster import RosterRow
from app.ui.text import language_changed, tr
from domain.appointment_status import AppointmentStatus
from domain.script import cyrillic_to_latin

_Index = QModelIndex | QPersistentModelIndex

COL_TIME, COL_NAME, COL_JMBG, COL_PRODUCT, COL_DOSE, COL_STATUS = range(6)
COLUMN_COUNT: Final = 6

#: Sort by the value behind the text (slot time, dose number), not the text.
SortRole: Final = Qt.ItemDataRole.UserRole
#: The `RosterRow` of an index.
RowRole: Final = Qt.ItemDataRole.UserRole + 1

_STATUS_COLOURS: Final[dict[AppointmentStatus, str]] = {
    AppointmentStatus.SCHEDULED: "#ffffff",
    AppointmentStatus.CHECKED_IN: "#fff4c2",
    AppointmentStatus.DONE: "#d9f2dd",
    AppointmentStatus.NO_SHOW: "#eeeeee",
    AppointmentStatus.CANCELLED: "#eeeeee",
    AppointmentStatus.RESCHEDULED: "#eeeeee",
}


def status_text(status: AppointmentStatus) -> str:
    """The status as the nurse reads it, in the current language."""
    return {
        AppointmentStatus.SCHEDULED: lambda: tr("ui.main.status.scheduled", "Booked"),
        AppointmentStatus.CHECKED_IN: lambda: tr("ui.main.status.checked_in", "Checked in"),
        AppointmentStatus.DONE: lambda: tr("ui.main.status.done", "Vaccinated"),
        AppointmentStatus.NO_SHOW: lambda: tr("ui.main.status.no_show", "Did not come"),
        AppointmentStatus.CANCELLED: lambda: tr("ui.main.status.cancelled", "Cancelled"),
        AppointmentStatus.RESCHEDULED: lambda: tr("ui.main.status.rescheduled", "Rescheduled"),
    }[status]()


# Serbian letters folded by table, so the common case never reaches Unicode decomposition.
_FOLD: Final = str.maketrans(
    {"đ": "dj", "Đ": "dj", "č": "c", "ć": "c", "š": "s", "ž": "z",
     "Č": "c", "Ć": "c", "Š": "s", "Ž": "z"}
)  # fmt: skip
_CYRILLIC: Final = re.compile("[\u0400-\u04ff]")


def fold(text: str) -> str:
    """Text reduced for matching: Latin script, lower case, no diacritics.

    "Петровић", "Petrović" and "petrovic" fold to the same string, so a nurse
    finds a person however the name was typed or stored.
    """
    if _CYRILLIC.search(text):
        text = cyrillic_to_latin(text)
    folded = text.translate(_FOLD).casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_key(row: RosterRow, product_name: str) -> str:
    """Everything a search can match in `row`, folded once."""
    digits = row.jmbg_masked.rstrip("*")
    names = f"{row.given_name} {row.family_name}|{row.family_name} {row.given_name}"
    return fold(f"{names}|{product_name}|{digits}")


class RosterTableModel(QAbstractTableModel):
    """One day's `RosterRow`s, read-only, in the order given."""

    def __init__(
        self, product_names: Mapping[str, str] | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._rows: tuple[RosterRow, ...] = ()
        self._keys: tuple[str, ...] = ()
        self._product_names = dict(product_names or {})
        language_changed.connect(self._relabel)

    # -- values ----------------------------------------------------------------------------

    def set_rows(self, rows: Iterable[RosterRow]) -> None:
        """Replace every row (a new day, or the day re-read after a change)."""
        self.beginResetModel()
        self._rows = tuple(rows)
        self._keys = tuple(search_key(r, self.product_name(r.product_code)) for r in self._rows)
        self.endResetModel()

    @property
    def rows(self) -> tuple[RosterRow, ...]:
        return self._rows

    def row_at(self, source_row: int) -> RosterRow:
        return self._rows[source_row]

    def key_at(self, source_row: int) -> str:
        return self._keys[source_row]

    def product_name(self, code: str) -> str:
        return self._product_names.get(code, code)

    def set_status(self, appointment_id: object, status: AppointmentStatus) -> bool:
        """Show a new status for one appointment without re-reading the day; False if absent.

        A check-in or a dose changes one row: replacing that row keeps a 5,000-row
        roster responsive where a full reload would not.
        """
        number = self.find(appointment_id)
        if number is None:
            return False
        rows = list(self._rows)
        rows[number] = replace(rows[number], status=status)
        self._rows = tuple(rows)
        self.dataChanged.emit(self.index(number, 0), self.index(number, COLUMN_COUNT - 1))
        return True

    def find(self, appointment_id: object) -> int | None:
        """The source row of an appointment, or None."""
        for number, row in enumerate(self._rows):
            if row.appointment_id == appointment_id:
                return number
        return None

    # -- Qt --------------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMN_COUNT

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == SortRole:
            return self._sort_value(row, column)
        if role == RowRole:
            return row
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(QColor(_STATUS_COLOURS[row.status]))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (COL_TIME, COL_DOSE):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            tr("ui.main.roster.col.time", "Time"),
            tr("ui.main.roster.col.name", "Name"),
            tr("ui.main.roster.col.jmbg", "JMBG"),
            tr("ui.main.roster.col.product", "Vaccine"),
            tr("ui.main.roster.col.dose", "Dose"),
            tr("ui.main.roster.col.status", "Status"),
        )[section]

    def _display(self, row: RosterRow, column: int) -> str:
        if column == COL_TIME:
            return row.slot_start.strftime("%H:%M")
        if column == COL_NAME:
            suffix = tr("ui.main.roster.walk_in_mark", " (walk-in)") if row.walk_in else ""
            return f"{row.family_name} {row.given_name}{suffix}"
        if column == COL_JMBG:
            return row.jmbg_masked
        if column == COL_PRODUCT:
            return self.product_name(row.product_code)
        if column == COL_DOSE:
            return str(row.dose_number)
        return status_text(row.status)

    def _sort_value(self, row: RosterRow, column: int) -> Any:
        if column == COL_TIME:
            return row.slot_start.timestamp()
        if column == COL_DOSE:
            return row.dose_number
        if column == COL_NAME:
            return fold(f"{row.family_name} {row.given_name}")
        return self._display(row, column)

    def _relabel(self, *_: object) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, COLUMN_COUNT - 1)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, COL_NAME), self.index(len(self._rows) - 1, COL_STATUS)
            )


class RosterFilterProxy(QSortFilterProxyModel):
    """Rows whose search text contains every typed word, with a status among those chosen."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words: tuple[str, ...] = ()
        self._statuses: frozenset[AppointmentStatus] | None = None
        self.setSortRole(SortRole)
        self.setDynamicSortFilter(False)

    def set_search(self, text: str) -> None:
        """Show rows matching every word of `text` (empty: all rows)."""
        words = tuple(fold(text).split())
        if words != self._words:
            self.beginFilterChange()
            self._words = words
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_statuses(self, statuses: Sequence[AppointmentStatus] | None) -> None:
        """Show only rows with these statuses (None: every status)."""
        chosen = frozenset(statuses) if statuses is not None else None
        if chosen != self._statuses:
            self.beginFilterChange()
            self._statuses = chosen
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def row_at(self, proxy_row: int) -> RosterRow:
        source = self.mapToSource(self.index(proxy_row, 0))
        return self._source().row_at(source.row())

    def visible_rows(self) -> list[RosterRow]:
        return [self.row_at(n) for n in range(self.rowCount())]

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self._source()
        if self._statuses is not None and model.row_at(source_row).status not in self._statuses:
            return False
        if not self._words:
            return True
        key = model.key_at(source_row)
        return all(word in key for word in self._words)

    def _source(self) -> RosterTableModel:
        model = self.sourceModel()
        assert isinstance(model, RosterTableModel)
        return model
