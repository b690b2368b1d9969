"""Camera scanning for Qt widgets: a `CameraWorker` whose callbacks become Qt signals.

The worker decodes on its own thread and calls back there; this QObject lives
on the UI thread, so its signals, emitted from the worker thread, reach the
connected widgets queued on the UI thread. Signals:

- ``scanned(Scan)``: a newly seen code, classified like a scanner burst, so a
  screen handles camera and hand-scanner input with one slot;
- ``symbol_decoded(DecodedSymbol)``: the raw symbol (format, position), for
  drawing a frame around it in a preview;
- ``problem(CameraError)``: no camera, or the camera was lost (show the
  message; the hand scanner keeps working);
- ``finished()``: the worker ended (stopped, problem, end of a video file).

Without a camera nothing breaks: `start_camera` reports ``problem`` and the
rest of the client works on.

The default decoder is zxing-cpp alone, at most 10 frames a second: on an
empty desk (most frames) it costs about 31 ms of CPU per 1280x720 frame,
while the zxing-cpp + zbar chain (`app.scanning.decoders.default_decoder`)
costs about 92 ms, nearly a whole core of a two-core laptop at 10 frames a
second, and zbar read nothing zxing-cpp missed (bench/scanning.py). Pass the
chain as `decoder` where 1D codes are hard to read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QObject, Signal

from app.scanning.camera import CameraWorker, FrameSource, OpenCvCamera
from app.scanning.decoders import DecodedSymbol, Decoder, ZxingDecoder
from app.scanning.errors import CameraError
from app.scanning.scan import classify

__all__ = ["CameraBridge"]


class CameraBridge(QObject):
    """Runs at most one camera worker at a time and turns its callbacks into signals."""

    scanned = Signal(object)
    symbol_decoded = Signal(object)
    problem = Signal(object)
    finished = Signal()

    def __init__(
        self,
        decoder: Decoder | None = None,
        *,
        today: Callable[[], date] = date.today,
        dedupe_s: float = 2.0,
        max_fps: float | None = 10.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._max_fps = max_fps
        self._decoder = decoder if decoder is not None else ZxingDecoder()
        self._today = today
        self._dedupe_s = dedupe_s
        self._worker: CameraWorker | None = None

    @property
    def running(self) -> bool:
        """Whether a worker is capturing now."""
        return self._worker is not None and self._worker.running

    def start_camera(self, index: int) -> None:
        """Capture from camera `index` (see `app.scanning.camera.list_cameras`)."""
        self.start(lambda: OpenCvCamera(index))

    def start(self, open_source: Callable[[], FrameSource]) -> None:
        """Capture from the source `open_source` opens (on the worker thread).

        A running worker is stopped first. Returns at once.
        """
        self.stop()
        worker = CameraWorker(
            open_source,
            self._decoder,
            self._on_symbol,
            on_problem=self._on_problem,
            on_finished=self.finished.emit,
            dedupe_s=self._dedupe_s,
            max_fps=self._max_fps,
        )
        self._worker = worker
        worker.start()

    def stop(self) -> None:
        """Ask the worker to stop; returns at once (``finished`` follows)."""
        if self._worker is not None:
            self._worker.stop()

    def wait(self, timeout_s: float) -> bool:
        """Wait for the last worker to end (at shut-down); True once it has."""
        worker = self._worker
        return worker is None or worker.join(timeout_s)

    # Called on the worker thread.
    def _on_symbol(self, symbol: DecodedSymbol) -> None:
        self.symbol_decoded.emit(symbol)
        self.scanned.emit(classify(symbol.text, today=self._today()))

    def _on_problem(self, error: CameraError) -> None:
        self.problem.emit(error)
