"""A certificate's QR text from what a verifier has: the text, an image, or a PDF.

- text starting with ``HC1:`` is taken as it is;
- a file starting with ``%PDF`` is rasterised page by page with pypdfium2
  (at 200 dpi, enough for the 62 mm QR code of `domain.certificates.pdf`)
  and each page searched with zxing-cpp;
- a file holding ``HC1:`` text is read as text;
- any other file is opened as an image (PNG, JPEG, ...) and searched.

The first QR code whose text starts with ``HC1:`` wins; failing that, the
first QR code at all (so the verdict can say what was scanned instead).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import zxingcpp
from PIL import Image, UnidentifiedImageError

from central.certificates.errors import InputUnreadable, NoQrCode

PREFIX: Final = "HC1:"
PDF_DPI: Final = 200


def read_qr_text(source: str) -> str:
    """The QR text in `source` (text, or a path to an image or a PDF).

    Raises `InputUnreadable` for a missing or unreadable file and
    `NoQrCode` for an image or PDF without a QR code.
    """
    if source.startswith(PREFIX):
        return source
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputUnreadable(input=source, problem=exc.strerror or str(exc)) from exc
    if data.startswith(PREFIX.encode("ascii")):
        return data.decode("ascii", errors="replace").strip()
    images = _pdf_pages(data, source) if data.startswith(b"%PDF") else [_image(data, source)]
    texts = list(_qr_texts(images))
    if not texts:
        raise NoQrCode(input=source)
    return next((text for text in texts if text.startswith(PREFIX)), texts[0])


def _image(data: bytes, source: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise InputUnreadable(input=source, problem="it is not an image or a PDF") from exc
    return image


def _pdf_pages(data: bytes, source: str) -> list[Image.Image]:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise InputUnreadable(input=source, problem="the PDF cannot be opened") from exc
    try:
        return [page.render(scale=PDF_DPI / 72).to_pil() for page in document]
    finally:
        document.close()


def _qr_texts(images: Iterable[Image.Image]) -> Iterable[str]:
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    for image in images:
        for barcode in zxingcpp.read_barcodes(image, formats=formats):
            yield str(barcode.text)
