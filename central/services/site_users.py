"""Site users created at the hub: an operator's way to give a site its first nurse.

A user added here belongs to one site and is announced in the change log for
that site only, so the site pulls it (with its argon2 hash) and the person can
log in there, offline too. Users a site's manager creates arrive the other
way, as pushed ``site_user`` records (`central.services.sync.site_users`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import select

from central.db import SiteUser
from central.services.context import Hub
from central.services.errors import Conflict
from central.services.records import announce, audit
from central.services.sites import site_by_code
from central.services.sync.site_users import (
    announce_change,
    role_from_wire,
    role_to_wire,
    username_owner,
)
from domain.ids import uuid7
from domain.site_accounts import SiteRole, check_full_name, check_password, check_username


class SiteUsernameTaken(Conflict):
    code: ClassVar[str] = "site_users.username_taken"
    template: ClassVar[str] = (
        "Site {site} already has a user called '{username}'. Choose another username."
    )


@dataclass(frozen=True)
class SiteUserView:
    """A site user as the hub's operators see it (never the hash)."""

    id: uuid.UUID
    site_code: str
    username: str
    full_name: str
    role: SiteRole
    active: bool


def add_site_user(
    hub: Hub,
    site_code: str,
    *,
    username: str,
    full_name: str,
    role: SiteRole,
    password: str,
    actor: str,
) -> SiteUserView:
    """Create a user of the site and announce it to that site.

    Raises `central.services.sites.UnknownSite`, `SiteUsernameTaken`, or a
    `domain.site_accounts.AccountError` for a username, name or password
    that breaks the rules.
    """
    username = check_username(username)
    full_name = check_full_name(full_name)
    password_hash = hub.passwords.hash(check_password(password))
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        site = site_by_code(session, site_code)
        if username_owner(session, site.id, username) is not None:
            raise SiteUsernameTaken(site=site.code, username=username)
        user = SiteUser(
            id=uuid7(),
            site_id=site.id,
            username=username,
            full_name=full_name,
            password_hash=password_hash,
            role=role_from_wire(role.value),
            active=True,
            updated_at=now,
            origin_site_id=None,
            created_at=now,
            created_by=actor,
            stored_at=now,
        )
        session.add(user)
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="site_user.add",
            entity=user,
            site_id=site.id,
            after={"username": username, "role": role.value},
        )
        announce(session, [announce_change(user, origin_site_id=None)], now)
        return _view(user, site.code)


def list_site_users(hub: Hub, site_code: str) -> Sequence[SiteUserView]:
    """The site's users by username. Raises `central.services.sites.UnknownSite`."""
    with hub.read_sessions() as session:
        site = site_by_code(session, site_code)
        rows = session.scalars(
            select(SiteUser).where(SiteUser.site_id == site.id).order_by(SiteUser.username)
        )
        return [_view(row, site.code) for row in rows]


def _view(user: SiteUser, site_code: str) -> SiteUserView:
    return SiteUserView(
        id=user.id,
        site_code=site_code,
        username=user.username,
        full_name=user.full_name,
        role=SiteRole(role_to_wire(user.role)),
        active=user.active,
    )
