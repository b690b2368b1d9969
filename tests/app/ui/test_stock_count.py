"""The stock count on screen: the books per lot, typed and scanned counts, differences."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.local_db.models.logistics import StockCount, StockCountLine
from app.local_db.unit_of_work import session_scope
from app.services.errors import ManagerRequired
from app.services.receiving import CartonScan
from app.ui.text import translate_error
from domain.data import rules_in_force
from domain.gs1 import parse_gs1
from domain.gtin import with_check_digit
from tests.app.ui.conftest import GOOD_LOT, MANAGER_ID, NURSE_ID, TODAY, vial
from tests.app.ui.scanner import send_burst
from tests.app.ui.stock_store import (
    GOOD_EXPIRY,
    NEAR_EXPIRY,
    NEAR_LOT,
    SHIPMENT,
    WAIT_MS,
    Stock,
    carton,
    open_stock,
    seed_stock,
)


@pytest.fixture
def stock(qtbot: Any, store: tuple[Any, Any, Any]) -> Iterator[Stock]:
    engine = store[0]
    seed_stock(engine)
    opened = open_stock(qtbot, engine, rules_in_force(TODAY))
    # The shipment arrived in full: the books expect 30 of FA4597 and 20 of NEAR01.
    opened.backend.receive_shipment(
        SHIPMENT,
        [
            CartonScan(parse_gs1(carton(GOOD_LOT, GOOD_EXPIRY)), 30),
            CartonScan(parse_gs1(carton(NEAR_LOT, NEAR_EXPIRY)), 20),
        ],
        cold_chain_ok=True,
    )
    opened.page.tabs.setCurrentWidget(opened.page.count)
    yield opened
    opened.close()


def _start(qtbot: Any, stock: Stock) -> None:
    view = stock.page.count
    with qtbot.waitSignal(view.sheet_shown, timeout=WAIT_MS):
        qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)


def test_typed_and_scanned_counts_are_recorded_with_their_differences(
    qtbot: Any, stock: Stock, artifacts_dir: Path
) -> None:
    view = stock.page.count
    _start(qtbot, stock)
    books = {line.lot_number: line.expected_vials for line in view.model.rows}
    assert books[GOOD_LOT] == 30
    assert books[NEAR_LOT] == 20
    near_row = next(n for n, x in enumerate(view.model.rows) if x.lot_number == NEAR_LOT)
    good_row = next(n for n, x in enumerate(view.model.rows) if x.lot_number == GOOD_LOT)

    # The manager types 18 for NEAR01 and scans FA4597: two cartons of 10 and 7 single vials.
    view.table.setFocus()
    view.enter_counted(near_row, 18)
    bursts = [carton(GOOD_LOT, GOOD_EXPIRY, 10)] * 2 + [
        vial(GOOD_LOT, GOOD_EXPIRY, f"C{number:05d}") for number in range(7)
    ]
    for total, text in zip((10, 20, 21, 22, 23, 24, 25, 26, 27), bursts, strict=True):
        send_burst(text, view)
        qtbot.waitUntil(
            lambda total=total: view.model.row_at(good_row).counted_vials == total,
            timeout=WAIT_MS,
        )
    assert view.model.index(good_row, 5).data() == "-3"
    assert view.model.index(near_row, 5).data() == "-2"
    view.grab().save(str(artifacts_dir / "stock-04-count.png"))

    with qtbot.waitSignal(view.counted, timeout=WAIT_MS) as done:
        qtbot.mouseClick(view.record_button, Qt.MouseButton.LeftButton)
    result = done.args[0]
    assert sorted((d.lot_number, d.difference) for d in result.differences) == [
        (GOOD_LOT, -3),
        (NEAR_LOT, -2),
    ]
    assert "FA4597: prebrojano 27, po evidenciji 30 (-3)" in view.summary.text()
    assert view.banner.level == "warning"
    with session_scope(stock.engine, write=False) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(StockCount)) == 1
        stored = sorted(
            (line.lot_number, line.expected_vials, line.counted_vials)
            for line in session.scalars(sa.select(StockCountLine))
        )
    assert (GOOD_LOT, 30, 27) in stored
    assert (NEAR_LOT, 20, 18) in stored

    # The next count starts from this one.
    _start(qtbot, stock)
    books = {line.lot_number: line.expected_vials for line in view.model.rows}
    assert books[GOOD_LOT] == 27
    assert books[NEAR_LOT] == 18


def test_a_nurse_may_not_record_a_count(qtbot: Any, stock: Stock) -> None:
    stock.act_as(NURSE_ID)
    view = stock.page.count
    _start(qtbot, stock)
    view.enter_counted(0, 5)
    with qtbot.waitSignal(view.refused, timeout=WAIT_MS) as refused:
        qtbot.mouseClick(view.record_button, Qt.MouseButton.LeftButton)
    assert refused.args[0] == translate_error(ManagerRequired())
    assert "rukovodilac" in refused.args[0]
    assert view.record_button.isEnabled()  # the manager can log in and record the same sheet
    stock.act_as(MANAGER_ID)
    with qtbot.waitSignal(view.counted, timeout=WAIT_MS):
        qtbot.mouseClick(view.record_button, Qt.MouseButton.LeftButton)


def test_nothing_counted_is_refused_on_screen(qtbot: Any, stock: Stock) -> None:
    view = stock.page.count
    _start(qtbot, stock)
    with qtbot.waitSignal(view.refused, timeout=WAIT_MS) as refused:
        qtbot.mouseClick(view.record_button, Qt.MouseButton.LeftButton)
    assert "prebrojano" in refused.args[0]


def test_a_label_of_no_known_vaccine_is_refused_at_scan(qtbot: Any, stock: Stock) -> None:
    view = stock.page.count
    _start(qtbot, stock)
    rows = len(view.model.rows)
    unknown = with_check_digit("0952000019999")
    with qtbot.waitSignal(view.refused, timeout=WAIT_MS) as refused:
        send_burst(carton("ZZ1", GOOD_EXPIRY, 10, gtin=unknown), view)
    assert unknown in refused.args[0]
    assert len(view.model.rows) == rows
