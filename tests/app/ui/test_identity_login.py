"""The login dialog, the idle lock and the own-password dialog, over real accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow

from app.services.accounts import LOCKOUT_THRESHOLD, SignedIn
from app.ui.lock import IdleLock
from app.ui.login_dialog import ChangePasswordDialog, LoginDialog
from app.ui.tasks import TaskManager
from app.ui.text import set_language
from tests.app.ui.identity_fixtures import (
    FAST,
    MANAGER_PASSWORD,
    NURSE_PASSWORD,
    Accounts,
    site_accounts,
    tasks,
)

__all__ = ["site_accounts", "tasks"]  # fixtures


def _type_and_submit(
    qtbot: Any, tasks: TaskManager, dialog: LoginDialog, user: str, pw: str
) -> None:
    dialog.username.setText(user)
    dialog.password.setText(pw)
    with qtbot.waitSignal(tasks.idle, timeout=10_000):
        qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)


def test_a_nurse_logs_in_and_a_wrong_password_is_explained_in_her_language(
    qtbot: Any, site_accounts: Accounts, tasks: TaskManager, artifacts_dir: Path
) -> None:
    dialog = LoginDialog(site_accounts.login, tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.login_button.text() == "Prijavi se"
    _type_and_submit(qtbot, tasks, dialog, "ana", "wrong password")
    assert "Korisničko ime ili lozinka nisu tačni" in dialog.message.text()
    assert dialog.password.text() == ""
    assert dialog.result() == 0
    set_language("en")
    assert "username or password is wrong" in dialog.message.text()
    assert dialog.login_button.text() == "Log in"
    dialog.grab().save(str(artifacts_dir / "identity-login-refused.png"))
    with qtbot.waitSignal(dialog.logged_in, timeout=10_000) as signal:
        _type_and_submit(qtbot, tasks, dialog, "ana", NURSE_PASSWORD)
    assert isinstance(signal.args[0], SignedIn)
    assert dialog.signed_in is not None
    assert dialog.signed_in.id == site_accounts.nurse
    assert dialog.result() == LoginDialog.DialogCode.Accepted


def test_after_too_many_wrong_passwords_the_dialog_says_how_a_manager_unlocks(
    qtbot: Any, site_accounts: Accounts, tasks: TaskManager
) -> None:
    dialog = LoginDialog(site_accounts.login, tasks)
    qtbot.addWidget(dialog)
    for _ in range(LOCKOUT_THRESHOLD):
        _type_and_submit(qtbot, tasks, dialog, "ana", "guess")
    assert "zaključan" in dialog.message.text()
    assert "Otključaj" in dialog.message.text()
    _type_and_submit(qtbot, tasks, dialog, "ana", NURSE_PASSWORD)
    assert dialog.signed_in is None


def test_an_empty_workstation_offers_to_sync(
    qtbot: Any, site_accounts: Accounts, tasks: TaskManager
) -> None:
    synced: list[bool] = []
    with qtbot.waitSignal(tasks.idle, timeout=10_000):
        dialog = LoginDialog(
            site_accounts.login, tasks, has_users=lambda: bool(synced),
            sync_now=lambda: synced.append(True),
        )  # fmt: skip
    qtbot.addWidget(dialog)
    assert not dialog.sync_button.isHidden()
    assert "nema naloga" in dialog.message.text()
    with qtbot.waitSignal(tasks.idle, timeout=10_000):
        qtbot.mouseClick(dialog.sync_button, Qt.MouseButton.LeftButton)
    assert synced == [True]
    assert dialog.sync_button.isHidden()


def test_the_idle_lock_locks_after_the_timeout_and_opens_with_the_same_password(
    qtbot: Any, site_accounts: Accounts, tasks: TaskManager, artifacts_dir: Path
) -> None:
    window = QMainWindow()
    field = QLineEdit(window)
    window.setCentralWidget(field)
    qtbot.addWidget(window)
    window.show()
    nurse = site_accounts.login("ana", NURSE_PASSWORD)
    lock = IdleLock(site_accounts.login, tasks, nurse, 200, window=window)
    app = QApplication.instance()
    assert app is not None
    lock.install(app)
    try:
        with qtbot.waitSignal(lock.locked, timeout=5_000):
            pass
        assert lock.is_locked
        screen = lock.screen
        assert screen is not None
        assert screen.username.isReadOnly()
        assert "Ana Anić" in screen.intro.text()
        screen.grab().save(str(artifacts_dir / "identity-lock-screen.png"))

        # A scanner burst aimed at the window behind is swallowed.
        QApplication.sendEvent(
            field,
            QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_1, Qt.KeyboardModifier.NoModifier, "1"),
        )
        assert field.text() == ""

        screen.password.setText("wrong password")
        with qtbot.waitSignal(tasks.idle, timeout=10_000):
            qtbot.mouseClick(screen.login_button, Qt.MouseButton.LeftButton)
        assert lock.is_locked
        assert "nisu tačni" in screen.message.text()

        screen.password.setText(NURSE_PASSWORD)
        with qtbot.waitSignal(lock.unlocked, timeout=10_000) as opened:
            qtbot.mouseClick(screen.login_button, Qt.MouseButton.LeftButton)
        assert opened.args[0].id == site_accounts.nurse
        assert lock.screen is None
        assert lock.user.id == site_accounts.nurse
    finally:
        lock.uninstall()


def test_input_keeps_the_lock_away_and_another_user_may_take_over(
    qtbot: Any, site_accounts: Accounts, tasks: TaskManager
) -> None:
    window = QMainWindow()
    field = QLineEdit(window)
    window.setCentralWidget(field)
    qtbot.addWidget(window)
    window.show()
    nurse = site_accounts.login("ana", NURSE_PASSWORD)
    lock = IdleLock(site_accounts.login, tasks, nurse, 400, window=window)
    app = QApplication.instance()
    assert app is not None
    lock.install(app)
    try:
        for _ in range(6):  # 6 x 150 ms of typing: longer than the timeout, never idle
            qtbot.keyClick(field, Qt.Key.Key_A)
            qtbot.wait(150)
        assert not lock.is_locked
        qtbot.mouseMove(field, QPoint(5, 5))
        with qtbot.waitSignal(lock.locked, timeout=5_000):
            pass
        screen = lock.screen
        assert screen is not None
        screen.reject()  # Escape does not open it
        assert lock.screen is screen
        assert screen.other_button is not None
        qtbot.mouseClick(screen.other_button, Qt.MouseButton.LeftButton)
        assert not screen.username.isReadOnly()
        screen.username.setText("mara")
        screen.password.setText(MANAGER_PASSWORD)
        with qtbot.waitSignal(lock.unlocked, timeout=10_000) as opened:
            qtbot.mouseClick(screen.login_button, Qt.MouseButton.LeftButton)
        assert opened.args[0].id == site_accounts.manager
        assert lock.user.is_manager
    finally:
        lock.uninstall()


def test_a_nurse_changes_her_own_password(
    qtbot: Any, site_accounts: Accounts, tasks: TaskManager
) -> None:
    from app.services import accounts

    def change(current: str, new: str) -> object:
        return accounts.change_own_password(
            site_accounts.engine, site_accounts.nurse, current, new,
            clock=site_accounts.clock, hasher=FAST,
        )  # fmt: skip

    dialog = ChangePasswordDialog(change, tasks)
    qtbot.addWidget(dialog)
    dialog.current.setText(NURSE_PASSWORD)
    dialog.new.setText("brand new password")
    dialog.repeat.setText("brand new passw0rd")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "razlikuju" in dialog.message.text()
    dialog.repeat.setText("brand new password")
    dialog.current.setText("not my password")
    with qtbot.waitSignal(tasks.idle, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "Trenutna lozinka nije tačna" in dialog.message.text()
    dialog.current.setText(NURSE_PASSWORD)
    with qtbot.waitSignal(tasks.idle, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == ChangePasswordDialog.DialogCode.Accepted
    assert site_accounts.login("ana", "brand new password").id == site_accounts.nurse
