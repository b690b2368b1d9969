"""The stock page as the main window sees it: tabs, scan forwarding, language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.scanning.scan import Gs1Scan, classify
from app.ui.stock_view import StockPage
from app.ui.text import set_language
from domain.data import rules_in_force
from tests.app.ui.conftest import ANA, GOOD_LOT, TODAY
from tests.app.ui.stock_store import GOOD_EXPIRY, WAIT_MS, Stock, carton, open_stock, seed_stock


@pytest.fixture
def stock(qtbot: Any, store: tuple[Any, Any, Any]) -> Iterator[Stock]:
    engine = store[0]
    seed_stock(engine)
    opened = open_stock(qtbot, engine, rules_in_force(TODAY))
    yield opened
    opened.close()


def test_scans_go_to_the_screen_in_front_or_back_to_the_window(qtbot: Any, stock: Stock) -> None:
    page = stock.page
    label_scan = classify(carton(GOOD_LOT, GOOD_EXPIRY, 10), today=TODAY)
    assert isinstance(label_scan, Gs1Scan)
    person = classify(ANA, today=TODAY)

    page.tabs.setCurrentWidget(page.recalls)
    assert not page.handle_scan(label_scan)  # the recalls screen takes no scans
    page.tabs.setCurrentWidget(page.receiving)
    assert not page.handle_scan(person)  # a person's ID goes to check-in
    with qtbot.waitSignal(page.receiving.carton_added, timeout=WAIT_MS):
        assert page.handle_scan(label_scan)
    page.tabs.setCurrentWidget(page.count)
    assert page.handle_scan(label_scan)
    assert page.count.model.rows[-1].counted_vials == 10


def test_tabs_follow_the_language(stock: Stock) -> None:
    page = stock.page
    assert StockPage.title() == "Zalihe"
    assert [page.tabs.tabText(n) for n in range(4)] == [
        "Bočice",
        "Prijem pošiljke",
        "Popis zaliha",
        "Povlačenja",
    ]
    set_language("en")
    assert StockPage.title() == "Stock"
    assert [page.tabs.tabText(n) for n in range(4)] == [
        "Vials",
        "Receive a shipment",
        "Stock count",
        "Recalls",
    ]
    set_language("sr-Cyrl")
    assert page.tabs.tabText(0) == "Бочице"
