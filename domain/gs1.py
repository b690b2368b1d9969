"""GS1 element strings from vaccine labels (GS1 DataMatrix, GS1-128, GS1 QR).

`parse_gs1` reads the text a scanner or camera decoder delivers, or the
bracketed human-readable form printed under the code, and returns a
`Gs1Label`: GTIN (AI 01), expiry date (AI 17), lot (AI 10), serial (AI 21)
and every other element string in order. biip splits and types the element
strings; this module adds what a vaccination site needs on top.

Input forms
-----------
- Bracketed: ``(01)09506000134352(17)261231(10)LOT42A(21)000123``. Spaces, tabs
  and line breaks are ignored (GS1 values cannot contain any).
- Raw: ``01095060001343521726123110LOT42A<GS>21000123`` where ``<GS>`` is
  the group separator 0x1D that ends a variable-length field (scanners send it
  for FNC1). Leading and trailing separators (a leading FNC1) are ignored.
- Either raw form prefixed with a symbology identifier from a scanner set to
  send one: ``]d2`` GS1 DataMatrix, ``]C1`` GS1-128, ``]Q3`` GS1 QR, ``]e0``
  GS1 DataBar, ``]J1`` GS1 DotCode.
- Two stand-ins for the separator are taken as the separator because neither
  can occur inside a GS1 element string (their characters are outside the GS1
  character set 82): ``^]``, the caret notation of Ctrl+], the key chord that
  types 0x1D and that terminal-style keyboard-wedge drivers print, and ``␝``
  (U+241D, the Unicode picture of GS). Other conventions such as a literal
  ``<GS>`` are not substituted: ``<``, ``G``, ``S`` and ``>`` are all valid lot
  characters, so that text could be a real lot.

The dropped separator
---------------------
A keyboard wedge that loses 0x1D (a plain Qt line edit does) turns
``10LOT42A<GS>21SN000123`` into ``10LOT42A21SN000123``, which is a valid lot
``LOT42A21SN000123`` with no serial: biip accepts it, and a wrong lot number
means a recalled lot is no longer refused. `parse_gs1` therefore refuses
with `Gs1MissingSeparator` when

1. a variable-length field runs to its maximum length and more data follows
   without a separator (the GS1 rules require one), or
2. one of the fields a vaccine label carries (GTIN 01, expiry 17, lot 10,
   serial 21) is missing, and the end of a variable-length field reads as
   exactly that missing field: a valid GTIN, a valid date, or a lot or serial
   of at least three characters, naming no field that is already present.

Rule 2 can refuse a genuine label that has no serial number and a lot whose
end looks like ``21`` plus three or more characters. That costs a scan (the
nurse types lot and serial from the label); the opposite mistake costs a
wrong lot on a clinical record.

Dates
-----
Date fields (AIs 11, 12, 13, 15, 16, 17) are ``YYMMDD`` with years 2000-2099
(GS1's sliding century window gives the same years for every vaccine label
until 2049; a fixed rule keeps parsing independent of the clock). ``DD`` 00
means the whole month: the date is the month's last day.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import ClassVar, Final

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

from domain.errors import DomainError
from domain.gtin import is_valid_gtin

__all__ = [
    "Gs1ConflictingValues",
    "Gs1Empty",
    "Gs1Error",
    "Gs1GtinCheckDigit",
    "Gs1InvalidCharacter",
    "Gs1InvalidDate",
    "Gs1InvalidValue",
    "Gs1KeyboardLayout",
    "Gs1Label",
    "Gs1MissingGtin",
    "Gs1MissingSeparator",
    "Gs1NotGs1",
    "Gs1ProductBarcodeOnly",
    "Gs1UnknownAi",
    "Gs1UnsupportedSymbology",
    "bracketed",
    "encode_gs1",
    "parse_gs1",
]

GS: Final = "\x1d"
AI_GTIN: Final = "01"
AI_LOT: Final = "10"
AI_EXPIRY: Final = "17"
AI_SERIAL: Final = "21"


class Gs1Error(DomainError):
    """A scanned or typed code that is not a usable GS1 label."""

    code: ClassVar[str] = "gs1.invalid"
    template: ClassVar[str] = (
        "The code could not be read as a medicine label. Scan the square code on the vial "
        "or carton again."
    )


class Gs1Empty(Gs1Error):
    code: ClassVar[str] = "gs1.empty"
    template: ClassVar[str] = "Nothing was scanned. Scan the square code on the vial or carton."


class Gs1NotGs1(Gs1Error):
    code: ClassVar[str] = "gs1.not_gs1"
    template: ClassVar[str] = (
        "This code is not a GS1 medicine label (it does not start with a GS1 field). "
        "Scan the square DataMatrix code on the vial or carton, not another barcode."
    )


class Gs1ProductBarcodeOnly(Gs1Error):
    code: ClassVar[str] = "gs1.product_barcode_only"
    template: ClassVar[str] = (
        "This is the plain product barcode: it has no lot, expiry or serial number. "
        "Scan the square DataMatrix code on the vial or carton instead."
    )


class Gs1UnsupportedSymbology(Gs1Error):
    code: ClassVar[str] = "gs1.unsupported_symbology"
    template: ClassVar[str] = (
        "The scanner read a barcode of type {symbology}, which is not a GS1 medicine "
        "label. Scan the square DataMatrix code on the vial or carton."
    )


class Gs1KeyboardLayout(Gs1Error):
    code: ClassVar[str] = "gs1.keyboard_layout"
    template: ClassVar[str] = (
        "The scan arrived with Serbian letters (character {position}), so the computer's "
        "keyboard is set to a Serbian layout and the scanner's letters are being changed. "
        "Switch the keyboard to English (US) and scan again."
    )


class Gs1InvalidCharacter(Gs1Error):
    code: ClassVar[str] = "gs1.invalid_character"
    template: ClassVar[str] = (
        "Character {position} of the scan ({char}) cannot appear in a GS1 label, so the "
        "scan was garbled. Scan again; if it keeps happening, tell the site manager."
    )


class Gs1UnknownAi(Gs1Error):
    code: ClassVar[str] = "gs1.unknown_ai"
    template: ClassVar[str] = (
        "At character {position} the label has no known GS1 field ('{text}'), so the scan "
        "was cut or garbled. Scan again; if it keeps happening, type the data from the label."
    )


class Gs1InvalidValue(Gs1Error):
    code: ClassVar[str] = "gs1.invalid_value"
    template: ClassVar[str] = (
        "Field ({ai}) of the label has the value '{value}', which is not valid for that "
        "field. Scan again; if it keeps happening, type the data from the label."
    )


class Gs1InvalidDate(Gs1Error):
    code: ClassVar[str] = "gs1.invalid_date"
    template: ClassVar[str] = (
        "The date in field ({ai}) of the label, '{value}' (YYMMDD), is not a possible "
        "date. Scan again; if it keeps happening, type the expiry date from the label."
    )


class Gs1MissingGtin(Gs1Error):
    code: ClassVar[str] = "gs1.missing_gtin"
    template: ClassVar[str] = (
        "The label has no product number (GTIN, field 01), so the vaccine cannot be "
        "identified. Scan the square code on the vial or carton that shows (01)."
    )


class Gs1GtinCheckDigit(Gs1Error):
    code: ClassVar[str] = "gs1.gtin_check_digit"
    template: ClassVar[str] = (
        "The product number (GTIN) {gtin} does not match its check digit: the scan was "
        "garbled. Scan again or type the number printed next to (01)."
    )


class Gs1MissingSeparator(Gs1Error):
    code: ClassVar[str] = "gs1.missing_separator"
    template: ClassVar[str] = (
        "The scanner is dropping the separator between the fields of this code: field "
        "({ai}) ran into field ({next_ai}), so the lot or serial number would be recorded "
        "wrongly. Ask the site manager to set the scanner to send the GS separator "
        "(Ctrl+]); until then type the lot, expiry and serial number from the label."
    )


class Gs1ConflictingValues(Gs1Error):
    code: ClassVar[str] = "gs1.conflicting_values"
    template: ClassVar[str] = (
        "Field ({ai}) appears twice in the label with different values. Do not use the "
        "vial: set it aside and tell the site manager."
    )


@dataclass(frozen=True, slots=True)
class Gs1Label:
    """A GS1 label as scanned.

    - `gtin`: the 14-digit GTIN of AI 01, check digit verified.
    - `expiry_date`: AI 17, the last day the product may be used (use it up to
      and including this day). A label giving day 00 states only the month:
      this is then the last day of that month. None if the label has no AI 17.
    - `lot` (AI 10), `serial` (AI 21): exactly as encoded, None if absent.
    - `raw`: the text as received.
    - `elements`: every (AI, value) pair in label order, including the above.
    """

    gtin: str
    expiry_date: date | None
    lot: str | None
    serial: str | None
    raw: str
    elements: tuple[tuple[str, str], ...]

    @property
    def others(self) -> tuple[tuple[str, str], ...]:
        """The (AI, value) pairs other than GTIN, expiry, lot and serial."""
        known = (AI_GTIN, AI_EXPIRY, AI_LOT, AI_SERIAL)
        return tuple(pair for pair in self.elements if pair[0] not in known)


# GS1 General Specifications, figure 7.11-1 (character set 82).
_CHARSET_82: Final = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
_SEPARATOR_STAND_INS: Final = ("^]", "\u241d")
_GS1_SYMBOLOGIES: Final = frozenset({"]C1", "]d2", "]Q3", "]e0", "]J1"})
_GTIN_ONLY_SYMBOLOGIES: Final = frozenset({"]E0", "]E3", "]E4", "]I1"})
_SYMBOLOGY_ID: Final = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_SERBIAN_LATIN_LETTERS: Final = frozenset("čćđšžČĆĐŠŽ")
_DATE_AIS: Final = frozenset({"11", "12", "13", "15", "16", "17"})
_VACCINE_AIS: Final = (AI_GTIN, AI_EXPIRY, AI_LOT, AI_SERIAL)
_MIN_SWALLOWED_TEXT: Final = 3
_SHOWN_VALUE: Final = 32  # longest invalid value quoted back in a message
_HRI_AI: Final = re.compile(r"\((\d{2,4})\)")
# biip's own date check uses the wall clock; dates are checked here instead.
_CONFIG: Final = ParseConfig(gs1_element_strings_verify_date=False, separator_chars=(GS,))


@cache
def _max_length(ai: GS1ApplicationIdentifier) -> int:
    """Longest data field of `ai`, from its format (``N2+X..20`` -> 20)."""
    total = 0
    for part in ai.format.split("+")[1:]:
        numbers = re.findall(r"\d+", part)
        if numbers:
            total += int(numbers[-1])
    return total


def _known_ai(code: str) -> GS1ApplicationIdentifier | None:
    try:
        ai = GS1ApplicationIdentifier.extract(code)
    except ParseError:
        return None
    return ai if ai.ai == code else None


def _char_label(char: str) -> str:
    if char.isprintable() and not char.isspace():
        return f"'{char}'"
    return f"U+{ord(char):04X}"


def _check_characters(text: str, *, allowed_extra: str) -> None:
    for position, char in enumerate(text, start=1):
        if char in _CHARSET_82 or char in allowed_extra:
            continue
        if char in _SERBIAN_LATIN_LETTERS or "CYRILLIC" in unicodedata.name(char, ""):
            raise Gs1KeyboardLayout(position=position)
        raise Gs1InvalidCharacter(position=position, char=_char_label(char))


def _element(text: str, ai: GS1ApplicationIdentifier, *, whole: bool) -> GS1ElementString:
    try:
        if whole:
            return GS1ElementString.parse(text, config=_CONFIG)
        return GS1ElementString.extract(text, config=_CONFIG)
    except (ParseError, ValueError):
        data = text[len(ai.ai) :].split(GS, 1)[0]
        if ai.ai in _DATE_AIS and data[:6].isdigit() and len(data) >= 6:
            raise Gs1InvalidDate(ai=ai.ai, value=data[:6]) from None
        shown = data if len(data) <= _SHOWN_VALUE else data[:_SHOWN_VALUE] + "…"
        raise Gs1InvalidValue(ai=ai.ai, value=shown) from None


def _split_raw(body: str) -> list[tuple[GS1ApplicationIdentifier, str]]:
    """Element strings of a raw message, refusing unknown AIs and missing separators."""
    found: list[tuple[GS1ApplicationIdentifier, str]] = []
    position = 0
    while position < len(body):
        rest = body[position:]
        try:
            ai = GS1ApplicationIdentifier.extract(rest)
        except ParseError:
            if not found:
                raise Gs1NotGs1() from None
            raise Gs1UnknownAi(position=position + 1, text=rest[:4]) from None
        element = _element(rest, ai, whole=False)
        found.append((ai, element.value))
        position += len(ai.ai) + len(element.value)
        at_separator = body.startswith(GS, position)
        if (
            ai.separator_required
            and position < len(body)
            and not at_separator
            and len(element.value) == _max_length(ai)
        ):
            raise Gs1MissingSeparator(
                ai=ai.ai, next_ai=_swallowed_at_full_length(element.value, body[position:])
            )
        while body.startswith(GS, position):
            position += 1
    return found


def _swallowed_at_full_length(value: str, rest: str) -> str:
    """The field a full-length `value` most likely swallowed the start of.

    The first plausible field that starts inside `value` and runs on into
    `rest`; failing that, whatever `rest` starts with. Looks at one field only
    (no recursion), so garbage cannot make this slow.
    """
    for start in range(1, len(value)):
        code = _plausible_field(value[start:] + rest)
        if code is not None:
            return code
    try:
        return GS1ApplicationIdentifier.extract(rest).ai
    except ParseError:
        return rest[:2]


def _plausible(code: str, value: str) -> bool:
    """Whether `value` is a believable field `code` of a vaccine label."""
    if code == AI_GTIN:
        return is_valid_gtin(value)
    if code in _DATE_AIS:
        try:
            _date(code, value)
        except Gs1InvalidDate:
            return False
    return not (code in (AI_LOT, AI_SERIAL) and len(value) < _MIN_SWALLOWED_TEXT)


def _plausible_field(text: str) -> str | None:
    """The AI of the field `text` starts with, if that field is believable."""
    try:
        ai = GS1ApplicationIdentifier.extract(text)
        value = _element(text, ai, whole=False).value
    except (ParseError, Gs1Error):
        return None
    return ai.ai if _plausible(ai.ai, value) else None


def _split_bracketed(body: str) -> list[tuple[GS1ApplicationIdentifier, str]]:
    compact = "".join(body.split())
    parts = _HRI_AI.split(compact)
    if parts[0] != "" or len(parts) < 3:
        raise Gs1NotGs1()
    found: list[tuple[GS1ApplicationIdentifier, str]] = []
    for code, data in zip(parts[1::2], parts[2::2], strict=True):
        ai = _known_ai(code)
        if ai is None:
            # Counted without the spaces, which carry no meaning in this form.
            raise Gs1UnknownAi(position=compact.find(f"({code})") + 1, text=code)
        element = _element(code + data, ai, whole=True)
        found.append((ai, element.value))
    return found


def _date(ai: str, value: str) -> date:
    try:
        year, month, day = 2000 + int(value[0:2]), int(value[2:4]), int(value[4:6])
        if day == 0:
            day = calendar.monthrange(year, month)[1]
        return date(year, month, day)
    except ValueError:
        raise Gs1InvalidDate(ai=ai, value=value) from None


def _swallowed(tail: str, missing: set[str], present: set[str]) -> str | None:
    """The first AI of `tail` if it reads as the missing vaccine fields, else None."""
    if tail[:2] not in missing:
        return None
    try:
        elements = _split_raw(tail)
    except Gs1Error:
        return None
    if {ai.ai for ai, _ in elements} & present:
        return None
    if not all(_plausible(ai.ai, value) for ai, value in elements):
        return None
    return elements[0][0].ai


def _refuse_swallowed_fields(elements: list[tuple[GS1ApplicationIdentifier, str]]) -> None:
    present = {ai.ai for ai, _ in elements}
    missing = {code for code in _VACCINE_AIS if code not in present}
    if not missing:
        return
    for ai, value in elements:
        if not ai.separator_required:
            continue
        for start in range(1, len(value)):
            next_ai = _swallowed(value[start:], missing, present)
            if next_ai is not None:
                raise Gs1MissingSeparator(ai=ai.ai, next_ai=next_ai)


def _strip_symbology(body: str) -> str:
    if not body.startswith("]"):
        return body
    symbology = body[:3]
    if symbology in _GS1_SYMBOLOGIES:
        return body[3:]
    if symbology in _GTIN_ONLY_SYMBOLOGIES:
        raise Gs1ProductBarcodeOnly()
    if _SYMBOLOGY_ID.fullmatch(symbology):
        raise Gs1UnsupportedSymbology(symbology=symbology)
    raise Gs1NotGs1()


def parse_gs1(text: str) -> Gs1Label:
    """Read a GS1 label from scanner, camera or typed bracketed text.

    See the module docstring for the accepted forms and the missing-separator
    rules. Raises a `Gs1Error` subclass saying what is wrong and what to do.
    """
    body = text.strip(" \t\r\n")
    for stand_in in _SEPARATOR_STAND_INS:
        body = body.replace(stand_in, GS)
    body = body.strip(GS)
    if not body:
        raise Gs1Empty()
    body = _strip_symbology(body).strip(GS)
    if not body:
        raise Gs1Empty()
    if body.startswith("("):
        _check_characters(body, allowed_extra=" \t\r\n")
        elements = _split_bracketed(body)
    else:
        _check_characters(body, allowed_extra=GS)
        if len(body) in (8, 12, 13, 14) and is_valid_gtin(body):
            raise Gs1ProductBarcodeOnly()
        elements = _split_raw(body)
        _refuse_swallowed_fields(elements)

    values: dict[str, str] = {}
    for ai, value in elements:
        if values.setdefault(ai.ai, value) != value:
            raise Gs1ConflictingValues(ai=ai.ai)
    gtin = values.get(AI_GTIN)
    if gtin is None:
        raise Gs1MissingGtin()
    if not is_valid_gtin(gtin):
        raise Gs1GtinCheckDigit(gtin=gtin)
    dates = {ai: _date(ai, value) for ai, value in values.items() if ai in _DATE_AIS}
    return Gs1Label(
        gtin=gtin,
        expiry_date=dates.get(AI_EXPIRY),
        lot=values.get(AI_LOT),
        serial=values.get(AI_SERIAL),
        raw=text,
        elements=tuple((ai.ai, value) for ai, value in elements),
    )


def _text_field(value: str, what: str) -> str:
    if not 1 <= len(value) <= 20 or any(char not in _CHARSET_82 for char in value):
        raise ValueError(f"{what} must be 1-20 characters of the GS1 character set, got {value!r}")
    return value


def encode_gs1(
    gtin: str, expiry: date, lot: str, serial: str | None, *, separator: str = GS
) -> str:
    """The element string ``01 GTIN 17 YYMMDD 10 LOT <sep> 21 SERIAL`` for a label.

    This is what a DataMatrix encoder takes with FNC1 as `separator` (and what
    a scanner sends back with GS). A GTIN-8/12/13 is padded to 14 digits.
    Without a serial the lot ends the string and no separator is written.
    Raises ``ValueError`` for an invalid GTIN, a year outside 2000-2099, or a
    lot or serial that is empty, longer than 20 or outside the GS1 character set.
    """
    if not is_valid_gtin(gtin):
        raise ValueError(f"not a valid GTIN: {gtin!r}")
    if not 2000 <= expiry.year <= 2099:
        raise ValueError(f"GS1 dates cover 2000-2099 here, got {expiry}")
    if not separator:
        raise ValueError("the separator must not be empty")
    text = f"{AI_GTIN}{gtin.zfill(14)}{AI_EXPIRY}{expiry:%y%m%d}{AI_LOT}{_text_field(lot, 'lot')}"
    if serial is not None:
        text += f"{separator}{AI_SERIAL}{_text_field(serial, 'serial')}"
    return text


def bracketed(label: Gs1Label) -> str:
    """The label in the human-readable bracketed form, fields in label order."""
    return "".join(f"({ai}){value}" for ai, value in label.elements)
