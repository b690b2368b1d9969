"""Camera capture and decoding in the background (app/scanning/camera.py)."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.scanning.camera import CameraWorker, OpenCvCamera, PushedFrames, RecentTexts, list_cameras
from app.scanning.decoders import DecodedSymbol, ZxingDecoder, default_decoder
from app.scanning.errors import CameraError, CameraLost, CameraUnavailable
from app.scanning.scan import AppointmentScan, Gs1Scan, appointment_qr_text, classify
from tests.app.scanning.pictures import (
    VIAL_LOT,
    VIAL_SERIAL,
    barcode,
    camera_frame,
    vial_datamatrix,
)

TODAY = date(2026, 11, 26)
WAIT_S = 10.0


class Collector:
    """What a worker reported, and an event set when it finished."""

    def __init__(self) -> None:
        self.symbols: list[DecodedSymbol] = []
        self.problems: list[CameraError] = []
        self.finished = threading.Event()

    def worker(self, open_source, decoder=None, **kwargs) -> CameraWorker:  # type: ignore[no-untyped-def]
        return CameraWorker(
            open_source,
            decoder or ZxingDecoder(),
            self.symbols.append,
            on_problem=self.problems.append,
            on_finished=self.finished.set,
            **kwargs,
        )


def blank(size: tuple[int, int] = (480, 640)) -> np.ndarray:
    return np.full((*size, 3), 140, dtype=np.uint8)


def test_pushed_frames_are_decoded_and_each_code_is_delivered_once() -> None:
    appointment_id = uuid.uuid4()
    vial = camera_frame(vial_datamatrix(scale=4), size=(480, 640), noise=10.0)
    qr = camera_frame(barcode(appointment_qr_text(appointment_id), "QRCode"), size=(480, 640))
    frames = PushedFrames()
    for frame in (blank(), vial, vial, vial, blank(), qr, qr):
        frames.push(frame)
    frames.end()
    got = Collector()
    worker = got.worker(lambda: frames, default_decoder())
    worker.start()
    assert got.finished.wait(WAIT_S)
    assert worker.join(WAIT_S)
    assert worker.frames_decoded == 7
    assert got.problems == []
    scans = [classify(s.text, today=TODAY) for s in got.symbols]
    assert len(scans) == 2
    vial_scan, appointment = scans
    assert isinstance(vial_scan, Gs1Scan)
    assert (vial_scan.lot, vial_scan.serial) == (VIAL_LOT, VIAL_SERIAL)
    assert isinstance(appointment, AppointmentScan)
    assert appointment.appointment_id == appointment_id


def test_the_same_code_comes_again_after_it_left_the_view() -> None:
    vial = camera_frame(vial_datamatrix(scale=4), size=(480, 640))
    frames = PushedFrames()
    for _ in range(4):
        frames.push(vial)
    frames.end()
    # Seen at 0, 1 and 2.5 s (each within 2 s of the last sighting): one delivery.
    # Seen again at 5 s, 2.5 s after the last sighting: delivered again.
    times = iter((0.0, 1.0, 2.5, 5.0))
    got = Collector()
    worker = got.worker(lambda: frames, dedupe_s=2.0, clock=lambda: next(times))
    worker.start()
    assert got.finished.wait(WAIT_S)
    assert len(got.symbols) == 2
    assert got.symbols[0].text == got.symbols[1].text


def test_a_video_file_written_by_opencv_is_read_through_opencvcamera(tmp_path: Path) -> None:
    path = tmp_path / "desk.avi"
    size = (480, 640)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 15.0, (size[1], size[0]))
    assert writer.isOpened()
    appointment_id = uuid.uuid4()
    qr = camera_frame(barcode(appointment_qr_text(appointment_id), "QRCode"), size=size, noise=6)
    vial = camera_frame(vial_datamatrix(scale=5), size=size, angle=10.0, noise=6)
    for frame in [blank(size)] * 3 + [vial] * 5 + [blank(size)] * 2 + [qr] * 5:
        writer.write(frame)
    writer.release()

    got = Collector()
    worker = got.worker(lambda: OpenCvCamera(path))
    worker.start()
    assert got.finished.wait(WAIT_S)
    assert got.problems == []
    assert worker.frames_decoded == 15
    scans = [classify(s.text, today=TODAY) for s in got.symbols]
    assert [type(s) for s in scans] == [Gs1Scan, AppointmentScan]
    assert isinstance(scans[0], Gs1Scan)
    assert scans[0].serial == VIAL_SERIAL


def test_no_camera_is_reported_clearly(tmp_path: Path) -> None:
    with pytest.raises(CameraUnavailable) as raised:
        OpenCvCamera(tmp_path / "missing.avi")
    assert "missing.avi" in str(raised.value)
    got = Collector()
    worker = got.worker(lambda: OpenCvCamera(tmp_path / "missing.avi"))
    worker.start()
    assert got.finished.wait(WAIT_S)
    assert len(got.problems) == 1
    assert isinstance(got.problems[0], CameraUnavailable)
    assert got.problems[0].code == "scan.camera_unavailable"
    assert got.symbols == []


class FailingCamera:
    """A camera that delivers one frame, then fails, as an unplugged USB camera does."""

    name = "camera 0"

    def __init__(self, frame: np.ndarray) -> None:
        self._frames = [frame]
        self.closed = False

    @property
    def ended(self) -> bool:
        return False

    def read(self, timeout_s: float) -> np.ndarray | None:
        if self._frames:
            return self._frames.pop()
        raise CameraLost(source=self.name)

    def close(self) -> None:
        self.closed = True


def test_a_lost_camera_is_reported_and_released() -> None:
    camera = FailingCamera(camera_frame(vial_datamatrix(scale=4), size=(480, 640)))
    got = Collector()
    worker = got.worker(lambda: camera)
    worker.start()
    assert got.finished.wait(WAIT_S)
    assert len(got.symbols) == 1
    assert [type(p) for p in got.problems] == [CameraLost]
    assert camera.closed


class StuckCamera:
    """A camera whose read hangs until released, as a driver sometimes does."""

    name = "camera 0"
    ended = False

    def __init__(self) -> None:
        self.reading = threading.Event()
        self.release = threading.Event()

    def read(self, timeout_s: float) -> np.ndarray | None:
        self.reading.set()
        self.release.wait(WAIT_S)
        return None

    def close(self) -> None:
        pass


def test_stop_never_waits_for_the_camera() -> None:
    camera = StuckCamera()
    got = Collector()
    worker = got.worker(lambda: camera)
    worker.start()
    assert camera.reading.wait(WAIT_S)
    worker.stop()  # returns although the worker is stuck inside read()
    alive_after_stop = worker.running
    camera.release.set()
    assert alive_after_stop
    assert got.finished.wait(WAIT_S)
    assert worker.join(WAIT_S)
    assert got.problems == []
    with pytest.raises(RuntimeError, match="started once"):
        worker.start()


def test_list_cameras_is_safe_without_a_device() -> None:
    found = list_cameras()
    assert all(isinstance(i, int) for i in found)
    assert list_cameras(max_index=0) == []


def test_recent_texts_window() -> None:
    recent = RecentTexts(window_s=2.0)
    assert recent.is_new("a", 0.0)
    assert not recent.is_new("a", 1.5)
    assert not recent.is_new("a", 3.0)  # seen at 1.5: still in view
    assert recent.is_new("b", 3.0)
    assert recent.is_new("a", 5.5)
    with pytest.raises(ValueError, match="negative"):
        RecentTexts(window_s=-1)
