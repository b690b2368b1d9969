"""The trust list and revocation list, kept so certificates verify offline.

Both are the hub's (replicas, replaced on pull). A verifier at the site checks
a DCC's signature against `TrustedSigner` certificates by ``kid`` and refuses
one whose UVCI or signer appears in `Revocation`.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.local_db.models.base import Base, enum_type


class TrustedSigner(Base):
    """A document-signer certificate (DER) the hub's trust list vouches for."""

    __tablename__ = "trust_list"

    #: SHA-256 of the DER certificate, hex.
    fingerprint: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: DCC key id: first 8 bytes of the fingerprint, base64 (how a DCC names its signer).
    kid: Mapped[str] = mapped_column(sa.String(16), index=True)
    country: Mapped[str] = mapped_column(sa.String(2))
    certificate: Mapped[bytes] = mapped_column(sa.LargeBinary)
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    fetched_at: Mapped[datetime]


class RevocationKind(enum.StrEnum):
    """What a revocation entry names."""

    UVCI = "uvci"
    SIGNER = "signer"


class Revocation(Base):
    """A revoked certificate (by UVCI hash) or signer (by fingerprint)."""

    __tablename__ = "revocations"

    kind: Mapped[RevocationKind] = mapped_column(
        enum_type(RevocationKind, "revocation_kind"), primary_key=True
    )
    #: SHA-256 hex of the UVCI, or the signer certificate's fingerprint.
    value_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    revoked_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    fetched_at: Mapped[datetime]
