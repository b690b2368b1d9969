"""The site manager's users screen: list, create, switch off or on, unlock, new password.

`UsersModel` is a table model over `app.services.accounts.Account` values.
`UsersView` calls the manager's actions it was given as plain callables
(`UserAdmin`, bound to the store, clock and the manager's id by the composition
root) on the store thread and reloads the list after each; a refusal (not a
manager, username taken, password too short, last manager) is shown under
the table in the current language. Passwords typed here are cleared as soon
as they have been sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.accounts import Account
from app.ui.login_dialog import describe_error
from app.ui.tasks import TaskManager
from app.ui.text import language_changed, tr
from domain.site_accounts import SiteRole

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class UserAdmin:
    """The manager's actions, each bound to the store, the clock and the manager."""

    list_users: Callable[[], Sequence[Account]]
    #: ``create_user(username, full_name, role, password)``
    create_user: Callable[[str, str, SiteRole, str], Account]
    #: ``set_active(user_id, active)``
    set_active: Callable[[uuid.UUID, bool], Account]
    #: ``reset_password(user_id, new_password)``
    reset_password: Callable[[uuid.UUID, str], Account]
    #: ``unlock(user_id)``
    unlock: Callable[[uuid.UUID], Account]


class Column(IntEnum):
    USERNAME = 0
    FULL_NAME = 1
    ROLE = 2
    STATE = 3
    LAST_LOGIN = 4


AccountRole: Final = Qt.ItemDataRole.UserRole
"""Item data role giving the row's `Account`."""


def role_name(role: SiteRole) -> str:
    if role is SiteRole.MANAGER:
        return tr("ui.identity.role.manager", "Site manager")
    return tr("ui.identity.role.nurse", "Nurse")


def state_name(account: Account) -> str:
    if not account.active:
        return tr("ui.identity.state.off", "Switched off")
    if account.locked:
        return tr("ui.identity.state.locked", "Locked")
    return tr("ui.identity.state.active", "Active")


class UsersModel(QAbstractTableModel):
    """Rows of `Account` values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Account] = []

    def set_rows(self, rows: Sequence[Account]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def account_at(self, row: int) -> Account:
        return self._rows[row]

    def row_of(self, user_id: uuid.UUID) -> int | None:
        for number, account in enumerate(self._rows):
            if account.id == user_id:
                return number
        return None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        account = self._rows[index.row()]
        if role == AccountRole:
            return account
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        column = Column(index.column())
        if column is Column.USERNAME:
            return account.username
        if column is Column.FULL_NAME:
            return account.full_name
        if column is Column.ROLE:
            return role_name(account.role)
        if column is Column.STATE:
            return state_name(account)
        if account.last_login_at is None:
            return "—"
        return account.last_login_at.astimezone().strftime("%d.%m.%Y %H:%M")

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return {
            Column.USERNAME: tr("ui.identity.username", "Username"),
            Column.FULL_NAME: tr("ui.identity.full_name", "Full name"),
            Column.ROLE: tr("ui.identity.role", "Role"),
            Column.STATE: tr("ui.identity.state", "State"),
            Column.LAST_LOGIN: tr("ui.identity.last_login", "Last log-in"),
        }[Column(section)]

    def retranslate(self) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(Column) - 1)
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(Column) - 1)
            )


class UsersView(QWidget):
    """The manager's list of users with the actions on them."""

    #: Emitted after every reload (tests wait on it).
    refreshed = Signal()

    def __init__(
        self, admin: UserAdmin, tasks: TaskManager, *, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._admin = admin
        self._tasks = tasks
        self._error: BaseException | None = None
        self._notice: tuple[str, str, dict[str, str]] | None = None

        self.model = UsersModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("usersTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)

        self.toggle_button = QPushButton(self)
        self.toggle_button.setObjectName("toggleActiveButton")
        self.unlock_button = QPushButton(self)
        self.unlock_button.setObjectName("unlockButton")
        self.reset_password = QLineEdit(self)
        self.reset_password.setObjectName("resetPassword")
        self.reset_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.reset_button = QPushButton(self)
        self.reset_button.setObjectName("resetPasswordButton")
        selected = QHBoxLayout()
        selected.addWidget(self.toggle_button)
        selected.addWidget(self.unlock_button)
        selected.addStretch(1)
        selected.addWidget(self.reset_password)
        selected.addWidget(self.reset_button)

        self.create_box = QGroupBox(self)
        self.new_username = QLineEdit(self)
        self.new_username.setObjectName("newUsername")
        self.new_full_name = QLineEdit(self)
        self.new_full_name.setObjectName("newFullName")
        self.new_role = QComboBox(self)
        self.new_role.setObjectName("newRole")
        self.new_role.addItem("", SiteRole.NURSE)
        self.new_role.addItem("", SiteRole.MANAGER)
        self.new_password = QLineEdit(self)
        self.new_password.setObjectName("newPassword")
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.create_button = QPushButton(self)
        self.create_button.setObjectName("createUserButton")
        self._form_labels = [QLabel(self) for _ in range(4)]
        form = QFormLayout(self.create_box)
        fields: list[QWidget] = [
            self.new_username,
            self.new_full_name,
            self.new_role,
            self.new_password,
        ]
        for label, field in zip(self._form_labels, fields, strict=True):
            form.addRow(label, field)
        form.addRow(self.create_button)

        self.message = QLabel(self)
        self.message.setObjectName("usersMessage")
        self.message.setWordWrap(True)
        self.title = QLabel(self)
        self.title.setObjectName("usersTitle")

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addLayout(selected)
        layout.addWidget(self.message)
        layout.addWidget(self.create_box)

        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.toggle_button.clicked.connect(self.toggle_active)
        self.unlock_button.clicked.connect(self.unlock)
        self.reset_button.clicked.connect(self.reset)
        self.create_button.clicked.connect(self.create_user)
        language_changed.connect(self.retranslate)
        self.retranslate()
        self._update_buttons()
        self.refresh()

    # -- actions ------------------------------------------------------------------------

    def refresh(self, select: uuid.UUID | None = None) -> None:
        """Reload the list from the store (keeps or sets the selection)."""
        current = self.selected()
        keep = select if select is not None else (current.id if current else None)
        self._tasks.run(self._admin.list_users, lambda rows: self._show(rows, keep), self._fail)

    def selected(self) -> Account | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        account: Account = self.model.account_at(rows[0].row())
        return account

    def select_user(self, user_id: uuid.UUID) -> None:
        row = self.model.row_of(user_id)
        if row is not None:
            self.table.selectRow(row)

    def create_user(self) -> None:
        username, full_name = self.new_username.text(), self.new_full_name.text()
        role = SiteRole(self.new_role.currentData())
        password = self.new_password.text()
        self.new_password.clear()

        def done(account: Account) -> None:
            self.new_username.clear()
            self.new_full_name.clear()
            self._done(
                account,
                (
                    "ui.identity.users.created",
                    "Created {username}.",
                    {"username": account.username},
                ),
            )

        self._tasks.run(
            lambda: self._admin.create_user(username, full_name, role, password), done, self._fail
        )

    def toggle_active(self) -> None:
        account = self.selected()
        if account is None:
            return
        active = not account.active
        notice = (
            ("ui.identity.users.activated", "{username} can log in again.")
            if active
            else ("ui.identity.users.deactivated", "{username} is switched off.")
        )
        self._tasks.run(
            lambda: self._admin.set_active(account.id, active),
            lambda a: self._done(a, (*notice, {"username": a.username})),
            self._fail,
        )

    def unlock(self) -> None:
        account = self.selected()
        if account is None:
            return
        self._tasks.run(
            lambda: self._admin.unlock(account.id),
            lambda a: self._done(
                a,
                ("ui.identity.users.unlocked", "{username} is unlocked.", {"username": a.username}),
            ),
            self._fail,
        )

    def reset(self) -> None:
        account = self.selected()
        if account is None:
            return
        password = self.reset_password.text()
        self.reset_password.clear()
        self._tasks.run(
            lambda: self._admin.reset_password(account.id, password),
            lambda a: self._done(
                a,
                (
                    "ui.identity.users.reset",
                    "{username} has a new password and is unlocked.",
                    {"username": a.username},
                ),
            ),
            self._fail,
        )

    # -- results ------------------------------------------------------------------------

    def _done(self, account: Account, notice: tuple[str, str, dict[str, str]]) -> None:
        self._error = None
        self._notice = notice
        self._show_message()
        self.refresh(select=account.id)

    def _show(self, rows: Sequence[Account], select: uuid.UUID | None) -> None:
        self.model.set_rows(rows)
        if select is not None:
            self.select_user(select)
        self._update_buttons()
        self.refreshed.emit()

    def _fail(self, error: BaseException) -> None:
        self._error = error
        self._notice = None
        self._show_message()

    def _show_message(self) -> None:
        if self._error is not None:
            self.message.setText(describe_error(self._error))
        elif self._notice is not None:
            code, english, params = self._notice
            self.message.setText(tr(code, english, **params))
        else:
            self.message.clear()

    def _update_buttons(self, *_: object) -> None:
        account = self.selected()
        for button in (self.toggle_button, self.unlock_button, self.reset_button):
            button.setEnabled(account is not None)
        self.unlock_button.setEnabled(account is not None and account.failed_logins > 0)
        self._label_toggle(account)

    def _label_toggle(self, account: Account | None) -> None:
        if account is not None and not account.active:
            self.toggle_button.setText(tr("ui.identity.users.activate", "Switch on"))
        else:
            self.toggle_button.setText(tr("ui.identity.users.deactivate", "Switch off"))

    def retranslate(self, *_: object) -> None:
        self.title.setText(tr("ui.identity.users.title", "Users of this site"))
        self._label_toggle(self.selected())
        self.unlock_button.setText(tr("ui.identity.users.unlock", "Unlock"))
        self.reset_password.setPlaceholderText(
            tr("ui.identity.users.new_password_hint", "New password")
        )
        self.reset_button.setText(tr("ui.identity.users.reset_button", "Reset password"))
        self.create_box.setTitle(tr("ui.identity.users.create_title", "New user"))
        texts = (
            tr("ui.identity.username", "Username"),
            tr("ui.identity.full_name", "Full name"),
            tr("ui.identity.role", "Role"),
            tr("ui.identity.password", "Password"),
        )
        for label, text in zip(self._form_labels, texts, strict=True):
            label.setText(text)
        self.new_role.setItemText(0, role_name(SiteRole.NURSE))
        self.new_role.setItemText(1, role_name(SiteRole.MANAGER))
        self.create_button.setText(tr("ui.identity.users.create", "Create user"))
        self.model.retranslate()
        self._show_message()
