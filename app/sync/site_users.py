"""Site users on the wire (kind ``site_user``), and applying the ones the hub sends.

Users travel whole (`domain.sync_wire.SiteUserPayload`): a manager's change
at the site is pushed, an operator's change at the hub is pulled. The greater
``updated_at`` wins, the whole record (the hub settles it the same way, see
`central.services.sync.site_users`). Counters that only matter on this
workstation (failed log-ins, last log-in) are never sent and never replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from app.local_db.models.site import LocalUser, Role
from domain.sync_wire import PulledChange, SiteUserPayload

if TYPE_CHECKING:
    from app.sync.apply import ApplyContext

KIND: Final = "site_user"
"""The outbox kind of a user changed here."""

TABLE: Final = "site_users"
"""The hub's change-log table of site users."""


def site_user_payload(user: LocalUser) -> dict[str, Any]:
    """The wire form of `user`, as JSON values (`SiteUserPayload`)."""
    return {
        "id": str(user.id),
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role.value,
        "password_hash": user.password_hash,
        "active": user.active,
        "updated_at": _utc(user.updated_at).isoformat(),
    }


def _utc(value: datetime) -> datetime:
    # SQLite hands datetimes back without their zone; the store keeps UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class UsernameClash(ValueError):
    """A pulled user's username belongs to another local user."""


def apply_site_user(ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]) -> bool:
    """Store or update a user the hub sent; True when the store changed.

    Raises `UsernameClash` (the entry is then skipped and reported) when the
    username is held here by a different user, and pydantic's ValidationError
    (a ValueError) for a malformed payload.
    """
    user = SiteUserPayload.model_validate(payload)
    if user.id != change.record_id:
        raise ValueError(f"site user {change.record_id}: the payload's id differs")
    session = ctx.session
    holder = session.scalar(sa.select(LocalUser.id).where(LocalUser.username == user.username))
    if holder is not None and holder != user.id:
        raise UsernameClash(
            f"site user {user.id}: username {user.username!r} is another user's here"
        )
    local = session.get(LocalUser, user.id)
    updated_at = _utc(user.updated_at)
    if local is None:
        session.add(
            LocalUser(
                id=user.id,
                username=user.username,
                full_name=user.full_name,
                role=Role(user.role),
                password_hash=user.password_hash,
                active=user.active,
                failed_logins=0,
                last_login_at=None,
                created_at=ctx.now,
                created_by=None,
                updated_at=updated_at,
            )
        )
        return True
    if updated_at <= _utc(local.updated_at):
        return False
    local.username = user.username
    local.full_name = user.full_name
    local.role = Role(user.role)
    if user.password_hash != local.password_hash or (user.active and not local.active):
        # A new password or a re-activation from the hub also lifts a lockout.
        local.failed_logins = 0
    local.password_hash = user.password_hash
    local.active = user.active
    local.updated_at = updated_at
    return True
