"""What a scanned text is: routing a scan by its content.

`classify` takes the text a keyboard-wedge scanner typed (the trailing Enter
may still be on it) or a camera decoder read, and returns one `Scan` value:

============== ============================================================
`JmbgScan`     13 digits that are a valid JMBG (`domain.jmbg`).
`MrzScan`      the machine-readable zone of an ID card (TD1, 3 lines of 30)
               or passport (TD3, 2 lines of 44) from a document reader
               (`domain.mrz`). Lines may be separated by CR, LF or CRLF, as
               readers send them, or not at all (90 or 88 characters).
`AppointmentScan` the appointment code of an invitation: the appointment's
               UUID as the SMS and e-mail print it
               (`central.scheduling.invitations`), or the invitation QR code
               text ``IMUNO:APPT:<uuid>`` (see `APPOINTMENT_QR_PREFIX`),
               in either letter case.
`Gs1Scan`      a GS1 element string from a vial or carton (GS1 DataMatrix,
               GS1-128, GS1 QR), raw with GS (0x1D) separators, with a
               symbology identifier (``]d2``, ``]Q3``, ``]C1``, ...) or in
               the bracketed printed form (`domain.gs1`).
`DccScan`      a digital COVID certificate (``HC1:`` text). Not verified
               here: `domain.certificates` does that.
`UnknownScan`  anything else, with the `DomainError` that says what went
               wrong and what to do (a JMBG with a wrong check digit, a GS1
               label whose separator the scanner dropped, ...).
============== ============================================================

`classify` never raises for any input: a scan that cannot be used is an
`UnknownScan`, so the UI always has a message to show.

Scanners set to send AIM symbology identifiers prefix every code (``]C0``,
``]Q1``, ``]L2``, ...). Identifiers of GS1 symbologies go to `domain.gs1`,
which uses them; identifiers of EAN/UPC (product number only) too, so the
nurse hears that she scanned the wrong code; any other identifier is dropped
before the content is routed.

Keyboard layouts: a wedge scanner presses the keys of a US keyboard, and a
workstation set to a Serbian layout turns some of them into other
characters. Where that is undone without doubt it is (an appointment code's
``'`` for ``-`` and ``Č`` for ``:``); otherwise a scan with Serbian Latin or
Cyrillic letters is refused with `ScanKeyboardLayout` (GS1 labels and MRZs
with their parsers' own errors), telling the nurse to switch the layout.

The raw text is kept on every value (it may hold personal data, so it is
left out of ``repr``).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from app.scanning.errors import (
    AppointmentCodeInvalid,
    ScanEmpty,
    ScanKeyboardLayout,
    ScanNotRecognised,
)
from domain.errors import DomainError
from domain.gs1 import GS, Gs1Label, parse_gs1
from domain.gtin import is_valid_gtin
from domain.jmbg import Jmbg, JmbgImpossibleDate, JmbgUnknownRegion, JmbgWrongLength, parse_jmbg
from domain.mrz import MrzDocument, parse_mrz

__all__ = [
    "APPOINTMENT_QR_PREFIX",
    "AppointmentScan",
    "DccScan",
    "Gs1Scan",
    "JmbgScan",
    "MrzScan",
    "Scan",
    "UnknownScan",
    "appointment_qr_text",
    "classify",
]

#: The text of the appointment QR code on an invitation: this prefix and the
#: appointment's UUID in its canonical lower-case form. The prefix keeps the
#: code from being mistaken for any other UUID a QR code might carry.
APPOINTMENT_QR_PREFIX: Final = "IMUNO:APPT:"
DCC_PREFIX: Final = "HC1:"


@dataclass(frozen=True, slots=True)
class JmbgScan:
    """A valid JMBG."""

    raw: str = field(repr=False)
    jmbg: Jmbg = field(repr=False)


@dataclass(frozen=True, slots=True)
class MrzScan:
    """The machine-readable zone of an ID card or passport."""

    raw: str = field(repr=False)
    document: MrzDocument = field(repr=False)

    @property
    def jmbg(self) -> Jmbg | None:
        """The JMBG the document carries (Serbian documents), else None."""
        return self.document.jmbg


@dataclass(frozen=True, slots=True)
class AppointmentScan:
    """An appointment code from an invitation."""

    raw: str = field(repr=False)
    appointment_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Gs1Scan:
    """A GS1 label from a vial or carton."""

    raw: str = field(repr=False)
    label: Gs1Label

    @property
    def gtin(self) -> str:
        """The 14-digit GTIN (AI 01)."""
        return self.label.gtin

    @property
    def lot(self) -> str | None:
        """The lot (AI 10), None when the label has none."""
        return self.label.lot

    @property
    def expiry_date(self) -> date | None:
        """The expiry date (AI 17), None when the label has none."""
        return self.label.expiry_date

    @property
    def serial(self) -> str | None:
        """The serial number (AI 21), None when the label has none."""
        return self.label.serial


@dataclass(frozen=True, slots=True)
class DccScan:
    """A digital COVID certificate's QR text (``HC1:...``), not yet verified."""

    raw: str = field(repr=False)
    text: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class UnknownScan:
    """A scan that cannot be used; `reason` tells the nurse why and what to do."""

    raw: str = field(repr=False)
    reason: DomainError

    @property
    def code(self) -> str:
        """The stable code of `reason`, for logs."""
        return self.reason.code


Scan = JmbgScan | MrzScan | AppointmentScan | Gs1Scan | DccScan | UnknownScan

_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_SYMBOLOGY_ID: Final = re.compile(r"\][A-Za-z][0-9A-Za-z]")
# Identifiers `domain.gs1` reads itself: GS1 symbologies, and EAN/UPC, which
# it refuses with a message naming the wrong code.
_GS1_PARSER_IDS: Final = frozenset({"]C1", "]d2", "]Q3", "]e0", "]J1", "]E0", "]E3", "]E4", "]I1"})
_GS1_SEPARATOR_STAND_INS: Final = ("^]", "\u241d")
_RAW_GS1_START: Final = re.compile(r"0[12]\d{14}.")
_BRACKETED_GS1_START: Final = re.compile(r"\(\d{2,4}\)")
_MRZ_FILLER: Final = "<"
_TD1_ALL: Final = 90
_TD3_ALL: Final = 88
_JMBG_LENGTH: Final = 13
_PRODUCT_ONLY_LENGTHS: Final = frozenset({8, 12, 14})
_LIKELY_JMBG_LENGTHS: Final = range(11, 16)
_PREVIEW: Final = 20
_SERBIAN_LATIN_LAYOUT: Final = str.maketrans({"'": "-", "Č": ":"})
_SERBIAN_LATIN_LETTERS: Final = frozenset("čćđšžČĆĐŠŽ")


def appointment_qr_text(appointment_id: uuid.UUID) -> str:
    """The text to encode in an invitation's appointment QR code."""
    return f"{APPOINTMENT_QR_PREFIX}{appointment_id}"


def classify(text: str, *, today: date) -> Scan:
    """Route `text` by content to one `Scan` value; never raises.

    `today` is the site's date: it decides the century of two-digit birth
    years in an MRZ and refuses birth dates in the future.
    """
    body = text.strip(" \t\r\n")
    if not body.strip(GS + " \t\r\n"):
        return UnknownScan(text, ScanEmpty())
    symbology = _symbology(body)
    if symbology is not None and symbology not in _GS1_PARSER_IDS:
        body = body[len(symbology) :].strip(" \t\r\n")
        if not body:
            return UnknownScan(text, ScanEmpty())
    upper = body.upper()
    if upper.startswith(DCC_PREFIX):
        # base45 has no lower-case letters: upper-casing undoes Caps Lock.
        return DccScan(text, upper)
    appointment = _appointment(text, body)
    if appointment is not None:
        return appointment
    if _looks_like_gs1(body):
        return _gs1(text, body)
    if _MRZ_FILLER in body:
        return _mrz(text, body, today)
    if body.isascii() and body.isdigit():
        return _digits(text, body, today)
    position = _serbian_letter(body)
    if position is not None:
        return UnknownScan(text, ScanKeyboardLayout(position=position))
    return UnknownScan(text, ScanNotRecognised(preview=_preview(body)))


def _appointment(raw: str, body: str) -> Scan | None:
    # A scanner typing through a Serbian Latin layout turns "-" into "'" and
    # ":" into "Č"; neither can be part of an appointment code, so undo them.
    code = body.upper().translate(_SERBIAN_LATIN_LAYOUT)
    if code.startswith(APPOINTMENT_QR_PREFIX):
        code = code[len(APPOINTMENT_QR_PREFIX) :].strip()
        if _UUID.fullmatch(code):
            return AppointmentScan(raw, uuid.UUID(code))
        return UnknownScan(raw, AppointmentCodeInvalid(code=_preview(code)))
    if _UUID.fullmatch(code):
        return AppointmentScan(raw, uuid.UUID(code))
    return None


def _serbian_letter(body: str) -> int | None:
    """Position (from 1) of the first Serbian Latin or Cyrillic letter, if any."""
    for position, char in enumerate(body, start=1):
        if char in _SERBIAN_LATIN_LETTERS or "CYRILLIC" in unicodedata.name(char, ""):
            return position
    return None


def _symbology(body: str) -> str | None:
    prefix = body[:3]
    return prefix if _SYMBOLOGY_ID.fullmatch(prefix) else None


def _looks_like_gs1(body: str) -> bool:
    return (
        GS in body
        or any(stand_in in body for stand_in in _GS1_SEPARATOR_STAND_INS)
        or body[:3] in _GS1_PARSER_IDS
        or _RAW_GS1_START.match(body) is not None
        or _BRACKETED_GS1_START.match(body) is not None
    )


def _gs1(raw: str, body: str) -> Scan:
    try:
        return Gs1Scan(raw, parse_gs1(body))
    except DomainError as error:
        return UnknownScan(raw, error)


def _mrz(raw: str, body: str, today: date) -> Scan:
    if "\r" not in body and "\n" not in body:
        # Some readers send the zone without line breaks.
        if len(body) == _TD1_ALL:
            body = "\n".join((body[0:30], body[30:60], body[60:90]))
        elif len(body) == _TD3_ALL:
            body = "\n".join((body[0:44], body[44:88]))
    try:
        return MrzScan(raw, parse_mrz(body, today=today))
    except DomainError as error:
        return UnknownScan(raw, error)


def _digits(raw: str, body: str, today: date) -> Scan:
    if len(body) == _JMBG_LENGTH:
        try:
            return JmbgScan(raw, parse_jmbg(body, today=today))
        except (JmbgImpossibleDate, JmbgUnknownRegion) as error:
            # Not even shaped like a JMBG: an EAN-13 product barcode is likelier.
            if is_valid_gtin(body):
                return _gs1(raw, body)
            return UnknownScan(raw, error)
        except DomainError as error:
            return UnknownScan(raw, error)
    if len(body) in _PRODUCT_ONLY_LENGTHS and is_valid_gtin(body):
        return _gs1(raw, body)
    if len(body) in _LIKELY_JMBG_LENGTHS:
        return UnknownScan(raw, JmbgWrongLength(length=len(body)))
    return UnknownScan(raw, ScanNotRecognised(preview=_preview(body)))


def _preview(text: str) -> str:
    """A short, printable excerpt of a scan for a message."""
    shown = "".join(char if char.isprintable() else "·" for char in text)
    return shown if len(shown) <= _PREVIEW else shown[:_PREVIEW] + "…"
