"""What every site stock screen shares: its title, banner, refusals and read-only tables.

`StockScreen` is the base of the receiving, stock count, vials and recalls
pages. It holds the backend, the task manager and the product names, makes
the page title and the `Banner`, and turns a failed task into a red banner
plus the ``refused(str)`` signal (the translated reason) that the window and
the tests wait on. Each page makes its own widgets and layout in `_build`
(called once, after the title and banner exist), sets its texts in
`retranslate` (again on every language switch) and enables its buttons in
`_update_actions`.

`read_only_table` and `fit_columns` give the pages' tables one look: whole
rows selected, columns sized to their content, no row numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QSpinBox, QTableView, QWidget

from app.ui.stock_backend import StockBackend
from app.ui.stock_messages import Banner, failure_text
from app.ui.tasks import TaskManager
from app.ui.text import language_changed

#: What the "vials per carton" box starts at: the common carton of ten vials.
_VIALS_PER_CARTON: Final = 10


def fit_columns(table: QTableView) -> None:
    """Size the columns to their content, stretch the last one and hide the row numbers."""
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.verticalHeader().hide()


def read_only_table(parent: QWidget, name: str) -> QTableView:
    """A table named `name` where one whole row is selected and nothing is edited."""
    table = QTableView(parent)
    table.setObjectName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    fit_columns(table)
    return table


def vials_per_carton_box(parent: QWidget, name: str) -> QSpinBox:
    """The box for how many vials a carton holds when its label gives no count."""
    box = QSpinBox(parent)
    box.setObjectName(name)
    box.setRange(1, 10_000)
    box.setValue(_VIALS_PER_CARTON)
    return box


class StockScreen(QWidget):
    """The shared part of a stock page; see the module docstring."""

    refused = Signal(str)

    #: The page's object name (tests and style sheets find the page by it).
    screen_name = "stockScreen"

    def __init__(
        self,
        backend: StockBackend,
        tasks: TaskManager,
        product_names: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(self.screen_name)
        self.backend = backend
        self.tasks = tasks
        self._names = dict(product_names or {})
        self.title = QLabel(self)
        self.title.setObjectName("pageTitle")
        self.banner = Banner(self)
        self._build()
        language_changed.connect(self.retranslate)
        self.retranslate()
        self._update_actions()

    def _build(self) -> None:
        """Make the page's own widgets and lay out the page (each page says how)."""
        raise NotImplementedError

    def _update_actions(self) -> None:
        """Enable the buttons that make sense now (each page says which)."""
        raise NotImplementedError

    def retranslate(self, *_: object) -> None:
        """Set every text of the page in the current language (each page says what)."""
        raise NotImplementedError

    def _failed(self, error: BaseException) -> None:
        """A task failed: show why (see `failure_text`)."""
        self._refuse(failure_text(error))

    def _refuse(self, message: str) -> None:
        """Show `message` in red and tell the listeners the action was refused."""
        self.banner.show_bad(message)
        self.refused.emit(message)
