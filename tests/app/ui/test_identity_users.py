"""The manager's users screen over real accounts: create, switch off and on, unlock, reset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.services.accounts import LOCKOUT_THRESHOLD, AccountInactive, AccountLocked, LoginFailed
from app.ui.tasks import TaskManager
from app.ui.text import set_language
from app.ui.users_view import Column, UsersModel, UsersView
from domain.site_accounts import SiteRole
from tests.app.ui.identity_fixtures import NURSE_PASSWORD, Accounts, site_accounts, tasks

__all__ = ["site_accounts", "tasks"]


def _view(qtbot: Any, accounts: Accounts, tasks: TaskManager, **kw: Any) -> UsersView:
    with qtbot.waitSignal(tasks.idle, timeout=10_000):
        view = UsersView(accounts.admin(**kw), tasks)
    qtbot.addWidget(view)
    return view


def _click(qtbot: Any, tasks: TaskManager, button: Any) -> None:
    with qtbot.waitSignal(tasks.idle, timeout=10_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _row(view: UsersView, username: str) -> int:
    for row in range(view.model.rowCount()):
        if view.model.account_at(row).username == username:
            return row
    raise AssertionError(f"{username} not listed")


def test_the_manager_creates_a_nurse_who_can_then_log_in(
    qtbot: Any, site_accounts: Accounts, tasks: TaskManager, artifacts_dir: Path
) -> None:
    view = _view(qtbot, site_accounts, tasks)
    view.show()
    assert view.model.rowCount() == 2
    view.new_username.setText("jelena")
    view.new_full_name.setText("Jelena Jelić")
    view.new_role.setCurrentIndex(view.new_role.findData(SiteRole.NURSE))
    view.new_password.setText("short")
    _click(qtbot, tasks, view.create_button)
    assert "prekratka" in view.message.text()
    assert view.new_password.text() == ""
    view.new_password.setText("a good long password")
    _click(qtbot, tasks, view.create_button)
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=5_000)
    assert "Napravljen je korisnik jelena" in view.message.text()
    selected = view.selected()
    assert selected is not None
    assert selected.username == "jelena"
    row = _row(view, "jelena")
    assert view.model.index(row, Column.ROLE).data() == "Medicinska sestra"
    set_language("en")
    assert view.model.index(row, Column.ROLE).data() == "Nurse"
    assert view.model.headerData(Column.STATE, Qt.Orientation.Horizontal) == "State"
    view.grab().save(str(artifacts_dir / "identity-users.png"))
    assert site_accounts.login("jelena", "a good long password").role is SiteRole.NURSE


def test_switch_off_and_on_unlock_and_reset_a_password(
    qtbot: Any, site_accounts: Accounts, tasks: TaskManager
) -> None:
    for _ in range(LOCKOUT_THRESHOLD):
        with pytest.raises((LoginFailed, AccountLocked)):
            site_accounts.login("ana", "guess")
    view = _view(qtbot, site_accounts, tasks)
    view.table.selectRow(_row(view, "ana"))
    assert view.model.index(_row(view, "ana"), Column.STATE).data() == "Zaključan"
    assert view.unlock_button.isEnabled()
    _click(qtbot, tasks, view.unlock_button)
    qtbot.waitUntil(lambda: "otključan" in view.message.text(), timeout=5_000)
    assert site_accounts.login("ana", NURSE_PASSWORD).id == site_accounts.nurse

    view.table.selectRow(_row(view, "ana"))
    assert view.toggle_button.text() == "Isključi"
    _click(qtbot, tasks, view.toggle_button)
    qtbot.waitUntil(lambda: view.toggle_button.text() == "Uključi", timeout=5_000)
    with pytest.raises(AccountInactive):
        site_accounts.login("ana", NURSE_PASSWORD)
    _click(qtbot, tasks, view.toggle_button)
    qtbot.waitUntil(lambda: view.toggle_button.text() == "Isključi", timeout=5_000)

    view.reset_password.setText("fresh password")
    _click(qtbot, tasks, view.reset_button)
    qtbot.waitUntil(lambda: "novu lozinku" in view.message.text(), timeout=5_000)
    assert view.reset_password.text() == ""
    assert site_accounts.login("ana", "fresh password").id == site_accounts.nurse


def test_a_manager_cannot_switch_themselves_off_and_a_nurse_cannot_administer(
    qtbot: Any, site_accounts: Accounts, tasks: TaskManager
) -> None:
    view = _view(qtbot, site_accounts, tasks)
    view.table.selectRow(_row(view, "mara"))
    _click(qtbot, tasks, view.toggle_button)
    assert "sopstveni nalog" in view.message.text()

    as_nurse = _view(qtbot, site_accounts, tasks, actor=site_accounts.nurse)
    as_nurse.new_username.setText("intruder")
    as_nurse.new_full_name.setText("Intruder")
    as_nurse.new_password.setText("long enough password")
    _click(qtbot, tasks, as_nurse.create_button)
    assert "samo rukovodilac" in as_nurse.message.text()
    assert as_nurse.model.rowCount() == 2


def test_the_model_shows_plain_values_without_a_view(site_accounts: Accounts) -> None:
    from app.services import accounts

    model = UsersModel()
    model.set_rows(accounts.list_users(site_accounts.engine))
    assert model.rowCount() == 2
    assert model.columnCount() == len(Column)
    assert model.index(0, Column.LAST_LOGIN).data() == "—"
    assert {model.index(r, Column.USERNAME).data() for r in range(2)} == {"ana", "mara"}
