"""The site's stock screens in one page: vials, receiving, stock count, recalls.

`StockPage` is what the main window shows as its "Stock" tab (named by
`StockPage.title()`). It builds the four screens over one `StockBackend` and
the window's `TaskManager`, reads the store the first time it is shown and
again on `load` (call it after a sync round that pulled something), and
forwards scans: while the page is showing, the window hands every scan to
`handle_scan`, which gives it to the screen in front (receiving counts
cartons, the count counts lots, the vials screen picks the vial) and returns
False when that screen does not take scans, so the window routes the scan as
usual.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from app.scanning.scan import Scan
from app.ui.recalls_view import RecallsView
from app.ui.receiving_view import ReceivingView
from app.ui.stock_backend import StockBackend
from app.ui.stock_count_view import StockCountView
from app.ui.stock_vials_view import VialsView
from app.ui.tasks import TaskManager
from app.ui.text import language_changed, tr


class StockPage(QWidget):
    """The four stock screens as tabs; see the module docstring."""

    def __init__(
        self,
        backend: StockBackend,
        tasks: TaskManager,
        product_names: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("stockPage")
        names = dict(product_names or {})
        self._loaded = False
        self.vials = VialsView(backend, tasks, names, self)
        self.receiving = ReceivingView(backend, tasks, names, self)
        self.count = StockCountView(backend, tasks, names, self)
        self.recalls = RecallsView(backend, tasks, names, self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("stockTabs")
        for screen in (self.vials, self.receiving, self.count, self.recalls):
            self.tabs.addTab(screen, "")
        self.setStyleSheet("QLabel#pageTitle { font-size: 15px; font-weight: bold; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        # A received shipment or a quarantined lot changes the vials and the books.
        self.receiving.received.connect(lambda _result: self.vials.load())
        self.recalls.quarantined.connect(lambda _count: self.vials.load())
        self.vials.vial_changed.connect(lambda _state: self.recalls.load())
        language_changed.connect(self.retranslate)
        self.retranslate()

    @staticmethod
    def title() -> str:
        """The page's name for the window's tab, in the current language."""
        return tr("ui.stock.page", "Stock")

    def showEvent(self, event: QShowEvent) -> None:
        # Read the store the first time the page is shown, not when the window is built.
        if not self._loaded:
            self.load()
        super().showEvent(event)

    def load(self) -> None:
        """Read every screen's data from the store (off the UI thread)."""
        self._loaded = True
        self.vials.load()
        self.receiving.load()
        self.recalls.load()

    def handle_scan(self, scan: Scan) -> bool:
        """Give `scan` to the screen in front; False if that screen takes no scans."""
        screen = self.tabs.currentWidget()
        handler = getattr(screen, "handle_scan", None)
        return bool(handler(scan)) if handler is not None else False

    def retranslate(self, *_: object) -> None:
        self.tabs.setTabText(0, tr("ui.stock.tab.vials", "Vials"))
        self.tabs.setTabText(1, tr("ui.stock.tab.receiving", "Receive a shipment"))
        self.tabs.setTabText(2, tr("ui.stock.tab.count", "Stock count"))
        self.tabs.setTabText(3, tr("ui.stock.tab.recalls", "Recalls"))
