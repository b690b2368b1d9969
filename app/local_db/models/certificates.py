"""Vaccination certificates issued here, and the hub's signed lists kept for verifying.

`IssuedCertificate`: one row per certificate this site signed (EU DCC, with the
site's own document signer), written in the same transaction as its outbox row
(sync kind ``certificate_issued``) so the hub learns every UVCI. Rows are never
changed: a correction issues a new certificate whose ``supersedes`` names the
UVCIs it replaces. Revoking them is the hub's (only the CSCA signs the
revocation list every verifier reads); until the hub's list says so, this
site's own verifier treats a superseded UVCI as revoked.

`CertificateList`: the last CSCA-signed trust list and revocation list fetched
from the hub, as the bytes the hub signed, plus the CSCA certificate pinned at
enrolment (kind ``csca``). The parsed forms live in `trust.TrustedSigner` and
`trust.Revocation`; the bytes are kept so the age and sequence of what a
verifier relies on can be shown and re-checked.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.local_db.models.base import Base, BornAtSite, enum_type


class IssuedCertificate(BornAtSite, Base):
    """A certificate signed at this site (never updated; see the module docstring)."""

    __tablename__ = "issued_certificates"
    __table_args__ = (sa.Index(None, "citizen_id", "dose_number"),)

    uvci: Mapped[str] = mapped_column(sa.String(80), unique=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("citizens.id"))
    #: The dose the certificate records (the DCC ``v`` entry).
    dose_record_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("dose_records.id"))
    dose_number: Mapped[int]
    #: Every dose printed on the page (ids, in order).
    dose_ids: Mapped[list[str]] = mapped_column(default=list)
    #: SHA-256 (hex) of what the certificate states; equal content means a reprint.
    content_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: DCC key id of the signer, hex (16 digits).
    signer_kid: Mapped[str] = mapped_column(sa.String(16))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    qr_text: Mapped[str] = mapped_column(sa.Text)
    #: UVCIs this certificate replaces (the hub revokes them when it receives it).
    supersedes: Mapped[list[str]] = mapped_column(default=list)


class CertificateListKind(enum.StrEnum):
    """Which signed document a `CertificateList` row holds."""

    CSCA = "csca"
    TRUST_LIST = "trust_list"
    REVOCATION_LIST = "revocation_list"


class CertificateList(Base):
    """The latest copy of one of the hub's signed documents (one row per kind)."""

    __tablename__ = "certificate_lists"

    kind: Mapped[CertificateListKind] = mapped_column(
        enum_type(CertificateListKind, "certificate_list_kind"), primary_key=True
    )
    #: The bytes as the hub signed them (COSE_Sign1), or the CSCA certificate (DER).
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    #: The list's sequence number (None for the CSCA).
    sequence: Mapped[int | None]
    #: When the hub signed the list (the CSCA: when it was pinned).
    issued_at: Mapped[datetime]
    #: When this site last received it.
    fetched_at: Mapped[datetime]
