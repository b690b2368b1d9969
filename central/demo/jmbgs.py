"""Issuing JMBGs to a whole demo population at once.

`issue_jmbgs` does for a million people, in a few numpy operations, what
`domain.jmbg.make_jmbg` does for one: people born on the same day in the same
registration area and of the same sex get that day's serials 0, 1, 2, ... of
their sex (women 500 + serial), skipping every serial the registry never
issues (first twelve digits leaving remainder 1 mod 11; see `domain.jmbg`),
exactly as a caller of `make_jmbg` takes the next serial on ``ValueError``.
A property test holds the two to the same numbers.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

_SERIAL_SUM: Final = np.array(
    [4 * (s // 100) + 3 * (s // 10 % 10) + 2 * (s % 10) for s in range(1000)], dtype=np.int64
)


def _issuable_serials() -> npt.NDArray[np.int64]:
    """[remainder of the other nine digits, sex (0 men, 1 women), k] -> k-th issued serial."""
    table = [
        [
            [s for s in range(500) if (base + int(_SERIAL_SUM[s + 500 * sex])) % 11 != 1]
            for sex in (0, 1)
        ]
        for base in range(11)
    ]
    depth = min(len(serials) for by_sex in table for serials in by_sex)
    return np.array([[serials[:depth] for serials in by_sex] for by_sex in table], dtype=np.int64)


_ISSUABLE: Final = _issuable_serials()
MAX_PER_DAY_AREA_SEX: Final = _ISSUABLE.shape[2]
"""Serials every day, area and sex has at least (about 450 of the 500)."""


def _pair_sum(values: npt.NDArray[np.int64], first_weight: int) -> npt.NDArray[np.int64]:
    return first_weight * (values // 10) + (first_weight - 1) * (values % 10)


def issue_jmbgs(
    birth: npt.NDArray[np.datetime64],
    area: npt.NDArray[np.int64],
    female: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bytes_]:
    """A distinct valid JMBG for each person: birth date, registration area, sex.

    The numbers come as 13-byte ASCII strings (``S13``, 13 bytes a person);
    ``.astype("U13").tolist()`` makes Python strings of a slice.

    Arrays are aligned, one entry per person; `birth` is ``datetime64[D]``
    with years 1800-2099 and `area` a code of `domain.jmbg.REGIONS`. Serials
    go to people in array order within each day, area and sex.

    Raises ``ValueError`` when more people share a day, area and sex than it
    has serials (`MAX_PER_DAY_AREA_SEX`), or for a year a JMBG cannot hold.
    """
    count = len(birth)
    if not len(area) == len(female) == count:
        raise ValueError("birth, area and female must have one entry per person")
    if count == 0:
        return np.zeros(0, dtype="S13")
    days = birth.astype("datetime64[D]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    if year.min() < 1800 or year.max() > 2099:
        raise ValueError("a JMBG holds birth years 1800-2099 only")
    month_start = days.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day = (days - month_start).astype(np.int64) + 1
    year3 = year % 1000
    area = area.astype(np.int64)
    sex = female.astype(np.int64)

    base = (
        _pair_sum(day, 7)
        + _pair_sum(month, 5)
        + 3 * (year3 // 100)
        + 2 * (year3 // 10 % 10)
        + 7 * (year3 % 10)
        + _pair_sum(area, 6)
    ) % 11

    # Rank of each person among those sharing day, area and sex, in array order.
    key = (days.astype(np.int64) * 100 + area) * 2 + sex
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    run_start = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    first_of_run = np.maximum.accumulate(np.where(run_start, np.arange(count), 0))
    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(count) - first_of_run
    if rank.max() >= MAX_PER_DAY_AREA_SEX:
        raise ValueError(
            f"more than {MAX_PER_DAY_AREA_SEX} people of one sex born on one day in one area"
        )

    serial = _ISSUABLE[base, sex, rank] + 500 * sex
    remainder = (base + _SERIAL_SUM[serial]) % 11
    check = np.where(remainder == 0, 0, 11 - remainder)

    digits = np.empty((count, 13), dtype=np.uint8)
    offset = 0
    for values, width in ((day, 2), (month, 2), (year3, 3), (area, 2), (serial, 3), (check, 1)):
        for place in range(width):
            digits[:, offset + place] = values // 10 ** (width - 1 - place) % 10
        offset += width
    text: npt.NDArray[np.bytes_] = (digits + ord("0")).view("S13").ravel()
    return text
