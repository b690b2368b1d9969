"""Logging in at the workstation, and changing one's own password.

`LoginDialog` asks for a username and password and calls the ``login``
callable it was given (`app.services.accounts.login` bound to the store and
clock) on the store thread, so the argon2 check never freezes the window. A
refusal (wrong password, locked, switched off) is shown in the dialog in the
current language and follows a language switch. When the workstation has no
accounts yet (just enrolled, not synced), it says so and offers "Sync now"
if a ``sync_now`` callable was given.

`ChangePasswordDialog` lets the logged-in person replace their password
(``change(current, new)``, `app.services.accounts.change_own_password`).

Neither imports the database: they see only the callables and the values
they return.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPushButton, QWidget

from app.services.accounts import SignedIn
from app.ui.dialog_form import default_button, form_layout, message_label
from app.ui.tasks import TaskManager
from app.ui.text import language_changed, tr, translate_error
from domain.errors import DomainError

log = logging.getLogger("imuno.site.ui")

LoginFn = Callable[[str, str], SignedIn]
"""``login(username, password)``: the signed-in person, or a `DomainError`."""


def describe_error(error: BaseException) -> str:
    """A refusal in the current language; anything unexpected as a generic line (logged)."""
    if isinstance(error, DomainError):
        return translate_error(error)
    log.error("unexpected error in an identity dialog", exc_info=error)
    return tr(
        "ui.identity.unexpected",
        "Something went wrong ({kind}). Try again; if it happens again, call the central "
        "help desk.",
        kind=type(error).__name__,
    )


class LoginDialog(QDialog):
    """Username and password; accepted once `login` returned, with `signed_in` set."""

    #: Emitted with the `SignedIn` value when a log-in succeeded.
    logged_in = Signal(object)

    def __init__(
        self,
        login: LoginFn,
        tasks: TaskManager,
        *,
        has_users: Callable[[], bool] | None = None,
        sync_now: Callable[[], Any] | None = None,
        username: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._login = login
        self._tasks = tasks
        self._has_users = has_users
        self._sync_now = sync_now
        self._error: BaseException | None = None
        self._no_accounts = False
        self.signed_in: SignedIn | None = None

        self.intro = QLabel(self)
        self.intro.setObjectName("loginIntro")
        self.intro.setWordWrap(True)
        self.username = QLineEdit(self)
        self.username.setObjectName("loginUsername")
        self.username.setText(username)
        self.password = QLineEdit(self)
        self.password.setObjectName("loginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = message_label(self, "loginMessage")
        self.login_button = default_button(self, "loginButton")
        self.sync_button = QPushButton(self)
        self.sync_button.setObjectName("loginSyncButton")
        self.sync_button.setVisible(False)
        self.cancel_button = QPushButton(self)
        self.cancel_button.setObjectName("loginCancelButton")

        self._username_label = QLabel(self)
        self._password_label = QLabel(self)
        self.main_layout = form_layout(
            self,
            [(self._username_label, self.username), (self._password_label, self.password)],
            [self.sync_button, None, self.cancel_button, self.login_button],
            above=self.intro,
            message=self.message,
        )

        self.login_button.clicked.connect(self.submit)
        self.password.returnPressed.connect(self.submit)
        self.username.returnPressed.connect(self.password.setFocus)
        self.cancel_button.clicked.connect(self.reject)
        self.sync_button.clicked.connect(self._sync)
        language_changed.connect(self.retranslate)
        self.retranslate()
        (self.password if username else self.username).setFocus()
        if has_users is not None:
            tasks.run(has_users, self._on_has_users, self._show_error)

    # -- behaviour ---------------------------------------------------------------------

    def submit(self) -> None:
        """Check the typed username and password (on the store thread)."""
        username, password = self.username.text(), self.password.text()
        if not username.strip() or not password:
            self._error = None
            self.message.setText(
                tr("ui.identity.login.missing", "Type your username and password.")
            )
            return
        self._set_busy(True)
        self._tasks.run(lambda: self._login(username, password), self._on_login, self._on_failed)

    def _on_login(self, signed_in: SignedIn) -> None:
        self.signed_in = signed_in
        self._set_busy(False)
        self.password.clear()
        self.logged_in.emit(signed_in)
        self.accept()

    def _on_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        self.password.clear()
        self.password.setFocus()
        self._show_error(error)

    def _show_error(self, error: BaseException) -> None:
        self._error = error
        self.message.setText(describe_error(error))

    def _on_has_users(self, has: bool) -> None:
        self._no_accounts = not has
        self.sync_button.setVisible(not has and self._sync_now is not None)
        self.retranslate()

    def _sync(self) -> None:
        if self._sync_now is None or self._has_users is None:
            return
        self._set_busy(True)
        sync_now, has_users = self._sync_now, self._has_users

        def sync_then_check() -> bool:
            sync_now()
            return has_users()

        def done(has: bool) -> None:
            self._set_busy(False)
            self._error = None
            self._on_has_users(has)

        def failed(error: BaseException) -> None:
            self._set_busy(False)
            self._show_error(error)

        self._tasks.run(sync_then_check, done, failed)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.username, self.password, self.login_button, self.sync_button):
            widget.setEnabled(not busy)
        if busy:
            self.message.setText(tr("ui.identity.please_wait", "Please wait…"))

    # -- text ---------------------------------------------------------------------------

    def retranslate(self, *_: object) -> None:
        self.setWindowTitle(tr("ui.identity.login.title", "Log in"))
        self.intro.setText(tr("ui.identity.login.intro", "Log in with your username and password."))
        self._username_label.setText(tr("ui.identity.username", "Username"))
        self._password_label.setText(tr("ui.identity.password", "Password"))
        self.login_button.setText(tr("ui.identity.login.button", "Log in"))
        self.cancel_button.setText(tr("ui.identity.cancel", "Cancel"))
        self.sync_button.setText(tr("ui.identity.login.sync", "Sync now"))
        if self._error is not None:
            self.message.setText(describe_error(self._error))
        elif self._no_accounts:
            self.message.setText(
                tr(
                    "ui.identity.login.no_accounts",
                    "This workstation has no accounts yet. They arrive from the hub with the "
                    "first sync: connect to the network and press Sync now, or ask the central "
                    "help desk to create your account.",
                )
            )


class ChangePasswordDialog(QDialog):
    """The logged-in person replaces their own password; accepted once it is stored."""

    def __init__(
        self,
        change: Callable[[str, str], Any],
        tasks: TaskManager,
        *,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._change = change
        self._tasks = tasks
        self._error: BaseException | None = None
        self._mismatch = False
        self.current = QLineEdit(self)
        self.current.setObjectName("currentPassword")
        self.new = QLineEdit(self)
        self.new.setObjectName("newPassword")
        self.repeat = QLineEdit(self)
        self.repeat.setObjectName("repeatPassword")
        for field in (self.current, self.new, self.repeat):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = message_label(self, "changePasswordMessage")
        self.save_button = default_button(self, "changePasswordButton")
        self.cancel_button = QPushButton(self)
        self._labels = [QLabel(self) for _ in range(3)]
        form_layout(
            self,
            zip(self._labels, (self.current, self.new, self.repeat), strict=True),
            [None, self.cancel_button, self.save_button],
            message=self.message,
        )
        self.save_button.clicked.connect(self.submit)
        self.repeat.returnPressed.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        language_changed.connect(self.retranslate)
        self.retranslate()

    def submit(self) -> None:
        """Store the new password if both typings match (the service checks the rest)."""
        current, new = self.current.text(), self.new.text()
        self._error = None
        self._mismatch = new != self.repeat.text()
        if self._mismatch:
            self.retranslate()
            return
        self.save_button.setEnabled(False)
        self._tasks.run(lambda: self._change(current, new), self._on_done, self._on_failed)

    def _on_done(self, _result: object) -> None:
        self.save_button.setEnabled(True)
        self.accept()

    def _on_failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        self._error = error
        self.message.setText(describe_error(error))

    def retranslate(self, *_: object) -> None:
        self.setWindowTitle(tr("ui.identity.change_password.title", "Change my password"))
        texts = (
            tr("ui.identity.change_password.current", "Current password"),
            tr("ui.identity.change_password.new", "New password"),
            tr("ui.identity.change_password.repeat", "New password again"),
        )
        for label, text in zip(self._labels, texts, strict=True):
            label.setText(text)
        self.save_button.setText(tr("ui.identity.save", "Save"))
        self.cancel_button.setText(tr("ui.identity.cancel", "Cancel"))
        if self._error is not None:
            self.message.setText(describe_error(self._error))
        elif self._mismatch:
            self.message.setText(
                tr(
                    "ui.identity.change_password.mismatch",
                    "The two new passwords differ. Type the same new password twice.",
                )
            )
        else:
            self.message.clear()
