"""How the stock screens tell the manager what happened: a coloured banner, and error text.

`Banner` is a label that shows one message at a time in green (done), yellow
(look at this) or red (refused, or do not use); `failure_text` turns a
failed task's exception into the text to show: a `DomainError` in the
current language, anything else as an unexpected failure (logged with its
traceback, never swallowed).
"""

from __future__ import annotations

import logging
from typing import Final

from PySide6.QtWidgets import QLabel, QWidget

from app.ui.text import tr, translate_error
from domain.errors import DomainError

log = logging.getLogger("imuno.site.ui")

_OK: Final = "background: #d9f2dd; color: #0b4a1a; padding: 8px;"
_WARNING: Final = "background: #fff4c2; color: #5a4300; padding: 8px; font-weight: bold;"
_BAD: Final = "background: #fbdada; color: #7a0010; padding: 8px; font-weight: bold;"


def failure_text(error: BaseException) -> str:
    """What to tell the person about `error` (see the module docstring)."""
    if isinstance(error, DomainError):
        return translate_error(error)
    log.error("unexpected failure in the stock screens", exc_info=error)
    return tr(
        "ui.stock.unexpected",
        "Something went wrong that the program did not expect ({error}). Nothing was "
        "recorded. Try again; if it repeats, call the help desk.",
        error=type(error).__name__,
    )


class Banner(QLabel):
    """One message, coloured by what it means; hidden when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stockBanner")
        self.setWordWrap(True)
        self.level = ""
        self.hide()

    def show_ok(self, text: str) -> None:
        self._show(text, "ok", _OK)

    def show_warning(self, text: str) -> None:
        self._show(text, "warning", _WARNING)

    def show_bad(self, text: str) -> None:
        self._show(text, "bad", _BAD)

    def clear_message(self) -> None:
        self.level = ""
        self.clear()
        self.hide()

    def _show(self, text: str, level: str, style: str) -> None:
        self.level = level
        self.setText(text)
        self.setStyleSheet(style)
        self.show()
