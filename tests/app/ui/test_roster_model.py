"""The roster table model and its filter proxy, over plain values (no window, no store)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt

from app.services.roster import RosterRow
from app.ui.roster_model import (
    COL_NAME,
    COL_STATUS,
    COL_TIME,
    RosterFilterProxy,
    RosterTableModel,
    RowRole,
    fold,
)
from app.ui.text import set_language
from domain.appointment_status import AppointmentStatus
from domain.script import latin_to_cyrillic

ZONE = ZoneInfo("Europe/Belgrade")


def row(family: str, given: str, hhmm: str, status: AppointmentStatus, jmbg: str) -> RosterRow:
    hour, minute = map(int, hhmm.split(":"))
    return RosterRow(
        appointment_id=uuid.uuid4(),
        citizen_id=uuid.uuid4(),
        slot_start=datetime(2021, 6, 15, hour, minute, tzinfo=ZONE),
        family_name=family,
        given_name=given,
        jmbg_masked=jmbg[:7] + "******",
        product_code="comirnaty",
        dose_number=1,
        status=status,
        walk_in=False,
    )


ROWS = (
    row("Petrović", "Ana", "10:00", AppointmentStatus.SCHEDULED, "0203960715012"),
    row("Đorđević", "Dušan", "10:10", AppointmentStatus.CHECKED_IN, "0511990710040"),
    row("Nikolić", "Cveta", "10:20", AppointmentStatus.DONE, "3001982715030"),
)


def proxy_over(rows: tuple[RosterRow, ...]) -> tuple[RosterTableModel, RosterFilterProxy]:
    model = RosterTableModel({"comirnaty": "Comirnaty"})
    model.set_rows(rows)
    proxy = RosterFilterProxy()
    proxy.setSourceModel(model)
    return model, proxy


def names(proxy: RosterFilterProxy) -> list[str]:
    return [r.family_name for r in proxy.visible_rows()]


def test_columns_show_time_name_masked_jmbg_product_dose_status(qtbot: Any) -> None:
    model, _ = proxy_over(ROWS)
    assert model.rowCount() == 3
    assert model.columnCount() == 6
    values = [model.data(model.index(0, c)) for c in range(6)]
    assert values == ["10:00", "Petrović Ana", "0203960******", "Comirnaty", "1", "Zakazan"]
    assert model.data(model.index(1, COL_TIME), RowRole) is ROWS[1]
    set_language("en")
    assert model.data(model.index(0, COL_STATUS)) == "Booked"
    assert model.headerData(COL_NAME, Qt.Orientation.Horizontal) == "Name"


def test_search_ignores_case_diacritics_and_script(qtbot: Any) -> None:
    _, proxy = proxy_over(ROWS)
    for text in ("petrovic", "PETROVIĆ", "Петровић", "ana petr"):
        proxy.set_search(text)
        assert names(proxy) == ["Petrović"], text
    proxy.set_search("djordj")
    assert names(proxy) == ["Đorđević"]
    proxy.set_search("0511990")
    assert names(proxy) == ["Đorđević"]
    proxy.set_search("")
    assert len(names(proxy)) == 3


def test_status_filter_and_search_combine(qtbot: Any) -> None:
    _, proxy = proxy_over(ROWS)
    proxy.set_statuses([AppointmentStatus.DONE])
    assert names(proxy) == ["Nikolić"]
    proxy.set_search("petrovic")
    assert names(proxy) == []
    proxy.set_statuses(None)
    assert names(proxy) == ["Petrović"]


def test_a_status_change_updates_one_row_in_place(qtbot: Any) -> None:
    model, proxy = proxy_over(ROWS)
    proxy.set_statuses([AppointmentStatus.CHECKED_IN])
    assert names(proxy) == ["Đorđević"]
    assert model.set_status(ROWS[0].appointment_id, AppointmentStatus.CHECKED_IN)
    assert model.rows[0].status is AppointmentStatus.CHECKED_IN
    assert not model.set_status(uuid.uuid4(), AppointmentStatus.DONE)


@given(st.text(alphabet="abcčćdđefghijklmnoprsštuvzž ABCČĆDĐŠŽ", max_size=30))
def test_fold_is_the_same_for_latin_and_cyrillic(text: str) -> None:
    assert fold(latin_to_cyrillic(text)) == fold(text)


def test_filtering_five_thousand_rows_stays_interactive(qtbot: Any) -> None:
    many = tuple(
        row(f"Prezime{n}", "Ime", "10:00", AppointmentStatus.SCHEDULED, "0101990710016")
        for n in range(5000)
    )
    _, proxy = proxy_over(many)
    started = time.perf_counter()
    proxy.set_search("prezime4999")
    assert names(proxy) == ["Prezime4999"]
    # Not a benchmark (bench/client.py is): a guard against an accidental O(n²).
    assert time.perf_counter() - started < 2.0
