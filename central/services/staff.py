"""Central staff accounts and their log-in sessions.

Roles: ``central_admin`` may change things (appointments); ``central_viewer``
may only read (rosters, sites, appointments). Passwords are argon2id hashes;
a log-in returns a bearer token valid for `HubSettings.staff_token_hours`,
stored as its SHA-256 hash; logging out revokes it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import ClassVar, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from central.auth import new_staff_token, token_hash
from central.db import StaffRole, StaffToken, StaffUser
from central.services.context import Hub
from central.services.errors import (
    Conflict,
    FieldProblem,
    HubError,
    InvalidRequest,
    LoginFailed,
)
from central.services.principals import StaffPrincipal
from central.services.records import audit
from domain.wire import StaffLoginRequest, StaffSession, StaffView

USERNAME_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH: Final = 12


class UsernameTaken(Conflict):
    code: ClassVar[str] = "staff.username_taken"
    template: ClassVar[str] = "There is already a staff account '{username}'. Choose another name."


class StaffFieldInvalid(HubError):
    code: ClassVar[str] = "staff.field_invalid"
    template: ClassVar[str] = "The account's {field} is not valid: {problem}."


def staff_view(user: StaffUser) -> StaffView:
    """The wire form of a staff account."""
    return StaffView(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,  # type: ignore[arg-type]
    )


def add_user(
    hub: Hub, *, username: str, full_name: str, role: StaffRole, password: str, actor: str
) -> StaffUser:
    """Create a staff account. Raises `InvalidRequest` or `UsernameTaken`."""
    problems: list[FieldProblem] = []
    if not USERNAME_PATTERN.match(username):
        problems.append(
            FieldProblem(
                "username",
                StaffFieldInvalid(
                    field="username", problem="use 2-64 lower-case letters, digits, '.', '_' or '-'"
                ),
            )
        )
    if not 1 <= len(full_name.strip()) <= 200:
        problems.append(
            FieldProblem(
                "full_name", StaffFieldInvalid(field="full name", problem="give 1-200 characters")
            )
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            FieldProblem(
                "password",
                StaffFieldInvalid(
                    field="password", problem=f"use at least {MIN_PASSWORD_LENGTH} characters"
                ),
            )
        )
    if problems:
        raise InvalidRequest(problems)
    password_hash = hub.passwords.hash(password)
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
            raise UsernameTaken(username=username)
        user = StaffUser(
            username=username,
            full_name=full_name.strip(),
            password_hash=password_hash,
            role=role.value,
            active=True,
            updated_at=now,
            created_at=now,
            created_by=actor,
        )
        session.add(user)
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="staff.add",
            entity=user,
            after={"username": username, "role": role.value},
        )
    return user


def list_users(hub: Hub) -> Sequence[StaffUser]:
    """Every staff account, by username."""
    with hub.read_sessions() as session:
        return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def login(hub: Hub, request: StaffLoginRequest, *, request_id: str | None = None) -> StaffSession:
    """Check a username and password and open a session. Raises `LoginFailed`.

    An unknown username, a wrong password and a switched-off account are
    refused alike, so the answer does not tell which accounts exist.
    """
    with hub.read_sessions() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == request.username))
    check = hub.passwords.check(user.password_hash if user else None, request.password)
    if user is None or not check.ok or not user.active:
        raise LoginFailed()
    now = hub.clock.now()
    token = new_staff_token()
    expires_at = now + timedelta(hours=hub.settings.staff_token_hours)
    with hub.sessions() as session, session.begin():
        if check.new_hash is not None:
            _store_rehash(session, user, check.new_hash)
        row = StaffToken(
            user_id=user.id,
            token_hash=token_hash(token),
            expires_at=expires_at,
            revoked_at=None,
            created_at=now,
            created_by=f"staff:{user.id}",
        )
        session.add(row)
        audit(
            session,
            occurred_at=now,
            actor=f"staff:{user.id}",
            action="staff.login",
            entity=row,
            request_id=request_id,
        )
    return StaffSession(token=token, expires_at=expires_at, user=staff_view(user))


def _store_rehash(session: Session, user: StaffUser, new_hash: str) -> None:
    session.execute(update(StaffUser).where(StaffUser.id == user.id).values(password_hash=new_hash))


def logout(hub: Hub, principal: StaffPrincipal) -> None:
    """Revoke the token the staff member called with."""
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        session.execute(
            update(StaffToken)
            .where(StaffToken.id == principal.token_id, StaffToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def me(hub: Hub, principal: StaffPrincipal) -> StaffView:
    """The calling staff member's account."""
    with hub.read_sessions() as session:
        return staff_view(session.get_one(StaffUser, principal.user_id))
