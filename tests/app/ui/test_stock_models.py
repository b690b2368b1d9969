"""The stock tables without widgets: tallies, vial states, the count sheet, recall rows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt

from app.services.recalls import AffectedCitizen
from app.services.receiving import CartonScan, ExpectedLine
from app.services.stock_count import ExpectedStock
from app.services.vials import VialState
from app.ui.receiving_view import vials_on_label
from app.ui.stock_models import (
    COUNT_COL_COUNTED,
    CountModel,
    RowRole,
    TallyStatus,
    VialCondition,
    affected_model,
    tally,
    tally_model,
    vial_row,
)
from app.ui.text import set_language
from domain.gs1 import GS, encode_gs1, parse_gs1

GTIN = "09520000100018"
NOW = datetime(2021, 6, 15, 8, 0, tzinfo=UTC)


def _carton(lot: str, vials: int, damaged: int = 0, serial: str | None = None) -> CartonScan:
    return CartonScan(parse_gs1(encode_gs1(GTIN, date(2021, 9, 30), lot, serial)), vials, damaged)


def _state(**changes: Any) -> VialState:
    values: dict[str, Any] = {
        "vial_id": uuid.uuid4(), "gtin": GTIN, "lot_number": "L1", "serial": "S1",
        "expiry_date": date(2021, 9, 30), "product_code": "comirnaty", "doses_per_vial": 6,
        "received_at": None, "opened_at": None, "use_by": None, "doses_drawn": 0,
        "discarded_at": None, "discard_reason": None,
    }  # fmt: skip
    values.update(changes)
    return VialState(**values)


LINES = (
    ExpectedLine("comirnaty", GTIN, "A", date(2021, 9, 30), 20),
    ExpectedLine("comirnaty", GTIN, "B", date(2021, 8, 31), 10),
    ExpectedLine("comirnaty", GTIN, "C", date(2021, 8, 31), 5),
)


def test_tally_compares_sent_and_scanned_per_lot() -> None:
    cartons = [_carton("A", 10), _carton("A", 10, damaged=2), _carton("B", 4), _carton("X", 3)]
    rows = {row.lot_number: row for row in tally(LINES, cartons, lambda gtin: "comirnaty")}
    assert [(r.expected_vials, r.scanned_vials, r.damaged_vials) for r in rows.values()] == [
        (20, 20, 2), (10, 4, 0), (5, 0, 0), (0, 3, 0),
    ]  # fmt: skip
    assert rows["A"].status is TallyStatus.COMPLETE
    assert rows["B"].status is TallyStatus.SHORT
    assert rows["C"].status is TallyStatus.WAITING
    assert rows["X"].status is TallyStatus.NOT_SHIPPED
    assert rows["X"].product_code == "comirnaty"
    assert tally(LINES, [_carton("B", 11)])[1].status is TallyStatus.OVER


def test_tally_model_shows_rows_and_relabels_on_language_switch(qapp: Any) -> None:
    model = tally_model({"comirnaty": "Comirnaty"})
    model.set_rows(tally(LINES, [_carton("A", 10)]))
    assert model.rowCount() == 3
    assert model.index(0, 0).data() == "Comirnaty"
    assert model.index(0, 4).data() == "10"
    assert model.index(0, 4).data(Qt.ItemDataRole.BackgroundRole) is not None  # short: yellow
    headers: list[Any] = []
    model.headerDataChanged.connect(lambda *args: headers.append(args))
    set_language("en")
    assert model.headerData(3, Qt.Orientation.Horizontal) == "Sent"
    assert model.index(0, 6).data() == "Fewer than sent"
    set_language("sr-Cyrl")
    assert headers, "a language switch must repaint the headers"
    assert model.headerData(3, Qt.Orientation.Horizontal) == "Послато"


@pytest.mark.parametrize(
    ("changes", "minutes", "condition", "near"),
    [
        ({}, None, VialCondition.UNOPENED, False),
        ({"opened_at": NOW - timedelta(hours=1), "use_by": NOW + timedelta(hours=5)},
         300, VialCondition.OPEN, False),
        ({"opened_at": NOW - timedelta(hours=5), "use_by": NOW + timedelta(minutes=45)},
         45, VialCondition.OPEN, True),
        ({"opened_at": NOW - timedelta(hours=7), "use_by": NOW - timedelta(hours=1)},
         0, VialCondition.PAST_USE_BY, True),
        ({"opened_at": NOW, "use_by": NOW + timedelta(hours=6), "doses_drawn": 6},
         None, VialCondition.EMPTY, False),
        ({"discarded_at": NOW, "discard_reason": "broken"}, None, VialCondition.DISCARDED, False),
    ],
)  # fmt: skip
def test_vial_row_classifies_state_and_time_left(
    changes: dict[str, Any], minutes: int | None, condition: VialCondition, near: bool
) -> None:
    row = vial_row(_state(**changes), NOW)
    assert (row.minutes_left, row.condition, row.near_limit) == (minutes, condition, near)


def test_count_model_edits_counts_and_adds_scanned_lots(qapp: Any) -> None:
    model = CountModel({"comirnaty": "Comirnaty"})
    model.from_books(
        [
            ExpectedStock("comirnaty", GTIN, "A", date(2021, 9, 30), 12),
            ExpectedStock("comirnaty", GTIN, "Z", date(2021, 9, 30), 0),  # nothing held
        ]
    )
    assert [line.lot_number for line in model.rows] == ["A"]
    cell = model.index(0, COUNT_COL_COUNTED)
    assert model.flags(cell) & Qt.ItemFlag.ItemIsEditable
    assert not model.setData(cell, "-1")
    assert not model.setData(cell, "ten")
    assert model.setData(cell, "10")
    assert model.index(0, 5).data() == "-2"
    assert model.row_at(0).difference == -2
    assert model.add_scanned("comirnaty", GTIN, "A", None, 1) == 0
    assert model.row_at(0).counted_vials == 11
    assert model.add_scanned("comirnaty", GTIN, "NEW", date(2021, 7, 1), 6) == 1
    assert model.index(1, 5).data() == "+6"
    assert [(x.lot_number, x.counted_vials) for x in model.counted_lines()] == [
        ("A", 11),
        ("NEW", 6),
    ]
    assert model.index(1, 0).data(RowRole).expected_vials == 0


def test_affected_people_show_only_a_masked_jmbg(qapp: Any) -> None:
    model = affected_model()
    given = datetime(2021, 6, 1, 7, 30, tzinfo=UTC)
    model.set_rows(
        [AffectedCitizen(uuid.uuid4(), "0203960710016", "Ana Petrović", None, uuid.uuid4(), 1,
                         given)]
    )  # fmt: skip
    assert model.index(0, 1).data() == "0203960******"
    assert model.index(0, 3).data() == "01.06.2021. 09:30"  # Belgrade time


_lots = st.sampled_from(["A", "B", "C", "X", "Y"])
_cartons = st.lists(
    st.tuples(_lots, st.integers(1, 50)).flatmap(
        lambda lv: st.tuples(st.just(lv[0]), st.just(lv[1]), st.integers(0, lv[1]))
    ),
    max_size=30,
)


@given(cartons=_cartons)
def test_tally_keeps_every_vial_and_every_line(cartons: list[tuple[str, int, int]]) -> None:
    scans = [_carton(lot, vials, damaged) for lot, vials, damaged in cartons]
    rows = tally(LINES, scans)
    assert sum(r.scanned_vials for r in rows) == sum(v for _, v, _ in cartons)
    assert sum(r.damaged_vials for r in rows) == sum(d for _, _, d in cartons)
    assert sum(r.expected_vials for r in rows) == sum(line.vials for line in LINES)
    # The notice's lots come first, in its order; each lot appears once.
    assert [r.lot_number for r in rows[:3]] == ["A", "B", "C"]
    assert len({r.lot_number for r in rows}) == len(rows)
    for row in rows:
        if row.expected_vials == 0:
            assert row.status is TallyStatus.NOT_SHIPPED
        elif row.scanned_vials == row.expected_vials:
            assert row.status is TallyStatus.COMPLETE


def test_vials_on_label_reads_the_carton_count() -> None:
    plain = encode_gs1(GTIN, date(2021, 9, 30), "A", None)
    assert vials_on_label(parse_gs1(f"{plain}{GS}3025")) == 25
    assert vials_on_label(parse_gs1(f"{plain}{GS}3712")) == 12
    assert vials_on_label(parse_gs1(plain)) is None  # the box on screen says
    assert vials_on_label(parse_gs1(encode_gs1(GTIN, date(2021, 9, 30), "A", "S1"))) == 1
