"""The printed certificate: one A4 page with the QR code, as PDF bytes.

The page shows the holder's name (as written, and in the ICAO form a border
officer compares with the passport), date of birth, every dose of the series
(product, lot, date, site), the UVCI, issuer and validity, and the QR code
that carries the signed certificate.

Languages: ``"sr-Latn"`` and ``"sr-Cyrl"`` print every heading and label in
Serbian, in that script, with the English text under it (a DCC is read
abroad, and the EU format asks for English beside the national language);
``"en"`` prints English only. Labels come from the message catalogues
(``certificate.pdf.*``): Serbian Latin in ``domain/locale/certificates.sr-Latn.json``,
Cyrillic derived from it. Values (names, product names, site names) are
printed as given: pass the holder's name in the script the page should show.

The QR code is made by zxing-cpp at error correction level Q, with a fixed
mask pattern (see `_QR_MASK`), and drawn as a
1-bit image, one pixel per module, scaled up without interpolation so every
module stays a sharp square. Font: DejaVu Sans, shipped in ``fonts/`` (it covers Serbian
Latin with diacritics and Cyrillic), embedded as a subset; headings are
emboldened by stroking the outlines, so only one font is embedded.

Output is deterministic (reportlab's invariant mode): the same input gives the
same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Final

import numpy as np
import zxingcpp
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from domain.i18n import Language, translate

__all__ = ["CertificateDocument", "DoseLine", "render_certificate_pdf"]

_FONT: Final = "ImunoDejaVuSans"
_PAGE_WIDTH, _PAGE_HEIGHT = A4
_MARGIN: Final = 18 * mm
_QR_SIZE: Final = 62 * mm
_GREY: Final = (0.35, 0.35, 0.35)
_FILL: Final = 0
_FILL_AND_STROKE: Final = 2
_BOLD_STROKE: Final = 0.4  # points of outline stroked around bold glyphs
_WHITE_THRESHOLD: Final = 128
# A fixed QR mask pattern (ISO/IEC 18004 lets the encoder pick any of the 8):
# scoring all 8, as zxing-cpp does by default, was a third of the time to issue
# a certificate. Measured over 150 certificates drawn at 3 px per module with
# blur and noise, mask 0 decoded as often as the scored choice (8 vs 11 failures);
# the page prints at about 0.6 mm per module, far from that margin.
_QR_MASK: Final = 0

# English defaults of every label; Serbian lives in the catalogue.
_LABELS: Final[dict[str, str]] = {
    "country": "Republic of Serbia",
    "title": "EU Digital COVID Certificate",
    "subtitle": "Vaccination certificate",
    "holder": "Certificate holder",
    "name": "Surname(s) and forename(s)",
    "name_icao": "Standardised name (ICAO 9303)",
    "date_of_birth": "Date of birth",
    "doses": "Vaccination",
    "dose": "Dose",
    "vaccine": "Vaccine",
    "lot": "Lot",
    "date": "Date",
    "site": "Vaccination site",
    "uvci": "Unique certificate identifier (UVCI)",
    "issuer": "Certificate issuer",
    "issued_on": "Issued on",
    "valid_until": "Valid until",
    "note": "Scan the QR code to check that this certificate is genuine. "
    "This certificate is not a travel document.",
}


@dataclass(frozen=True)
class DoseLine:
    """One dose as printed: `product` is the name a person reads (e.g. "Comirnaty")."""

    dose_number: int
    total_doses: int
    product: str
    lot: str
    date: date
    site: str


@dataclass(frozen=True)
class CertificateDocument:
    """What the page shows besides the QR code.

    `date_of_birth` is a date or a DCC partial date (``"1950"``, ``"1950-04"``,
    ``""`` when unknown). `name_icao` is the ``fnt<<gnt`` line, e.g.
    ``"DORDEVIC<<MILICA"``. `doses` are printed in the order given.
    """

    family_name: str
    given_name: str
    name_icao: str
    date_of_birth: date | str
    doses: tuple[DoseLine, ...]
    uvci: str
    issuer: str
    issued_on: date
    valid_until: date


def render_certificate_pdf(
    document: CertificateDocument, qr_text: str, language: Language
) -> bytes:
    """One A4 page with `document` and the QR code of `qr_text`, as PDF bytes."""
    _register_fonts()
    buffer = io.BytesIO()
    with _binary_streams():
        canvas = Canvas(
            buffer, pagesize=A4, invariant=True, pageCompression=1, initialFontName=_FONT
        )
        canvas.setTitle(_label("title", "en"))
        _Page(canvas, language).draw(document, qr_text)
        canvas.showPage()
        canvas.save()
    return buffer.getvalue()


@contextmanager
def _binary_streams() -> Iterator[None]:
    """Write PDF streams as plain Flate data, without the ASCII85 layer.

    reportlab wraps every stream in ASCII85 by default (a 7-bit-clean file, of
    no use here): 25 % larger and a large share of the rendering time. The
    switch is reportlab's global ``rl_config.useA85``, so it is set for the
    rendering and restored after; a PDF rendered by another thread meanwhile
    is equally valid with or without ASCII85.
    """
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = previous


class _Page:
    """Draws the page top-down; `y` is the baseline of the next line."""

    def __init__(self, canvas: Canvas, language: Language) -> None:
        self.canvas = canvas
        self.language = language
        self.bilingual = language != "en"
        self.y = _PAGE_HEIGHT - _MARGIN
        self.text = canvas.beginText()
        self._size = 0.0
        self._grey = False
        self._bold = False

    def draw(self, document: CertificateDocument, qr_text: str) -> None:
        self._header()
        self._qr(qr_text)
        self._holder(document)
        self._doses(document.doses)
        self._certificate(document)
        self._note()
        self.finish()

    def _header(self) -> None:
        self._text(_MARGIN, self.y, self._primary("country").upper(), 9, bold=True)
        if self.bilingual:
            self._text(_MARGIN, self.y - 11, _label("country", "en").upper(), 8, grey=True)
        self.y -= 40
        self._text(_MARGIN, self.y, self._primary("title"), 18, bold=True)
        self.y -= 20
        self._text(_MARGIN, self.y, self._primary("subtitle"), 13)
        if self.bilingual:
            self.y -= 16
            english = f"{_label('title', 'en')}: {_label('subtitle', 'en')}"
            self._text(_MARGIN, self.y, english, 10, grey=True)
        self.y -= 14
        self.canvas.setLineWidth(0.6)
        self.canvas.line(_MARGIN, self.y, _PAGE_WIDTH - _MARGIN, self.y)
        self.y -= 10

    def _qr(self, qr_text: str) -> None:
        top = self.y
        x = _PAGE_WIDTH - _MARGIN - _QR_SIZE
        self.canvas.addLiteral(_qr_inline_image(qr_text, x, top - _QR_SIZE, _QR_SIZE))
        self._qr_bottom = top - _QR_SIZE

    def _holder(self, document: CertificateDocument) -> None:
        self.y -= 14
        self._heading("holder")
        name = (
            f"{document.family_name}, {document.given_name}"
            if document.given_name
            else (document.family_name)
        )
        self._field("name", name, size=14)
        self._field("name_icao", document.name_icao, size=10)
        self._field("date_of_birth", self._date(document.date_of_birth))
        self.y = min(self.y, self._qr_bottom - 14)

    def _doses(self, doses: tuple[DoseLine, ...]) -> None:
        self._heading("doses")
        columns = (
            ("dose", _MARGIN),
            ("vaccine", _MARGIN + 20 * mm),
            ("lot", _MARGIN + 68 * mm),
            ("date", _MARGIN + 98 * mm),
            ("site", _MARGIN + 124 * mm),
        )
        for key, x in columns:
            self._text(x, self.y, self._primary(key), 8, bold=True)
            if self.bilingual:
                self._text(x, self.y - 9, _label(key, "en"), 7, grey=True)
        self.y -= 22 if self.bilingual else 13
        for dose in doses:
            values = (
                f"{dose.dose_number}/{dose.total_doses}",
                dose.product,
                dose.lot,
                self._date(dose.date),
                dose.site,
            )
            widths = (20, 48, 30, 26, _PAGE_WIDTH / mm - 2 * _MARGIN / mm - 124)
            for (_, x), value, width in zip(columns, values, widths, strict=True):
                self._text(x, self.y, _fit(value, width * mm - 4, 10), 10)
            self.y -= 15
        self.y -= 8

    def _certificate(self, document: CertificateDocument) -> None:
        self._field("uvci", document.uvci, size=10)
        self._field("issuer", document.issuer)
        self._field("issued_on", self._date(document.issued_on))
        self._field("valid_until", self._date(document.valid_until))

    def _note(self) -> None:
        self.y = max(min(self.y, 40 * mm), _MARGIN + 20)
        self.canvas.setLineWidth(0.3)
        self.canvas.line(_MARGIN, self.y + 12, _PAGE_WIDTH - _MARGIN, self.y + 12)
        self._text(_MARGIN, self.y, self._primary("note"), 8)
        if self.bilingual:
            self._text(_MARGIN, self.y - 11, _label("note", "en"), 7, grey=True)

    def _heading(self, key: str) -> None:
        self._text(_MARGIN, self.y, self._primary(key).upper(), 10, bold=True)
        if self.bilingual:
            self.y -= 11
            self._text(_MARGIN, self.y, _label(key, "en").upper(), 7, grey=True)
        self.y -= 18

    def _field(self, key: str, value: str, *, size: float = 11) -> None:
        label = self._primary(key)
        if self.bilingual:
            label = f"{label} / {_label(key, 'en')}"
        self._text(_MARGIN, self.y, label, 7.5, grey=True)
        self.y -= size + 3
        self._text(_MARGIN, self.y, value, size, bold=size >= 14)
        self.y -= 13

    def _primary(self, key: str) -> str:
        return _label(key, self.language)

    def _date(self, value: date | str) -> str:
        if isinstance(value, date):
            return value.strftime("%d.%m.%Y.") if self.bilingual else value.isoformat()
        if not value:
            return "-"
        if not self.bilingual:
            return value
        return ".".join(reversed(value.split("-"))) + "."

    def _text(
        self, x: float, y: float, text: str, size: float, *, bold: bool = False, grey: bool = False
    ) -> None:
        # All text goes into one text object, and font, colour and rendering mode
        # are only written when they change: far fewer PDF operators per page.
        self.text.setTextOrigin(x, y)
        if size != self._size:
            self.text.setFont(_FONT, size)
            self._size = size
        if grey != self._grey:
            self.text.setFillColorRGB(*(_GREY if grey else (0, 0, 0)))
            self._grey = grey
        if bold != self._bold:
            # Stroking the outlines as well as filling them emboldens the one
            # embedded font; a second (bold) font would cost a second subset.
            self.text.setTextRenderMode(_FILL_AND_STROKE if bold else _FILL)
            self._bold = bold
        self.text.textOut(text)

    def finish(self) -> None:
        """Put the collected text on the page."""
        self.canvas.setStrokeColorRGB(0, 0, 0)
        self.canvas.setLineWidth(_BOLD_STROKE)
        self.canvas.drawText(self.text)


@cache
def _label(key: str, language: Language) -> str:
    return translate(f"certificate.pdf.{key}", language, _LABELS[key])


def _fit(text: str, width: float, size: float) -> str:
    """`text`, cut with an ellipsis so it fits `width` points (long site or product names)."""
    if pdfmetrics.stringWidth(text, _FONT, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", _FONT, size) > width:
        text = text[:-1]
    return text + "…"


def _qr_inline_image(qr_text: str, x: float, y: float, size: float) -> str:
    """PDF operators drawing the QR code of `qr_text` as a 1-bit inline image.

    One bit per module, hex-encoded, in the page's own content stream: a few
    kilobytes that compress with the page, where a greyscale image XObject
    would cost a separate, slower-to-compress stream. Black is 0 (DeviceGray).
    """
    barcode = zxingcpp.create_barcode(
        qr_text, zxingcpp.BarcodeFormat.QRCode, ec_level="Q", data_mask=_QR_MASK
    )
    pixels = np.asarray(barcode.to_image(scale=1, add_quiet_zones=True))
    height, width = pixels.shape
    bits = np.packbits(pixels >= _WHITE_THRESHOLD, axis=1)  # rows padded to whole bytes
    return (
        f"q {size:.3f} 0 0 {size:.3f} {x:.3f} {y:.3f} cm "
        f"BI /W {width} /H {height} /BPC 1 /CS /G /F /AHx ID "
        f"{bits.tobytes().hex()}> EI Q"
    )


@cache
def _register_fonts() -> None:
    font = resources.files("domain.certificates") / "fonts" / "DejaVuSans-subset.ttf"
    with resources.as_file(font) as path:
        pdfmetrics.registerFont(TTFont(_FONT, str(path)))
