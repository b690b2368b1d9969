"""Simulated keyboard-wedge scanner: raw key presses a few milliseconds apart, then Enter.

Scanners type fast and end with Enter; `app.ui.scanner_filter.ScannerFilter`
recognises the burst by the key events' timestamps. Each press here is a real
`QKeyEvent` with its own timestamp, sent through the application so its event
filters see it exactly as a USB scanner's keys. GS (0x1D) goes as Ctrl+] with
the GS text, as scanners send it (qtbot.keyClicks would crash on it, see
TOOLCHAIN.md), and Enter as Key_Return.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from domain.gs1 import GS

#: Milliseconds between two keys of a burst (scanners: 1-10 ms).
KEY_GAP_MS = 4


def _press(char: str) -> QKeyEvent:
    if char == "\r":
        return QKeyEvent(
            QEvent.Type.KeyPress, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, "\r"
        )
    if char == GS:
        return QKeyEvent(
            QEvent.Type.KeyPress, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier, GS
        )
    key = ord(char.upper()) if char.isascii() and char.isalnum() else ord(char)
    modifiers = (
        Qt.KeyboardModifier.ShiftModifier if char.isalpha() and char.isupper() else
        Qt.KeyboardModifier.NoModifier
    )  # fmt: skip
    return QKeyEvent(QEvent.Type.KeyPress, key, modifiers, char)


def send_typing(text: str, target: QObject, *, gap_ms: int = 150) -> None:
    """Type `text` (no Enter) as a person does: keys `gap_ms` apart by their timestamps."""
    start = time.monotonic_ns() // 1_000_000
    for number, char in enumerate(text):
        event = _press(char)
        event.setTimestamp(start + number * gap_ms)
        QApplication.sendEvent(target, event)


def send_burst(text: str, target: QObject | None = None, *, gap_ms: int = KEY_GAP_MS) -> None:
    """Type `text` followed by Enter as a scanner does, into `target` (default: focus)."""
    receiver = target or QApplication.focusWidget() or QApplication.activeWindow()
    assert receiver is not None, "nothing to type into: show the window first"
    start = time.monotonic_ns() // 1_000_000
    for number, char in enumerate(f"{text}\r"):
        event = _press(char)
        event.setTimestamp(start + number * gap_ms)
        QApplication.sendEvent(receiver, event)
