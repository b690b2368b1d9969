"""The vials screen on a real store: states, time left, open, discard, warnings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.local_db.models import VialEvent, VialEventKind
from app.local_db.unit_of_work import session_scope
from app.services.receiving import CartonScan
from app.ui.stock_models import DiscardReason, VialCondition
from app.ui.text import set_language
from domain.data import rules_in_force
from domain.gs1 import parse_gs1
from tests.app.ui.conftest import EXPIRED_LOT, GOOD_LOT, NURSE_ID, RECALLED_LOT, TODAY, vial
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
    opened = open_stock(qtbot, engine, rules_in_force(TODAY), NURSE_ID)
    yield opened
    opened.close()


def _conditions(stock: Stock) -> dict[str, VialCondition]:
    return {row.state.serial: row.condition for row in stock.page.vials.model.rows}


def _reload(qtbot: Any, stock: Stock) -> None:
    """Read the store again once earlier reads have landed (so theirs is not the one seen)."""
    qtbot.waitUntil(lambda: stock.tasks.pending == 0, timeout=WAIT_MS)
    with qtbot.waitSignal(stock.page.vials.vials_shown, timeout=WAIT_MS):
        stock.page.vials.load()


def test_vials_are_listed_with_state_and_time_left(qtbot: Any, stock: Stock) -> None:
    view = stock.page.vials
    assert _conditions(stock) == {
        "RC-1": VialCondition.OPEN,
        "RC-2": VialCondition.UNOPENED,
        "RC-3": VialCondition.UNOPENED,
    }
    opened = next(r for r in view.model.rows if r.state.serial == "RC-1")
    assert opened.minutes_left == 330  # opened 30 minutes ago, 6 hours usable
    assert view.model.index(0, 6).data() == "još 5 h 30 min (do 15.06. 15:30)"
    assert view.model.index(0, 5).data() == "5/6"
    # Time passes on screen without reading the store: 4 h 40 min later, 50 minutes left.
    view.tick(stock.clock.now() + timedelta(hours=4, minutes=40))
    opened = next(r for r in view.model.rows if r.state.serial == "RC-1")
    assert (opened.minutes_left, opened.near_limit) == (50, True)
    view.tick(stock.clock.now() + timedelta(hours=6))
    assert _conditions(stock)["RC-1"] is VialCondition.PAST_USE_BY


def test_scan_open_and_discard_a_vial(qtbot: Any, stock: Stock, artifacts_dir: Path) -> None:
    view = stock.page.vials
    label = vial(GOOD_LOT, GOOD_EXPIRY, "NEW001")
    send_burst(label, view)
    qtbot.waitUntil(lambda: view.banner.level == "warning", timeout=WAIT_MS)
    assert "NEW001" in view.banner.text()
    assert view.open_button.isEnabled()

    with qtbot.waitSignal(view.vial_changed, timeout=WAIT_MS) as changed:
        qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    state = changed.args[0]
    assert state.serial == "NEW001"
    assert state.is_open
    qtbot.waitUntil(lambda: "NEW001" in _conditions(stock), timeout=WAIT_MS)
    assert _conditions(stock)["NEW001"] is VialCondition.OPEN

    # Opening it again is refused with the service's message.
    send_burst(label, view)
    qtbot.waitUntil(lambda: view.selected_state() is not None, timeout=WAIT_MS)
    assert not view.open_button.isEnabled()
    with qtbot.waitSignal(view.refused, timeout=WAIT_MS) as refused:
        view.open_selected()
    assert "otvorena" in refused.args[0].lower()

    # Six hours later it has to go: the warning says so, and the nurse discards it.
    stock.clock.advance(timedelta(hours=6, minutes=5))
    _reload(qtbot, stock)
    assert _conditions(stock)["NEW001"] is VialCondition.PAST_USE_BY
    assert view.warnings.isVisible()
    assert "NEW001" in view.warnings.text()
    assert "odbacite" in view.warnings.text()
    send_burst(label, view)
    qtbot.waitUntil(lambda: view.selected_state() is not None, timeout=WAIT_MS)
    view.reason.setCurrentIndex(view.reason.findData(DiscardReason.EXPIRED_AFTER_OPENING.value))
    view.grab().save(str(artifacts_dir / "stock-03-vials.png"))
    with qtbot.waitSignal(view.vial_changed, timeout=WAIT_MS) as changed:
        qtbot.mouseClick(view.discard_button, Qt.MouseButton.LeftButton)
    assert changed.args[0].discard_reason == "expired after opening"
    assert "Isteklo vreme posle otvaranja" in view.banner.text()
    qtbot.waitUntil(
        lambda: _conditions(stock).get("NEW001") is VialCondition.DISCARDED, timeout=WAIT_MS
    )
    # Discarded vials are hidden until asked for.
    assert view.proxy.rowCount() == 3
    view.show_finished.setChecked(True)
    assert view.proxy.rowCount() == 4

    with session_scope(stock.engine, write=False) as session:
        kinds = sorted(
            (str(kind), reason)
            for kind, reason in session.execute(
                sa.select(VialEvent.kind, VialEvent.reason).where(
                    VialEvent.kind.in_([VialEventKind.OPENED, VialEventKind.DISCARDED]),
                    VialEvent.reason.is_(None) | (VialEvent.reason == "expired after opening"),
                )
            )
        )
    assert ("discarded", "expired after opening") in kinds
    assert kinds.count(("opened", None)) == 2  # RC-1 (seeded) and NEW001


def test_expired_lot_cannot_be_opened_and_carton_labels_are_not_vials(
    qtbot: Any, stock: Stock
) -> None:
    view = stock.page.vials
    send_burst(vial(EXPIRED_LOT, TODAY - timedelta(days=15), "OLD001"), view)
    qtbot.waitUntil(lambda: view.open_button.isEnabled(), timeout=WAIT_MS)
    with qtbot.waitSignal(view.refused, timeout=WAIT_MS) as refused:
        qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert EXPIRED_LOT in refused.args[0]
    with qtbot.waitSignal(view.refused, timeout=WAIT_MS) as refused:
        send_burst(carton(GOOD_LOT, GOOD_EXPIRY, 10), view)
    assert "serijski broj" in refused.args[0]


def test_lot_near_expiry_is_warned_after_it_arrives(qtbot: Any, stock: Stock) -> None:
    view = stock.page.vials
    assert NEAR_LOT not in view.warnings.text()
    stock.backend.receive_shipment(
        SHIPMENT,
        [
            CartonScan(parse_gs1(carton(GOOD_LOT, GOOD_EXPIRY)), 30),
            CartonScan(parse_gs1(carton(NEAR_LOT, NEAR_EXPIRY)), 20),
        ],
        cold_chain_ok=True,
    )
    _reload(qtbot, stock)
    assert view.warnings.isVisible()
    assert "NEAR01 (Comirnaty, 20 bočica) ističe 20.06.2021." in view.warnings.text()
    assert GOOD_LOT not in view.warnings.text()
    set_language("en")
    assert "Lot NEAR01 (Comirnaty, 20 vials) expires on 20.06.2021." in view.warnings.text()
    assert view.open_button.text() == "Open vial"
    assert RECALLED_LOT not in view.warnings.text()
