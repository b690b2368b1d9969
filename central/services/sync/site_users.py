"""Site users (kind ``site_user``): nurses and managers of one site, both ways.

A site's manager creates users at the site, changes their passwords and
switches them off; the hub's operators may create them too. Both ends write
the whole record, so a concurrent change is settled by the greater
``updated_at`` (last writer wins, whole record); a tie keeps what the hub has.

Rules a pushed user must pass, or it is quarantined with the reason:

- the user belongs to the pushing site: a site may never create or change a
  user of another site (``other_site_user``);
- its username is free at that site (``username_taken``);
- the payload is a valid `SiteUserPayload` (``invalid_payload``).

Every stored change is announced in the change log for the user's own site
only (``audience_site_id``), so a site pulls its own users and nobody else's.
The hub's role vocabulary (``site_manager``) differs from the wire's
(``manager``); `role_to_wire` and `role_from_wire` translate.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import ChangeOp, NewChange, SiteUser
from central.db.enums import SiteRole
from central.services.records import json_value
from central.services.sync.kinds import ApplyContext, Outcome
from domain.sync_wire import RecordStatus, SiteUserPayload, WireRecord

TABLE: Final = "site_users"
"""The change-log table name sites dispatch on."""

_TO_WIRE: Final = {SiteRole.NURSE.value: "nurse", SiteRole.SITE_MANAGER.value: "manager"}
_FROM_WIRE: Final = {wire: hub for hub, wire in _TO_WIRE.items()}


def role_to_wire(role: str) -> str:
    """The wire's role (``nurse``/``manager``) for the hub's (``nurse``/``site_manager``)."""
    return _TO_WIRE[role]


def role_from_wire(role: str) -> str:
    """The hub's role for the wire's; raises KeyError for an unknown one."""
    return _FROM_WIRE[role]


def site_user_payload(user: SiteUser) -> dict[str, Any]:
    """The wire form of `user` (`SiteUserPayload` as JSON values)."""
    payload = {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": role_to_wire(user.role),
        "password_hash": user.password_hash,
        "active": user.active,
        "updated_at": user.updated_at,
    }
    result: dict[str, Any] = json_value(payload)
    return result


def announce_change(
    user: SiteUser, *, origin_site_id: uuid.UUID | None, hlc: str | None = None
) -> NewChange:
    """The change-log entry telling the user's own site about `user`."""
    return NewChange(
        table_name=TABLE,
        record_id=user.id,
        op=ChangeOp.UPSERT,
        payload=site_user_payload(user),
        audience_site_id=user.site_id,
        origin_site_id=origin_site_id,
        hlc=hlc,
    )


def username_owner(session: Session, site_id: uuid.UUID, username: str) -> uuid.UUID | None:
    """The id of the site's user called `username`, if any."""
    found: uuid.UUID | None = session.scalar(
        select(SiteUser.id).where(SiteUser.site_id == site_id, SiteUser.username == username)
    )
    return found


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Store one pushed site user, or say why not (see the module docstring)."""
    try:
        user = SiteUserPayload.model_validate(record.payload)
    except ValidationError as exc:
        return Outcome.quarantined("invalid_payload", str(exc)[:2000])
    if user.id != record.id:
        return Outcome.quarantined("invalid_payload", "the payload's id is not the record's id")
    session = ctx.session
    existing = session.get(SiteUser, user.id)
    if existing is not None and existing.site_id != ctx.site_id:
        return Outcome.quarantined(
            "other_site_user", f"user {user.id} belongs to another site; a site edits only its own"
        )
    owner = username_owner(session, ctx.site_id, user.username)
    if owner is not None and owner != user.id:
        return Outcome.quarantined(
            "username_taken", f"this site already has another user called {user.username!r}"
        )
    if existing is None:
        row = SiteUser(
            id=user.id,
            site_id=ctx.site_id,
            username=user.username,
            full_name=user.full_name,
            password_hash=user.password_hash,
            role=role_from_wire(user.role),
            active=user.active,
            updated_at=_utc(user.updated_at),
            origin_site_id=ctx.site_id,
            created_at=ctx.now,
            created_by=f"site:{ctx.site_id}",
            stored_at=ctx.now,
        )
        session.add(row)
        session.flush()
        return Outcome(
            RecordStatus.APPLIED, changes=(announce_change(row, origin_site_id=ctx.site_id),)
        )
    if not _newer(user.updated_at, existing.updated_at):
        # The same write again, or one the hub already has a newer version of:
        # the site pulls that newer version (it was announced to it).
        return Outcome(RecordStatus.DUPLICATE)
    existing.username = user.username
    existing.full_name = user.full_name
    existing.password_hash = user.password_hash
    existing.role = role_from_wire(user.role)
    existing.active = user.active
    existing.updated_at = _utc(user.updated_at)
    existing.stored_at = ctx.now
    session.flush()
    return Outcome(
        RecordStatus.APPLIED, changes=(announce_change(existing, origin_site_id=ctx.site_id),)
    )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _newer(theirs: datetime, ours: datetime) -> bool:
    return _utc(theirs) > _utc(ours)
