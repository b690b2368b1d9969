"""Camera callbacks as Qt signals on the UI thread (app/ui/camera_bridge.py)."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from pathlib import Path

from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from app.scanning.camera import OpenCvCamera, PushedFrames
from app.scanning.decoders import ZxingDecoder
from app.scanning.errors import CameraUnavailable
from app.scanning.scan import AppointmentScan, Gs1Scan, appointment_qr_text
from app.ui.camera_bridge import CameraBridge
from tests.app.scanning.pictures import VIAL_SERIAL, barcode, camera_frame, vial_datamatrix

TODAY = date(2026, 11, 26)


def test_decoded_frames_arrive_as_scans_on_the_ui_thread(qtbot: QtBot) -> None:
    bridge = CameraBridge(ZxingDecoder(), today=lambda: TODAY)
    threads: list[QThread] = []
    scans: list[object] = []

    def on_scan(scan: object) -> None:
        threads.append(QThread.currentThread())
        scans.append(scan)

    bridge.scanned.connect(on_scan)
    appointment_id = uuid.uuid4()
    frames = PushedFrames()
    frames.push(camera_frame(vial_datamatrix(scale=4), size=(480, 640)))
    frames.push(
        camera_frame(barcode(appointment_qr_text(appointment_id), "QRCode"), size=(480, 640))
    )
    frames.end()
    with qtbot.waitSignal(bridge.finished, timeout=10_000):
        bridge.start(lambda: frames)
    qtbot.waitUntil(lambda: len(scans) == 2, timeout=5_000)
    vial, appointment = scans
    assert isinstance(vial, Gs1Scan)
    assert vial.serial == VIAL_SERIAL
    assert isinstance(appointment, AppointmentScan)
    assert appointment.appointment_id == appointment_id
    assert all(t is QThread.currentThread() for t in threads)
    assert threading.current_thread() is threading.main_thread()
    assert bridge.wait(5.0)


def test_no_camera_is_a_problem_signal_not_a_crash(qtbot: QtBot, tmp_path: Path) -> None:
    bridge = CameraBridge(ZxingDecoder(), today=lambda: TODAY)
    with qtbot.waitSignal(bridge.problem, timeout=10_000) as blocker:
        bridge.start(lambda: OpenCvCamera(tmp_path / "no-camera.avi"))
    assert isinstance(blocker.args[0], CameraUnavailable)
    assert bridge.wait(5.0)
    assert not bridge.running


def test_stop_while_waiting_for_frames(qtbot: QtBot) -> None:
    bridge = CameraBridge(ZxingDecoder(), today=lambda: TODAY)
    frames = PushedFrames()
    bridge.start(lambda: frames)
    assert bridge.running
    with qtbot.waitSignal(bridge.finished, timeout=5_000):
        bridge.stop()
    assert bridge.wait(5.0)
