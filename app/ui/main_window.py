"""The nurse's window: today's roster, check-in, vaccination, sync state, languages.

`MainWindow` is the controller of the screen. Widgets show values and emit
requests; the window runs each request as a use case of the `SiteBackend` on
the store thread (`TaskManager.run`) and hands the answer back to the widget.
Scans arrive through `route_scan` (the composition root connects
`app.ui.scanner_filter.ScannerFilter.scanned` to it) and go by content:

* JMBG, ID-card MRZ, invitation code -> check-in (find the person);
* GS1 vial label -> vaccination of the person checked in at this desk, or a
  clear message that nobody is checked in yet;
* ``HC1:`` certificate -> the verify view;
* anything else -> the reason, translated, in the scan banner.

Signals named after the outcomes (``roster_shown``, ``candidate_shown``,
``checked_in``, ``vial_checked``, ``dose_recorded``, ``dose_voided``,
``scan_refused``, ``sync_shown``, ``roster_printed``) let tests and the
benchmark wait for a flow to finish without sleeping.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.scanning.camera import FrameSource
from app.scanning.scan import (
    AppointmentScan,
    DccScan,
    Gs1Scan,
    JmbgScan,
    MrzScan,
    Scan,
    UnknownScan,
    classify,
)
from app.services.check_in import CheckedIn, CheckInCandidate
from app.services.errors import CitizenNotFound
from app.services.roster import Roster
from app.services.vaccinate import RecordedDose, VialCheck
from app.services.voids import VoidedDose
from app.services.walk_in import WalkInBooked
from app.ui.backend import SiteBackend
from app.ui.camera_bridge import CameraBridge
from app.ui.certificate_actions import CertificateActions
from app.ui.check_in_panel import CheckInPanel
from app.ui.language_switcher import LanguageSwitcher
from app.ui.roster_view import RosterView
from app.ui.settings_dialog import SettingsAccess, SettingsDialog, StoredSettings
from app.ui.status_bar import SyncStatusBar
from app.ui.sync_panel import SyncPanel
from app.ui.sync_state import RoundOutcome, SyncSignals
from app.ui.tasks import TaskManager
from app.ui.text import current_language, language_changed, tr, translate_error
from app.ui.vaccinate_panel import VaccinatePanel
from app.ui.walk_in_dialog import WalkInChoices, WalkInDialog, WalkInRequest
from domain.appointment_status import AppointmentStatus
from domain.errors import DomainError
from domain.gs1 import Gs1Label

log = logging.getLogger("imuno.site.ui")

#: Asks where to save a file: (parent, suggested name) -> chosen path or None.
PathChooser = Callable[[QWidget, str], Path | None]
#: Asks a manager why a dose is voided: parent -> reason or None (cancelled).
ReasonPrompt = Callable[[QWidget], str | None]
#: Gives the walk-in form to fill: (parent, candidate, typed text, choices, municipality)
#: -> request or None (cancelled).
WalkInPrompt = Callable[
    [QWidget, CheckInCandidate | None, str | None, WalkInChoices, str], WalkInRequest | None
]
#: Plays the feedback sound: True for "go ahead", False for "stop".
SoundPlayer = Callable[[bool], None]


def save_dialog(parent: QWidget, suggested: str) -> Path | None:
    """Ask where to save a PDF with the platform's save dialog."""
    chosen, _filter = QFileDialog.getSaveFileName(
        parent,
        tr("ui.main.print.dialog", "Save the roster as PDF"),
        suggested,
        "PDF (*.pdf)",
    )
    return Path(chosen) if chosen else None


def ask_void_reason(parent: QWidget) -> str | None:
    """Ask why the dose record is wrong (a manager voids it)."""
    text, ok = QInputDialog.getText(
        parent,
        tr("ui.main.void.dialog_title", "Void the dose record"),
        tr("ui.main.void.dialog_label", "Why is this dose record wrong?"),
    )
    return text.strip() if ok and text.strip() else None


def ask_walk_in(
    parent: QWidget,
    candidate: CheckInCandidate | None,
    typed: str | None,
    choices: WalkInChoices,
    municipality_code: str,
) -> WalkInRequest | None:
    """The walk-in form as a modal dialog."""
    dialog = WalkInDialog(
        candidate, typed, choices, municipality_code=municipality_code, parent=parent
    )
    return dialog.request() if dialog.exec() else None


def beep(ok: bool) -> None:
    """One beep for a good scan, two for a refusal (the nurse may not be looking)."""
    QApplication.beep()
    if not ok:
        QTimer.singleShot(180, QApplication.beep)


class MainWindow(QMainWindow):
    """The site client's main window; see the module docstring."""

    roster_shown = Signal(object)
    candidate_shown = Signal(object)
    checked_in = Signal(object)
    walk_in_booked = Signal(object)
    vial_checked = Signal(object)
    dose_recorded = Signal(object)
    dose_voided = Signal(object)
    #: A scan or request was refused: the translated message shown.
    scan_refused = Signal(str)
    sync_shown = Signal(object)
    roster_printed = Signal(object)
    #: The settings dialog saved: the `StoredSettings` now in force.
    settings_saved = Signal(object)

    def __init__(
        self,
        backend: SiteBackend,
        tasks: TaskManager,
        *,
        today: date,
        product_names: Mapping[str, str] | None = None,
        sync_signals: SyncSignals | None = None,
        path_chooser: PathChooser = save_dialog,
        reason_prompt: ReasonPrompt = ask_void_reason,
        walk_in_prompt: WalkInPrompt = ask_walk_in,
        sound: SoundPlayer = beep,
        verify_view: QWidget | None = None,
        certificate_actions: CertificateActions | None = None,
        camera: CameraBridge | None = None,
        camera_index: int | None = None,
        open_camera: Callable[[int], FrameSource] | None = None,
        settings: SettingsAccess | None = None,
        pages: Sequence[tuple[Callable[[], str], QWidget]] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("imunoMainWindow")
        self.backend = backend
        self.tasks = tasks
        self._today = today
        self._path_chooser = path_chooser
        self._reason_prompt = reason_prompt
        self._walk_in_prompt = walk_in_prompt
        self._sound = sound
        #: The person checked in at this desk, whom a vial scan is for.
        self._patient: CheckInCandidate | None = None

        names = dict(product_names or {})
        self.roster_view = RosterView(today, names, self)
        self.check_in_panel = CheckInPanel(names, self)
        self.vaccinate_panel = VaccinatePanel(
            can_void=backend.is_manager, product_names=names, parent=self
        )
        self.sync_panel = SyncPanel(today, self)
        self.verify_view = verify_view
        self.banner = QLabel(self)
        self.banner.setObjectName("scanBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()

        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.check_in_panel)
        right_layout.addWidget(self.vaccinate_panel, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.roster_view)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        today_page = QWidget(self)
        today_layout = QVBoxLayout(today_page)
        today_layout.addWidget(self.banner)
        today_layout.addWidget(splitter, 1)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(today_page, "")
        self.tabs.addTab(self.sync_panel, "")
        if verify_view is not None:
            self.tabs.addTab(verify_view, "")
        #: Further tabs (stock, users) with a function naming each in the current language.
        self._pages = tuple(pages)
        for _title, page in self._pages:
            self.tabs.addTab(page, "")
        self.setCentralWidget(self.tabs)

        self.toolbar = QToolBar(self)
        self.toolbar.setMovable(False)
        self.user_label = QLabel(self)
        self.user_label.setObjectName("userName")
        self.print_button = QPushButton(self)
        self.print_button.setObjectName("printRoster")
        self.print_button.clicked.connect(self.print_roster)
        self.language_switcher = LanguageSwitcher(self)
        self.toolbar.addWidget(self.user_label)
        spacer = QWidget(self)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.toolbar.addWidget(spacer)
        self.toolbar.addWidget(self.print_button)
        self.camera = camera
        self._camera_index = camera_index
        self._open_camera = open_camera
        self.camera_button = QPushButton(self)
        self.camera_button.setObjectName("cameraButton")
        self.camera_button.setCheckable(True)
        self.camera_button.toggled.connect(self._toggle_camera)
        self._settings = settings
        #: The settings dialog while it is open.
        self.settings_dialog: SettingsDialog | None = None
        self.settings_action = QAction(self)
        self.settings_action.setObjectName("openSettings")
        self.settings_action.setVisible(settings is not None)
        self.settings_action.triggered.connect(self.open_settings)
        if camera is not None:
            camera.scanned.connect(self.route_scan)
            camera.problem.connect(self._camera_problem)
        # A widget in a tool bar is shown and hidden through its action (Qt ignores setVisible).
        self._camera_action = self.toolbar.addWidget(self.camera_button)
        # Shown only where a camera is chosen in the settings; the hand scanner always works.
        self._camera_action.setVisible(camera is not None and camera_index is not None)
        self.certificate_actions = certificate_actions
        if certificate_actions is not None:
            self.toolbar.addAction(certificate_actions.action)
            self.toolbar.addAction(certificate_actions.print_action)
            certificate_actions.failed.connect(self._refused)
            certificate_actions.saved.connect(
                lambda path: self.statusBar().showMessage(str(path), 10_000)
            )
        self.toolbar.addAction(self.settings_action)
        self.toolbar.addWidget(self.language_switcher)
        self.addToolBar(self.toolbar)

        self.status = SyncStatusBar(today, self)
        self.setStatusBar(self.status)

        self.roster_view.day_requested.connect(self.load_roster)
        self.roster_view.appointment_activated.connect(
            lambda row: self._find(lambda: self.backend.find_by_appointment(row.appointment_id))
        )
        self.check_in_panel.jmbg_entered.connect(self._typed)
        self.check_in_panel.check_in_requested.connect(self._check_in)
        self.check_in_panel.walk_in_requested.connect(self._walk_in)
        self.vaccinate_panel.record_requested.connect(self._record_dose)
        self.vaccinate_panel.void_requested.connect(self._void_dose)
        self.sync_panel.sync_requested.connect(self._sync_now)
        if sync_signals is not None:
            sync_signals.round_finished.connect(self.on_round_finished)
        self.tasks.failed.connect(self._unexpected)
        QShortcut(QKeySequence("Ctrl+P"), self, self.print_roster)
        QShortcut(QKeySequence("Ctrl+F"), self, self._focus_search)
        language_changed.connect(self.retranslate)
        self.retranslate()
        self.resize(1280, 800)

    def user_changed(self) -> None:
        """The backend acts as another person now (the lock screen let them in)."""
        self.vaccinate_panel.set_can_void(self.backend.is_manager)
        self.retranslate()

    def _focus_search(self) -> None:
        self.roster_view.search.setFocus()

    # -- start and refresh -----------------------------------------------------------------

    @property
    def patient(self) -> CheckInCandidate | None:
        """The person checked in at this desk (a vial scan is for them), if any."""
        return self._patient

    def start(self) -> None:
        """Load today's roster and the sync state (the window is usable meanwhile)."""
        self.load_roster(self._today)
        self.refresh_sync()

    def load_roster(self, day: date) -> None:
        self.tasks.run(lambda: self.backend.roster(day), self._show_roster, self._refused)

    def refresh_sync(self) -> None:
        def read() -> tuple[Any, Any]:
            return self.backend.sync_overview(), self.backend.sync_history()

        self.tasks.run(read, self._show_sync, self._refused)

    def on_round_finished(self, outcome: RoundOutcome) -> None:
        """A sync round ended (on any thread; delivered here on the UI thread)."""
        if self.tasks.closed:
            # The round ended while the client was closing: nothing left to show it in.
            return
        self.status.show_round(outcome)
        self.sync_panel.set_running(False)
        self.refresh_sync()
        if outcome.pulled:
            self.load_roster(self.roster_view.day)

    def _show_roster(self, roster: Roster) -> None:
        self.roster_view.show_roster(roster)
        self.roster_shown.emit(roster)

    def _show_sync(self, values: tuple[Any, Any]) -> None:
        overview, history = values
        self.status.show_overview(overview)
        self.sync_panel.show_overview(overview)
        self.sync_panel.show_history(history, self._today)
        self.sync_shown.emit(overview)

    def _sync_now(self) -> None:
        self.backend.sync_now()

    # -- scans -----------------------------------------------------------------------------

    def route_scan(self, scan: Scan) -> None:
        """Send a scan where its content belongs (see the module docstring).

        A page in front that takes scans itself (the stock page receiving cartons)
        gets them first; when it declines, the scan is routed by content.
        """
        current = self.tabs.currentWidget()
        handle = getattr(current, "handle_scan", None)
        if handle is not None and handle(scan):
            return
        if isinstance(scan, JmbgScan):
            jmbg = scan.jmbg
            self.check_in_panel.last_lookup = jmbg.value
            self._find(lambda: self.backend.find_by_jmbg(jmbg))
        elif isinstance(scan, MrzScan):
            document = scan.document
            self.check_in_panel.last_lookup = document.jmbg.value if document.jmbg else None
            self._find(lambda: self.backend.find_by_mrz(document))
        elif isinstance(scan, AppointmentScan):
            appointment_id = scan.appointment_id
            self._find(lambda: self.backend.find_by_appointment(appointment_id))
        elif isinstance(scan, Gs1Scan):
            self._vial_scanned(scan.label)
        elif isinstance(scan, DccScan):
            self._certificate_scanned(scan.text)
        elif isinstance(scan, UnknownScan):
            self._refused(scan.reason)

    def _typed(self, text: str) -> None:
        self.route_scan(classify(text, today=self._today))

    def _find(self, lookup: Callable[[], CheckInCandidate]) -> None:
        self.tabs.setCurrentIndex(0)
        self.tasks.run(lookup, self._show_candidate, self._lookup_failed)

    def _show_candidate(self, candidate: CheckInCandidate) -> None:
        self._hide_banner()
        booked = candidate.appointment
        if booked is not None and booked.status is AppointmentStatus.CHECKED_IN:
            self._set_patient(candidate)
        elif self._patient is not None and self._patient.citizen != candidate.citizen:
            self._set_patient(None)
        self.check_in_panel.show_candidate(candidate)
        if booked is not None:
            self.roster_view.select_appointment(booked.appointment_id)
        if self.certificate_actions is not None:
            # A certificate can be (re)printed for anyone with a dose on record.
            self.certificate_actions.set_person(
                candidate.citizen.citizen_id if candidate.doses else None
            )
        self.candidate_shown.emit(candidate)

    def _lookup_failed(self, error: BaseException) -> None:
        if isinstance(error, CitizenNotFound):
            self.check_in_panel.show_error(translate_error(error), offer_walk_in=True)
            self._sound(False)
            self.scan_refused.emit(translate_error(error))
            return
        if isinstance(error, DomainError):
            self.check_in_panel.show_error(translate_error(error))
        self._refused(error)

    # -- check-in and walk-in --------------------------------------------------------------------

    def _check_in(self, appointment_id: uuid.UUID) -> None:
        def work() -> tuple[CheckedIn, CheckInCandidate]:
            done = self.backend.check_in(appointment_id)
            return done, self.backend.find_by_appointment(appointment_id)

        self.tasks.run(work, self._checked_in, self._refused)

    def _checked_in(self, values: tuple[CheckedIn, CheckInCandidate]) -> None:
        done, candidate = values
        self.check_in_panel.show_checked_in(done, candidate)
        self._set_patient(candidate)
        self._sound(True)
        self.roster_view.update_status(done.appointment_id, AppointmentStatus.CHECKED_IN)
        self.checked_in.emit(done)

    def _walk_in(self, candidate: CheckInCandidate | None) -> None:
        def choices() -> tuple[WalkInChoices, str]:
            return self.backend.walk_in_choices(), self.backend.site_municipality()

        self.tasks.run(choices, lambda values: self._ask_walk_in(candidate, *values), self._refused)

    def _ask_walk_in(
        self, candidate: CheckInCandidate | None, choices: WalkInChoices, municipality: str
    ) -> None:
        typed = self.check_in_panel.last_lookup
        request = self._walk_in_prompt(self, candidate, typed, choices, municipality)
        if request is None:
            return

        def work() -> tuple[WalkInBooked, CheckInCandidate]:
            booked = self.backend.walk_in(request)
            return booked, self.backend.find_by_appointment(booked.appointment_id)

        self.tasks.run(work, self._walk_in_done, self._refused)

    def _walk_in_done(self, values: tuple[WalkInBooked, CheckInCandidate]) -> None:
        booked, candidate = values
        self._hide_banner()
        self.check_in_panel.show_candidate(candidate)
        self.load_roster(self.roster_view.day)
        self._sound(True)
        self.walk_in_booked.emit(booked)

    def _set_patient(self, candidate: CheckInCandidate | None) -> None:
        self._patient = candidate
        self.vaccinate_panel.set_patient(candidate)

    # -- vaccination -----------------------------------------------------------------------

    def _vial_scanned(self, label: Gs1Label) -> None:
        patient = self._patient
        if patient is None or patient.appointment is None:
            self._refused(
                tr(
                    "ui.main.vaccinate.nobody_checked_in",
                    "Nobody is checked in at this desk. Scan the person's ID card or invitation "
                    "and check them in first, then scan the vial.",
                )
            )
            return
        appointment_id = patient.appointment.appointment_id
        self.tabs.setCurrentIndex(0)
        self.tasks.run(
            lambda: self.backend.check_vial(appointment_id, label),
            lambda check: self._vial_checked(check, label),
            self._vial_refused,
        )

    def _vial_checked(self, check: VialCheck, label: Gs1Label) -> None:
        self._hide_banner()
        self.vaccinate_panel.show_check(check, label)
        self._sound(check.ok)
        self.vial_checked.emit(check)

    def _vial_refused(self, error: BaseException) -> None:
        if isinstance(error, DomainError):
            self.vaccinate_panel.show_error(translate_error(error))
        self._refused(error)

    def _record_dose(self, label: Gs1Label, injection_site: str) -> None:
        patient = self._patient
        if patient is None or patient.appointment is None:
            return
        appointment_id = patient.appointment.appointment_id
        self.tasks.run(
            lambda: self.backend.record_dose(appointment_id, label, injection_site),
            self._dose_recorded,
            self._vial_refused,
        )

    def _dose_recorded(self, recorded: RecordedDose) -> None:
        self.vaccinate_panel.show_recorded(recorded)
        self._set_patient(None)
        self.check_in_panel.clear()
        self._sound(True)
        self.roster_view.update_status(recorded.appointment_id, AppointmentStatus.DONE)
        if self.certificate_actions is not None:
            self.certificate_actions.set_person(recorded.citizen_id)
        self.refresh_sync()
        self.dose_recorded.emit(recorded)

    def _void_dose(self, dose_id: uuid.UUID) -> None:
        reason = self._reason_prompt(self)
        if reason is None:
            return
        self.tasks.run(
            lambda: self.backend.void_dose(dose_id, reason), self._dose_voided, self._refused
        )

    def _dose_voided(self, voided: VoidedDose) -> None:
        self.vaccinate_panel.show_voided(voided)
        self.load_roster(self.roster_view.day)
        self.refresh_sync()
        self.dose_voided.emit(voided)

    # -- camera ----------------------------------------------------------------------------

    @property
    def camera_index(self) -> int | None:
        """The camera the camera button scans with (None: no camera chosen)."""
        return self._camera_index

    def set_camera_index(self, index: int | None) -> None:
        """Scan with camera `index` from now on (None: hide the camera button)."""
        if index != self._camera_index and self.camera_button.isChecked():
            # The running capture is of the old camera: stop it; the nurse starts the new one.
            self.camera_button.setChecked(False)
        self._camera_index = index
        self._camera_action.setVisible(self.camera is not None and index is not None)

    def _toggle_camera(self, on: bool) -> None:
        if self.camera is None or self._camera_index is None:
            return
        if not on:
            self.camera.stop()
        elif self._open_camera is None:
            self.camera.start_camera(self._camera_index)
        else:
            index, open_camera = self._camera_index, self._open_camera
            self.camera.start(lambda: open_camera(index))

    # -- settings --------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog | None:
        """Show the settings dialog (window-modal, one at a time); None without settings access."""
        if self._settings is None:
            return None
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return self.settings_dialog
        # The test in the dialog may need the same camera: release it first.
        self.camera_button.setChecked(False)
        dialog = SettingsDialog(
            self._settings, self.tasks, is_manager=self.backend.is_manager, parent=self
        )
        dialog.saved.connect(self._settings_saved)
        dialog.finished.connect(self._settings_closed)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _settings_saved(self, stored: StoredSettings) -> None:
        self.set_camera_index(stored.camera_index)
        self.statusBar().showMessage(tr("ui.main.settings.saved", "Settings saved."), 10_000)
        self.settings_saved.emit(stored)

    def _settings_closed(self, _result: int) -> None:
        dialog, self.settings_dialog = self.settings_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _camera_problem(self, error: object) -> None:
        self.camera_button.blockSignals(True)
        self.camera_button.setChecked(False)
        self.camera_button.blockSignals(False)
        if isinstance(error, BaseException):
            self._refused(error)

    # -- certificates ----------------------------------------------------------------------

    def _certificate_scanned(self, text: str) -> None:
        view = self.verify_view
        verify = getattr(view, "verify_text", None) if view is not None else None
        if view is None or verify is None:
            self._refused(
                tr(
                    "ui.main.verify.unavailable",
                    "Certificates cannot be checked on this workstation.",
                )
            )
            return
        self.tabs.setCurrentWidget(view)
        verify(text)

    # -- printing --------------------------------------------------------------------------

    def print_roster(self) -> None:
        day = self.roster_view.day
        path = self._path_chooser(self, f"roster-{day.isoformat()}.pdf")
        if path is None:
            return
        language = current_language()
        self.tasks.run(
            lambda: self.backend.print_roster(day, path, language), self._printed, self._refused
        )

    def _printed(self, path: Path) -> None:
        self.statusBar().showMessage(
            tr("ui.main.print.saved", "Roster saved as {path}", path=str(path)), 10_000
        )
        self.roster_printed.emit(path)

    # -- messages --------------------------------------------------------------------------

    def _refused(self, error: BaseException | str) -> None:
        """Show why something was refused (banner, two beeps) and tell listeners."""
        if isinstance(error, str):
            message = error
        elif isinstance(error, DomainError):
            message = translate_error(error)
        else:
            log.error("unexpected failure", exc_info=error)
            message = tr(
                "ui.main.unexpected",
                "Something went wrong that the program did not expect ({error}). "
                "Nothing was recorded. Try again; if it repeats, call the help desk.",
                error=type(error).__name__,
            )
        self.banner.setText(message)
        self.banner.setStyleSheet(
            "background: #fbdada; color: #7a0010; padding: 8px; font-weight: bold;"
        )
        self.banner.show()
        self._sound(False)
        self.scan_refused.emit(message)

    def _unexpected(self, error: object) -> None:
        if isinstance(error, BaseException):
            self._refused(error)

    def _hide_banner(self) -> None:
        self.banner.hide()
        self.banner.clear()

    def retranslate(self, *_: object) -> None:
        self.setWindowTitle(tr("ui.main.title", "imuno — vaccination site"))
        self.tabs.setTabText(0, tr("ui.main.tab.today", "Today"))
        self.tabs.setTabText(1, tr("ui.main.tab.sync", "Synchronisation"))
        if self.verify_view is not None:
            self.tabs.setTabText(2, tr("ui.main.tab.verify", "Check a certificate"))
        for title, page in self._pages:
            self.tabs.setTabText(self.tabs.indexOf(page), title())
        self.user_label.setText(
            tr("ui.main.user", "Logged in: {name}", name=self.backend.user_name)
        )
        self.print_button.setText(tr("ui.main.print.button", "Print roster (PDF)"))
        self.camera_button.setText(tr("ui.main.camera", "Camera scanning"))
        self.settings_action.setText(tr("ui.main.settings", "Settings…"))
