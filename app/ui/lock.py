"""The idle lock: after some minutes without input the screen locks.

A workstation at a vaccination desk is left alone between people; whoever
walks up must not record a dose in the nurse's name. `IdleLock` is an event
filter on the QApplication that restarts a timer on every key press, click,
wheel turn or touch; when the timer runs out it covers the window with a
`LockScreen`. The lock opens again with the same person's password, or
another person logs in instead ("Another user"), after which `unlocked`
carries who is at the keyboard now, so the window can switch its user.

While locked, key presses that are not for the lock screen are swallowed, so
a scanner burst cannot reach the window behind it. Qt runs the most recently
installed application filter first: install the lock after the scanner filter.

The timeout comes from `app.services.accounts.IdleLockPolicy` (the settings
table); `set_timeout_ms` applies a changed policy at once.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from app.services.accounts import SignedIn
from app.ui.login_dialog import LoginDialog, LoginFn
from app.ui.tasks import TaskManager
from app.ui.text import tr

_ACTIVITY: Final = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)
_KEYS: Final = frozenset(
    {QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride}
)


class LockScreen(LoginDialog):
    """The locked screen: the same user's password, or another user's log-in.

    It cannot be dismissed with Escape or the close button: only a log-in
    opens it.
    """

    def __init__(
        self, login: LoginFn, tasks: TaskManager, user: SignedIn, *, parent: QWidget | None = None
    ) -> None:
        self.user = user
        self.other_button: QPushButton | None = None
        super().__init__(login, tasks, username=user.username, parent=parent)
        self.setObjectName("lockScreen")
        self.setWindowFlag(Qt.WindowType.WindowCloseButtonHint, False)
        self.setModal(True)
        self.username.setReadOnly(True)
        self.cancel_button.setVisible(False)
        self.other_button = QPushButton(self)
        self.other_button.setObjectName("lockOtherUserButton")
        self.other_button.clicked.connect(self.another_user)
        self.main_layout.addWidget(self.other_button)
        self.retranslate()
        self.password.setFocus()

    def another_user(self) -> None:
        """Let someone else log in instead of the locked user."""
        self.username.setReadOnly(False)
        self.username.clear()
        self.password.clear()
        self.username.setFocus()

    def reject(self) -> None:
        """Escape does not open the lock."""

    def retranslate(self, *_: object) -> None:
        super().retranslate()
        self.setWindowTitle(tr("ui.identity.lock.title", "Locked"))
        self.intro.setText(
            tr(
                "ui.identity.lock.intro",
                "The screen was locked after a while without use. {name}, type your password "
                "to continue, or let another user log in.",
                name=self.user.full_name,
            )
        )
        self.login_button.setText(tr("ui.identity.lock.unlock", "Unlock"))
        if self.other_button is not None:
            self.other_button.setText(tr("ui.identity.lock.other_user", "Another user"))


class IdleLock(QObject):
    """Locks the screen after `timeout_ms` without input (see the module docstring)."""

    #: The screen has just locked.
    locked = Signal()
    #: The lock opened; carries the `SignedIn` now at the keyboard (maybe another user).
    unlocked = Signal(object)

    def __init__(
        self,
        login: LoginFn,
        tasks: TaskManager,
        user: SignedIn,
        timeout_ms: int,
        *,
        window: QWidget | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._login = login
        self._tasks = tasks
        self._user = user
        self._window = window
        self._screen: LockScreen | None = None
        self._app: QCoreApplication | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self.lock_now)

    @property
    def user(self) -> SignedIn:
        """Who is logged in now."""
        return self._user

    @property
    def is_locked(self) -> bool:
        return self._screen is not None

    @property
    def screen(self) -> LockScreen | None:
        """The lock screen while locked."""
        return self._screen

    @property
    def timeout_ms(self) -> int:
        return self._timer.interval()

    def install(self, app: QCoreApplication) -> None:
        """Watch every input event of `app` and start counting."""
        self._app = app
        app.installEventFilter(self)
        self._timer.start()

    def uninstall(self) -> None:
        """Stop watching (at log-out or when the window closes)."""
        self._timer.stop()
        if self._app is not None:
            self._app.removeEventFilter(self)
            self._app = None

    def set_timeout_ms(self, timeout_ms: int) -> None:
        """Apply a new idle time at once (counting starts again)."""
        self._timer.setInterval(timeout_ms)
        if not self.is_locked and self._app is not None:
            self._timer.start()

    def set_user(self, user: SignedIn) -> None:
        """Another person logged in (the window switched users)."""
        self._user = user

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if self._screen is not None:
            # Keys meant for the window behind (a scanner burst) are dropped.
            return kind in _KEYS and not self._inside_screen(watched)
        if kind in _ACTIVITY:
            self._timer.start()
        return False

    def _inside_screen(self, watched: QObject) -> bool:
        screen = self._screen
        node: QObject | None = watched
        while node is not None:
            if node is screen:
                return True
            node = node.parent()
        return False

    def lock_now(self) -> None:
        """Lock the screen (also from a "Lock" button)."""
        if self._screen is not None:
            return
        self._timer.stop()
        screen = LockScreen(self._login, self._tasks, self._user, parent=self._window)
        screen.logged_in.connect(self._on_unlocked)
        self._screen = screen
        screen.open()
        self.locked.emit()

    def _on_unlocked(self, user: SignedIn) -> None:
        screen, self._screen = self._screen, None
        self._user = user
        if screen is not None:
            screen.deleteLater()
        if self._app is not None:
            self._timer.start()
        self.unlocked.emit(user)
