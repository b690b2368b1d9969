"""Scanner input anywhere in the client: a Qt event filter over the whole application.

A keyboard-wedge scanner types into whatever widget has focus. Installed on
the `QApplication`, `ScannerFilter` sees every key first, holds keys back
while they may be a scan (`app.scanning.wedge.BurstDetector`, using each key
event's timestamp) and then either

- swallows them and emits ``scanned(Scan)`` with the classified text
  (`app.scanning.scan.classify`), so a scan never lands in the focused field;
- or replays them, in their original order, to the object that was to
  receive them (the window, which hands them to its focus widget), so a
  person's typing arrives unchanged, only `max_gap_ms` (30 ms) later.

While keys are held every key event is held with them (the Shift presses a
scanner sends around capitals, a person's Ctrl shortcut), so nothing
overtakes anything. Auto-repeated keys are a person holding a key: they end
the hold and pass through.

Shortcuts: Qt matches a key against shortcuts before delivering it. While
keys are held, the filter claims each further key for normal delivery (it
accepts the ``ShortcutOverride``), so the Enter ending a scan never fires
a shortcut bound to Enter. The first key of a burst, and any key a person
types with nothing held, reaches shortcuts as usual. The cost: a key a person
types within 30 ms of the previous one is replayed as a plain key press and
does not fire a shortcut.

The GS separator (0x1D) survives: scanners type it as Ctrl+], which a plain
`QLineEdit` drops; here it is read from the key event and kept in the text.
Enter is read from the key code (Return or Enter) whatever text it carries.

Timers: a key event's timestamp is the time the key was pressed, not when
the event loop got to it, so a scan delivered late by a busy loop still
reads as a burst. When a key is held, a single-shot timer fires at the
detector's deadline; the filter maps its monotonic clock onto the event
clock by the offset seen at the last key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Final

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QWindow
from PySide6.QtWidgets import QWidget

from app.scanning.scan import classify
from app.scanning.wedge import BurstDetector, Scanned, WedgeConfig, WedgeOutput
from domain.gs1 import GS

__all__ = ["ScannerFilter"]

_log = logging.getLogger(__name__)

_ENTER_KEYS: Final = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_KEY_EVENTS: Final = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)


def _monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def _copy(event: QKeyEvent) -> QKeyEvent:
    """A copy that outlives the event Qt delivered (Qt reuses or frees that one)."""
    copy = QKeyEvent(
        event.type(),
        event.key(),
        event.modifiers(),
        event.nativeScanCode(),
        event.nativeVirtualKey(),
        event.nativeModifiers(),
        event.text(),
        event.isAutoRepeat(),
        event.count(),
    )
    copy.setTimestamp(event.timestamp())
    return copy


def scanner_character(event: QKeyEvent) -> str | None:
    """The character a key press contributes to a scan, or None for other keys.

    Enter (either key) is ``\\r``, Tab ``\\t``; Ctrl+] and a GS text are the
    GS separator; otherwise the single printable character the key typed.
    """
    key = event.key()
    if key in _ENTER_KEYS:
        return "\r"
    if key == Qt.Key.Key_Tab:
        return "\t"  # a scanner suffix only if WedgeConfig.terminators has it
    text = event.text()
    if text == GS or (
        key == Qt.Key.Key_BracketRight and event.modifiers() & Qt.KeyboardModifier.ControlModifier
    ):
        return GS
    if len(text) == 1 and text.isprintable():
        return text
    return None


class ScannerFilter(QObject):
    """Turns scanner bursts into ``scanned(Scan)`` and lets typing through; see the module.

    Install it with `install(app)`; `today` gives the site's date for
    `classify`; `clock_ms` is a monotonic millisecond clock (injected by tests).
    """

    scanned = Signal(object)

    def __init__(
        self,
        *,
        config: WedgeConfig | None = None,
        today: Callable[[], date] = date.today,
        clock_ms: Callable[[], int] = _monotonic_ms,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._detector = BurstDetector(config)
        self._today = today
        self._clock_ms = clock_ms
        self._held: list[tuple[QObject, QKeyEvent]] = []
        # C++ addresses of the events being replayed now. Not a flag: a replayed
        # Enter may open a modal dialog whose nested event loop must still be
        # filtered while the replay is in progress.
        self._replaying: set[int] = set()
        self._offset_ms = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_deadline)

    @property
    def config(self) -> WedgeConfig:
        """The burst thresholds in use."""
        return self._detector.config

    @property
    def holding(self) -> bool:
        """Whether key events are held back now."""
        return bool(self._held)

    def install(self, app: QCoreApplication) -> None:
        """Start filtering every key event of `app`."""
        app.installEventFilter(self)

    def uninstall(self, app: QCoreApplication) -> None:
        """Stop filtering; keys held now are decided on at once."""
        app.removeEventFilter(self)
        self._timer.stop()
        self._apply(self._detector.flush())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._replaying and _address(event) in self._replaying:
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            return self._override_shortcut(event)
        if event.type() not in _KEY_EVENTS:
            return False
        if not isinstance(watched, (QWindow, QWidget)) or not isinstance(event, QKeyEvent):
            return False
        if event.type() == QEvent.Type.KeyRelease or event.isAutoRepeat():
            if event.isAutoRepeat() and self._held:
                self._timer.stop()
                self._apply(self._detector.flush())
                return False
            return self._hold_if_holding(watched, event)
        char = scanner_character(event)
        if char is None:
            return self._hold_if_holding(watched, event)
        now = self._clock_ms()
        at = event.timestamp() or now
        self._offset_ms = now - at
        decisions = self._detector.feed(char, at)
        # State first, then act: a replayed key or a `scanned` slot may run a
        # nested event loop (a modal dialog) that feeds this filter again.
        earlier, self._held = self._held, [(watched, _copy(event))]
        self._schedule()
        self._act(decisions, earlier)
        return True

    def _override_shortcut(self, event: QEvent) -> bool:
        # Qt matches shortcuts before the key press reaches any filter. Inside
        # a possible burst, claim the key for normal delivery so that the
        # scanner's Enter cannot trigger, say, a "record dose" shortcut.
        if self._held and isinstance(event, QKeyEvent) and scanner_character(event) is not None:
            event.accept()
            return True
        return False

    def _hold_if_holding(self, watched: QObject, event: QKeyEvent) -> bool:
        if not self._held:
            return False
        self._held.append((watched, _copy(event)))
        return True

    def _schedule(self) -> None:
        deadline = self._detector.deadline()
        if deadline is None:
            self._timer.stop()
            return
        now = self._clock_ms() - self._offset_ms
        self._timer.start(max(0, deadline - now))

    def _on_deadline(self) -> None:
        decisions = self._detector.poll(self._clock_ms() - self._offset_ms)
        if not decisions:
            self._schedule()  # held longer: a scan may still be arriving
            return
        self._apply(decisions)

    def _apply(self, decisions: list[WedgeOutput]) -> None:
        """Act on decisions about everything held now."""
        if decisions:
            held, self._held = self._held, []
            self._act(decisions, held)

    def _act(self, decisions: list[WedgeOutput], held: list[tuple[QObject, QKeyEvent]]) -> None:
        # The detector decides on one segment at a time: `held` is that segment.
        for decision in decisions:
            if isinstance(decision, Scanned):
                self.scanned.emit(classify(decision.text, today=self._today()))
            else:
                self._replay(held)

    def _replay(self, held: list[tuple[QObject, QKeyEvent]]) -> None:
        for receiver, event in held:
            # The stubs say focusObject never returns None; it does when nothing has focus.
            target: QObject | None = (
                receiver if shiboken6.isValid(receiver) else QGuiApplication.focusObject()
            )
            if target is None:
                _log.warning("typed key dropped: its window closed and nothing has focus")
                continue
            address = _address(event)
            self._replaying.add(address)
            try:
                QCoreApplication.sendEvent(target, event)
            finally:
                self._replaying.discard(address)


def _address(event: QEvent) -> int:
    address: int = shiboken6.getCppPointer(event)[0]
    return address
