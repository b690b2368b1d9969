"""Site accounts: log-in, lockout, the manager's user administration, the idle lock.

Who logs in: the nurses and managers in ``local_users``. They come down from
the hub (an operator created them) or a manager creates them here; either way
a login works offline, against the argon2id hash in the store.

Lockout. Every wrong password for an existing account counts; after
`LOCKOUT_THRESHOLD` in a row the account is locked on this workstation
(`AccountLocked`) until a manager unlocks it (`unlock_user`) or sets a new
password (`reset_password`). A right password resets the count. An unknown
username costs the same argon2 work as a wrong password and gets the same
answer, so the screen does not tell which usernames exist.

Changes that travel. Creating a user, switching one off or on, a new
password, a changed name or role: each updates ``updated_at`` and queues a
``site_user`` record (`app.sync.site_users`) in the same transaction; the hub
keeps the last writer's version. Lockout counters and last log-in stay here.

Every function takes what it needs explicitly (engine, clock, actor id) and
returns frozen values; nothing here knows about Qt. Errors are
`domain.errors.DomainError` subclasses, with Serbian text in
``domain/locale/identity.sr-Latn.json``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Final

import argon2
import sqlalchemy as sa
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.site import AuditEntry, LocalUser, Role, Setting, SiteIdentity
from app.local_db.unit_of_work import session_scope
from app.sync.outbox import record_change
from app.sync.site_users import KIND, site_user_payload
from domain.clock import Clock
from domain.errors import DomainError
from domain.ids import uuid7
from domain.site_accounts import (
    SiteRole,
    check_full_name,
    check_password,
    check_username,
    normalise_username,
)

LOCKOUT_THRESHOLD: Final = 5
"""Wrong passwords in a row that lock an account on this workstation."""

IDLE_LOCK_SETTING: Final = "ui.idle_lock_minutes"
"""Settings key: minutes without input before the screen locks."""

DEFAULT_IDLE_LOCK_MINUTES: Final = 5
MIN_IDLE_LOCK_MINUTES: Final = 1
MAX_IDLE_LOCK_MINUTES: Final = 60

DEFAULT_HASHER: Final = argon2.PasswordHasher()
"""argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile)."""

# -- errors -----------------------------------------------------------------------------


class AccountsError(DomainError):
    """Root of the errors of this module."""

    code: ClassVar[str] = "accounts.error"
    template: ClassVar[str] = "The account action could not be completed."


class LoginFailed(AccountsError):
    code: ClassVar[str] = "accounts.login_failed"
    template: ClassVar[str] = (
        "The username or password is wrong. Check Caps Lock and the keyboard layout, then "
        "try again. After {limit} wrong passwords in a row the account is locked."
    )


class AccountLocked(AccountsError):
    code: ClassVar[str] = "accounts.locked"
    template: ClassVar[str] = (
        "The account '{username}' is locked after {limit} wrong passwords. A site manager "
        "can unlock it (Users, then Unlock) or give it a new password (Users, then Reset "
        "password)."
    )


class AccountInactive(AccountsError):
    code: ClassVar[str] = "accounts.inactive"
    template: ClassVar[str] = (
        "The account '{username}' is switched off. Ask the site manager to switch it on again."
    )


class ManagerOnly(AccountsError):
    code: ClassVar[str] = "accounts.manager_only"
    template: ClassVar[str] = (
        "Only a site manager may do this. Ask the site manager to log in and do it."
    )


class UnknownAccount(AccountsError):
    code: ClassVar[str] = "accounts.unknown"
    template: ClassVar[str] = (
        "This user is not known on this workstation. Refresh the list of users and try again."
    )


class UsernameTaken(AccountsError):
    code: ClassVar[str] = "accounts.username_taken"
    template: ClassVar[str] = (
        "There is already a user called '{username}' at this site. Choose another username."
    )


class WrongCurrentPassword(AccountsError):
    code: ClassVar[str] = "accounts.wrong_current_password"
    template: ClassVar[str] = (
        "The current password is wrong, so the password was not changed. Type it again."
    )


class CannotDeactivateSelf(AccountsError):
    code: ClassVar[str] = "accounts.cannot_deactivate_self"
    template: ClassVar[str] = "You cannot switch off your own account. Another manager can do it."


class LastManager(AccountsError):
    code: ClassVar[str] = "accounts.last_manager"
    template: ClassVar[str] = (
        "This is the site's last active manager: switching it off or making it a nurse would "
        "leave nobody to manage users. Make another user a manager first."
    )


class IdleLockOutOfRange(AccountsError):
    code: ClassVar[str] = "accounts.idle_lock_range"
    template: ClassVar[str] = (
        "The screen lock time must be between {minimum} and {maximum} minutes."
    )


# -- values -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    """Who is at the keyboard after a successful log-in.

    ``id`` is the ``actor`` every service takes (a dose's ``vaccinator_id``).
    """

    id: uuid.UUID
    username: str
    full_name: str
    role: SiteRole
    logged_in_at: datetime

    @property
    def is_manager(self) -> bool:
        return self.role is SiteRole.MANAGER


@dataclass(frozen=True)
class Account:
    """A site user as the manager's list shows it (never the hash)."""

    id: uuid.UUID
    username: str
    full_name: str
    role: SiteRole
    active: bool
    locked: bool
    failed_logins: int
    last_login_at: datetime | None


@dataclass(frozen=True)
class IdleLockPolicy:
    """How long the workstation waits without input before it locks the screen."""

    minutes: int

    @property
    def milliseconds(self) -> int:
        return self.minutes * 60_000


# -- helpers ----------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _account(user: LocalUser) -> Account:
    return Account(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=SiteRole(user.role.value),
        active=user.active,
        locked=user.failed_logins >= LOCKOUT_THRESHOLD,
        failed_logins=user.failed_logins,
        last_login_at=_utc(user.last_login_at),
    )


def _site_id(session: Session) -> uuid.UUID:
    identity = session.get(SiteIdentity, 1)
    # Before enrolment there is no site id; the audit row still needs one.
    return identity.site_id if identity is not None else uuid.UUID(int=0)


def _audit(
    session: Session,
    *,
    actor: LocalUser | None,
    actor_name: str,
    action: str,
    user: LocalUser,
    now: datetime,
    **details: object,
) -> None:
    session.add(
        AuditEntry(
            id=uuid7(),
            origin_site_id=_site_id(session),
            created_at=now,
            created_by=actor.id if actor is not None else None,
            actor_name=actor_name,
            action=action,
            entity="local_users",
            entity_id=user.id,
            details=dict(details),
        )
    )


def _manager(session: Session, actor: uuid.UUID) -> LocalUser:
    user = session.get(LocalUser, actor)
    if user is None or not user.active or user.role is not Role.MANAGER:
        raise ManagerOnly()
    return user


def _user(session: Session, user_id: uuid.UUID) -> LocalUser:
    user = session.get(LocalUser, user_id)
    if user is None:
        raise UnknownAccount()
    return user


def _changed(session: Session, user: LocalUser, now: datetime) -> None:
    """Stamp a change that travels and queue it for the hub."""
    user.updated_at = now
    session.flush()
    record_change(session, KIND, user.id, site_user_payload(user), now=now)


def _record(
    session: Session,
    by: LocalUser,
    action: str,
    user: LocalUser,
    now: datetime,
    *,
    travels: bool = True,
    **details: object,
) -> None:
    """Audit `action` on `user` done by `by`; with `travels`, also queue the account for the hub."""
    if travels:
        _changed(session, user, now)
    _audit(session, actor=by, actor_name=by.full_name, action=action, user=user, now=now, **details)


@contextmanager
def _managing(
    engine: Engine, actor: uuid.UUID, user_id: uuid.UUID
) -> Iterator[tuple[Session, LocalUser, LocalUser]]:
    """One write transaction in which manager `actor` acts on account `user_id`.

    Yields the session, the manager and the account; raises `ManagerOnly`
    (checked first) or `UnknownAccount`.
    """
    with session_scope(engine) as session:
        manager = _manager(session, actor)
        yield session, manager, _user(session, user_id)


def _other_active_managers(session: Session, user_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(LocalUser)
            .where(
                LocalUser.role == Role.MANAGER,
                LocalUser.active.is_(True),
                LocalUser.id != user_id,
            )
        )
        or 0
    )


# -- log-in -----------------------------------------------------------------------------


def login(
    engine: Engine,
    username: str,
    password: str,
    clock: Clock,
    *,
    hasher: argon2.PasswordHasher = DEFAULT_HASHER,
) -> SignedIn:
    """Check `username` and `password` against this workstation's accounts.

    Raises `LoginFailed` (unknown user or wrong password; a wrong one counts
    towards the lockout), `AccountLocked` (now or already locked: the right
    password does not open a locked account) or `AccountInactive`.
    """
    name = normalise_username(username)
    with session_scope(engine, write=False) as session:
        user = session.scalar(sa.select(LocalUser).where(LocalUser.username == name))
    if user is None:
        _burn(hasher, password)
        raise LoginFailed(limit=LOCKOUT_THRESHOLD)
    ok = _verify(hasher, user.password_hash, password)
    now = clock.now()
    with session_scope(engine) as session:
        row = _user(session, user.id)
        if row.failed_logins >= LOCKOUT_THRESHOLD:
            raise AccountLocked(username=row.username, limit=LOCKOUT_THRESHOLD)
        if not ok:
            row.failed_logins += 1
            locked_now = row.failed_logins >= LOCKOUT_THRESHOLD
            _audit(
                session,
                actor=None,
                actor_name=row.username,
                action="account.locked" if locked_now else "account.login_failed",
                user=row,
                now=now,
                failed_logins=row.failed_logins,
            )
        elif not row.active:
            pass
        else:
            row.failed_logins = 0
            row.last_login_at = now
            if hasher.check_needs_rehash(row.password_hash):
                # Stronger parameters for this workstation only; the hub's copy
                # is replaced at the next password change.
                row.password_hash = hasher.hash(password)
            _record(session, row, "account.login", row, now, travels=False)
        failures, active = row.failed_logins, row.active
        signed_in = SignedIn(row.id, row.username, row.full_name, SiteRole(row.role.value), now)
    # Raised after the commit, so the counted failure is stored.
    if not ok:
        if failures >= LOCKOUT_THRESHOLD:
            raise AccountLocked(username=user.username, limit=LOCKOUT_THRESHOLD)
        raise LoginFailed(limit=LOCKOUT_THRESHOLD)
    if not active:
        raise AccountInactive(username=user.username)
    return signed_in


def _verify(hasher: argon2.PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_DECOYS: dict[tuple[int, int, int], str] = {}


def _burn(hasher: argon2.PasswordHasher, password: str) -> None:
    """Spend a verification's work on nothing, so an unknown user takes as long."""
    cost = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    decoy = _DECOYS.get(cost)
    if decoy is None:
        decoy = _DECOYS[cost] = hasher.hash(uuid.uuid4().hex)
    _verify(hasher, decoy, password)


# -- the manager's administration -------------------------------------------------------


def list_users(engine: Engine) -> list[Account]:
    """Every account of this site, active ones first, then by username."""
    with session_scope(engine, write=False) as session:
        rows = session.scalars(
            sa.select(LocalUser).order_by(LocalUser.active.desc(), LocalUser.username)
        ).all()
        return [_account(row) for row in rows]


def has_users(engine: Engine) -> bool:
    """Whether anyone can log in here yet (accounts arrive with the first sync)."""
    with session_scope(engine, write=False) as session:
        return session.scalar(sa.select(LocalUser.id).limit(1)) is not None


def create_user(
    engine: Engine,
    actor: uuid.UUID,
    *,
    username: str,
    full_name: str,
    role: SiteRole,
    password: str,
    clock: Clock,
    hasher: argon2.PasswordHasher = DEFAULT_HASHER,
) -> Account:
    """A manager creates an account; it goes to the hub at the next sync.

    Raises `ManagerOnly`, `UsernameTaken`, or a
    `domain.site_accounts.AccountError` for a username, name or password
    that breaks the rules.
    """
    username = check_username(username)
    full_name = check_full_name(full_name)
    password_hash = hasher.hash(check_password(password))
    now = clock.now()
    with session_scope(engine) as session:
        manager = _manager(session, actor)
        if session.scalar(sa.select(LocalUser.id).where(LocalUser.username == username)):
            raise UsernameTaken(username=username)
        user = LocalUser(
            id=uuid7(),
            username=username,
            full_name=full_name,
            role=Role(role.value),
            password_hash=password_hash,
            active=True,
            failed_logins=0,
            last_login_at=None,
            created_at=now,
            created_by=manager.id,
            updated_at=now,
        )
        session.add(user)
        _record(session, manager, "account.create", user, now, username=username, role=role.value)
        return _account(user)


def set_active(
    engine: Engine, actor: uuid.UUID, user_id: uuid.UUID, active: bool, *, clock: Clock
) -> Account:
    """A manager switches an account off (`active` False) or on again.

    Switching on also lifts a lockout. Raises `ManagerOnly`, `UnknownAccount`,
    `CannotDeactivateSelf` or `LastManager`.
    """
    now = clock.now()
    with _managing(engine, actor, user_id) as (session, manager, user):
        if not active and user.id == manager.id:
            raise CannotDeactivateSelf()
        if user.active == active:
            return _account(user)
        user.active = active
        if active:
            user.failed_logins = 0
        _record(session, manager, "account.activate" if active else "account.deactivate", user, now)
        return _account(user)


def deactivate_user(
    engine: Engine, actor: uuid.UUID, user_id: uuid.UUID, *, clock: Clock
) -> Account:
    """`set_active` with False: the person can no longer log in anywhere at this site."""
    return set_active(engine, actor, user_id, False, clock=clock)


def reactivate_user(
    engine: Engine, actor: uuid.UUID, user_id: uuid.UUID, *, clock: Clock
) -> Account:
    """`set_active` with True."""
    return set_active(engine, actor, user_id, True, clock=clock)


def unlock_user(engine: Engine, actor: uuid.UUID, user_id: uuid.UUID, *, clock: Clock) -> Account:
    """A manager lifts a lockout (the password stays). Raises `ManagerOnly`, `UnknownAccount`."""
    now = clock.now()
    with _managing(engine, actor, user_id) as (session, manager, user):
        if user.failed_logins:
            user.failed_logins = 0
            _record(session, manager, "account.unlock", user, now, travels=False)
        return _account(user)


def reset_password(
    engine: Engine,
    actor: uuid.UUID,
    user_id: uuid.UUID,
    new_password: str,
    *,
    clock: Clock,
    hasher: argon2.PasswordHasher = DEFAULT_HASHER,
) -> Account:
    """A manager sets someone's new password (which also unlocks the account).

    Raises `ManagerOnly`, `UnknownAccount` or a password rule's error.
    """
    password_hash = hasher.hash(check_password(new_password))
    now = clock.now()
    with _managing(engine, actor, user_id) as (session, manager, user):
        user.password_hash = password_hash
        user.failed_logins = 0
        _record(session, manager, "account.reset_password", user, now)
        return _account(user)


def change_own_password(
    engine: Engine,
    actor: uuid.UUID,
    current_password: str,
    new_password: str,
    *,
    clock: Clock,
    hasher: argon2.PasswordHasher = DEFAULT_HASHER,
) -> Account:
    """The logged-in person replaces their own password.

    Raises `WrongCurrentPassword`, `UnknownAccount`, `AccountInactive` or a
    password rule's error.
    """
    check_password(new_password)
    with session_scope(engine, write=False) as session:
        user = _user(session, actor)
    if not user.active:
        raise AccountInactive(username=user.username)
    if not _verify(hasher, user.password_hash, current_password):
        raise WrongCurrentPassword()
    password_hash = hasher.hash(new_password)
    now = clock.now()
    with session_scope(engine) as session:
        row = _user(session, actor)
        row.password_hash = password_hash
        _record(session, row, "account.change_password", row, now)
        return _account(row)


def set_role(
    engine: Engine, actor: uuid.UUID, user_id: uuid.UUID, role: SiteRole, *, clock: Clock
) -> Account:
    """A manager makes someone a nurse or a manager. Raises `ManagerOnly`, `LastManager`."""
    now = clock.now()
    with _managing(engine, actor, user_id) as (session, manager, user):
        if user.role.value == role.value:
            return _account(user)
        if role is SiteRole.NURSE and user.active and _other_active_managers(session, user.id) == 0:
            raise LastManager()
        user.role = Role(role.value)
        _record(session, manager, "account.set_role", user, now, role=role.value)
        return _account(user)


# -- idle lock --------------------------------------------------------------------------


def idle_lock_policy(engine: Engine) -> IdleLockPolicy:
    """The idle-lock time from the settings table (`DEFAULT_IDLE_LOCK_MINUTES` if unset)."""
    with session_scope(engine, write=False) as session:
        row = session.get(Setting, IDLE_LOCK_SETTING)
    value = row.value if row is not None else None
    if isinstance(value, int) and MIN_IDLE_LOCK_MINUTES <= value <= MAX_IDLE_LOCK_MINUTES:
        return IdleLockPolicy(value)
    return IdleLockPolicy(DEFAULT_IDLE_LOCK_MINUTES)


def set_idle_lock_minutes(
    engine: Engine, actor: uuid.UUID, minutes: int, *, clock: Clock
) -> IdleLockPolicy:
    """A manager sets the idle-lock time. Raises `ManagerOnly`, `IdleLockOutOfRange`."""
    if not MIN_IDLE_LOCK_MINUTES <= minutes <= MAX_IDLE_LOCK_MINUTES:
        raise IdleLockOutOfRange(minimum=MIN_IDLE_LOCK_MINUTES, maximum=MAX_IDLE_LOCK_MINUTES)
    now = clock.now()
    with session_scope(engine) as session:
        manager = _manager(session, actor)
        row = session.get(Setting, IDLE_LOCK_SETTING)
        if row is None:
            session.add(
                Setting(key=IDLE_LOCK_SETTING, value=minutes, updated_at=now, updated_by=manager.id)
            )
        else:
            row.value, row.updated_at, row.updated_by = minutes, now, manager.id
    return IdleLockPolicy(minutes)
