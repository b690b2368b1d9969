"""Site accounts: log-in against argon2 hashes, lockout, the manager's administration."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import argon2
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.local_db.engine import open_site_store
from app.local_db.models.site import AuditEntry, LocalUser, Role
from app.local_db.models.sync import OutboxEntry
from app.local_db.unit_of_work import session_scope
from app.services import accounts
from app.services.accounts import (
    LOCKOUT_THRESHOLD,
    AccountInactive,
    AccountLocked,
    CannotDeactivateSelf,
    LastManager,
    LoginFailed,
    ManagerOnly,
    UsernameTaken,
    WrongCurrentPassword,
)
from domain.clock import FixedClock
from domain.i18n import message
from domain.ids import uuid7
from domain.site_accounts import PasswordTooShort, SiteRole, UsernameInvalid
from domain.sync_wire import SiteUserPayload

FAST = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
NOW = datetime(2021, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Engine]:
    engine = open_site_store(tmp_path / "site.sqlite")
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def add_user(
    store: Engine, username: str, password: str, role: Role = Role.NURSE, *, active: bool = True
) -> uuid.UUID:
    """A user as if pulled from the hub."""
    user_id = uuid7()
    with session_scope(store) as session:
        session.add(
            LocalUser(
                id=user_id,
                username=username,
                full_name=username.title(),
                role=role,
                password_hash=FAST.hash(password),
                active=active,
                failed_logins=0,
                last_login_at=None,
                created_at=NOW,
                created_by=None,
                updated_at=NOW,
            )
        )
    return user_id


def outbox(store: Engine) -> list[OutboxEntry]:
    with session_scope(store, write=False) as session:
        return list(session.scalars(sa.select(OutboxEntry).order_by(OutboxEntry.seq)))


def test_login_with_the_right_password_signs_in_and_records_it(
    store: Engine, clock: FixedClock
) -> None:
    nurse = add_user(store, "ana", "correct horse")
    signed = accounts.login(store, " Ana ", "correct horse", clock, hasher=FAST)
    assert signed.id == nurse
    assert signed.role is SiteRole.NURSE
    assert not signed.is_manager
    assert signed.logged_in_at == NOW
    [account] = accounts.list_users(store)
    assert account.last_login_at == NOW
    with session_scope(store, write=False) as session:
        actions = list(session.scalars(sa.select(AuditEntry.action)))
    assert actions == ["account.login"]


def test_unknown_user_and_wrong_password_get_the_same_answer(
    store: Engine, clock: FixedClock
) -> None:
    add_user(store, "ana", "correct horse")
    with pytest.raises(LoginFailed) as unknown:
        accounts.login(store, "nobody", "correct horse", clock, hasher=FAST)
    with pytest.raises(LoginFailed) as wrong:
        accounts.login(store, "ana", "wrong horse", clock, hasher=FAST)
    assert str(unknown.value) == str(wrong.value)
    assert "Caps Lock" in str(wrong.value)


def test_the_account_locks_after_the_threshold_and_the_right_password_no_longer_opens_it(
    store: Engine, clock: FixedClock
) -> None:
    add_user(store, "ana", "correct horse")
    for _ in range(LOCKOUT_THRESHOLD - 1):
        with pytest.raises(LoginFailed):
            accounts.login(store, "ana", "guess", clock, hasher=FAST)
    with pytest.raises(AccountLocked) as locked:
        accounts.login(store, "ana", "guess", clock, hasher=FAST)
    assert "manager" in str(locked.value)
    assert "Unlock" in str(locked.value)
    assert "Rukovodilac punkta" in message(locked.value, "sr-Latn")
    with pytest.raises(AccountLocked):
        accounts.login(store, "ana", "correct horse", clock, hasher=FAST)
    [account] = accounts.list_users(store)
    assert account.locked
    assert account.failed_logins == LOCKOUT_THRESHOLD


def test_a_right_password_resets_the_failure_count(store: Engine, clock: FixedClock) -> None:
    add_user(store, "ana", "correct horse")
    for _ in range(LOCKOUT_THRESHOLD - 1):
        with pytest.raises(LoginFailed):
            accounts.login(store, "ana", "guess", clock, hasher=FAST)
    accounts.login(store, "ana", "correct horse", clock, hasher=FAST)
    with pytest.raises(LoginFailed):
        accounts.login(store, "ana", "guess", clock, hasher=FAST)
    assert accounts.list_users(store)[0].failed_logins == 1


def test_a_manager_unlocks_a_locked_account(store: Engine, clock: FixedClock) -> None:
    manager = add_user(store, "mara", "manager pass", Role.MANAGER)
    nurse = add_user(store, "ana", "correct horse")
    for _ in range(LOCKOUT_THRESHOLD):
        with pytest.raises((LoginFailed, AccountLocked)):
            accounts.login(store, "ana", "guess", clock, hasher=FAST)
    with pytest.raises(ManagerOnly):
        accounts.unlock_user(store, nurse, nurse, clock=clock)
    account = accounts.unlock_user(store, manager, nurse, clock=clock)
    assert not account.locked
    assert accounts.login(store, "ana", "correct horse", clock, hasher=FAST).id == nurse
    assert outbox(store) == []  # a lockout is this workstation's business only


def test_a_switched_off_account_cannot_log_in(store: Engine, clock: FixedClock) -> None:
    add_user(store, "ana", "correct horse", active=False)
    with pytest.raises(AccountInactive):
        accounts.login(store, "ana", "correct horse", clock, hasher=FAST)


def test_a_manager_creates_a_user_who_can_log_in_and_who_is_queued_for_the_hub(
    store: Engine, clock: FixedClock
) -> None:
    manager = add_user(store, "mara", "manager pass", Role.MANAGER)
    created = accounts.create_user(
        store, manager, username="Jelena.P", full_name="  Jelena   Petrović ",
        role=SiteRole.NURSE, password="a long password", clock=clock, hasher=FAST,
    )  # fmt: skip
    assert created.username == "jelena.p"
    assert created.full_name == "Jelena Petrović"
    assert accounts.login(store, "jelena.p", "a long password", clock, hasher=FAST).id == created.id
    [entry] = outbox(store)
    assert entry.table_name == "site_user"
    assert entry.record_id == created.id
    payload = SiteUserPayload.model_validate(entry.payload)
    assert payload.role == "nurse"
    assert payload.active
    assert payload.password_hash.startswith("$argon2id$")
    assert "a long password" not in str(entry.payload)


def test_create_user_enforces_the_rules(store: Engine, clock: FixedClock) -> None:
    manager = add_user(store, "mara", "manager pass", Role.MANAGER)
    nurse = add_user(store, "ana", "correct horse")

    def create(actor: uuid.UUID, username: str, password: str = "long enough") -> None:
        accounts.create_user(
            store, actor, username=username, full_name="X Y", role=SiteRole.NURSE,
            password=password, clock=clock, hasher=FAST,
        )  # fmt: skip

    with pytest.raises(ManagerOnly):
        create(nurse, "newbie")
    with pytest.raises(UsernameTaken):
        create(manager, "ANA")
    with pytest.raises(UsernameInvalid):
        create(manager, "has space")
    with pytest.raises(PasswordTooShort):
        create(manager, "newbie", "short")
    assert outbox(store) == []


def test_deactivation_reset_and_own_password_change_travel_with_newer_timestamps(
    store: Engine, clock: FixedClock
) -> None:
    manager = add_user(store, "mara", "manager pass", Role.MANAGER)
    nurse = add_user(store, "ana", "correct horse")
    clock.advance(timedelta(minutes=1))
    accounts.change_own_password(
        store, nurse, "correct horse", "a new password", clock=clock, hasher=FAST
    )
    with pytest.raises(WrongCurrentPassword):
        accounts.change_own_password(
            store, nurse, "wrong", "another one!", clock=clock, hasher=FAST
        )
    assert accounts.login(store, "ana", "a new password", clock, hasher=FAST).id == nurse
    clock.advance(timedelta(minutes=1))
    accounts.reset_password(store, manager, nurse, "reset password", clock=clock, hasher=FAST)
    clock.advance(timedelta(minutes=1))
    accounts.deactivate_user(store, manager, nurse, clock=clock)
    with pytest.raises(AccountInactive):
        accounts.login(store, "ana", "reset password", clock, hasher=FAST)
    entries = outbox(store)
    assert [e.record_id for e in entries] == [nurse, nurse, nurse]
    stamps = [SiteUserPayload.model_validate(e.payload).updated_at for e in entries]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 3
    assert not SiteUserPayload.model_validate(entries[-1].payload).active
    clock.advance(timedelta(minutes=1))
    assert accounts.reactivate_user(store, manager, nurse, clock=clock).active


def test_a_manager_cannot_switch_off_themselves_or_the_last_manager(
    store: Engine, clock: FixedClock
) -> None:
    manager = add_user(store, "mara", "manager pass", Role.MANAGER)
    with pytest.raises(CannotDeactivateSelf):
        accounts.deactivate_user(store, manager, manager, clock=clock)
    with pytest.raises(LastManager):
        accounts.set_role(store, manager, manager, SiteRole.NURSE, clock=clock)
    other = add_user(store, "zoran", "manager pass", Role.MANAGER)
    assert accounts.set_role(store, other, manager, SiteRole.NURSE, clock=clock).role is (
        SiteRole.NURSE
    )


def test_the_idle_lock_policy_comes_from_the_settings_table(
    store: Engine, clock: FixedClock
) -> None:
    manager = add_user(store, "mara", "manager pass", Role.MANAGER)
    nurse = add_user(store, "ana", "correct horse")
    assert accounts.idle_lock_policy(store).minutes == accounts.DEFAULT_IDLE_LOCK_MINUTES
    with pytest.raises(ManagerOnly):
        accounts.set_idle_lock_minutes(store, nurse, 3, clock=clock)
    with pytest.raises(accounts.IdleLockOutOfRange):
        accounts.set_idle_lock_minutes(store, manager, 0, clock=clock)
    accounts.set_idle_lock_minutes(store, manager, 3, clock=clock)
    policy = accounts.idle_lock_policy(store)
    assert policy.minutes == 3
    assert policy.milliseconds == 180_000


def test_the_default_hasher_writes_argon2id_and_logins_upgrade_weak_hashes(
    store: Engine, clock: FixedClock
) -> None:
    add_user(store, "ana", "correct horse")  # made with FAST: weaker than the default
    accounts.login(store, "ana", "correct horse", clock)
    with session_scope(store, write=False) as session:
        stored = session.scalars(sa.select(LocalUser.password_hash)).one()
    assert stored.startswith("$argon2id$")
    assert not accounts.DEFAULT_HASHER.check_needs_rehash(stored)
    assert accounts.login(store, "ana", "correct horse", clock).username == "ana"
    assert accounts.has_users(store)
