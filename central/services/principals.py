"""Who is calling: authentication of bearer tokens, and the rate limit per caller.

`guard` is the one entry point the HTTP layer uses for every /v1 request:
it resolves the bearer token (if any) to a `Principal`, counts the request
against that principal's limit (or the client address's, without a valid
token) and commits the count, in one short transaction.

A site's identity comes only from its credential (sync rule 1): the
principal carries the site id and code looked up by the token's hash, and
every use case takes the site from the principal, never from a body.

Rotation: a credential issued by rotation names its predecessor; the
predecessor keeps working until the new credential is first used, then is
revoked in that same request. A rotation answer lost on the way therefore
never locks a site out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, aliased

from central.auth import TokenKind, token_hash, token_kind
from central.db import Site, SiteCredential, StaffRole, StaffToken, StaffUser
from central.services.context import Hub
from central.services.errors import (
    AccountInactive,
    CredentialInvalid,
    CredentialRevoked,
    SessionExpired,
    TooManyRequests,
    Unauthenticated,
)


@dataclass(frozen=True)
class SitePrincipal:
    """A site, authenticated by one of its credentials."""

    site_id: uuid.UUID
    site_code: str
    credential_id: uuid.UUID

    @property
    def actor(self) -> str:
        return f"site:{self.site_id}"

    @property
    def label(self) -> str:
        return f"site:{self.site_code}"

    @property
    def rate_key(self) -> str:
        return f"site:{self.credential_id}"


@dataclass(frozen=True)
class StaffPrincipal:
    """A central staff member, authenticated by a session token."""

    user_id: uuid.UUID
    username: str
    role: StaffRole
    token_id: uuid.UUID

    @property
    def actor(self) -> str:
        return f"staff:{self.user_id}"

    @property
    def label(self) -> str:
        return f"staff:{self.username}"

    @property
    def rate_key(self) -> str:
        return f"staff:{self.token_id}"

    @property
    def is_admin(self) -> bool:
        return self.role is StaffRole.CENTRAL_ADMIN


Principal = SitePrincipal | StaffPrincipal


def guard(hub: Hub, token: str | None, client: str) -> Principal | None:
    """Authenticate `token` (None: an anonymous request) and count the request.

    Returns the principal, or None for an anonymous request. Raises an
    `Unauthenticated` subclass for a token that is not accepted (the request
    is then counted against `client`, the caller's address), and
    `TooManyRequests` when the caller is over its limit.
    """
    settings = hub.settings
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        principal: Principal | None = None
        refusal: Unauthenticated | None = None
        if token is not None:
            try:
                principal = _authenticate(session, token, now)
            except Unauthenticated as error:
                refusal = error
        if isinstance(principal, SitePrincipal):
            key, limit = principal.rate_key, settings.rate_limit_site
        elif isinstance(principal, StaffPrincipal):
            key, limit = principal.rate_key, settings.rate_limit_staff
        else:
            key, limit = f"anon:{client}", settings.rate_limit_anonymous
        decision = hub.rate_limiter.hit(session, key, limit, now)
    if not decision.allowed:
        raise TooManyRequests(limit=decision.limit, retry_after=decision.retry_after)
    if refusal is not None:
        raise refusal
    return principal


def _authenticate(session: Session, token: str, now: datetime) -> Principal:
    kind = token_kind(token)
    if kind is TokenKind.SITE:
        return _site(session, token, now)
    if kind is TokenKind.STAFF:
        return _staff(session, token, now)
    raise CredentialInvalid()


_predecessor = aliased(SiteCredential)
# Built once: building a statement costs more than running it.
_SITE_BY_TOKEN: Final = (
    select(
        SiteCredential.id,
        SiteCredential.revoked_at,
        SiteCredential.rotated_from_id,
        _predecessor.revoked_at,
        Site.id,
        Site.code,
        Site.active,
    )
    .join(Site, Site.id == SiteCredential.site_id)
    .outerjoin(_predecessor, _predecessor.id == SiteCredential.rotated_from_id)
    .where(SiteCredential.token_hash == bindparam("token_hash"))
)
_STAFF_BY_TOKEN: Final = (
    select(
        StaffToken.id,
        StaffToken.expires_at,
        StaffToken.revoked_at,
        StaffUser.id,
        StaffUser.username,
        StaffUser.role,
        StaffUser.active,
    )
    .join(StaffUser, StaffUser.id == StaffToken.user_id)
    .where(StaffToken.token_hash == bindparam("token_hash"))
)


def _site(session: Session, token: str, now: datetime) -> SitePrincipal:
    row = session.execute(_SITE_BY_TOKEN, {"token_hash": token_hash(token)}).one_or_none()
    if row is None:
        raise CredentialInvalid()
    credential_id, revoked_at, rotated_from, predecessor_revoked, site_id, code, active = row
    if revoked_at is not None:
        raise CredentialRevoked()
    if not active:
        raise AccountInactive()
    if rotated_from is not None and predecessor_revoked is None:
        # First use of a rotated credential: the site has switched.
        session.execute(
            update(SiteCredential)
            .where(SiteCredential.id == rotated_from, SiteCredential.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    return SitePrincipal(site_id=site_id, site_code=code, credential_id=credential_id)


def _staff(session: Session, token: str, now: datetime) -> StaffPrincipal:
    row = session.execute(_STAFF_BY_TOKEN, {"token_hash": token_hash(token)}).one_or_none()
    if row is None:
        raise CredentialInvalid()
    token_id, expires_at, revoked_at, user_id, username, role, active = row
    if revoked_at is not None:
        raise CredentialInvalid()
    if expires_at <= now:
        raise SessionExpired()
    if not active:
        raise AccountInactive()
    return StaffPrincipal(
        user_id=user_id, username=username, role=StaffRole(role), token_id=token_id
    )
