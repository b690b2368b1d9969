"""The workstation settings dialog (app/ui/settings_dialog.py) in the real client.

Each test starts the client window on the seeded SQLite store (see conftest)
and opens the dialog with the window's "Settings…" action. Cameras are the
true edge: the lister and the frame source factory are injected, the frames
are real barcode pictures made by zxing-cpp and decoded by the real decoder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.scanning.camera import FrameSource, OpenCvCamera, PushedFrames
from app.scanning.errors import CameraUnavailable
from app.services.accounts import idle_lock_policy
from app.services.client_settings import client_settings, save_camera
from app.ui.main_window import MainWindow
from app.ui.settings_dialog import CameraTest, SettingsDialog
from app.ui.text import set_language
from domain.clock import FixedClock
from tests.app.scanning.pictures import VIAL_LOT, VIAL_SERIAL, camera_frame, vial_datamatrix
from tests.app.ui.conftest import ANA, MANAGER_ID, NOW, NURSE_ID, ClientFactory
from tests.app.ui.scanner import send_burst

WAIT_MS = 10_000


class FakeCameras:
    """Camera 0 on this 'machine': each opening shows the test vial's DataMatrix."""

    def __init__(self) -> None:
        self.opened: list[int] = []

    def find(self) -> list[int]:
        return [0]

    def open(self, index: int) -> FrameSource:
        self.opened.append(index)
        frames = PushedFrames(f"camera {index}")
        frames.push(camera_frame(vial_datamatrix(scale=4), size=(480, 640)))
        return frames


def _opened(qtbot: Any, window: MainWindow) -> SettingsDialog:
    assert window.settings_action.isVisible()
    window.settings_action.trigger()
    dialog = window.settings_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=WAIT_MS)
    return dialog


def _offered(dialog: SettingsDialog) -> list[tuple[str, int | None]]:
    combo = dialog.camera_combo
    return [(combo.itemText(row), combo.itemData(row)) for row in range(combo.count())]


def _save(qtbot: Any, window: MainWindow, dialog: SettingsDialog) -> Any:
    with qtbot.waitSignal(window.settings_saved, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.settings_dialog is None, timeout=WAIT_MS)
    # Offscreen nobody hands the focus back when a dialog closes; a desktop does.
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)
    return blocker.args[0]


def test_without_a_camera_only_no_camera_is_offered_and_the_client_keeps_working(
    qtbot: Any, make_client: ClientFactory, store: Any
) -> None:
    engine = store[0]
    client = make_client(find_cameras=lambda: [])
    window = client.window
    assert not window.camera_button.isVisible()

    dialog = _opened(qtbot, window)
    assert _offered(dialog) == [("Bez kamere (samo ručni skener)", None)]
    assert not dialog.test_button.isEnabled()

    stored = _save(qtbot, window, dialog)
    assert stored.camera_index is None
    assert client_settings(engine).camera_index is None
    assert not window.camera_button.isVisible()
    # The hand scanner still finds people.
    with qtbot.waitSignal(window.candidate_shown, timeout=WAIT_MS) as blocker:
        send_burst(ANA)
    assert blocker.args[0].citizen.family_name == "Petrović"


def test_a_camera_is_tested_saved_and_used_by_the_window_without_a_restart(
    qtbot: Any, make_client: ClientFactory, store: Any, artifacts_dir: Path
) -> None:
    engine = store[0]
    cameras = FakeCameras()
    client = make_client(MANAGER_ID, find_cameras=cameras.find, open_camera=cameras.open)
    window = client.window
    assert not window.camera_button.isVisible()

    dialog = _opened(qtbot, window)
    assert _offered(dialog) == [("Bez kamere (samo ručni skener)", None), ("Kamera 1", 0)]
    assert not dialog.idle_minutes.isReadOnly()
    assert not dialog.idle_note.isVisible()
    dialog.choose_camera(0)
    assert dialog.test_button.isEnabled()
    with qtbot.waitSignal(dialog.test_finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    outcome: CameraTest = blocker.args[0]
    assert outcome.works
    assert outcome.frames >= 1
    assert outcome.decoded is not None
    assert VIAL_LOT in outcome.decoded
    assert VIAL_SERIAL in outcome.decoded
    assert "radi i pročitala je kod" in dialog.test_result.text()
    assert VIAL_LOT in dialog.test_result.text()
    assert cameras.opened == [0]

    # The language switches live while the dialog is open.
    set_language("en")
    assert dialog.windowTitle() == "Settings of this workstation"
    assert _offered(dialog)[0] == ("No camera (hand scanner only)", None)
    set_language("sr-Cyrl")
    assert dialog.test_button.text() == "Проба"
    set_language("sr-Latn")
    dialog.grab().save(str(artifacts_dir / "settings.png"))

    dialog.idle_minutes.setValue(12)
    stored = _save(qtbot, window, dialog)
    assert (stored.camera_index, stored.idle_lock_minutes) == (0, 12)
    assert client_settings(engine).camera_index == 0
    assert idle_lock_policy(engine).minutes == 12
    assert client.lock is not None
    assert client.lock.timeout_ms == 12 * 60_000
    assert window.camera_button.isVisible()
    assert window.camera_index == 0

    # The camera button now scans with camera 0: its vial reaches the window's routing.
    with qtbot.waitSignal(window.scan_refused, timeout=WAIT_MS) as refused:
        qtbot.mouseClick(window.camera_button, Qt.MouseButton.LeftButton)
    assert "niko nije prijavljen" in refused.args[0]
    assert cameras.opened == [0, 0]

    # Back to no camera: the button goes (and the running capture stops).
    dialog = _opened(qtbot, window)
    assert not window.camera_button.isChecked()
    dialog.choose_camera(None)
    _save(qtbot, window, dialog)
    assert client_settings(engine).camera_index is None
    assert not window.camera_button.isVisible()


def test_a_nurse_sees_the_lock_time_read_only_and_an_unplugged_camera_is_explained(
    qtbot: Any, make_client: ClientFactory, store: Any
) -> None:
    engine = store[0]
    # Camera 8 was chosen once; this machine has no such camera now.
    save_camera(engine, 7, clock=FixedClock(NOW), actor=NURSE_ID)
    client = make_client(NURSE_ID, find_cameras=lambda: [], open_camera=OpenCvCamera)
    window = client.window
    assert window.camera_button.isVisible()

    dialog = _opened(qtbot, window)
    assert _offered(dialog) == [
        ("Bez kamere (samo ručni skener)", None),
        ("Kamera 8 (sada nije pronađena)", 7),
    ]
    assert dialog.chosen_camera == 7
    assert dialog.idle_minutes.isReadOnly()
    assert dialog.idle_note.isVisible()
    assert dialog.idle_minutes.value() == idle_lock_policy(engine).minutes

    with qtbot.waitSignal(dialog.test_finished, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    outcome: CameraTest = blocker.args[0]
    assert isinstance(outcome.problem, CameraUnavailable)
    assert not outcome.works
    assert "Nijedna kamera nije mogla da se otvori (camera 7)" in dialog.test_result.text()

    # Saving as a nurse keeps the lock time and the chosen camera as they are.
    before = idle_lock_policy(engine).minutes
    stored = _save(qtbot, window, dialog)
    assert stored.camera_index == 7
    assert idle_lock_policy(engine).minutes == before


def test_cancel_stores_nothing_and_keeps_the_window_as_it_was(
    qtbot: Any, make_client: ClientFactory, store: Any
) -> None:
    engine = store[0]
    cameras = FakeCameras()
    client = make_client(find_cameras=cameras.find, open_camera=cameras.open)
    window = client.window

    dialog = _opened(qtbot, window)
    dialog.choose_camera(0)
    qtbot.mouseClick(
        dialog.buttons.button(dialog.buttons.StandardButton.Cancel), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: window.settings_dialog is None, timeout=WAIT_MS)
    assert client_settings(engine).camera_index is None
    assert not window.camera_button.isVisible()
    assert window.camera_index is None
