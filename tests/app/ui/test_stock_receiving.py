"""Receiving a shipment on screen, driven by scanner bursts and clicks, on a real store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.local_db.models.logistics import Receipt, ReceiptDiscrepancy
from app.local_db.unit_of_work import session_scope
from app.ui.stock_models import TallyStatus
from domain.data import rules_in_force
from tests.app.ui.conftest import EXPIRED_LOT, GOOD_LOT, RECALLED_LOT, TODAY, vial
from tests.app.ui.scanner import send_burst
from tests.app.ui.stock_store import (
    GOOD_EXPIRY,
    NEAR_EXPIRY,
    NEAR_LOT,
    RECALLED_EXPIRY,
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
    opened.page.tabs.setCurrentWidget(opened.page.receiving)
    yield opened
    opened.close()


def _scan(qtbot: Any, stock: Stock, text: str) -> Any:
    with qtbot.waitSignal(stock.page.receiving.carton_added, timeout=WAIT_MS) as blocker:
        send_burst(text, stock.page.receiving)
    return blocker.args[0]


def _tally(stock: Stock) -> dict[str, tuple[int, int, int, TallyStatus]]:
    return {
        r.lot_number: (r.expected_vials, r.scanned_vials, r.damaged_vials, r.status)
        for r in stock.page.receiving.tally.rows
    }


def test_scanned_cartons_are_tallied_live_and_differences_recorded(
    qtbot: Any, stock: Stock, artifacts_dir: Path
) -> None:
    view = stock.page.receiving
    assert view.notice is not None
    assert view.notice.reference == SHIPMENT
    assert _tally(stock) == {
        GOOD_LOT: (30, 0, 0, TallyStatus.WAITING),
        NEAR_LOT: (20, 0, 0, TallyStatus.WAITING),
    }

    check = _scan(qtbot, stock, carton(GOOD_LOT, GOOD_EXPIRY, 10))
    assert (check.on_shipment, check.sent_vials, check.scanned_vials) == (True, 30, 10)
    assert view.banner.level == "ok"
    _scan(qtbot, stock, carton(GOOD_LOT, GOOD_EXPIRY, 10))
    _scan(qtbot, stock, carton(GOOD_LOT, GOOD_EXPIRY, 10))
    # A carton label without a count holds what the box says (set to 10 for the near lot).
    view.carton_vials.setValue(10)
    _scan(qtbot, stock, carton(NEAR_LOT, NEAR_EXPIRY))
    # One single vial of a lot that was not shipped, and a recalled one.
    check = _scan(qtbot, stock, vial("XX0001", GOOD_EXPIRY, "SN0001"))
    assert not check.on_shipment
    assert view.banner.level == "warning"
    check = _scan(qtbot, stock, vial(RECALLED_LOT, RECALLED_EXPIRY, "SN0002"))
    assert check.recalled_reason == "cold chain breach at the distributor"
    assert view.banner.level == "bad"
    assert "RC0001" in view.banner.text()

    # The same serialised vial again is refused at once, not counted twice.
    with qtbot.waitSignal(view.refused, timeout=WAIT_MS) as refused:
        send_burst(vial(RECALLED_LOT, RECALLED_EXPIRY, "SN0002"), view)
    assert "SN0002" in refused.args[0]

    # The second carton of the good lot had 2 broken vials.
    view.cartons_table.selectRow(1)
    view.damaged.setValue(2)
    qtbot.mouseClick(view.damaged_button, Qt.MouseButton.LeftButton)
    assert _tally(stock) == {
        GOOD_LOT: (30, 30, 2, TallyStatus.COMPLETE),
        NEAR_LOT: (20, 10, 0, TallyStatus.SHORT),
        "XX0001": (0, 1, 0, TallyStatus.NOT_SHIPPED),
        RECALLED_LOT: (0, 1, 0, TallyStatus.NOT_SHIPPED),
    }
    view.grab().save(str(artifacts_dir / "stock-01-receiving-scanned.png"))

    with qtbot.waitSignal(view.received, timeout=WAIT_MS) as done:
        qtbot.mouseClick(view.finish_button, Qt.MouseButton.LeftButton)
    result = done.args[0]
    kinds = sorted((str(d.kind), d.lot_number) for d in result.differences)
    assert kinds == [
        ("damaged", GOOD_LOT),
        ("missing", NEAR_LOT),
        ("wrong_lot", RECALLED_LOT),
        ("wrong_lot", "XX0001"),
    ]
    summary = view.summary.text()
    assert f"{SHIPMENT}" in summary
    assert "NEAR01" in summary
    assert "10" in summary
    qtbot.waitUntil(lambda: view.notice is None, timeout=WAIT_MS)  # nothing left to receive
    view.grab().save(str(artifacts_dir / "stock-02-receiving-summary.png"))

    with session_scope(stock.engine, write=False) as session:
        receipt = session.scalars(sa.select(Receipt)).one()
        assert receipt.shipment_reference == SHIPMENT
        assert receipt.cold_chain_ok
        stored = sorted(
            (str(d.kind), d.lot_number, d.expected_vials, d.received_vials)
            for d in session.scalars(sa.select(ReceiptDiscrepancy))
        )
    assert stored == [
        ("damaged", GOOD_LOT, 30, 28),
        ("missing", NEAR_LOT, 20, 10),
        ("wrong_lot", RECALLED_LOT, 0, 1),
        ("wrong_lot", "XX0001", 0, 1),
    ]


def test_scan_without_a_shipment_and_broken_cold_chain(qtbot: Any, stock: Stock) -> None:
    view = stock.page.receiving
    view.shipment_box.setCurrentIndex(-1)
    with qtbot.waitSignal(view.refused, timeout=WAIT_MS) as refused:
        send_burst(carton(GOOD_LOT, GOOD_EXPIRY, 10), view)
    assert "shipment" in refused.args[0].lower() or "pošiljk" in refused.args[0]
    view.shipment_box.setCurrentIndex(0)
    for _ in range(3):
        _scan(qtbot, stock, carton(GOOD_LOT, GOOD_EXPIRY, 10))
    _scan(qtbot, stock, carton(NEAR_LOT, NEAR_EXPIRY, 20))
    view.cold_chain_broken.setChecked(True)
    with qtbot.waitSignal(view.received, timeout=WAIT_MS) as done:
        qtbot.mouseClick(view.finish_button, Qt.MouseButton.LeftButton)
    assert [str(d.kind) for d in done.args[0].differences] == ["temperature_excursion"]
    assert "hladni lanac" in view.summary.text().lower()


def test_a_shipment_received_twice_is_refused(qtbot: Any, stock: Stock) -> None:
    view = stock.page.receiving
    _scan(qtbot, stock, carton(GOOD_LOT, GOOD_EXPIRY, 30))
    notice = view.notice
    assert notice is not None
    with qtbot.waitSignals([view.received, view.shipments_shown], timeout=WAIT_MS):
        qtbot.mouseClick(view.finish_button, Qt.MouseButton.LeftButton)
    assert view.shipment_box.count() == 0  # nothing left to receive
    # A second workstation still showing the same notice tries again.
    view._show_shipments([notice])
    assert view.shipment_box.count() == 1
    with qtbot.waitSignal(view.refused, timeout=WAIT_MS) as refused:
        qtbot.mouseClick(view.finish_button, Qt.MouseButton.LeftButton)
    assert SHIPMENT in refused.args[0]
    assert view.banner.level == "bad"


def test_expired_carton_is_flagged_and_a_wrong_scan_removed(qtbot: Any, stock: Stock) -> None:
    view = stock.page.receiving
    check = _scan(qtbot, stock, carton(EXPIRED_LOT, TODAY - timedelta(days=15), 10))
    assert check.expired
    assert view.banner.level == "bad"
    assert EXPIRED_LOT in view.banner.text()
    # Scanned by mistake (it belongs to old stock): select it and remove it.
    view.cartons_table.selectRow(0)
    qtbot.mouseClick(view.remove_button, Qt.MouseButton.LeftButton)
    assert not view.scanned_cartons
    assert EXPIRED_LOT not in _tally(stock)
    # More broken vials than the carton holds is refused.
    _scan(qtbot, stock, carton(GOOD_LOT, GOOD_EXPIRY, 10))
    view.cartons_table.selectRow(0)
    view.damaged.setValue(11)
    with qtbot.waitSignal(view.refused, timeout=WAIT_MS):
        qtbot.mouseClick(view.damaged_button, Qt.MouseButton.LeftButton)
    assert [c.damaged_vials for c in view.scanned_cartons] == [0]
