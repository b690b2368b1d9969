"""A certificate's QR text from the bytes a verifier holds: ``HC1:`` text, a PDF, or an image.

Shared by the hub's ``imuno-cert verify`` and the site's verify screen; each
reads the file itself and turns `UnreadableSource` and a missing code into
its own message.

- bytes starting with ``HC1:`` are that text;
- bytes starting with ``%PDF`` are rendered page by page with pypdfium2 at
  `PDF_DPI` (plenty for the 62 mm QR code of `domain.certificates.pdf`) and
  each page searched with zxing-cpp;
- anything else is opened as an image (PNG, JPEG, ...) and searched.

The first QR code whose text starts with ``HC1:`` wins; failing that, the
first QR code at all, so the verdict can say what was scanned instead.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Final

import zxingcpp
from PIL import Image, UnidentifiedImageError

PREFIX: Final = "HC1:"
PDF_DPI: Final = 200


class UnreadableSource(Exception):
    """The bytes are neither ``HC1:`` text, a PDF nor an image; `problem` says which part failed."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def find_qr_text(data: bytes) -> str | None:
    """The certificate QR text in `data`; None when it holds no QR code.

    Raises `UnreadableSource` when `data` cannot be opened as a PDF or an image.
    """
    if data.startswith(PREFIX.encode("ascii")):
        return data.decode("ascii", errors="replace").strip()
    images = _pdf_pages(data) if data.startswith(b"%PDF") else [_image(data)]
    texts = list(_qr_texts(images))
    if not texts:
        return None
    return next((text for text in texts if text.startswith(PREFIX)), texts[0])


def _image(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise UnreadableSource("it is not an image or a PDF") from exc
    return image


def _pdf_pages(data: bytes) -> list[Image.Image]:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise UnreadableSource("the PDF cannot be opened") from exc
    try:
        return [page.render(scale=PDF_DPI / 72).to_pil() for page in document]
    finally:
        document.close()


def _qr_texts(images: Iterable[Image.Image]) -> Iterable[str]:
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    for image in images:
        for barcode in zxingcpp.read_barcodes(image, formats=formats):
            yield str(barcode.text)
