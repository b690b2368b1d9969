"""The workstation's settings: which camera scans, and (managers) the idle-lock time.

`SettingsDialog` shows what is stored, lets the nurse pick a camera from
"No camera" plus the cameras found on this machine, try it ("Test": the
camera runs a few seconds and the dialog says whether pictures arrive and
which code it read, or why the camera cannot be used) and save the choice.
A manager also sets the minutes before the idle lock; a nurse sees them
read-only.

Everything slow runs off the UI thread through the `TaskManager`: the store
reads and writes on the store thread, camera probing on the background pool,
the test capture on a `CameraBridge` worker. The dialog reaches the store and
the cameras only through a `SettingsAccess` (the composition root binds it to
the store; tests bind it to fake cameras). Signals named after the outcomes
(``loaded``, ``cameras_listed``, ``test_finished``, ``saved``, ``refused``)
let tests wait without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.scanning.camera import FrameSource
from app.scanning.decoders import DecodedSymbol, Image
from app.scanning.errors import CameraError
from app.services.accounts import MAX_IDLE_LOCK_MINUTES, MIN_IDLE_LOCK_MINUTES
from app.ui.camera_bridge import CameraBridge
from app.ui.tasks import TaskManager
from app.ui.text import language_changed, tr, translate_error
from domain.errors import DomainError

__all__ = [
    "CameraTest",
    "SettingsAccess",
    "SettingsChoice",
    "SettingsDialog",
    "StoredSettings",
]

#: How long "Test" runs the camera when no code shows up.
TEST_SECONDS: Final = 5.0


@dataclass(frozen=True)
class StoredSettings:
    """What the store holds: the camera (None: none) and the idle-lock minutes."""

    camera_index: int | None
    idle_lock_minutes: int


@dataclass(frozen=True)
class SettingsChoice:
    """What the person saves: the camera, and new idle-lock minutes (None: unchanged)."""

    camera_index: int | None
    idle_lock_minutes: int | None


@dataclass(frozen=True)
class SettingsAccess:
    """How the dialog reaches the store and the cameras.

    ``load`` and ``save`` run on the store thread; ``save`` returns what is
    stored afterwards and may raise a `DomainError` (a nurse changing the
    idle lock, minutes out of range). ``list_cameras`` runs on the background
    pool; ``open_camera`` on the camera worker thread (it may raise
    `CameraError`).
    """

    load: Callable[[], StoredSettings]
    save: Callable[[SettingsChoice], StoredSettings]
    list_cameras: Callable[[], Sequence[int]]
    open_camera: Callable[[int], FrameSource]


@dataclass(frozen=True)
class CameraTest:
    """The outcome of a camera test: pictures seen, the first code read, or the problem."""

    camera_index: int
    frames: int
    decoded: str | None
    problem: CameraError | None

    @property
    def works(self) -> bool:
        return self.problem is None and self.frames > 0


class _CountedFrames:
    """A `FrameSource` that counts the pictures it delivers (read on the worker thread)."""

    def __init__(self, source: FrameSource) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._frames = 0

    @property
    def frames(self) -> int:
        with self._lock:
            return self._frames

    @property
    def name(self) -> str:
        return self._source.name

    @property
    def ended(self) -> bool:
        return self._source.ended

    def read(self, timeout_s: float) -> Image | None:
        frame = self._source.read(timeout_s)
        if frame is not None:
            with self._lock:
                self._frames += 1
        return frame

    def close(self) -> None:
        self._source.close()


class SettingsDialog(QDialog):
    """See the module docstring. ``is_manager`` decides whether the idle lock is editable."""

    loaded = Signal(object)
    cameras_listed = Signal(object)
    test_finished = Signal(object)
    saved = Signal(object)
    #: Loading or saving was refused: the translated message shown.
    refused = Signal(str)

    def __init__(
        self,
        access: SettingsAccess,
        tasks: TaskManager,
        *,
        is_manager: bool,
        test_seconds: float = TEST_SECONDS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self._access = access
        self._tasks = tasks
        self._is_manager = is_manager
        self._stored: StoredSettings | None = None
        self._found: list[int] | None = None
        self._counted: _CountedFrames | None = None
        self._test_index: int | None = None
        self._test_code: str | None = None
        self._test_problem: CameraError | None = None
        self._listening = True
        #: A save is on the store thread: the dialog stays open until it is answered.
        self._saving = False
        #: The dialog was closed: late answers of the store or the probe are dropped.
        self._closed = False

        self.camera_label = QLabel(self)
        self.camera_combo = QComboBox(self)
        self.camera_combo.setObjectName("cameraChoice")
        self.camera_combo.setEnabled(False)
        self.camera_combo.currentIndexChanged.connect(self._choice_changed)
        self.test_button = QPushButton(self)
        self.test_button.setObjectName("testCamera")
        self.test_button.setEnabled(False)
        self.test_button.clicked.connect(self.start_test)
        self.test_result = QLabel(self)
        self.test_result.setObjectName("cameraTestResult")
        self.test_result.setWordWrap(True)
        self.idle_label = QLabel(self)
        self.idle_minutes = QSpinBox(self)
        self.idle_minutes.setObjectName("idleLockMinutes")
        self.idle_minutes.setRange(MIN_IDLE_LOCK_MINUTES, MAX_IDLE_LOCK_MINUTES)
        # A nurse sees the time but only a manager may change it (the service enforces it too).
        self.idle_minutes.setReadOnly(not is_manager)
        self.idle_minutes.setEnabled(False)
        self.idle_note = QLabel(self)
        self.idle_note.setWordWrap(True)
        self.idle_note.setVisible(not is_manager)
        self.message = QLabel(self)
        self.message.setObjectName("settingsMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setEnabled(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        camera_row = QHBoxLayout()
        camera_row.addWidget(self.camera_combo, 1)
        camera_row.addWidget(self.test_button)
        form = QFormLayout()
        form.addRow(self.camera_label, camera_row)
        form.addRow("", self.test_result)
        form.addRow(self.idle_label, self.idle_minutes)
        form.addRow("", self.idle_note)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self.camera = CameraBridge(max_fps=10.0, parent=self)
        self.camera.symbol_decoded.connect(self._decoded)
        self.camera.problem.connect(self._camera_problem)
        self.camera.finished.connect(self._test_ended)
        self._test_timer = QTimer(self)
        self._test_timer.setSingleShot(True)
        self._test_timer.setInterval(int(test_seconds * 1000))
        self._test_timer.timeout.connect(self.camera.stop)

        language_changed.connect(self.retranslate)
        self.retranslate()
        self.resize(600, 280)
        tasks.run(access.load, self._loaded, self._refused)
        tasks.run_background(access.list_cameras, self._listed, self._refused)

    # -- loading ---------------------------------------------------------------------------

    def _loaded(self, stored: StoredSettings) -> None:
        if self._closed:
            return
        self._stored = stored
        self.idle_minutes.setValue(stored.idle_lock_minutes)
        self.idle_minutes.setEnabled(True)
        self._fill_cameras()
        self.loaded.emit(stored)

    def _listed(self, found: Sequence[int]) -> None:
        if self._closed:
            return
        self._found = sorted(set(found))
        self._fill_cameras()
        self.cameras_listed.emit(list(self._found))

    def _fill_cameras(self) -> None:
        """Fill the combo once both the stored choice and the probe are known."""
        if self._stored is None or self._found is None:
            return
        chosen = self._stored.camera_index
        self.camera_combo.blockSignals(True)
        self.camera_combo.clear()
        self.camera_combo.addItem("", None)
        for index in self._found:
            self.camera_combo.addItem("", index)
        if chosen is not None and chosen not in self._found:
            # The stored camera is unplugged now: keep it visible so saving does not drop it.
            self.camera_combo.addItem("", chosen)
        self.camera_combo.setCurrentIndex(max(self.camera_combo.findData(chosen), 0))
        self.camera_combo.blockSignals(False)
        self.camera_combo.setEnabled(True)
        self.save_button.setEnabled(True)
        self._name_cameras()
        self._choice_changed()

    def _name_cameras(self) -> None:
        found = self._found or []
        for row in range(self.camera_combo.count()):
            index = self.camera_combo.itemData(row)
            if index is None:
                text = tr("ui.settings.camera.none", "No camera (hand scanner only)")
            elif index in found:
                text = tr("ui.settings.camera.item", "Camera {number}", number=index + 1)
            else:
                text = tr(
                    "ui.settings.camera.missing",
                    "Camera {number} (not found now)",
                    number=index + 1,
                )
            self.camera_combo.setItemText(row, text)

    @property
    def chosen_camera(self) -> int | None:
        """The camera index chosen in the combo (None: no camera)."""
        data = self.camera_combo.currentData()
        return data if isinstance(data, int) else None

    def choose_camera(self, index: int | None) -> None:
        """Select camera `index` (None: no camera). Raises ValueError if it is not offered."""
        row = self.camera_combo.findData(index)
        if row < 0:
            raise ValueError(f"camera {index!r} is not offered")
        self.camera_combo.setCurrentIndex(row)

    def _choice_changed(self, *_: object) -> None:
        self.test_button.setEnabled(self.chosen_camera is not None and not self.camera.running)
        self.test_result.clear()

    # -- the camera test -------------------------------------------------------------------

    def start_test(self) -> None:
        """Run the chosen camera for a few seconds; `test_finished` carries a `CameraTest`."""
        index = self.chosen_camera
        if index is None or self._test_index is not None:
            return
        self._test_index, self._test_code, self._test_problem = index, None, None
        open_camera = self._access.open_camera

        def open_counted() -> FrameSource:
            counted = _CountedFrames(open_camera(index))
            self._counted = counted
            return counted

        self._counted = None
        self.test_button.setEnabled(False)
        self.camera_combo.setEnabled(False)
        self.test_result.setStyleSheet("")
        self.test_result.setText(
            tr(
                "ui.settings.camera.testing",
                "Testing camera {number}: hold a code (an ID card, a vial) in front of it…",
                number=index + 1,
            )
        )
        self.camera.start(open_counted)
        self._test_timer.start()

    def _decoded(self, symbol: DecodedSymbol) -> None:
        if self._test_code is None:
            self._test_code = symbol.text
            # One code is proof enough: end the test at once.
            self.camera.stop()

    def _camera_problem(self, error: object) -> None:
        if isinstance(error, CameraError):
            self._test_problem = error

    def _test_ended(self) -> None:
        index = self._test_index
        if index is None:
            return
        self._test_timer.stop()
        counted = self._counted
        outcome = CameraTest(
            index, counted.frames if counted is not None else 0, self._test_code, self._test_problem
        )
        self._test_index = None
        self.camera_combo.setEnabled(True)
        self.test_button.setEnabled(self.chosen_camera is not None)
        self._show_test(outcome)
        self.test_finished.emit(outcome)

    def _show_test(self, outcome: CameraTest) -> None:
        number = outcome.camera_index + 1
        if outcome.problem is not None:
            text = translate_error(outcome.problem)
        elif outcome.frames == 0:
            text = tr(
                "ui.settings.camera.no_frames",
                "Camera {number} opened but sent no pictures. Check that nothing covers it "
                "and that no other program uses it, then test again.",
                number=number,
            )
        elif outcome.decoded is None:
            text = tr(
                "ui.settings.camera.no_code",
                "Camera {number} works ({frames} pictures), but no code was read. Hold a code "
                "closer and steady, then test again.",
                number=number,
                frames=outcome.frames,
            )
        else:
            text = tr(
                "ui.settings.camera.read",
                "Camera {number} works and read the code:\n{code}",
                number=number,
                code=_preview(outcome.decoded),
            )
        good = outcome.works
        self.test_result.setStyleSheet(
            "color: #0b5d1e; font-weight: bold;" if good else "color: #7a0010; font-weight: bold;"
        )
        self.test_result.setText(text)

    # -- saving ----------------------------------------------------------------------------

    def save(self) -> None:
        """Store the choice (on the store thread); `saved` carries what is stored, then close."""
        stored = self._stored
        if stored is None:
            return
        minutes = self.idle_minutes.value()
        changed = self._is_manager and minutes != stored.idle_lock_minutes
        choice = SettingsChoice(self.chosen_camera, minutes if changed else None)
        self._saving = True
        self.buttons.setEnabled(False)
        self._tasks.run(lambda: self._access.save(choice), self._saved, self._save_failed)

    def _saved(self, stored: StoredSettings) -> None:
        self._saving = False
        self._stored = stored
        self.saved.emit(stored)
        self.accept()

    def _save_failed(self, error: BaseException) -> None:
        self._saving = False
        self.buttons.setEnabled(True)
        self._refused(error)

    def _refused(self, error: BaseException) -> None:
        if self._closed:
            return
        if isinstance(error, DomainError):
            text = translate_error(error)
        else:
            text = tr(
                "ui.settings.unexpected",
                "The settings could not be read or saved ({error}). Nothing was changed. "
                "Try again; if it repeats, call the help desk.",
                error=type(error).__name__,
            )
        self.message.setText(text)
        self.message.setStyleSheet("color: #7a0010; font-weight: bold;")
        self.message.show()
        self.refused.emit(text)

    # -- closing and language --------------------------------------------------------------

    def reject(self) -> None:
        """Cancel (or Escape) closes, except while a save is being stored."""
        if not self._saving:
            super().reject()

    def done(self, result: int) -> None:
        """Stop a running test before the dialog goes (the camera is freed for the window)."""
        self._closed = True
        self._test_timer.stop()
        self.camera.stop()
        self.camera.wait(5.0)
        if self._listening:
            self._listening = False
            language_changed.disconnect(self.retranslate)
        super().done(result)

    def retranslate(self, *_: object) -> None:
        self.setWindowTitle(tr("ui.settings.title", "Settings of this workstation"))
        self.camera_label.setText(tr("ui.settings.camera.label", "Camera for scanning:"))
        self.test_button.setText(tr("ui.settings.camera.test", "Test"))
        self.idle_label.setText(tr("ui.settings.idle.label", "Lock the screen after (minutes):"))
        self.idle_note.setText(
            tr("ui.settings.idle.manager_only", "Only a site manager can change the lock time.")
        )
        self.save_button.setText(tr("ui.settings.save", "Save"))
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText(tr("ui.settings.cancel", "Cancel"))
        self._name_cameras()


def _preview(text: str, limit: int = 36) -> str:
    """The decoded text as a person can read it: separators shown, long codes cut."""
    shown = text.replace("\x1d", "<GS>")
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
