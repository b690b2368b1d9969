"""The signed lists the hub publishes: trusted signers and revoked UVCIs.

Both are signed by the CSCA (`domain.certificates.trust_list`, which also
describes the format). Sequence numbers are derived from the database, so
every hub process computes the same number for the same content, with no
counter to keep:

- trust list: number of signer certificates ever issued + number revoked.
  Rows are never deleted, so every issue and every revocation raises it by
  one. (A DSC that merely expires drops out without a new number; receivers
  accept a list with the same number again, and verifiers check expiry
  themselves.)
- revocation list: number of issued certificates revoked (revocations are
  never undone).

The trust list holds every DSC that is not revoked and is valid now; its
``site`` is the site code, or ``HUB`` for the hub's own signer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.certificates.authority import HUB_SIGNER_CODE, CertificateAuthority
from central.db import IssuedCertificate, SignerCertificate, Site
from domain.certificates import TrustListEntry, sign_revocation_list, sign_trust_list


@dataclass(frozen=True)
class SignedList:
    """A signed list's bytes with its sequence number and signer count."""

    data: bytes
    sequence: int
    size: int


def trust_list(session: Session, authority: CertificateAuthority, now: datetime) -> SignedList:
    """The current trust list, signed now. Raises `NoCsca` before there is a CSCA."""
    csca = authority.csca(session, now, create=False).csca
    issued = session.scalar(select(func.count()).select_from(SignerCertificate)) or 0
    revoked = (
        session.scalar(
            select(func.count())
            .select_from(SignerCertificate)
            .where(SignerCertificate.revoked_at.is_not(None))
        )
        or 0
    )
    rows = session.execute(
        select(SignerCertificate.certificate_der, Site.code)
        .outerjoin(Site, Site.id == SignerCertificate.site_id)
        .where(
            SignerCertificate.revoked_at.is_(None),
            SignerCertificate.valid_from <= now,
            SignerCertificate.valid_to > now,
        )
        .order_by(SignerCertificate.created_at, SignerCertificate.id)
    ).all()
    entries = [
        TrustListEntry.for_certificate(der, code if code is not None else HUB_SIGNER_CODE)
        for der, code in rows
    ]
    sequence = issued + revoked
    data = sign_trust_list(entries, csca, sequence=sequence, issued_at=now)
    return SignedList(data=data, sequence=sequence, size=len(entries))


def revocation_list(session: Session, authority: CertificateAuthority, now: datetime) -> SignedList:
    """The current list of revoked UVCIs, signed now. Raises `NoCsca` before a CSCA."""
    csca = authority.csca(session, now, create=False).csca
    uvcis = session.scalars(
        select(IssuedCertificate.uvci).where(IssuedCertificate.revoked_at.is_not(None))
    ).all()
    data = sign_revocation_list(uvcis, csca, sequence=len(uvcis), issued_at=now)
    return SignedList(data=data, sequence=len(uvcis), size=len(uvcis))
