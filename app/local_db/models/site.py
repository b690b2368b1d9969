"""Who this site is, who works here, its settings and its audit trail.

Threat this module answers to: a stolen laptop (DESIGN.md, Security). Whoever
holds the disk holds the database file, so

* the site credential and the document-signer private key are stored sealed
  (AES-GCM, see `app.local_db.secrets`) under a key kept in a separate file,
  so a copied database, a backup or an export does not carry a usable
  credential; with the key file too, the thief has it, which is why the hub
  must revoke a reported laptop's credential and signer certificate;
* user passwords are argon2 hashes, never the password;
* the personal health data itself is only as safe as the disk: the installer
  must require full-disk encryption (BitLocker / LUKS), and the replica keeps
  only the citizens booked at this site and the walk-ins registered here.

Exports leave out every column marked ``info={SECRET: True}``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.local_db.models.base import SECRET, Base, BornAtSite, enum_type


class SiteIdentity(Base):
    """The one row saying which site this store belongs to (set at enrolment)."""

    __tablename__ = "site_identity"
    __table_args__ = (sa.CheckConstraint("id = 1", name="singleton"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    site_id: Mapped[uuid.UUID]
    site_code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    site_name: Mapped[str] = mapped_column(sa.String(200))
    municipality_code: Mapped[str] = mapped_column(sa.String(16))
    hub_url: Mapped[str] = mapped_column(sa.String(500))
    credential_id: Mapped[str] = mapped_column(sa.String(100))
    #: The credential's secret half, sealed (never in clear on disk).
    credential_secret_sealed: Mapped[bytes] = mapped_column(sa.LargeBinary, info={SECRET: True})
    #: The site's DCC document-signer certificate (DER), certified by the hub.
    signer_certificate: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: Its private key (PKCS#8 DER), sealed.
    signer_private_key_sealed: Mapped[bytes | None] = mapped_column(
        sa.LargeBinary, info={SECRET: True}
    )
    enrolled_at: Mapped[datetime]


class Role(enum.StrEnum):
    """What a local user may do."""

    NURSE = "nurse"
    MANAGER = "manager"


class LocalUser(Base):
    """A nurse or manager who logs in to this site's client."""

    __tablename__ = "local_users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    #: argon2id hash in PHC string form (argon2-cffi), never the password.
    password_hash: Mapped[str] = mapped_column(sa.String(200), info={SECRET: True})
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime]


class Setting(Base):
    """A site-wide client setting (language, camera, idle lock minutes, ...).

    Values are JSON so a setting keeps its type (``15`` stays a number).
    """

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime]
    updated_by: Mapped[uuid.UUID | None]


class AuditEntry(BornAtSite, Base):
    """One action a person took (append-only): who, what, on which record.

    ``actor_name`` is copied so the trail still reads after a user is renamed
    or the row was replicated to a site that does not know the user.
    """

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index(None, "created_at"), sa.Index(None, "entity", "entity_id"))

    actor_name: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(64))
    entity: Mapped[str | None] = mapped_column(sa.String(64))
    entity_id: Mapped[uuid.UUID | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
