"""A site store with real accounts, and the services bound as the identity widgets take them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import argon2
import pytest
from sqlalchemy.engine import Engine

from app.local_db.engine import open_site_store
from app.local_db.models.site import LocalUser, Role
from app.local_db.unit_of_work import session_scope
from app.services import accounts
from app.services.accounts import SignedIn
from app.ui.tasks import TaskManager
from app.ui.users_view import UserAdmin
from domain.clock import FixedClock
from domain.ids import uuid7
from domain.site_accounts import SiteRole

FAST = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
NOW = datetime(2021, 6, 15, 8, 0, tzinfo=UTC)
NURSE_PASSWORD = "nurse password"
MANAGER_PASSWORD = "manager password"


@dataclass
class Accounts:
    """The store and the bound account services, as the composition root binds them."""

    engine: Engine
    clock: FixedClock
    nurse: uuid.UUID
    manager: uuid.UUID

    def login(self, username: str, password: str) -> SignedIn:
        return accounts.login(self.engine, username, password, self.clock, hasher=FAST)

    def admin(self, actor: uuid.UUID | None = None) -> UserAdmin:
        who = actor or self.manager
        engine, clock = self.engine, self.clock

        def create(username: str, full_name: str, role: SiteRole, password: str) -> Any:
            return accounts.create_user(
                engine, who, username=username, full_name=full_name, role=role,
                password=password, clock=clock, hasher=FAST,
            )  # fmt: skip

        return UserAdmin(
            list_users=lambda: accounts.list_users(engine),
            create_user=create,
            set_active=lambda uid, active: accounts.set_active(
                engine, who, uid, active, clock=clock
            ),
            reset_password=lambda uid, pw: accounts.reset_password(
                engine, who, uid, pw, clock=clock, hasher=FAST
            ),
            unlock=lambda uid: accounts.unlock_user(engine, who, uid, clock=clock),
        )


def _user(engine: Engine, username: str, full_name: str, role: Role, password: str) -> uuid.UUID:
    user_id = uuid7()
    with session_scope(engine) as session:
        session.add(
            LocalUser(
                id=user_id, username=username, full_name=full_name, role=role,
                password_hash=FAST.hash(password), active=True, failed_logins=0,
                last_login_at=None, created_at=NOW, created_by=None, updated_at=NOW,
            )
        )  # fmt: skip
    return user_id


@pytest.fixture
def site_accounts(tmp_path: Path) -> Iterator[Accounts]:
    engine = open_site_store(tmp_path / "site.sqlite")
    nurse = _user(engine, "ana", "Ana Anić", Role.NURSE, NURSE_PASSWORD)
    manager = _user(engine, "mara", "Mara Marić", Role.MANAGER, MANAGER_PASSWORD)
    yield Accounts(engine, FixedClock(NOW), nurse, manager)
    engine.dispose()


@pytest.fixture
def tasks(qtbot: Any) -> Iterator[TaskManager]:
    manager = TaskManager()
    yield manager
    manager.shutdown()
