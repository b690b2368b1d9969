"""The machine-readable zone (MRZ) of ID cards and passports, ICAO Doc 9303.

Two formats are read:

- TD1 (ID cards, Doc 9303 part 5): 3 lines of 30 characters.
- TD3 (passports, part 4): 2 lines of 44 characters.

TD2 cards and visas (2 lines of 36, or a ``V`` document code) are refused as
unsupported.

What is accepted, as document readers and people deliver it
------------------------------------------------------------
- Lines separated by CR, LF or CRLF; blank lines before and after, and spaces
  or tabs at the end of a line, are dropped.
- Lowercase ASCII letters are taken as their capitals. Readers always send
  capitals, so lowercase means the zone was typed by hand; the MRZ alphabet has
  no lowercase, so ``a`` can only mean ``A``, and the check digits still verify
  every number and date.
- Nothing else is forgiven: Cyrillic letters (``А`` for ``A``, typed with a
  Serbian keyboard) are refused with their own message, as is any character
  outside ``A-Z 0-9 <``, a line of the wrong length and a wrong line count.

Every check digit is verified (weights 7 3 1; ``<`` counts 0, ``A``-``Z`` 10-35):
document number, birth date, expiry date, the personal number of TD3 (an
all-filler personal number may carry ``<`` or ``0``) and the composite digit.
A TD1 document number longer than nine characters continues, with its check
digit, in the optional data (part 5, note j); this is followed too.

Dates: the MRZ has two-digit years. The birth year is the latest year ending
in those digits that is not after `today`; expiry years are always 20xx.

Serbian documents carry the JMBG: ID cards (``IDSRB``) in the first 13
characters of the optional data of line 1, passports in the personal number.
When it is there it is validated with `domain.jmbg.parse_jmbg`, whose errors
are raised as they are.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Final, Literal

from domain.errors import DomainError
from domain.jmbg import Jmbg, Sex, parse_jmbg

__all__ = [
    "MrzBirthDateCheck",
    "MrzCheckDigitError",
    "MrzCompositeCheck",
    "MrzCyrillicLetter",
    "MrzDocument",
    "MrzDocumentCode",
    "MrzDocumentNumberCheck",
    "MrzEmpty",
    "MrzError",
    "MrzExpiryDateCheck",
    "MrzFormat",
    "MrzInvalidBirthDate",
    "MrzInvalidCharacter",
    "MrzInvalidExpiryDate",
    "MrzIssuingState",
    "MrzLineCount",
    "MrzLineLength",
    "MrzNationality",
    "MrzPersonalNumberCheck",
    "MrzSex",
    "MrzUnknownBirthDate",
    "MrzUnsupportedFormat",
    "make_td1",
    "make_td3",
    "mrz_check_digit",
    "parse_mrz",
]

MrzFormat = Literal["TD1", "TD3"]

TD1_LINE: Final = 30
TD3_LINE: Final = 44
TD2_LINE: Final = 36


class MrzError(DomainError):
    """The text is not a readable, consistent MRZ."""

    code: ClassVar[str] = "mrz.invalid"
    template: ClassVar[str] = (
        "The machine-readable zone could not be read. Scan the document again."
    )


class MrzEmpty(MrzError):
    code: ClassVar[str] = "mrz.empty"
    template: ClassVar[str] = (
        "No machine-readable zone was received. Place the document on the reader again."
    )


class MrzLineCount(MrzError):
    code: ClassVar[str] = "mrz.line_count"
    template: ClassVar[str] = (
        "The machine-readable zone has {count} line(s), but an ID card has 3 and a "
        "passport 2. Scan the document again; when typing it, put each line on its own row."
    )


class MrzLineLength(MrzError):
    code: ClassVar[str] = "mrz.line_length"
    template: ClassVar[str] = (
        "Line {line} of the machine-readable zone has {length} characters instead of "
        "{expected}: it was cut off or misread. Scan the document again."
    )


class MrzUnsupportedFormat(MrzError):
    code: ClassVar[str] = "mrz.unsupported_format"
    template: ClassVar[str] = (
        "This document's machine-readable zone ({kind}) is not an ID card or passport "
        "that can be read here. Enter the person's data by hand from the document."
    )


class MrzCyrillicLetter(MrzError):
    code: ClassVar[str] = "mrz.cyrillic_letter"
    template: ClassVar[str] = (
        "Line {line}, character {position} is the Cyrillic letter '{char}'. The "
        "machine-readable zone uses Latin letters only: switch the keyboard to English "
        "and type the line again."
    )


class MrzInvalidCharacter(MrzError):
    code: ClassVar[str] = "mrz.invalid_character"
    template: ClassVar[str] = (
        "Line {line}, character {position} ({char}) cannot appear in a machine-readable "
        "zone, which has only capital letters, digits and '<'. Scan the document again "
        "or re-type the line."
    )


class MrzDocumentCode(MrzError):
    code: ClassVar[str] = "mrz.document_code"
    template: ClassVar[str] = (
        "The document code '{document_code}' is not that of an ID card or passport, so "
        "the lines are misread or out of order. Scan the document again."
    )


class MrzIssuingState(MrzError):
    code: ClassVar[str] = "mrz.issuing_state"
    template: ClassVar[str] = (
        "'{value}' is not a country code, so the issuing state was misread. "
        "Scan the document again."
    )


class MrzNationality(MrzError):
    code: ClassVar[str] = "mrz.nationality"
    template: ClassVar[str] = (
        "'{value}' is not a country code, so the nationality was misread. Scan the document again."
    )


class MrzSex(MrzError):
    code: ClassVar[str] = "mrz.sex"
    template: ClassVar[str] = (
        "'{value}' is not a sex marker (M, F, X or <), so the line was misread. "
        "Scan the document again."
    )


class MrzInvalidBirthDate(MrzError):
    code: ClassVar[str] = "mrz.invalid_birth_date"
    template: ClassVar[str] = (
        "The date of birth '{value}' (YYMMDD) in the machine-readable zone is not a "
        "possible date. Scan the document again."
    )


class MrzUnknownBirthDate(MrzError):
    code: ClassVar[str] = "mrz.unknown_birth_date"
    template: ClassVar[str] = (
        "The document does not state a full date of birth ('{value}'). Enter the "
        "person's data by hand as the document shows it."
    )


class MrzInvalidExpiryDate(MrzError):
    code: ClassVar[str] = "mrz.invalid_expiry_date"
    template: ClassVar[str] = (
        "The expiry date '{value}' (YYMMDD) in the machine-readable zone is not a "
        "possible date. Scan the document again."
    )


class MrzCheckDigitError(MrzError):
    """A check digit that does not match its field: a misread or mistyped character."""

    code: ClassVar[str] = "mrz.check_digit"
    template: ClassVar[str] = (
        "A check digit of the machine-readable zone does not match. "
        "Scan the document again or re-type the lines."
    )


class MrzDocumentNumberCheck(MrzCheckDigitError):
    code: ClassVar[str] = "mrz.document_number_check"
    template: ClassVar[str] = (
        "The document number in the machine-readable zone does not match its check "
        "digit: a character was misread. Scan the document again or re-type line {line}."
    )


class MrzBirthDateCheck(MrzCheckDigitError):
    code: ClassVar[str] = "mrz.birth_date_check"
    template: ClassVar[str] = (
        "The date of birth in the machine-readable zone does not match its check digit: "
        "a character was misread. Scan the document again or re-type line {line}."
    )


class MrzExpiryDateCheck(MrzCheckDigitError):
    code: ClassVar[str] = "mrz.expiry_date_check"
    template: ClassVar[str] = (
        "The expiry date in the machine-readable zone does not match its check digit: "
        "a character was misread. Scan the document again or re-type line {line}."
    )


class MrzPersonalNumberCheck(MrzCheckDigitError):
    code: ClassVar[str] = "mrz.personal_number_check"
    template: ClassVar[str] = (
        "The personal number in the machine-readable zone does not match its check "
        "digit: a character was misread. Scan the document again or re-type line {line}."
    )


class MrzCompositeCheck(MrzCheckDigitError):
    code: ClassVar[str] = "mrz.composite_check"
    template: ClassVar[str] = (
        "The last check digit of the machine-readable zone does not match the lines: a "
        "character was misread. Scan the document again or re-type all lines."
    )


@dataclass(frozen=True, slots=True)
class MrzDocument:
    """What an MRZ states. Text fields have fillers removed.

    `surname` and `given_names` have ``<`` turned into single spaces (they may
    be truncated, as ICAO allows). `sex` is None for ``<`` or ``X``
    (unspecified). `optional_data` is TD1's optional data of lines 1 and 2
    joined by a space when both are present (after any document-number
    continuation), or TD3's personal number. `jmbg` is set for Serbian
    documents that carry one.
    """

    format: MrzFormat
    document_code: str
    issuing_state: str
    document_number: str
    surname: str
    given_names: str
    nationality: str
    birth_date: date
    sex: Sex | None
    expiry_date: date
    optional_data: str
    jmbg: Jmbg | None


_VALUES: Final[dict[str, int]] = {
    **{str(d): d for d in range(10)},
    **{chr(ord("A") + i): 10 + i for i in range(26)},
    "<": 0,
}
_WEIGHTS: Final = (7, 3, 1)
_ALPHABET: Final = frozenset(_VALUES)
_COUNTRY: Final = re.compile(r"[A-Z][A-Z<]{2}")
_JMBG_IN_FIELD: Final = re.compile(r"(\d{13})<*")


def mrz_check_digit(field: str) -> int:
    """The ICAO 9303 check digit of `field` (characters ``0-9 A-Z <``).

    Raises ``KeyError`` for any other character.
    """
    return sum(_VALUES[char] * _WEIGHTS[i % 3] for i, char in enumerate(field)) % 10


def _char_label(char: str) -> str:
    if char.isprintable() and not char.isspace():
        return f"'{char}'"
    return f"U+{ord(char):04X}"


def _lines(text: str) -> list[str]:
    lines = [line.rstrip(" \t") for line in re.split(r"\r\n|\r|\n", text)]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    checked: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.isascii():
            for position, char in enumerate(line, start=1):
                if not char.isascii():
                    if "CYRILLIC" in unicodedata.name(char, ""):
                        raise MrzCyrillicLetter(line=number, position=position, char=char)
                    raise MrzInvalidCharacter(
                        line=number, position=position, char=_char_label(char)
                    )
        # ASCII only by now; lowercase was typed by hand and can only mean capitals.
        upper = line.upper()
        for position, char in enumerate(upper, start=1):
            if char not in _ALPHABET:
                raise MrzInvalidCharacter(line=number, position=position, char=_char_label(char))
        checked.append(upper)
    return checked


def _verify(field: str, check: str, error: MrzCheckDigitError) -> None:
    if check not in "0123456789" or mrz_check_digit(field) != int(check):
        raise error


def _names(field: str) -> tuple[str, str]:
    primary, _, secondary = field.partition("<<")

    def clean(part: str) -> str:
        return " ".join(part.replace("<", " ").split())

    return clean(primary), clean(secondary)


def _country(value: str, error: type[MrzIssuingState | MrzNationality]) -> str:
    if not _COUNTRY.fullmatch(value):
        raise error(value=value)
    return value.rstrip("<")


def _sex(value: str) -> Sex | None:
    if value == "M":
        return Sex.MALE
    if value == "F":
        return Sex.FEMALE
    if value in ("<", "X"):
        return None
    raise MrzSex(value=value)


def _birth_date(value: str, today: date) -> date:
    if "<" in value:
        raise MrzUnknownBirthDate(value=value)
    if not value.isdigit():
        raise MrzInvalidBirthDate(value=value)
    yy, month, day = int(value[0:2]), int(value[2:4]), int(value[4:6])
    century = today.year - today.year % 100
    for year in (century + yy, century - 100 + yy):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    raise MrzInvalidBirthDate(value=value)


def _expiry_date(value: str) -> date:
    if not value.isdigit():
        raise MrzInvalidExpiryDate(value=value)
    try:
        return date(2000 + int(value[0:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise MrzInvalidExpiryDate(value=value) from None


def _jmbg(issuing_state: str, field: str, today: date) -> Jmbg | None:
    if issuing_state != "SRB":
        return None
    found = _JMBG_IN_FIELD.fullmatch(field)
    if found is None:
        return None
    return parse_jmbg(found.group(1), today=today)


def _parse_td1(lines: list[str], today: date) -> MrzDocument:
    one, two, three = lines
    document_code = one[0:2].rstrip("<")
    if one[0] not in "IAC":
        raise MrzDocumentCode(document_code=one[0:2])
    issuing_state = _country(one[2:5], MrzIssuingState)
    optional_1 = one[15:30]
    if one[14] == "<" and optional_1.strip("<"):
        # Part 5 note j: a number longer than 9 characters continues in the
        # optional data, ends with its check digit and is followed by a filler.
        continuation = optional_1.split("<", 1)[0]
        if len(continuation) < 2:
            raise MrzDocumentNumberCheck(line=1)
        document_number = one[5:14] + continuation[:-1]
        _verify(document_number, continuation[-1], MrzDocumentNumberCheck(line=1))
        optional_1 = optional_1[len(continuation) :]
    else:
        document_number = one[5:14]
        _verify(document_number, one[14], MrzDocumentNumberCheck(line=1))
    _verify(two[0:6], two[6], MrzBirthDateCheck(line=2))
    _verify(two[8:14], two[14], MrzExpiryDateCheck(line=2))
    _verify(one[5:30] + two[0:7] + two[8:15] + two[18:29], two[29], MrzCompositeCheck())
    sex = _sex(two[7])
    nationality = _country(two[15:18], MrzNationality)
    birth_date = _birth_date(two[0:6], today)
    expiry_date = _expiry_date(two[8:14])
    surname, given_names = _names(three)
    optional_1_text = optional_1.strip("<")
    optional_2_text = two[18:29].strip("<")
    return MrzDocument(
        format="TD1",
        document_code=document_code,
        issuing_state=issuing_state,
        document_number=document_number.rstrip("<"),
        surname=surname,
        given_names=given_names,
        nationality=nationality,
        birth_date=birth_date,
        sex=sex,
        expiry_date=expiry_date,
        optional_data=" ".join(p for p in (optional_1_text, optional_2_text) if p),
        jmbg=_jmbg(issuing_state, optional_1.lstrip("<"), today),
    )


def _parse_td3(lines: list[str], today: date) -> MrzDocument:
    one, two = lines
    if one[0] == "V":
        raise MrzUnsupportedFormat(kind="MRV-A")
    if one[0] != "P":
        raise MrzDocumentCode(document_code=one[0:2])
    issuing_state = _country(one[2:5], MrzIssuingState)
    _verify(two[0:9], two[9], MrzDocumentNumberCheck(line=2))
    _verify(two[13:19], two[19], MrzBirthDateCheck(line=2))
    _verify(two[21:27], two[27], MrzExpiryDateCheck(line=2))
    personal_number = two[28:42]
    if not (personal_number == "<" * 14 and two[42] in "<0"):
        _verify(personal_number, two[42], MrzPersonalNumberCheck(line=2))
    _verify(two[0:10] + two[13:20] + two[21:43], two[43], MrzCompositeCheck())
    nationality = _country(two[10:13], MrzNationality)
    sex = _sex(two[20])
    birth_date = _birth_date(two[13:19], today)
    expiry_date = _expiry_date(two[21:27])
    surname, given_names = _names(one[5:44])
    return MrzDocument(
        format="TD3",
        document_code=one[0:2].rstrip("<"),
        issuing_state=issuing_state,
        document_number=two[0:9].rstrip("<"),
        surname=surname,
        given_names=given_names,
        nationality=nationality,
        birth_date=birth_date,
        sex=sex,
        expiry_date=expiry_date,
        optional_data=personal_number.strip("<"),
        jmbg=_jmbg(issuing_state, personal_number, today),
    )


def parse_mrz(text: str, *, today: date) -> MrzDocument:
    """Read a TD1 or TD3 machine-readable zone as a reader or a person delivers it.

    `today` decides the century of the birth year (and is passed to
    `parse_jmbg`). Raises an `MrzError` subclass for anything unreadable or
    inconsistent, or a `domain.jmbg.JmbgError` when a Serbian document carries
    an invalid JMBG; see the module docstring for what is accepted.
    """
    lines = _lines(text)
    if not lines:
        raise MrzEmpty()
    if len(lines) == 3:
        for number, line in enumerate(lines, start=1):
            if len(line) != TD1_LINE:
                raise MrzLineLength(line=number, length=len(line), expected=TD1_LINE)
        return _parse_td1(lines, today)
    if len(lines) == 2:
        lengths = {len(line) for line in lines}
        if lengths == {TD2_LINE}:
            raise MrzUnsupportedFormat(kind="TD2/MRV-B")
        if max(lengths) <= TD1_LINE:
            raise MrzLineCount(count=2)
        for number, line in enumerate(lines, start=1):
            if len(line) != TD3_LINE:
                raise MrzLineLength(line=number, length=len(line), expected=TD3_LINE)
        return _parse_td3(lines, today)
    raise MrzLineCount(count=len(lines))


# Builders: for tests and demo data. They raise ValueError on misuse (these are
# programmer errors, not something a nurse reads).

_NAME_LETTERS: Final = str.maketrans(
    {"Č": "C", "Ć": "C", "Š": "S", "Ž": "Z", "Đ": "DJ", "-": "<", " ": "<", "'": None}
)


def _mrz_name(text: str) -> str:
    """Serbian Latin or plain Latin text as MRZ characters (Đ -> DJ, as Serbian documents print)."""
    converted = text.upper().translate(_NAME_LETTERS)
    if any(char not in _ALPHABET or char.isdigit() for char in converted):
        raise ValueError(f"cannot write {text!r} in an MRZ")
    return converted


def _name_field(surname: str, given_names: str, width: int) -> str:
    field = _mrz_name(surname) + "<<" + _mrz_name(given_names)
    return field[:width].ljust(width, "<")


def _field(value: str, width: int, what: str) -> str:
    value = value.upper()
    if len(value) > width or any(char not in _ALPHABET for char in value):
        raise ValueError(f"{what} {value!r} does not fit {width} MRZ characters")
    return value.ljust(width, "<")


def _yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def _sex_char(sex: Sex | None) -> str:
    return "<" if sex is None else sex.value


def make_td1(
    *,
    document_number: str,
    birth_date: date,
    sex: Sex | None,
    expiry_date: date,
    surname: str,
    given_names: str,
    issuing_state: str = "SRB",
    nationality: str = "SRB",
    document_code: str = "ID",
    optional_data: str = "",
    optional_data_2: str = "",
) -> str:
    """A TD1 zone (three lines joined by ``\\n``) with all check digits computed.

    For a Serbian ID card pass the JMBG as `optional_data`. Document numbers
    longer than nine characters are continued in the optional data as ICAO
    prescribes. Names are converted from Serbian Latin (Č, Ć -> C, Đ -> DJ,
    ...) and truncated to fit.
    """
    number = document_number.upper()
    if len(number) <= 9:
        head = _field(number, 9, "document number") + str(mrz_check_digit(number.ljust(9, "<")))
        optional = _field(optional_data, 15, "optional data")
    else:
        continuation = number[9:] + str(mrz_check_digit(number))
        head = _field(number[:9], 9, "document number") + "<"
        optional = _field(continuation + "<" + optional_data.upper(), 15, "optional data")
    one = (
        _field(document_code, 2, "document code")
        + _field(issuing_state, 3, "issuing state")
        + head
        + optional
    )
    birth, expiry = _yymmdd(birth_date), _yymmdd(expiry_date)
    two = (
        birth
        + str(mrz_check_digit(birth))
        + _sex_char(sex)
        + expiry
        + str(mrz_check_digit(expiry))
        + _field(nationality, 3, "nationality")
        + _field(optional_data_2, 11, "optional data 2")
    )
    two += str(mrz_check_digit(one[5:30] + two[0:7] + two[8:15] + two[18:29]))
    three = _name_field(surname, given_names, TD1_LINE)
    return "\n".join((one, two, three))


def make_td3(
    *,
    document_number: str,
    birth_date: date,
    sex: Sex | None,
    expiry_date: date,
    surname: str,
    given_names: str,
    issuing_state: str = "SRB",
    nationality: str = "SRB",
    document_code: str = "P",
    personal_number: str = "",
) -> str:
    """A TD3 zone (two lines joined by ``\\n``) with all check digits computed.

    For a Serbian passport pass the JMBG as `personal_number`. An empty
    personal number gets check digit ``<``.
    """
    one = (
        _field(document_code, 2, "document code")
        + _field(issuing_state, 3, "issuing state")
        + _name_field(surname, given_names, TD3_LINE - 5)
    )
    number = _field(document_number, 9, "document number")
    personal = _field(personal_number, 14, "personal number")
    birth, expiry = _yymmdd(birth_date), _yymmdd(expiry_date)
    two = (
        number
        + str(mrz_check_digit(number))
        + _field(nationality, 3, "nationality")
        + birth
        + str(mrz_check_digit(birth))
        + _sex_char(sex)
        + expiry
        + str(mrz_check_digit(expiry))
        + personal
        + ("<" if personal_number == "" else str(mrz_check_digit(personal)))
    )
    two += str(mrz_check_digit(two[0:10] + two[13:20] + two[21:43]))
    return "\n".join((one, two))
