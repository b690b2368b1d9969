"""Input validation, reason texts and their translations."""

from __future__ import annotations

from datetime import time

import numpy as np
import pytest

from domain.i18n import translate
from scheduler import (
    CitizenTable,
    DuplicateRecord,
    InvalidValue,
    Product,
    Reason,
    Session,
    Stock,
    UnknownReference,
)
from tests.scheduler.factory import citizen, day, problem, session


def test_unknown_product_in_a_citizen_list_is_refused() -> None:
    with pytest.raises(UnknownReference, match="'moderna'"):
        problem([citizen("c", products=("moderna",))], [session("XA", 0, "pfizer")])


def test_session_at_an_unknown_site_is_refused() -> None:
    with pytest.raises(UnknownReference, match="'XZ'"):
        problem([], [session("XZ", 0, "pfizer")])


def test_session_outside_the_horizon_is_refused() -> None:
    with pytest.raises(InvalidValue, match="outside the horizon"):
        problem([], [session("XA", 7, "pfizer")])


def test_duplicate_session_and_citizen_are_refused() -> None:
    with pytest.raises(DuplicateRecord):
        problem([], [session("XA", 0, "pfizer"), session("XA", 0, "pfizer")])
    with pytest.raises(DuplicateRecord, match="'c'"):
        problem([citizen("c"), citizen("c")], [])


def test_stock_for_an_unknown_product_is_refused() -> None:
    with pytest.raises(UnknownReference):
        problem([], [session("XA", 0, "pfizer")], stock=[Stock("XA", "moderna", 5)])


def test_values_out_of_range_are_refused() -> None:
    with pytest.raises(InvalidValue, match="doses_per_vial"):
        Product("p", doses_per_vial=0)
    with pytest.raises(InvalidValue, match="interval"):
        Product("p", series_doses=2, min_interval_days=30, max_interval_days=20)
    with pytest.raises(InvalidValue, match="closes"):
        Session("XA", day(0), "pfizer", time(12), time(8), 1)
    with pytest.raises(InvalidValue, match="doses"):
        Stock("XA", "pfizer", -1)


def test_citizen_table_checks_its_columns() -> None:
    table = CitizenTable.from_citizens([citizen("a"), citizen("b")])
    with pytest.raises(InvalidValue, match="rank"):
        CitizenTable(**{**table.__dict__, "rank": np.array([1, 0], dtype=np.int16)})
    with pytest.raises(InvalidValue, match="municipality"):
        CitizenTable(**{**table.__dict__, "municipality": np.array([0, 5], dtype=np.int32)})


def test_session_capacity_is_slots_times_vaccinators() -> None:
    x = Session("XA", day(0), "pfizer", time(8), time(9, 50), 3, slot_minutes=15)
    assert (x.slots, x.capacity) == (7, 21)


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_an_english_and_a_serbian_text(reason: Reason) -> None:
    assert reason.description
    latin = translate(reason.message_code, "sr-Latn", reason.description)
    cyrillic = translate(reason.message_code, "sr-Cyrl", reason.description)
    assert latin != reason.description
    assert cyrillic != latin
