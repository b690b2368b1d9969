"""JMBG, the Serbian (ex-Yugoslav) unique master citizen number.

A JMBG is 13 ASCII digits ``DDMMYYYRRBBBK``:

- ``DDMMYYY``: date of birth; ``YYY`` is the year without its millennium digit.
  ``9xx`` and ``8xx`` are 1900s and 1800s (numbers were given in 1976-1980 to
  everyone then alive), ``0xx`` is 2000-2099. ``1xx``-``7xx`` name no possible
  year and are refused.
- ``RR``: the registration area (political region) where the number was given;
  see `REGIONS`.
- ``BBB``: serial among people born the same day in the same area;
  000-499 men, 500-999 women.
- ``K``: check digit, ISO 7064-style mod 11 with weights 7 6 5 4 3 2 7 6 5 4 3 2.

The check digit rule
--------------------
Let ``S`` be the weighted sum of the first 12 digits and ``r = S mod 11``:

- ``r == 0``: K is 0 (``m = 11 - r = 11`` is written as 0).
- ``2 <= r <= 10``: K is ``m = 11 - r`` (1-9).
- ``r == 1`` (``m == 10``): no digit exists. The federal rules of 1976, which
  every republic inherited, have the registry skip such serials, so no such
  number is ever issued; Croatia's official check instructions call these
  numbers wrong. Popular descriptions (Wikipedia, many validators) instead say
  "m of 10 or 11 gives K = 0".

`parse_jmbg` follows the issuing rule and refuses ``r == 1`` with its own error
(`JmbgNeverIssued`). The reason is safety: with the popular reading, ``r == 0``
and ``r == 1`` both end in 0, so one mistyped digit in a number whose check
digit is 0 can turn it into another "valid" number of a different person. With
the issuing rule every single mistyped digit is caught (all weights are
non-zero mod 11). A number that really is printed like that on a document is
a registry error; the message sends the nurse to the help desk.
`make_jmbg` never produces such a number.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Final

from domain.errors import DomainError

__all__ = [
    "REGIONS",
    "Jmbg",
    "JmbgCheckDigit",
    "JmbgEmpty",
    "JmbgError",
    "JmbgFutureBirthDate",
    "JmbgImpossibleDate",
    "JmbgNeverIssued",
    "JmbgNonAsciiDigits",
    "JmbgNotDigits",
    "JmbgUnknownRegion",
    "JmbgWrongLength",
    "Sex",
    "jmbg_check_digit",
    "make_jmbg",
    "mask_jmbg",
    "parse_jmbg",
]


class Sex(enum.StrEnum):
    """Sex as the JMBG and identity documents state it (same values as the databases)."""

    MALE = "M"
    FEMALE = "F"


#: Registration areas by code, named in Serbian Latin (place names; derive
#: Cyrillic with `domain.script.latin_to_cyrillic`). Serbia's areas 71-96 are
#: those of the Law on the JMBG (Sl. glasnik RS 24/2018, art. 5, which lists the
#: municipalities of each; the names here are short summaries). Code 70
#: (citizens entered in a register at a consulate abroad) and the other
#: republics' codes follow the 1976-1980 republic laws as summarised by Wikipedia
#: ("Unique Master Citizen Number"): citizens of Serbia born or first registered
#: elsewhere in Yugoslavia keep those numbers. Codes no source assigns (20, 40,
#: 51-69, 90, 97-99) are refused as typos. Sources disagree on which of 06-09
#: is which foreigners' register and name no area for 83; those entries carry
#: the block's name only. A code found on a real document but missing here is
#: a data fix in this table, not a reason to weaken the check.
REGIONS: Final[dict[int, str]] = {
    0: "Naturalizovani građani bez republičkog državljanstva",
    1: "Stranci u Bosni i Hercegovini",
    2: "Stranci u Crnoj Gori",
    3: "Stranci u Hrvatskoj",
    4: "Stranci u Makedoniji",
    5: "Stranci u Sloveniji",
    6: "Stranci u Srbiji",
    7: "Stranci u Vojvodini",
    8: "Stranci na Kosovu i Metohiji",
    9: "Naturalizovani građani bez republičkog državljanstva",
    10: "Banja Luka",
    11: "Bihać",
    12: "Doboj",
    13: "Goražde",
    14: "Livno",
    15: "Mostar",
    16: "Prijedor",
    17: "Sarajevo",
    18: "Tuzla",
    19: "Zenica",
    21: "Podgorica, Danilovgrad, Kolašin",
    22: "Bar, Ulcinj",
    23: "Budva, Kotor, Tivat",
    24: "Herceg Novi",
    25: "Cetinje",
    26: "Nikšić, Plužine, Šavnik",
    27: "Berane, Rožaje, Plav, Andrijevica",
    28: "Bijelo Polje, Mojkovac",
    29: "Pljevlja, Žabljak",
    30: "Osijek, Slavonija",
    31: "Bjelovar, Virovitica, Koprivnica, Pakrac, Podravina",
    32: "Varaždin, Međimurje",
    33: "Zagreb",
    34: "Karlovac, Kordun",
    35: "Gospić, Lika",
    36: "Rijeka, Pula, Gorski kotar, Istra, Hrvatsko primorje",
    37: "Sisak, Banovina",
    38: "Split, Zadar, Šibenik, Dubrovnik, Dalmacija",
    39: "Hrvatska (ostalo)",
    41: "Bitolj",
    42: "Kumanovo",
    43: "Ohrid",
    44: "Prilep",
    45: "Skoplje",
    46: "Strumica",
    47: "Tetovo",
    48: "Veles",
    49: "Štip",
    50: "Slovenija",
    70: "Upis u diplomatsko-konzularnom predstavništvu Srbije",
    71: "Beograd",
    72: "Šumadija i Pomoravlje",
    73: "Niš, Pirot, Toplica",
    74: "Jablanica i Pčinja (Leskovac, Vranje)",
    75: "Zaječar, Bor",
    76: "Podunavlje i Braničevo (Smederevo, Požarevac)",
    77: "Mačva i Kolubara (Šabac, Valjevo)",
    78: "Raška, Rasina, Moravica (Kraljevo, Kruševac, Čačak)",
    79: "Zlatibor (Užice)",
    80: "Novi Sad",
    81: "Sombor",
    82: "Subotica",
    83: "Vojvodina",
    84: "Kikinda",
    85: "Zrenjanin",
    86: "Pančevo",
    87: "Vršac",
    88: "Ruma",
    89: "Sremska Mitrovica",
    91: "Priština",
    92: "Kosovska Mitrovica",
    93: "Peć",
    94: "Đakovica",
    95: "Prizren",
    96: "Gnjilane",
}


class JmbgError(DomainError):
    """A typed or read JMBG that is not a valid number."""

    code: ClassVar[str] = "jmbg.invalid"
    template: ClassVar[str] = (
        "This is not a valid JMBG. Re-type the 13-digit number from the ID card."
    )


class JmbgEmpty(JmbgError):
    """Nothing but whitespace was given."""

    code: ClassVar[str] = "jmbg.empty"
    template: ClassVar[str] = "No JMBG was entered. Type the 13-digit number from the ID card."


class JmbgWrongLength(JmbgError):
    """Digits only, but not 13 of them."""

    code: ClassVar[str] = "jmbg.wrong_length"
    template: ClassVar[str] = (
        "The JMBG has 13 digits; {length} were entered. Re-type the number from the ID card."
    )


class JmbgNotDigits(JmbgError):
    """A character that is not a digit (letter, space, dash, control character)."""

    code: ClassVar[str] = "jmbg.not_digits"
    template: ClassVar[str] = (
        "The JMBG may contain digits only; character {position} is not a digit. "
        "Re-type the 13 digits from the ID card without spaces or dashes."
    )


class JmbgNonAsciiDigits(JmbgError):
    """Digits of another script (Arabic-Indic, fullwidth, ...): a keyboard or paste problem."""

    code: ClassVar[str] = "jmbg.non_ascii_digits"
    template: ClassVar[str] = (
        "The JMBG was entered with digits of another writing system (character {position}). "
        "Switch the keyboard to Serbian or English and type the number again."
    )


class JmbgImpossibleDate(JmbgError):
    """The first seven digits are not a calendar date (31.02., month 13, year 1xx)."""

    code: ClassVar[str] = "jmbg.impossible_date"
    template: ClassVar[str] = (
        "The first seven digits of the JMBG must be the date of birth, but "
        "{day}.{month}.{year_digits} is not a possible date. "
        "Re-type the number from the ID card."
    )


class JmbgFutureBirthDate(JmbgError):
    """The birth date in the JMBG lies after today."""

    code: ClassVar[str] = "jmbg.future_birth_date"
    template: ClassVar[str] = (
        "The JMBG gives the date of birth {birth_date}, which has not come yet. "
        "Re-type the number from the ID card."
    )


class JmbgUnknownRegion(JmbgError):
    """Digits 8-9 are no registration area."""

    code: ClassVar[str] = "jmbg.unknown_region"
    template: ClassVar[str] = (
        "Digits 8 and 9 of the JMBG ({region_code}) are not a registration area, "
        "so the number is mistyped. Re-type the number from the ID card."
    )


class JmbgCheckDigit(JmbgError):
    """The last digit does not match the first twelve."""

    code: ClassVar[str] = "jmbg.check_digit"
    template: ClassVar[str] = (
        "The JMBG check digit does not match: re-type the number from the ID card."
    )


class JmbgNeverIssued(JmbgError):
    """The first twelve digits leave remainder 1, for which no JMBG is issued."""

    code: ClassVar[str] = "jmbg.never_issued"
    template: ClassVar[str] = (
        "No JMBG is ever issued with these first twelve digits, so the number is mistyped. "
        "Re-type it from the ID card; if it is exactly as printed, call the central help desk."
    )


@dataclass(frozen=True, slots=True)
class Jmbg:
    """A valid JMBG and what it states about its holder.

    `region_name` is in Serbian Latin (a place name, see `REGIONS`).
    """

    value: str
    birth_date: date
    sex: Sex
    region_code: int
    region_name: str


# Weighted sums and text of each part, precomputed so that building a number
# is a few table look-ups (the demo generator builds a million of them).
def _pair_sum(value: int, first_weight: int) -> int:
    tens, units = divmod(value, 10)
    return first_weight * tens + (first_weight - 1) * units


_DAY_SUM: Final = tuple(_pair_sum(d, 7) for d in range(100))  # weights 7 6
_MONTH_SUM: Final = tuple(_pair_sum(m, 5) for m in range(100))  # weights 5 4
_YEAR_SUM: Final = tuple(  # weights 3 2 7 on the digits of YYY
    3 * (y // 100) + 2 * (y // 10 % 10) + 7 * (y % 10) for y in range(1000)
)
_REGION_SUM: Final = tuple(_pair_sum(r, 6) for r in range(100))  # weights 6 5
_SERIAL_SUM: Final = tuple(  # weights 4 3 2
    4 * (s // 100) + 3 * (s // 10 % 10) + 2 * (s % 10) for s in range(1000)
)
_TWO: Final = tuple(f"{n:02d}" for n in range(100))
_THREE: Final = tuple(f"{n:03d}" for n in range(1000))
_DIGIT: Final = "0123456789"
_ASCII_DIGITS: Final = frozenset(_DIGIT)
# None marks remainder 1: no check digit, the number is never issued.
_CHECK_FOR_REMAINDER: Final[tuple[int | None, ...]] = (0, None, 9, 8, 7, 6, 5, 4, 3, 2, 1)


def _remainder(day: int, month: int, year3: int, region: int, serial: int) -> int:
    total = (
        _DAY_SUM[day]
        + _MONTH_SUM[month]
        + _YEAR_SUM[year3]
        + _REGION_SUM[region]
        + _SERIAL_SUM[serial]
    )
    return total % 11


def jmbg_check_digit(first_twelve: str) -> int | None:
    """The check digit for twelve ASCII digits, or None when no JMBG is issued with them.

    Raises ``ValueError`` if `first_twelve` is not twelve ASCII digits.
    """
    if len(first_twelve) != 12 or not first_twelve.isascii() or not first_twelve.isdigit():
        raise ValueError(f"expected 12 ASCII digits, got {first_twelve!r}")
    return _CHECK_FOR_REMAINDER[
        _remainder(
            int(first_twelve[0:2]),
            int(first_twelve[2:4]),
            int(first_twelve[4:7]),
            int(first_twelve[7:9]),
            int(first_twelve[9:12]),
        )
    ]


def _full_year(year3: int) -> int | None:
    if year3 >= 800:
        return 1000 + year3
    if year3 < 100:
        return 2000 + year3
    return None


def parse_jmbg(text: str, *, today: date | None = None) -> Jmbg:
    """Validate a JMBG and decode it.

    Surrounding whitespace is stripped; nothing else is forgiven (no inner
    spaces or dashes, no other scripts' digits). With `today`, a birth date
    after `today` is refused.

    Raises a `JmbgError` subclass naming the first problem found, checked in
    this order: empty, characters, length, date, future date, region, check digit.
    """
    value = text.strip()
    if not value:
        raise JmbgEmpty()
    if not (value.isascii() and value.isdigit()):
        for index, char in enumerate(value, start=1):
            if char not in _ASCII_DIGITS:
                if char.isdecimal():
                    raise JmbgNonAsciiDigits(position=index)
                raise JmbgNotDigits(position=index)
    if len(value) != 13:
        raise JmbgWrongLength(length=len(value))

    day, month, year3 = int(value[0:2]), int(value[2:4]), int(value[4:7])
    region, serial = int(value[7:9]), int(value[9:12])
    year = _full_year(year3)
    try:
        if year is None:
            raise ValueError("no possible year")
        birth_date = date(year, month, day)
    except ValueError:
        raise JmbgImpossibleDate(day=value[0:2], month=value[2:4], year_digits=value[4:7]) from None
    if today is not None and birth_date > today:
        raise JmbgFutureBirthDate(birth_date=birth_date.strftime("%d.%m.%Y."))
    region_name = REGIONS.get(region)
    if region_name is None:
        raise JmbgUnknownRegion(region_code=value[7:9])
    expected = _CHECK_FOR_REMAINDER[_remainder(day, month, year3, region, serial)]
    if expected is None:
        raise JmbgNeverIssued()
    if ord(value[12]) - 48 != expected:
        raise JmbgCheckDigit()
    return Jmbg(
        value=value,
        birth_date=birth_date,
        sex=Sex.MALE if serial < 500 else Sex.FEMALE,
        region_code=region,
        region_name=region_name,
    )


def make_jmbg(birth_date: date, region_code: int, serial_in_region: int, sex: Sex) -> str:
    """Build the JMBG for a birth date, registration area, serial (0-499) and sex.

    Women's serials are 500 + `serial_in_region`. The registry skips serials
    whose first twelve digits leave remainder 1 (see the module docstring);
    for those this raises ``ValueError`` and the caller takes the next serial.
    About one serial in eleven is skipped.

    Raises ``ValueError`` for a year outside 1800-2099, an unknown region or a
    serial outside 0-499. Pure integer arithmetic over precomputed tables.
    """
    year = birth_date.year
    if not 1800 <= year <= 2099:
        raise ValueError(f"a JMBG cannot encode the year {year}")
    if region_code not in REGIONS:
        raise ValueError(f"unknown JMBG region code {region_code!r}")
    if not 0 <= serial_in_region <= 499:
        raise ValueError(f"serial_in_region must be 0-499, got {serial_in_region!r}")
    serial = serial_in_region + 500 if sex is Sex.FEMALE else serial_in_region
    day, month, year3 = birth_date.day, birth_date.month, year % 1000
    check = _CHECK_FOR_REMAINDER[_remainder(day, month, year3, region_code, serial)]
    if check is None:
        raise ValueError(
            f"no JMBG is issued for serial {serial_in_region} on {birth_date} in region "
            f"{region_code}: take the next serial"
        )
    return (
        _TWO[day] + _TWO[month] + _THREE[year3] + _TWO[region_code] + _THREE[serial] + _DIGIT[check]
    )


def mask_jmbg(value: str) -> str:
    """The JMBG for display with the last six digits hidden: ``0101990******``.

    The first seven digits (the date of birth, which staff compare with the
    person anyway) stay readable; the registration area, the serial (which
    tells the sex and birth order) and the check digit are hidden, so a
    screen or printout does not hand out the whole number. Anything that is
    not 13 ASCII digits is hidden completely (13 asterisks), so a malformed
    value never leaks either.
    """
    if len(value) == 13 and value.isascii() and value.isdigit():
        return value[:7] + "******"
    return "*" * 13
