"""Who may talk to the hub: site credentials, enrolment codes, staff, site users.

Secrets are never stored, only their hashes:

- high-entropy random tokens (site credentials, enrolment codes, staff
  session tokens) are stored as the hex SHA-256 of the token, looked up by
  that hash; a slow hash adds nothing for 256-bit random secrets and would
  cost on every request;
- passwords people choose (staff, nurses, managers) are stored as argon2
  encoded hashes (``$argon2id$...``), verified with argon2-cffi.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import Base, CentralRecord, SyncedRecord, one_of
from central.db.enums import SiteRole, StaffRole
from central.db.types import UUID, UTCDateTime

TOKEN_HASH_LENGTH = 128
PASSWORD_HASH_LENGTH = 255


class SiteCredential(CentralRecord, Base):
    """A site's secret for authenticating every request (issued at enrolment).

    Rotation issues a new credential whose ``rotated_from_id`` points at the
    old one; the old one is revoked once the site has switched. A request
    authenticates as ``site_id`` only; the site id is never taken from a body.
    """

    __tablename__ = "site_credentials"

    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rotated_from_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("site_credentials.id")
    )


class EnrolmentCode(CentralRecord, Base):
    """A one-time code a site uses once to obtain its credential and signer key."""

    __tablename__ = "enrolment_codes"

    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffUser(CentralRecord, Base):
    """A person at the hub (dashboard, CLI)."""

    __tablename__ = "staff_users"
    __table_args__ = (one_of("role", StaffRole),)

    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(PASSWORD_HASH_LENGTH))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffToken(CentralRecord, Base):
    """A bearer token a staff member obtained by logging in."""

    __tablename__ = "staff_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("staff_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SiteUser(SyncedRecord, Base):
    """A nurse or manager who logs in to one site's client, offline too.

    Sites pull their own users (with the argon2 hash) so a login works with no
    network. Usernames are unique within a site.
    """

    __tablename__ = "site_users"
    __table_args__ = (
        UniqueConstraint("site_id", "username"),
        one_of("role", SiteRole),
    )

    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"))
    username: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(PASSWORD_HASH_LENGTH))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


RATE_LIMIT_KEY_LENGTH = 100


class RateLimitCounter(Base):
    """Requests counted for one key in its current fixed window (see `central.services.rate_limit`).

    One row per key (``site:<credential id>``, ``staff:<token id>``,
    ``anon:<client address>``); not a record of anything, so no id or
    timestamps: rows of keys unseen for a day are deleted at start-up.
    """

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(RATE_LIMIT_KEY_LENGTH), primary_key=True)
    window_no: Mapped[int] = mapped_column(BigInteger)
    hits: Mapped[int] = mapped_column(Integer)
