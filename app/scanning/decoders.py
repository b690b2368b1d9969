"""Barcode decoders for camera frames, behind one interface.

- `ZxingDecoder` (zxing-cpp) reads GS1 DataMatrix (vial and carton labels),
  QR (appointment codes, certificates), PDF417 (ID documents) and Code128.
- `ZbarDecoder` (pyzbar) reads 1D codes and QR; it cannot read DataMatrix or
  PDF417. It is the second opinion for 1D codes.
- `ChainDecoder` asks each decoder in turn and returns the first that finds
  anything.

GS1 content is returned as a scanner set to send symbology identifiers types
it: the identifier of the GS1 symbology (``]d2`` GS1 DataMatrix, ``]Q3`` GS1
QR, ``]C1`` GS1-128) followed by the element string with GS (0x1D) between
variable-length fields, which `app.scanning.scan.classify` routes to
`domain.gs1`. zxing-cpp 3.1 is read in its ``Plain`` text mode, which keeps
the GS byte; its default ``HRI`` mode renders GS1 content in the bracketed
form ``(01)...(21)...`` and ``Escaped`` writes ``<GS>``. It marks GS1 content
with ``ContentType.GS1``. Its own symbology identifier is not used: it
reports ``]d8`` for a GS1 DataMatrix, not the ``]d2`` of ISO/IEC 16022.

Images are numpy arrays: grayscale ``(height, width)`` or BGR
``(height, width, 3)`` of ``uint8``, as OpenCV delivers them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np
import zxingcpp
from numpy.typing import NDArray

from app.scanning.errors import DecoderUnavailable

__all__ = [
    "DEFAULT_ZBAR_SYMBOLS",
    "DEFAULT_ZXING_FORMATS",
    "ChainDecoder",
    "DecodedSymbol",
    "Decoder",
    "Image",
    "ZbarDecoder",
    "ZxingDecoder",
    "default_decoder",
]

_log = logging.getLogger(__name__)

Image = NDArray[np.uint8]
Point = tuple[int, int]

DEFAULT_ZXING_FORMATS: Final = ("DataMatrix", "QRCode", "PDF417", "Code128")
DEFAULT_ZBAR_SYMBOLS: Final = ("CODE128", "QRCODE", "EAN13", "EAN8")

# Symbology identifiers (ISO/IEC 15424) of GS1 content, by our format name.
_GS1_IDENTIFIER: Final = {
    "DataMatrix": "]d2",
    "QRCode": "]Q3",
    "Code128": "]C1",
    "DataBarExpanded": "]e0",
    "DataBar": "]e0",
}
# zbar type names -> the format names used here (zxing-cpp's enum names).
_ZBAR_FORMAT: Final = {
    "CODE128": "Code128",
    "QRCODE": "QRCode",
    "EAN13": "EAN13",
    "EAN8": "EAN8",
    "UPCA": "UPCA",
    "UPCE": "UPCE",
    "CODE39": "Code39",
    "CODE93": "Code93",
    "I25": "ITF",
    "DATABAR": "DataBar",
    "DATABAR_EXP": "DataBarExpanded",
    "PDF417": "PDF417",
}


@dataclass(frozen=True, slots=True)
class DecodedSymbol:
    """One barcode found in an image.

    - `format`: the symbology (``"DataMatrix"``, ``"QRCode"``, ``"PDF417"``,
      ``"Code128"``, ``"EAN13"``, ...).
    - `text`: the content; GS1 content with its symbology identifier and GS
      separators (see the module docstring).
    - `position`: the symbol's corners in pixels, clockwise from top-left as
      the decoder reports them.
    - `gs1`: whether the symbol is marked as GS1 content.
    """

    format: str
    text: str
    position: tuple[Point, ...]
    gs1: bool = False


class Decoder(Protocol):
    """Finds barcodes in an image."""

    def decode(self, image: Image) -> list[DecodedSymbol]:
        """Every barcode found in `image` (empty when there is none)."""
        ...


def _check_image(image: Image) -> None:
    if image.dtype != np.uint8 or not (
        image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)
    ):
        raise ValueError(
            f"expected a grayscale or BGR uint8 image, got {image.dtype} {image.shape}"
        )


class ZxingDecoder:
    """zxing-cpp, limited to `formats` (naming them makes decoding several times faster)."""

    def __init__(
        self,
        formats: Sequence[str] = DEFAULT_ZXING_FORMATS,
        *,
        try_rotate: bool = True,
        try_invert: bool = False,
        try_downscale: bool = True,
    ) -> None:
        """Raises ``ValueError`` for a format name zxing-cpp does not know.

        `try_rotate` finds 1D codes held sideways (2D codes are found at any
        angle regardless). `try_invert` also looks for light-on-dark codes;
        printed labels are dark on light, and trying both doubles the time
        of a frame without a code (bench/scanning.py), so it is off.
        """
        if not formats:
            raise ValueError("name at least one barcode format")
        try:
            members = [getattr(zxingcpp.BarcodeFormat, name) for name in formats]
        except AttributeError as error:
            raise ValueError(f"unknown zxing-cpp barcode format in {formats!r}") from error
        self.formats: Final = tuple(formats)
        self._formats = zxingcpp.BarcodeFormats(members)
        self._try_rotate = try_rotate
        self._try_invert = try_invert
        self._try_downscale = try_downscale

    def decode(self, image: Image) -> list[DecodedSymbol]:
        _check_image(image)
        found = zxingcpp.read_barcodes(
            np.ascontiguousarray(image),
            formats=self._formats,
            text_mode=zxingcpp.TextMode.Plain,
            try_rotate=self._try_rotate,
            try_invert=self._try_invert,
            try_downscale=self._try_downscale,
        )
        return [self._symbol(barcode) for barcode in found]

    @staticmethod
    def _symbol(barcode: Any) -> DecodedSymbol:
        name = barcode.format.name
        gs1 = barcode.content_type == zxingcpp.ContentType.GS1
        text = str(barcode.text)
        if gs1 and name in _GS1_IDENTIFIER:
            text = _GS1_IDENTIFIER[name] + text
        pos = barcode.position
        points = (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
        corners = tuple((int(p.x), int(p.y)) for p in points)
        return DecodedSymbol(format=name, text=text, position=corners, gs1=gs1)


class ZbarDecoder:
    """pyzbar (zbar): 1D codes and QR, no DataMatrix or PDF417.

    zbar does not mark GS1-128 content (it drops the leading FNC1 and keeps
    the GS between fields), so its symbols have ``gs1=False``; the element
    string still classifies as GS1 by its content.
    """

    def __init__(self, symbols: Sequence[str] = DEFAULT_ZBAR_SYMBOLS) -> None:
        """Raises `DecoderUnavailable` when the zbar library is not installed."""
        try:
            from pyzbar import pyzbar
        except ImportError as error:  # libzbar0 missing: a deployment fault a person can fix
            raise DecoderUnavailable(name="zbar", problem=str(error)) from error
        if not symbols:
            raise ValueError("name at least one zbar symbol type")
        try:
            self._symbols = [pyzbar.ZBarSymbol[name] for name in symbols]
        except KeyError as error:
            raise ValueError(f"unknown zbar symbol type in {symbols!r}") from error
        self._pyzbar = pyzbar
        self.symbols: Final = tuple(symbols)

    def decode(self, image: Image) -> list[DecodedSymbol]:
        _check_image(image)
        gray = image if image.ndim == 2 else _to_gray(image)
        found = self._pyzbar.decode(np.ascontiguousarray(gray), symbols=self._symbols)
        return [
            DecodedSymbol(
                format=_ZBAR_FORMAT.get(item.type, item.type),
                text=_text(item.data),
                position=tuple((int(p.x), int(p.y)) for p in item.polygon),
            )
            for item in found
        ]


def _to_gray(image: Image) -> Image:
    import cv2

    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # zbar passes bytes through; Latin-1 keeps every byte visible rather than failing.
        return data.decode("latin-1")


class ChainDecoder:
    """Asks `decoders` in order; the first non-empty answer wins."""

    def __init__(self, decoders: Iterable[Decoder]) -> None:
        self.decoders: Final = tuple(decoders)
        if not self.decoders:
            raise ValueError("a chain needs at least one decoder")

    def decode(self, image: Image) -> list[DecodedSymbol]:
        for decoder in self.decoders:
            found = decoder.decode(image)
            if found:
                return found
        return []


def default_decoder() -> ChainDecoder:
    """zxing-cpp with the default formats, then zbar when it is installed.

    A missing zbar is logged, not raised: zxing-cpp alone reads every code
    the site needs, zbar is only a second opinion for 1D codes.
    """
    decoders: list[Decoder] = [ZxingDecoder()]
    try:
        decoders.append(ZbarDecoder())
    except DecoderUnavailable as error:
        _log.warning("camera decoding without zbar: %s", error)
    return ChainDecoder(decoders)
