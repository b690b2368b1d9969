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

from pathlib import Path

from central.certificates.errors import InputUnreadable, NoQrCode
from domain.certificates.qr_read import PREFIX, UnreadableSource, find_qr_text


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
    try:
        text = find_qr_text(data)
    except UnreadableSource as exc:
        raise InputUnreadable(input=source, problem=exc.problem) from exc
    if text is None:
        raise NoQrCode(input=source)
    return text
