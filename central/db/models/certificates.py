"""Certificate trust: the country signing CA, site document signers, and the
certificates issued to citizens (EU DCC format).

Private keys are not stored here: the CSCA key stays offline with the hub's
operators, and each site's signer key never leaves the site.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import Base, CentralRecord, SyncedRecord
from central.db.types import UUID, UTCDateTime

KEY_ID_LENGTH = 32
"""DCC key ids are the first 8 bytes of the certificate's SHA-256, base64: 12 characters."""


class Csca(CentralRecord, Base):
    """A country signing CA certificate (DER); signers are certified by it."""

    __tablename__ = "csca"
    __table_args__ = (CheckConstraint("valid_to > valid_from", name="validity_order"),)

    subject: Mapped[str] = mapped_column(String(255))
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH), unique=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignerCertificate(CentralRecord, Base):
    """A document-signer certificate (DER), one per site, issued at enrolment.

    ``site_id`` is NULL for the hub's own signer. Published in the trust list.
    """

    __tablename__ = "signer_certificates"
    __table_args__ = (
        CheckConstraint("valid_to > valid_from", name="validity_order"),
        CheckConstraint(
            "(revoked_at IS NULL AND revocation_reason IS NULL)"
            " OR (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL)",
            name="revocation_has_reason",
        ),
    )

    site_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("sites.id"), index=True)
    csca_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("csca.id"))
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH), unique=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str | None] = mapped_column(Text)


class IssuedCertificate(SyncedRecord, Base):
    """A vaccination certificate given to a citizen, identified by its UVCI.

    Usually born at the site that vaccinated (signed offline with the site's
    key). Revocation is recorded here and published; the row is never deleted.
    """

    __tablename__ = "issued_certificates"
    __table_args__ = (
        CheckConstraint(
            "(revoked_at IS NULL AND revocation_reason IS NULL)"
            " OR (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL)",
            name="revocation_has_reason",
        ),
    )

    uvci: Mapped[str] = mapped_column(String(80), unique=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("citizens.id"), index=True)
    dose_record_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("dose_records.id"))
    signer_certificate_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("signer_certificates.id")
    )
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str | None] = mapped_column(Text)
