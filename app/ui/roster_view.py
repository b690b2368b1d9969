"""The "Today" roster: the day's appointments with search, status filter and counts.

The view shows a `Roster` it is given (`show_roster`); it asks for another
day with ``day_requested(date)`` (the today/tomorrow switch) and reports a
double-clicked or Enter-ed row with ``appointment_activated(RosterRow)``.
Search filters as the nurse types; nothing here reads the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.roster import Roster, RosterCounts, RosterRow, count_rows
from app.ui.roster_model import (
    COL_DOSE,
    COL_JMBG,
    COL_NAME,
    COL_PRODUCT,
    COL_STATUS,
    COL_TIME,
    RosterFilterProxy,
    RosterTableModel,
    status_text,
)
from app.ui.text import language_changed, tr
from domain.appointment_status import AppointmentStatus

_WIDTHS = {COL_TIME: 60, COL_JMBG: 120, COL_PRODUCT: 130, COL_DOSE: 50, COL_STATUS: 110}

#: Status filter choices, in the order of the combo box (None: all).
_FILTERS: tuple[tuple[str, tuple[AppointmentStatus, ...] | None], ...] = (
    ("all", None),
    ("waiting", (AppointmentStatus.SCHEDULED,)),
    ("checked_in", (AppointmentStatus.CHECKED_IN,)),
    ("done", (AppointmentStatus.DONE,)),
    ("no_show", (AppointmentStatus.NO_SHOW,)),
    ("cancelled", (AppointmentStatus.CANCELLED, AppointmentStatus.RESCHEDULED)),
)


class RosterView(QWidget):
    """Today's or tomorrow's roster as a searchable, filterable table."""

    day_requested = Signal(object)
    appointment_activated = Signal(object)

    def __init__(
        self,
        today: date,
        product_names: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._today = today
        self._day = today
        self._counts: RosterCounts | None = None
        self.model = RosterTableModel(product_names, self)
        self.proxy = RosterFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        self.title = QLabel(self)
        self.title.setStyleSheet("font-size: 16pt; font-weight: bold;")
        self.today_button = QPushButton(self)
        self.today_button.setObjectName("rosterToday")
        self.tomorrow_button = QPushButton(self)
        self.tomorrow_button.setObjectName("rosterTomorrow")
        for button in (self.today_button, self.tomorrow_button):
            button.setCheckable(True)
        self.today_button.setChecked(True)
        days = QButtonGroup(self)
        days.setExclusive(True)
        days.addButton(self.today_button)
        days.addButton(self.tomorrow_button)
        self.today_button.clicked.connect(lambda: self._request(self._today))
        self.tomorrow_button.clicked.connect(lambda: self._request(self._today + timedelta(days=1)))

        self.search = QLineEdit(self)
        self.search.setObjectName("rosterSearch")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)
        self.status_filter = QComboBox(self)
        self.status_filter.setObjectName("rosterStatusFilter")
        for _ in _FILTERS:
            self.status_filter.addItem("")
        self.status_filter.currentIndexChanged.connect(
            lambda i: self.proxy.set_statuses(_FILTERS[i][1])
        )
        self.counts = QLabel(self)
        self.counts.setObjectName("rosterCounts")

        self.table = QTableView(self)
        self.table.setObjectName("rosterTable")
        self.table.setModel(self.proxy)
        # Rows come ordered by slot time: that order needs no sorting (see `_sort`).
        self.table.horizontalHeader().setSortIndicatorShown(True)
        self.table.horizontalHeader().setSectionsClickable(True)
        self.table.horizontalHeader().setSortIndicator(COL_TIME, Qt.SortOrder.AscendingOrder)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._sort)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        # Fixed widths: sizing columns to their contents reads every one of 5,000 rows
        # on each change, which took seconds.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in _WIDTHS.items():
            header.resizeSection(column, width)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.activated.connect(self._activated)

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.today_button)
        top.addWidget(self.tomorrow_button)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.status_filter)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.counts)
        layout.addWidget(self.table, 1)
        language_changed.connect(self.retranslate)
        self.retranslate()

    # -- what it shows ---------------------------------------------------------------------

    @property
    def day(self) -> date:
        return self._day

    @property
    def today(self) -> date:
        return self._today

    def set_today(self, today: date) -> None:
        """The calendar moved on (after midnight): "today" is another day now."""
        self._today = today

    def show_roster(self, roster: Roster) -> None:
        """Show `roster`, keeping the search, filter and selected person."""
        selected = self.selected_row()
        self._day = roster.day
        self._counts = roster.counts
        self.model.set_rows(roster.rows)
        if selected is not None:
            self.select_appointment(selected.appointment_id)
        self.today_button.setChecked(roster.day == self._today)
        self.tomorrow_button.setChecked(roster.day != self._today)
        self.retranslate()

    def update_status(self, appointment_id: object, status: AppointmentStatus) -> None:
        """One appointment changed status here: update its row and the counts in place."""
        if self.model.set_status(appointment_id, status):
            self._counts = count_rows(self.model.rows)
            self.retranslate()

    def selected_row(self) -> RosterRow | None:
        indexes = self.table.selectionModel().selectedRows()
        if not indexes:
            return None
        return self.proxy.row_at(indexes[0].row())

    def select_appointment(self, appointment_id: object) -> bool:
        """Select and show the appointment's row; False if it is not visible."""
        source = self.model.find(appointment_id)
        if source is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(source, 0))
        if not index.isValid():
            return False
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        return True

    # -- language --------------------------------------------------------------------------

    def retranslate(self, *_: object) -> None:
        if self._day == self._today:
            title = tr("ui.main.roster.title_today", "Today, {day}", day=f"{self._day:%d.%m.%Y}")
        else:
            title = tr("ui.main.roster.title_day", "Roster for {day}", day=f"{self._day:%d.%m.%Y}")
        self.title.setText(title)
        self.today_button.setText(tr("ui.main.roster.today", "Today"))
        self.tomorrow_button.setText(tr("ui.main.roster.tomorrow", "Tomorrow"))
        self.search.setPlaceholderText(
            tr("ui.main.roster.search", "Search by name or JMBG (type to filter)")
        )
        labels = {
            "all": tr("ui.main.roster.filter.all", "All statuses"),
            "waiting": status_text(AppointmentStatus.SCHEDULED),
            "checked_in": status_text(AppointmentStatus.CHECKED_IN),
            "done": status_text(AppointmentStatus.DONE),
            "no_show": status_text(AppointmentStatus.NO_SHOW),
            "cancelled": status_text(AppointmentStatus.CANCELLED),
        }
        for number, (key, _statuses) in enumerate(_FILTERS):
            self.status_filter.setItemText(number, labels[key])
        counts = self._counts
        if counts is None:
            self.counts.setText("")
        else:
            self.counts.setText(
                tr(
                    "ui.main.roster.counts",
                    "Booked {booked} · Checked in {checked_in} · Vaccinated {done} · "
                    "Did not come {no_show}",
                    booked=counts.booked,
                    checked_in=counts.checked_in,
                    done=counts.done,
                    no_show=counts.no_show,
                )
            )

    # -- events ----------------------------------------------------------------------------

    def _request(self, day: date) -> None:
        if day != self._day:
            self.day_requested.emit(day)

    def _sort(self, column: int, order: Qt.SortOrder) -> None:
        if column == COL_TIME and order == Qt.SortOrder.AscendingOrder:
            self.proxy.sort(-1)  # the service's order: by slot, then name
        else:
            self.proxy.sort(column, order)

    def _activated(self, index: QModelIndex) -> None:
        self.appointment_activated.emit(self.proxy.row_at(index.row()))
