"""The composition root of the site client: the one place that wires everything together.

`run_gui` is what ``imuno-site`` (no sub-command) and ``imuno-site run`` call:

1. without a display it says so and returns 0 (a server or SSH session);
2. opens the site store (migrating it) and the secrets box;
3. first start: no site identity -> the enrolment dialog; no accounts yet ->
   one sync round fetches them; then the login dialog;
4. builds a `SiteClient` (backend, task manager, sync worker, main window,
   scanner filter), shows it and runs the event loop.

`SiteClient` is the same assembly without the dialogs, for tests and the
benchmark: give it an open store and a signed-in user. `StoreBackend`
implements `app.ui.backend.SiteBackend` by binding the store, the clock and
the user to the service functions; the widgets never see an engine.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from app.local_db.engine import open_site_store
from app.local_db.models.site import SiteIdentity
from app.local_db.sealing import SecretBox
from app.local_db.unit_of_work import session_scope
from app.scanning.camera import FrameSource, OpenCvCamera, list_cameras
from app.services import accounts, client_settings, sync_status, vaccinate, voids, walk_in
from app.services import check_in as check_in_service
from app.services import roster as roster_service
from app.services.accounts import SignedIn
from app.services.check_in import CheckedIn, CheckInCandidate
from app.services.workplace import local_day
from app.settings import SiteSettings
from app.sync.connect import HubLink, connect
from app.sync.engine import RoundReport
from app.sync.errors import HubUnreachable, SyncError
from app.sync.watchdog import OutboxHealth
from app.sync.worker import SyncWorker
from app.ui.text import language_changed, set_language, translate_error
from app.ui.times import SITE_ZONE
from app.ui.walk_in_dialog import WalkInChoices, WalkInRequest
from domain.clock import Clock, SystemClock
from domain.data import RuleSet, rules_in_force
from domain.gs1 import Gs1Label
from domain.i18n import Language
from domain.jmbg import Jmbg
from domain.mrz import MrzDocument

log = logging.getLogger("imuno.site")

#: Seconds between background sync rounds while they succeed.
SYNC_INTERVAL_S = 60.0

NO_DISPLAY_MESSAGE = (
    "imuno-site: no display found (DISPLAY and WAYLAND_DISPLAY are not set), so the client "
    "window cannot open here. Run it on the workstation's desktop; on this machine use "
    "`imuno-site sync` and `imuno-site db ...`, or set QT_QPA_PLATFORM=offscreen to run "
    "the window without a screen."
)


def display_available(environ: Mapping[str, str], platform: str) -> bool:
    """Whether a window can open: a desktop session, or a Qt platform chosen on purpose."""
    if environ.get("QT_QPA_PLATFORM"):
        return True
    if platform.startswith(("win", "darwin")):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


# -- the backend the window talks to ------------------------------------------------------


@dataclass
class StoreBackend:
    """`app.ui.backend.SiteBackend` over the site store, as `user`."""

    engine: Engine
    user: SignedIn
    clock: Clock = field(default_factory=SystemClock)
    worker: SyncWorker | None = None
    rules: RuleSet | None = None

    @property
    def user_name(self) -> str:
        return self.user.full_name

    @property
    def is_manager(self) -> bool:
        return self.user.is_manager

    def today(self) -> date:
        with session_scope(self.engine, write=False) as session:
            return local_day(session, self.clock)

    def _rules(self) -> RuleSet:
        return self.rules or rules_in_force(self.today())

    def product_names(self) -> Mapping[str, str]:
        return {product.id: product.name for product in self._rules().catalogue.products}

    def roster(self, day: date) -> roster_service.Roster:
        return roster_service.load_roster(self.engine, self.clock, day)

    def find_by_jmbg(self, jmbg: Jmbg) -> CheckInCandidate:
        return check_in_service.find_by_jmbg(self.engine, self.clock, jmbg, rules=self.rules)

    def find_by_mrz(self, document: MrzDocument) -> CheckInCandidate:
        return check_in_service.find_by_mrz(self.engine, self.clock, document, rules=self.rules)

    def find_by_appointment(self, appointment_id: uuid.UUID) -> CheckInCandidate:
        return check_in_service.find_by_appointment_code(
            self.engine, self.clock, appointment_id, rules=self.rules
        )

    def check_in(self, appointment_id: uuid.UUID) -> CheckedIn:
        return check_in_service.check_in(self.engine, self.clock, self.user.id, appointment_id)

    def walk_in_choices(self) -> WalkInChoices:
        rules = self._rules()
        return WalkInChoices(
            products=tuple((p.id, p.name) for p in rules.catalogue.first_dose_products),
            groups=tuple((g.code, g.name) for g in rules.priority_groups.groups),
        )

    def site_municipality(self) -> str:
        with session_scope(self.engine, write=False) as session:
            identity = session.get(SiteIdentity, 1)
            return identity.municipality_code if identity is not None else ""

    def walk_in(self, request: WalkInRequest) -> walk_in.WalkInBooked:
        return walk_in.book_walk_in(
            self.engine,
            self.clock,
            self.user.id,
            request.person,
            request.product_id,
            rules=self.rules,
        )

    def check_vial(self, appointment_id: uuid.UUID, label: Gs1Label) -> vaccinate.VialCheck:
        return vaccinate.check_vial(
            self.engine, self.clock, appointment_id, label, rules=self.rules
        )

    def record_dose(
        self, appointment_id: uuid.UUID, label: Gs1Label, injection_site: str
    ) -> vaccinate.RecordedDose:
        return vaccinate.record_dose(
            self.engine,
            self.clock,
            self.user.id,
            appointment_id,
            label,
            vaccinate.InjectionSite(injection_site),
            rules=self.rules,
        )

    def void_dose(self, dose_id: uuid.UUID, reason: str) -> voids.VoidedDose:
        return voids.void_dose(self.engine, self.clock, self.user.id, dose_id, reason)

    def sync_overview(self) -> sync_status.SyncOverview:
        return sync_status.sync_overview(self.engine)

    def sync_history(self) -> tuple[sync_status.SyncRoundRow, ...]:
        return sync_status.sync_history(self.engine)

    def print_roster(self, day: date, path: Path, language: Language) -> Path:
        # Imported here: reportlab is only needed when someone prints.
        from app.services.roster_pdf import render_roster_pdf

        roster = self.roster(day)
        with session_scope(self.engine, write=False) as session:
            identity = session.get(SiteIdentity, 1)
            site_name = identity.site_name if identity is not None else ""
        pdf = render_roster_pdf(
            roster,
            site_name=site_name,
            printed_at=self.clock.now().astimezone(SITE_ZONE),
            language=language,
            product_names=self.product_names(),
        )
        # Written beside the target and renamed, so a half-written PDF never has its name.
        partial = path.with_name(f".{path.name}.partial")
        try:
            partial.write_bytes(pdf)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return path

    def sync_now(self) -> None:
        if self.worker is not None:
            self.worker.sync_now()


# -- the sync worker ----------------------------------------------------------------------


def build_sync_worker(
    engine: Engine,
    box: SecretBox,
    *,
    clock: Clock,
    interval_s: float = SYNC_INTERVAL_S,
    hub_url: str | None = None,
) -> tuple[SyncWorker, HubLink]:
    """A background sync worker for the enrolled store (not started)."""
    link = connect(engine, box, clock=clock, hub_url=hub_url)
    return SyncWorker(link.engine, interval_s=interval_s), link


# -- the assembled client -----------------------------------------------------------------


class SiteClient:
    """The main window with everything it needs, for a logged-in user.

    ``sync`` chooses the worker: True builds one from the store's enrolment
    (the real hub), False runs without background sync (tests of offline
    work). Prompts and the sound are injectable so tests need no modal
    dialogs. ``find_cameras`` and ``open_camera`` are how cameras are probed
    and opened (tests pass fake cameras). Call `start` to show the window and
    begin syncing, `close` to stop everything.
    """

    def __init__(
        self,
        engine: Engine,
        box: SecretBox,
        user: SignedIn,
        *,
        clock: Clock | None = None,
        sync: bool = True,
        sync_interval_s: float = SYNC_INTERVAL_S,
        hub_url: str | None = None,
        rules: RuleSet | None = None,
        tasks: Any = None,
        idle_lock: bool = True,
        find_cameras: Callable[[], Sequence[int]] = list_cameras,
        open_camera: Callable[[int], FrameSource] = OpenCvCamera,
        **window_options: Any,
    ) -> None:
        # Qt is imported here so the services above stay importable without it.
        from PySide6.QtWidgets import QApplication

        from app.ui.camera_bridge import CameraBridge
        from app.ui.lock import IdleLock
        from app.ui.main_window import MainWindow
        from app.ui.scanner_filter import ScannerFilter
        from app.ui.sync_state import RoundOutcome, SyncSignals
        from app.ui.tasks import TaskManager

        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self.tasks = tasks if tasks is not None else TaskManager()
        self.sync_signals = SyncSignals()
        self.worker: SyncWorker | None = None
        self._transport: HubLink | None = None
        if sync:
            self.worker, self._transport = build_sync_worker(
                engine, box, clock=self.clock, interval_s=sync_interval_s, hub_url=hub_url
            )

            def on_round(
                report: RoundReport | None, error: SyncError | None, health: OutboxHealth
            ) -> None:
                # Runs on the sync thread: only build a value and emit (queued to the UI).
                self.sync_signals.round_finished.emit(
                    RoundOutcome(
                        ok=error is None,
                        offline=isinstance(error, HubUnreachable),
                        pushed=report.pushed if report else 0,
                        pulled=report.pulled if report else 0,
                        waiting=health.backlog,
                        message=translate_error(error) if error is not None else None,
                    )
                )

            self.worker.on_round = on_round
        self.backend = StoreBackend(engine, user, self.clock, self.worker, rules)
        # Read before the window exists, on the store thread like every store read.
        today = self.tasks.run_now(self.backend.today)
        names = self.tasks.run_now(self.backend.product_names)
        stored = self.tasks.run_now(lambda: client_settings.client_settings(engine))
        if stored.language is not None:
            set_language(stored.language)
        self.camera = CameraBridge(today=self.window_today)
        window_options.setdefault("camera", self.camera)
        window_options.setdefault("camera_index", stored.camera_index)
        window_options.setdefault("open_camera", open_camera)
        window_options.setdefault("settings", self._settings_access(find_cameras, open_camera))
        window_options.setdefault("pages", self._pages(engine, user, names))
        window_options.setdefault("verify_view", self._verify_view(engine))
        window_options.setdefault("certificate_actions", self._certificate_actions(engine, box))
        self.window = MainWindow(
            self.backend,
            self.tasks,
            today=today,
            product_names=names,
            sync_signals=self.sync_signals,
            **window_options,
        )
        language_changed.connect(self._remember_language)
        self.scanner = ScannerFilter(today=self.window_today)
        self.scanner.scanned.connect(self.window.route_scan)
        self._app = QApplication.instance()
        self.lock: IdleLock | None = None
        self._closed = False
        if idle_lock:
            minutes = self.tasks.run_now(lambda: accounts.idle_lock_policy(engine).minutes)
            self.lock = IdleLock(
                lambda username, password: accounts.login(engine, username, password, self.clock),
                self.tasks,
                user,
                minutes * 60_000,
                window=self.window,
            )
            self.lock.unlocked.connect(self._user_changed)
        self.window.settings_saved.connect(self._settings_saved)

    def _pages(
        self, engine: Engine, user: SignedIn, names: Mapping[str, str]
    ) -> list[tuple[Any, Any]]:
        """The stock page, and the users page for a manager."""
        from app.services.vials import site_vials
        from app.ui.stock_backend import StoreStockBackend
        from app.ui.stock_view import StockPage
        from app.ui.text import tr
        from app.ui.users_view import UserAdmin, UsersView

        clock, backend, rules = self.clock, self.backend, self.backend.rules
        stock = StoreStockBackend(
            engine,
            clock,
            lambda: backend.user.id,
            lambda: site_vials(engine, clock, rules=rules),
            rules,
        )
        pages: list[tuple[Any, Any]] = [(StockPage.title, StockPage(stock, self.tasks, names))]
        if user.is_manager:

            def create(username: str, full_name: str, role: Any, password: str) -> Any:
                return accounts.create_user(
                    engine,
                    backend.user.id,
                    username=username,
                    full_name=full_name,
                    role=role,
                    password=password,
                    clock=clock,
                )

            admin = UserAdmin(
                list_users=lambda: accounts.list_users(engine),
                create_user=create,
                set_active=lambda uid, active: accounts.set_active(
                    engine, backend.user.id, uid, active, clock=clock
                ),
                reset_password=lambda uid, pw: accounts.reset_password(
                    engine, backend.user.id, uid, pw, clock=clock
                ),
                unlock=lambda uid: accounts.unlock_user(engine, backend.user.id, uid, clock=clock),
            )
            pages.append((lambda: tr("ui.main.tab.users", "Users"), UsersView(admin, self.tasks)))
        return pages

    def _verify_view(self, engine: Engine) -> Any:
        from app.services import verification
        from app.ui.verify_view import VerifyView

        clock = self.clock
        return VerifyView(
            self.tasks,
            lambda text: verification.verify_text(engine, text, clock=clock),
            lambda path: verification.verify_file(engine, path, clock=clock),
        )

    def _certificate_actions(self, engine: Engine, box: SecretBox) -> Any:
        from app.services.certificates import issue_certificate
        from app.services.enrolment import load_document_signer
        from app.ui.certificate_actions import CertificateActions

        clock, backend = self.clock, self.backend

        def issue(citizen_id: uuid.UUID) -> Any:
            signer = load_document_signer(engine, box)
            return issue_certificate(engine, signer, citizen_id, clock=clock, actor=backend.user.id)

        return CertificateActions(self.tasks, issue)

    def _settings_access(
        self,
        find_cameras: Callable[[], Sequence[int]],
        open_camera: Callable[[int], FrameSource],
    ) -> Any:
        """The settings dialog's way to the store, acting as whoever is logged in then."""
        from app.ui.settings_dialog import SettingsAccess, SettingsChoice, StoredSettings

        engine, clock, backend = self.engine, self.clock, self.backend

        def load() -> StoredSettings:
            camera = client_settings.client_settings(engine).camera_index
            return StoredSettings(camera, accounts.idle_lock_policy(engine).minutes)

        def save(choice: SettingsChoice) -> StoredSettings:
            actor = backend.user.id
            # The lock time first: it is the part that can be refused (a nurse, a bad value),
            # and then nothing at all is saved.
            if choice.idle_lock_minutes is not None:
                accounts.set_idle_lock_minutes(engine, actor, choice.idle_lock_minutes, clock=clock)
            client_settings.save_camera(engine, choice.camera_index, clock=clock, actor=actor)
            return load()

        return SettingsAccess(load, save, find_cameras, open_camera)

    def _settings_saved(self, stored: Any) -> None:
        """Saved settings take effect at once: the idle lock's time (the window did the camera)."""
        if self.lock is not None:
            self.lock.set_timeout_ms(stored.idle_lock_minutes * 60_000)

    def window_today(self) -> date:
        return self.window.roster_view.today

    def _remember_language(self, language: Language) -> None:
        """Keep the language chosen for the next start (on the store thread)."""
        user_id, engine, clock = self.backend.user.id, self.engine, self.clock
        self.tasks.run(
            lambda: client_settings.save_language(engine, language, clock=clock, actor=user_id)
        )

    def _user_changed(self, user: SignedIn) -> None:
        """Another person unlocked the screen: from now on everything is done as them."""
        self.backend.user = user
        self.window.user_changed()

    def start(self) -> None:
        """Show the window, load the roster, listen to the scanner, start syncing."""
        if self._app is not None:
            self.scanner.install(self._app)
            # Installed after the scanner filter, so it runs first (Qt: last in, first run)
            # and a scan cannot reach the window behind the lock screen.
            if self.lock is not None:
                self.lock.install(self._app)
        self.window.show()
        self.window.start()
        if self.worker is not None:
            self.worker.start()

    def close(self) -> None:
        """Stop syncing, finish queued store work, close the window (once; again is a no-op)."""
        if self._closed:
            return
        self._closed = True
        # A round ending while the worker stops must not reach a closing window.
        self.sync_signals.round_finished.disconnect(self.window.on_round_finished)
        language_changed.disconnect(self._remember_language)
        self.camera.stop()
        self.camera.wait(5.0)
        if self.lock is not None:
            self.lock.uninstall()
        if self._app is not None:
            self.scanner.uninstall(self._app)
        if self.worker is not None:
            self.worker.stop()
        if self._transport is not None:
            self._transport.close()
        self.tasks.shutdown()
        self.window.close()


# -- the program --------------------------------------------------------------------------


def run_gui(*, db: Path | None = None, argv: list[str] | None = None) -> int:
    """Run the site client window until it is closed; the process exit status."""
    if not display_available(os.environ, sys.platform):
        print(NO_DISPLAY_MESSAGE)
        return 0
    from PySide6.QtWidgets import QApplication

    from app.ui.tasks import TaskManager

    settings = SiteSettings().with_db(db)
    engine = open_site_store(settings.db_path)
    try:
        box = SecretBox.load_or_create(settings.secret_key_path)
        app = QApplication.instance() or QApplication(argv or sys.argv)
        app.setApplicationName("imuno-site")
        clock = SystemClock()
        tasks = TaskManager()
        user = _first_start(engine, box, tasks, clock)
        if user is None:
            tasks.shutdown()
            return 0
        client = SiteClient(engine, box, user, clock=clock, tasks=tasks)
        client.start()
        try:
            return int(app.exec())
        finally:
            client.close()
    finally:
        engine.dispose()


def one_sync_round(engine: Engine, box: SecretBox, clock: Clock) -> RoundReport:
    """Run one sync round now (first start: fetch the accounts before anyone logs in)."""
    with connect(engine, box, clock=clock) as link:
        return link.engine.run_round()


def _first_start(engine: Engine, box: SecretBox, tasks: Any, clock: Clock) -> SignedIn | None:
    """Enrol if needed, then log in; None when the person closed a dialog."""
    # Imported here: enrolment pulls in the certificate stack, which only a first start needs.
    from app.services.enrolment import enrol_site, enrolment_status
    from app.ui.enrolment_dialog import EnrolmentDialog
    from app.ui.login_dialog import LoginDialog

    def first_sync() -> RoundReport:
        return one_sync_round(engine, box, clock)

    status = tasks.run_now(lambda: enrolment_status(engine))
    if not status.enrolled:
        enrolment = EnrolmentDialog(
            lambda url, code: enrol_site(engine, box, url, code, clock),
            tasks,
            first_sync=first_sync,
        )
        if not enrolment.exec():
            return None
    login = LoginDialog(
        lambda username, password: accounts.login(engine, username, password, clock),
        tasks,
        has_users=lambda: accounts.has_users(engine),
        sync_now=first_sync,
    )
    if not login.exec():
        return None
    user: SignedIn | None = login.signed_in
    return user


__all__ = [
    "NO_DISPLAY_MESSAGE",
    "SiteClient",
    "StoreBackend",
    "build_sync_worker",
    "display_available",
    "run_gui",
]
