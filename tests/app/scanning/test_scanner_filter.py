"""The application-wide scanner filter (app/ui/scanner_filter.py), driven by raw key events.

Keys are sent as raw `QKeyEvent`s with timestamps, as a keyboard or a scanner
produces them: ``qtbot.keyClicks`` with GS or a newline kills the process
(see TOOLCHAIN.md), and it cannot set timestamps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QWindow
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from app.scanning.scan import Gs1Scan, JmbgScan, MrzScan, Scan, UnknownScan, classify
from app.scanning.wedge import WedgeConfig
from app.ui.scanner_filter import ScannerFilter
from domain.gs1 import GS, Gs1MissingSeparator, encode_gs1
from domain.jmbg import Sex
from domain.mrz import make_td1

TODAY = date(2026, 11, 26)
JMBG = "0101990710016"
GTIN = "09520000100018"
VIAL = encode_gs1(GTIN, date(2027, 3, 31), "LOT42A", "SN000123")
BASE_MS = 5_000_000


def key_of(char: str) -> tuple[Qt.Key, Qt.KeyboardModifier, str]:
    if char in "\r\n":
        return Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, "\r"
    if char == GS:
        return Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier, GS
    modifier = (
        Qt.KeyboardModifier.ShiftModifier if char.isupper() else Qt.KeyboardModifier.NoModifier
    )
    try:
        key = Qt.Key(ord(char.upper()))
    except ValueError:
        key = Qt.Key.Key_unknown
    return key, modifier, char


def press(target: QObject, char: str, at_ms: int) -> None:
    """One key press and release of `char` at `at_ms`, sent to `target`."""
    key, modifier, text = key_of(char)
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        event = QKeyEvent(kind, key, modifier, text)
        event.setTimestamp(at_ms + (1 if kind == QEvent.Type.KeyRelease else 0))
        QApplication.sendEvent(target, event)


def type_text(target: QObject, text: str, start_ms: int, gap_ms: int) -> int:
    """`text` key by key, `gap_ms` apart; returns the time of the last key."""
    at = start_ms
    for i, char in enumerate(text):
        at = start_ms + i * gap_ms
        press(target, char, at)
    return at


class Form(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.name = QLineEdit()
        self.other = QLineEdit()
        layout = QVBoxLayout(self)
        layout.addWidget(self.name)
        layout.addWidget(self.other)


@pytest.fixture
def scanner(qapp: QApplication) -> Iterator[ScannerFilter]:
    scanner_filter = ScannerFilter(today=lambda: TODAY)
    scanner_filter.install(qapp)
    yield scanner_filter
    scanner_filter.uninstall(qapp)


@pytest.fixture
def form(qtbot: QtBot) -> Form:
    widget = Form()
    qtbot.addWidget(widget)
    widget.show()
    widget.activateWindow()
    qtbot.waitExposed(widget)
    widget.name.setFocus()
    return widget


def collect(scanner_filter: ScannerFilter) -> list[Scan]:
    got: list[Scan] = []
    scanner_filter.scanned.connect(got.append)
    return got


def test_human_typing_reaches_the_field_unchanged(
    qtbot: QtBot, scanner: ScannerFilter, form: Form
) -> None:
    got = collect(scanner)
    type_text(form.name, "Petrović Marko", BASE_MS, 140)
    qtbot.waitUntil(lambda: form.name.text() == "Petrović Marko", timeout=2000)
    qtbot.waitUntil(lambda: not scanner.holding, timeout=2000)
    assert got == []


def test_a_jmbg_scan_is_emitted_and_not_typed(
    qtbot: QtBot, scanner: ScannerFilter, form: Form
) -> None:
    returns: list[bool] = []
    form.name.returnPressed.connect(lambda: returns.append(True))
    with qtbot.waitSignal(scanner.scanned, timeout=2000) as blocker:
        type_text(form.name, JMBG + "\r", BASE_MS, 4)
    scan = blocker.args[0]
    assert isinstance(scan, JmbgScan)
    assert scan.jmbg.value == JMBG
    assert form.name.text() == ""
    assert returns == []


def test_the_gs_separator_survives_the_filter(
    qtbot: QtBot, scanner: ScannerFilter, form: Form
) -> None:
    with qtbot.waitSignal(scanner.scanned, timeout=2000) as blocker:
        type_text(form.name, "]d2" + VIAL + "\r", BASE_MS, 3)
    scan = blocker.args[0]
    assert isinstance(scan, Gs1Scan)
    assert GS in scan.raw
    assert (scan.gtin, scan.lot, scan.serial) == (GTIN, "LOT42A", "SN000123")
    assert form.name.text() == ""


def test_without_the_filter_a_line_edit_drops_gs(qtbot: QtBot, form: Form) -> None:
    # Why the filter exists: the same keys typed into a plain QLineEdit lose GS,
    # and the label then reads wrongly (refused here by domain.gs1).
    type_text(form.name, VIAL, BASE_MS, 3)
    assert GS not in form.name.text()
    scan = classify(form.name.text(), today=TODAY)
    assert isinstance(scan, UnknownScan)
    assert isinstance(scan.reason, Gs1MissingSeparator)


def test_a_scan_in_the_middle_of_typing(qtbot: QtBot, scanner: ScannerFilter, form: Form) -> None:
    got = collect(scanner)
    last = type_text(form.name, "ab", BASE_MS, 150)
    last = type_text(form.name, JMBG + "\r", last + 300, 5)
    type_text(form.name, "cd", last + 300, 150)
    qtbot.waitUntil(lambda: form.name.text() == "abcd", timeout=2000)
    qtbot.waitUntil(lambda: len(got) == 1, timeout=2000)
    assert isinstance(got[0], JmbgScan)


def test_a_person_pressing_enter_still_submits(
    qtbot: QtBot, scanner: ScannerFilter, form: Form
) -> None:
    returns: list[bool] = []
    form.name.returnPressed.connect(lambda: returns.append(True))
    type_text(form.name, "12\r", BASE_MS, 200)
    qtbot.waitUntil(lambda: returns == [True], timeout=2000)
    assert form.name.text() == "12"


def test_keys_sent_to_the_window_reach_its_focus_widget(
    qtbot: QtBot, scanner: ScannerFilter, form: Form
) -> None:
    window = form.windowHandle()
    assert window is not None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.name, timeout=2000)
    got = collect(scanner)
    last = type_text(window, "xy", BASE_MS, 200)
    type_text(window, JMBG + "\r", last + 300, 4)
    qtbot.waitUntil(lambda: len(got) == 1, timeout=2000)
    qtbot.waitUntil(lambda: form.name.text() == "xy", timeout=2000)
    assert form.other.text() == ""


def test_shift_presses_of_a_scanner_stay_inside_the_burst(
    qtbot: QtBot, scanner: ScannerFilter, form: Form
) -> None:
    zone = make_td1(
        document_number="012345678",
        birth_date=date(1990, 1, 1),
        sex=Sex.MALE,
        expiry_date=date(2030, 5, 1),
        surname="Petrović",
        given_names="Marko",
        optional_data=JMBG,
    ).replace("\n", "\r")
    at = BASE_MS
    with qtbot.waitSignal(scanner.scanned, timeout=2000) as blocker:
        for char in zone + "\r":
            if char.isalpha():
                shift = QKeyEvent(
                    QEvent.Type.KeyPress, Qt.Key.Key_Shift, Qt.KeyboardModifier.NoModifier
                )
                shift.setTimestamp(at)
                QApplication.sendEvent(form.name, shift)
            press(form.name, char, at + 1)
            at += 3
    assert isinstance(blocker.args[0], MrzScan)
    assert form.name.text() == ""


def test_a_held_key_whose_widget_is_gone_is_not_a_crash(
    qtbot: QtBot, scanner: ScannerFilter, form: Form
) -> None:
    doomed = QLineEdit()
    press(doomed, "z", BASE_MS)
    assert scanner.holding
    doomed.deleteLater()
    qtbot.waitUntil(lambda: not scanner.holding, timeout=2000)


def _click_through_window_system(window: QWindow, keys: list[Qt.Key]) -> None:
    # QTest on a QWindow goes through QWindowSystemInterface, as real keys do,
    # so Qt's shortcut matching runs before the filter sees the key press.
    for key in keys:
        QTest.keyClick(window, key)


def test_the_enter_of_a_scan_does_not_fire_an_enter_shortcut(
    qtbot: QtBot, scanner: ScannerFilter, form: Form
) -> None:
    fired: list[bool] = []
    shortcut = QShortcut(QKeySequence(Qt.Key.Key_Return), form)
    shortcut.activated.connect(lambda: fired.append(True))
    window = form.windowHandle()
    assert window is not None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.name, timeout=2000)
    digits = [Qt.Key(Qt.Key.Key_0.value + int(d)) for d in JMBG]
    with qtbot.waitSignal(scanner.scanned, timeout=2000) as blocker:
        _click_through_window_system(window, [*digits, Qt.Key.Key_Return])
    assert isinstance(blocker.args[0], JmbgScan)
    assert fired == []
    assert form.name.text() == ""
    # A person pressing Enter alone still reaches the shortcut.
    _click_through_window_system(window, [Qt.Key.Key_Return])
    qtbot.waitUntil(lambda: fired == [True], timeout=2000)


def test_scans_are_caught_inside_a_dialog_opened_by_a_typed_enter(
    qtbot: QtBot, scanner: ScannerFilter, form: Form
) -> None:
    # A person's Enter is replayed; its slot runs a modal loop (as QDialog.exec
    # does) and a scan arrives while that loop runs, before the replay returns.
    got = collect(scanner)
    inside: list[str] = []

    def modal() -> None:
        loop = QEventLoop()
        form.name.returnPressed.disconnect(modal)

        def scan_now() -> None:
            type_text(form.other, JMBG + "\r", BASE_MS + 10_000, 4)

        scanner.scanned.connect(loop.quit)
        QTimer.singleShot(0, scan_now)
        QTimer.singleShot(5_000, loop.quit)
        loop.exec()
        inside.append(form.other.text())

    form.name.returnPressed.connect(modal)
    type_text(form.name, "\r", BASE_MS, 200)
    qtbot.waitUntil(lambda: inside != [], timeout=6_000)
    assert inside == [""]
    assert len(got) == 1
    assert isinstance(got[0], JmbgScan)


def test_a_held_down_key_repeats_into_the_field(
    qtbot: QtBot, scanner: ScannerFilter, form: Form
) -> None:
    press(form.name, "a", BASE_MS)
    assert scanner.holding
    for i in range(1, 6):  # auto-repeat, 20 ms apart: as fast as a scanner, but a person
        event = QKeyEvent(
            QEvent.Type.KeyPress, Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier, "a", True
        )
        event.setTimestamp(BASE_MS + 500 + 20 * i)
        QApplication.sendEvent(form.name, event)
    assert form.name.text() == "aaaaaa"
    assert not scanner.holding


def test_uninstalling_releases_held_keys(qapp: QApplication, form: Form) -> None:
    scanner_filter = ScannerFilter(today=lambda: TODAY)
    scanner_filter.install(qapp)
    press(form.name, "q", BASE_MS)
    assert scanner_filter.holding
    scanner_filter.uninstall(qapp)
    assert form.name.text() == "q"
    press(form.name, "r", BASE_MS + 1000)
    assert form.name.text() == "qr"


def tab_press(target: QObject, at_ms: int) -> None:
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        event = QKeyEvent(kind, Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier, "\t")
        event.setTimestamp(at_ms)
        QApplication.sendEvent(target, event)


def test_a_typed_tab_still_moves_the_focus(
    qtbot: QtBot, scanner: ScannerFilter, form: Form
) -> None:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.name, timeout=2000)
    window = form.windowHandle()
    assert window is not None
    tab_press(window, BASE_MS)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.other, timeout=2000)
    type_text(window, "x", BASE_MS + 300, 100)
    qtbot.waitUntil(lambda: form.other.text() == "x", timeout=2000)
    assert form.name.text() == ""


def test_a_scanner_set_to_end_with_tab(qapp: QApplication, qtbot: QtBot, form: Form) -> None:
    scanner_filter = ScannerFilter(config=WedgeConfig(terminators="\r\n\t"), today=lambda: TODAY)
    scanner_filter.install(qapp)
    try:
        with qtbot.waitSignal(scanner_filter.scanned, timeout=2000) as blocker:
            type_text(form.name, JMBG, BASE_MS, 4)
            tab_press(form.name, BASE_MS + 13 * 4)
        assert isinstance(blocker.args[0], JmbgScan)
        assert form.name.text() == ""
    finally:
        scanner_filter.uninstall(qapp)
