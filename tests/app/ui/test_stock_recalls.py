"""Recalls on screen: the lot, the vials to set aside (one action), the people to call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.local_db.models import VialEvent, VialEventKind
from app.local_db.unit_of_work import session_scope
from app.ui.stock_models import VialCondition
from app.ui.text import set_language
from domain.data import rules_in_force
from tests.app.ui.conftest import ANA, RECALLED_LOT, TODAY
from tests.app.ui.stock_store import WAIT_MS, Stock, open_stock, seed_stock


@pytest.fixture
def stock(qtbot: Any, store: tuple[Any, Any, Any]) -> Iterator[Stock]:
    engine = store[0]
    seed_stock(engine)
    opened = open_stock(qtbot, engine, rules_in_force(TODAY))
    opened.page.tabs.setCurrentWidget(opened.page.recalls)
    yield opened
    opened.close()


def test_recalled_lot_lists_vials_and_people_and_quarantines_in_one_action(
    qtbot: Any, stock: Stock, artifacts_dir: Path
) -> None:
    view = stock.page.recalls
    assert [lot.lot_number for lot in view.recalls.rows] == [RECALLED_LOT]
    assert view.selected() is not None
    assert view.recalls.index(0, 3).data() == "cold chain breach at the distributor"
    assert sorted(v.serial for v in view.vials.rows) == ["RC-1", "RC-2", "RC-3"]
    people = view.people
    assert people.rowCount() == 1
    assert people.index(0, 0).data() == "Ana Petrović"
    assert people.index(0, 1).data() == ANA[:7] + "******"
    assert people.index(0, 3).data() == "01.06.2021. 09:30"
    assert ANA not in "".join(str(people.index(0, c).data()) for c in range(5))
    view.grab().save(str(artifacts_dir / "stock-05-recall.png"))

    counts: list[int] = []
    view.quarantined.connect(counts.append)
    with qtbot.waitSignals([view.quarantined, view.recalls_shown], timeout=WAIT_MS):
        qtbot.mouseClick(view.quarantine_button, Qt.MouseButton.LeftButton)
    assert counts == [3]
    assert "3" in view.banner.text()
    assert RECALLED_LOT in view.banner.text()
    assert view.vials.rowCount() == 0
    assert not view.quarantine_button.isEnabled()
    assert view.people.rowCount() == 1  # the people still need a call

    with session_scope(stock.engine, write=False) as session:
        reasons = session.scalars(
            sa.select(VialEvent.reason).where(VialEvent.kind == VialEventKind.DISCARDED)
        ).all()
    assert reasons == ["recalled"] * 3
    vials = stock.page.vials
    qtbot.waitUntil(
        lambda: {r.condition for r in vials.model.rows} == {VialCondition.DISCARDED},
        timeout=WAIT_MS,
    )
    assert vials.model.index(0, 6).data().endswith("Povučena serija")


def test_recall_screen_switches_language_live(
    qtbot: Any, stock: Stock, artifacts_dir: Path
) -> None:
    view = stock.page.recalls
    set_language("sr-Cyrl")
    assert view.title.text() == "Повучене серије"
    assert stock.page.tabs.tabText(3) == "Повлачења"
    assert view.quarantine_button.text() == "Одбаци све као повучене"
    assert view.recalls.headerData(1, Qt.Orientation.Horizontal) == "Серија"
    view.grab().save(str(artifacts_dir / "stock-06-recall-cyrillic.png"))
    set_language("en")
    assert (
        view.people_label.text() == f"People who received a dose from lot {RECALLED_LOT} here (1):"
    )
