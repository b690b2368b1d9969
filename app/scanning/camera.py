"""Camera capture and decoding in a background thread, without Qt.

- `FrameSource` is where pictures come from: `OpenCvCamera` (a camera index or
  a video file, through ``cv2.VideoCapture``) or `PushedFrames` (frames handed
  in by a test or another component).
- `CameraWorker` opens a source in its own thread, decodes every frame with a
  `Decoder` and calls back with each decoded symbol once: the same text is not
  delivered again while it stays in view (seen again within `dedupe_s`).
  `start` and `stop` return at once; a camera that cannot be opened or stops
  working is reported through `on_problem` with a `CameraError` a nurse can
  read, and the site keeps working with the hand scanner.
- `list_cameras` finds camera indices without opening anything that is not
  there, so it is safe on a machine without a camera.

Callbacks run on the worker thread: a UI must hand them over to its own
thread (`app.ui.camera_bridge` does, with a Qt signal).
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final, Protocol

import cv2
import numpy as np

from app.scanning.decoders import DecodedSymbol, Decoder, Image
from app.scanning.errors import CameraError, CameraLost, CameraUnavailable

__all__ = [
    "CameraWorker",
    "FrameSource",
    "OpenCvCamera",
    "PushedFrames",
    "RecentTexts",
    "list_cameras",
]

_log = logging.getLogger(__name__)

READ_TIMEOUT_S: Final = 0.1


class FrameSource(Protocol):
    """A stream of pictures."""

    @property
    def name(self) -> str:
        """How the source is named in messages (``camera 0``, a file name)."""
        ...

    @property
    def ended(self) -> bool:
        """True once the source will never deliver another frame."""
        ...

    def read(self, timeout_s: float) -> Image | None:
        """The next frame, or None when none came within about `timeout_s` or the source ended.

        Raises `CameraLost` when a device stops working.
        """
        ...

    def close(self) -> None:
        """Release the device or file; idempotent."""
        ...


class PushedFrames:
    """Frames pushed in by someone else (tests, a frame grabber of another library).

    Thread-safe: `push` and `end` from any thread, `read` from the worker.
    """

    def __init__(self, name: str = "pushed frames") -> None:
        self._name = name
        self._queue: queue.Queue[Image | None] = queue.Queue()
        self._ended = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def ended(self) -> bool:
        return self._ended

    def push(self, frame: Image) -> None:
        """Queue one frame."""
        self._queue.put(frame)

    def end(self) -> None:
        """No more frames will come: the worker stops after the queued ones."""
        self._queue.put(None)

    def read(self, timeout_s: float) -> Image | None:
        if self._ended:
            return None
        try:
            frame = self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return None
        if frame is None:
            self._ended = True
        return frame

    def close(self) -> None:
        self._ended = True


class OpenCvCamera:
    """A camera (by index) or a video file (by path) read with ``cv2.VideoCapture``.

    Opening blocks (a USB camera can take a second or more): open it on the
    worker thread, which `CameraWorker` does with its `open_source` factory.
    A file ends at its last frame; a camera that fails `max_failures` reads
    in a row is lost.
    """

    def __init__(
        self,
        source: int | str | Path,
        *,
        width: int | None = 1280,
        height: int | None = 720,
        max_failures: int = 50,
    ) -> None:
        """Raises `CameraUnavailable` if the camera or file cannot be opened."""
        self._is_file = not isinstance(source, int)
        self._name = f"camera {source}" if isinstance(source, int) else Path(source).name
        self._max_failures = max_failures
        self._failures = 0
        self._ended = False
        capture = cv2.VideoCapture(source if isinstance(source, int) else str(source))
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(source=self._name)
        if not self._is_file:
            # Decoding is slower than the camera: keep one frame queued, not a
            # backlog that makes the picture lag behind the vial in the hand.
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            if width is not None:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            if height is not None:
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._capture: cv2.VideoCapture | None = capture

    @property
    def name(self) -> str:
        return self._name

    @property
    def ended(self) -> bool:
        return self._ended

    def read(self, timeout_s: float) -> Image | None:
        if self._capture is None or self._ended:
            return None
        ok, frame = self._capture.read()
        if ok and frame is not None:
            self._failures = 0
            return np.asarray(frame, dtype=np.uint8)
        if self._is_file:
            self._ended = True
            return None
        self._failures += 1
        if self._failures >= self._max_failures:
            self._ended = True
            raise CameraLost(source=self._name)
        # A camera that hiccups returns at once; do not spin on it.
        time.sleep(min(timeout_s, 0.02))
        return None

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        self._ended = True


def list_cameras(max_index: int = 8) -> list[int]:
    """Indices of the cameras that open, probing at most `max_index` of them.

    On Linux only indices with a ``/dev/videoN`` node are opened (opening a
    missing one is slow and noisy); elsewhere each index is tried. Returns
    an empty list on a machine without a camera.
    """
    if sys.platform.startswith("linux"):
        candidates = [i for i in range(max_index) if Path(f"/dev/video{i}").exists()]
    else:
        candidates = list(range(max_index))
    found: list[int] = []
    for index in candidates:
        capture = cv2.VideoCapture(index)
        try:
            if capture.isOpened():
                found.append(index)
        finally:
            capture.release()
    return found


class RecentTexts:
    """Remembers decoded texts so each is delivered once while it stays in view.

    A text is new if it was not seen in the last `window_s` seconds; every
    sighting restarts its window, so a label held in front of the camera is
    delivered once, and again only after it was out of view for `window_s`.
    """

    def __init__(self, window_s: float) -> None:
        if window_s < 0:
            raise ValueError("the window cannot be negative")
        self.window_s: Final = window_s
        self._last_seen: dict[str, float] = {}

    def is_new(self, text: str, now_s: float) -> bool:
        """Record a sighting of `text` at `now_s`; True if it is new."""
        last = self._last_seen.get(text)
        self._last_seen[text] = now_s
        if len(self._last_seen) > 256:
            self._forget_before(now_s - self.window_s)
        return last is None or now_s - last > self.window_s

    def _forget_before(self, cutoff: float) -> None:
        for text in [t for t, seen in self._last_seen.items() if seen < cutoff]:
            del self._last_seen[text]


class CameraWorker:
    """Reads, decodes and reports barcodes from a `FrameSource` on a thread of its own.

    - `open_source` is called on the worker thread; it may raise
      `CameraUnavailable` (reported through `on_problem`).
    - `on_symbol(symbol)` gets each newly seen symbol (see `RecentTexts`).
    - `on_problem(error)` gets a `CameraError` when the source cannot be
      opened or is lost; the worker then ends.
    - `on_finished()` is called once when the worker ends for any reason
      (stopped, source ended, problem).
    - `max_fps` caps how many frames a second are decoded, so a live camera
      does not keep a core busy (None: as fast as frames come, for files).

    All callbacks run on the worker thread.
    """

    def __init__(
        self,
        open_source: Callable[[], FrameSource],
        decoder: Decoder,
        on_symbol: Callable[[DecodedSymbol], None],
        *,
        on_problem: Callable[[CameraError], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        dedupe_s: float = 2.0,
        max_fps: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_fps is not None and max_fps <= 0:
            raise ValueError("max_fps must be positive")
        self._min_interval_s = 0.0 if max_fps is None else 1.0 / max_fps
        self._open_source = open_source
        self._decoder = decoder
        self._on_symbol = on_symbol
        self._on_problem = on_problem
        self._on_finished = on_finished
        self._recent = RecentTexts(dedupe_s)
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_decoded = 0

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the worker thread and return at once. Raises RuntimeError if started before."""
        if self._thread is not None:
            raise RuntimeError("a CameraWorker is started once; make a new one")
        self._thread = threading.Thread(target=self._run, name="camera-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the worker to end after the frame in hand; returns at once."""
        self._stop.set()

    def join(self, timeout_s: float | None = None) -> bool:
        """Wait for the worker to end; True if it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            try:
                source = self._open_source()
            except CameraError as error:
                self._report(error)
                return
            try:
                self._loop(source)
            except CameraError as error:
                self._report(error)
            finally:
                source.close()
        finally:
            if self._on_finished is not None:
                self._on_finished()

    def _loop(self, source: FrameSource) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            frame = source.read(READ_TIMEOUT_S)
            if frame is None:
                if source.ended:
                    return
                continue
            symbols = self._decoder.decode(frame)
            self.frames_decoded += 1
            now = self._clock()
            for symbol in symbols:
                if self._recent.is_new(symbol.text, now) and not self._stop.is_set():
                    self._on_symbol(symbol)
            rest = self._min_interval_s - (time.monotonic() - started)
            if rest > 0:
                self._stop.wait(rest)

    def _report(self, error: CameraError) -> None:
        _log.warning("camera scanning stopped: %s (%s)", error.code, error)
        if self._on_problem is not None:
            self._on_problem(error)
