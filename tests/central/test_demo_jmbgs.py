"""Issuing JMBGs to a whole population at once, held to `domain.jmbg.make_jmbg`."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.demo.jmbgs import MAX_PER_DAY_AREA_SEX, issue_jmbgs
from central.demo.regions import SERBIAN_AREAS
from domain.jmbg import REGIONS, Sex, make_jmbg, parse_jmbg

people = st.lists(
    st.tuples(
        st.dates(min_value=date(1900, 1, 1), max_value=date(2021, 12, 31)),
        st.sampled_from(sorted(REGIONS)),
        st.booleans(),
    ),
    min_size=1,
    max_size=60,
)


def _one_by_one(batch: list[tuple[date, int, bool]]) -> list[str]:
    """What a caller of make_jmbg does: serials 0, 1, ... per day, area and sex, skipping
    the never-issued ones."""
    next_serial: dict[tuple[date, int, bool], int] = {}
    numbers = []
    for born, area, female in batch:
        serial = next_serial.get((born, area, female), 0)
        while True:
            try:
                number = make_jmbg(born, area, serial, Sex.FEMALE if female else Sex.MALE)
                break
            except ValueError:
                serial += 1
        next_serial[(born, area, female)] = serial + 1
        numbers.append(number)
    return numbers


def _issue(batch: list[tuple[date, int, bool]]) -> list[str]:
    births = np.array([b for b, _, _ in batch], dtype="datetime64[D]")
    areas = np.array([a for _, a, _ in batch], dtype=np.int64)
    female = np.array([f for _, _, f in batch], dtype=np.bool_)
    numbers: list[str] = issue_jmbgs(births, areas, female).astype("U13").tolist()
    return numbers


@given(people)
def test_issued_numbers_are_those_make_jmbg_gives_one_by_one(
    batch: list[tuple[date, int, bool]],
) -> None:
    assert _issue(batch) == _one_by_one(batch)


@given(st.dates(min_value=date(1920, 1, 1), max_value=date(2005, 12, 31)), st.booleans())
def test_many_people_born_the_same_day_get_distinct_valid_numbers(born: date, female: bool) -> None:
    batch = [(born, 71, female)] * MAX_PER_DAY_AREA_SEX
    numbers = _issue(batch)

    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        parsed = parse_jmbg(number)
        assert (parsed.birth_date, parsed.region_code) == (born, 71)
        assert parsed.sex is (Sex.FEMALE if female else Sex.MALE)


def test_more_people_than_serials_on_one_day_is_refused() -> None:
    batch = [(date(1970, 5, 5), 80, False)] * (MAX_PER_DAY_AREA_SEX + 1)
    with pytest.raises(ValueError, match="more than"):
        _issue(batch)


def test_a_large_population_gets_numbers_that_all_parse() -> None:
    rng = np.random.default_rng(3)
    count = 50_000
    births = np.datetime64("1926-01-01") + rng.integers(0, 80 * 365, count).astype("timedelta64[D]")
    areas = rng.choice(SERBIAN_AREAS, count)
    female = rng.random(count) < 0.5

    numbers = issue_jmbgs(births, areas, female).astype("U13").tolist()

    assert len(set(numbers)) == count
    for index in range(0, count, 97):
        parsed = parse_jmbg(numbers[index])
        assert parsed.birth_date == date(1970, 1, 1) + timedelta(
            days=int(births[index].astype(int))
        )
        assert parsed.region_code == areas[index]
        assert (parsed.sex is Sex.FEMALE) == female[index]
