"""The hub's signing keys: the country signing CA and the hub's own document signer.

::

    CSCA (key file IMUNO_HUB_CSCA_KEY + row in ``csca``)
      ├── site DSCs   (issued at enrolment, `central.certificates.csr_signer`)
      └── hub DSC     (key file IMUNO_HUB_SIGNER_KEY, row in ``signer_certificates``
                       with no site; signs the certificates ``imuno-hub cert issue`` makes)

The CSCA key file holds the private key and the certificate (both PEM). The
database holds the certificate only. `CertificateAuthority.csca` finds or
(when allowed) creates the CSCA; `hub_signer` finds or creates the hub's
DSC. Both run inside the caller's transaction; the CSCA row is inserted in a
savepoint so that two processes creating it at once both succeed (the key
file is created exclusively, so both insert the same certificate and one
insert loses to the unique key id).

Keys are cached per process: a CSCA is read from its file once.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.certificates.errors import (
    CscaKeyMismatch,
    CscaKeyMissing,
    HubSignerKeyRevoked,
    KeyFileUnreadable,
    NoCsca,
)
from central.certificates.key_files import create_exclusive, read_key_file
from central.certificates.settings import CertificateSettings
from central.db import Csca as CscaRow
from central.db import SignerCertificate
from domain.certificates import Csca, DocumentSigner, create_csca, create_signer_csr, key_id
from domain.certificates.pki import (
    create_signer_key,
    issue_signer_certificate,
    load_private_key,
    private_key_pem,
)

HUB_SIGNER_CODE: Final = "HUB"
"""The issuer code of the hub's own signer: in its DSC, the trust list and its UVCIs."""
SIGNER_RENEWAL: Final = timedelta(days=30)
"""The hub's DSC is replaced when it has less than this left to run."""
ACTOR: Final = "system:certificates"


def kid_text(certificate_der: bytes) -> str:
    """The key id as stored in the database: base64 of the 8-byte DCC key id."""
    return base64.b64encode(key_id(certificate_der)).decode("ascii")


@dataclass(frozen=True)
class HubCsca:
    """The CSCA with its database row id."""

    csca: Csca
    row_id: object


@dataclass(frozen=True)
class HubSigner:
    """The hub's document signer with its row in ``signer_certificates``."""

    signer: DocumentSigner
    row_id: object


class CertificateAuthority:
    """Finds, creates and caches the hub's keys (see the module docstring)."""

    def __init__(self, settings: CertificateSettings | None = None) -> None:
        self.settings = settings or CertificateSettings()
        self._lock = threading.Lock()
        self._csca: Csca | None = None
        self._signer_key: ec.EllipticCurvePrivateKey | None = None

    # --- the CSCA ----------------------------------------------------------------------------

    def csca(self, session: Session, now: datetime, *, create: bool | None = None) -> HubCsca:
        """The CSCA, its row ensured in `session`.

        `create` (default: the ``csca_auto_create`` setting) allows making a
        new CSCA when there is none. Raises `NoCsca`, `CscaKeyMissing` (the
        database names a CSCA but the key file is gone) or `CscaKeyMismatch`.
        """
        allowed = self.settings.csca_auto_create if create is None else create
        csca = self._load_csca(session, now, allowed)
        return HubCsca(csca=csca, row_id=self._ensure_csca_row(session, csca, now))

    def _load_csca(self, session: Session, now: datetime, create: bool) -> Csca:
        with self._lock:
            if self._csca is not None:
                return self._csca
            path = self.settings.csca_key
            content = read_key_file(path)
            active = session.scalars(
                select(CscaRow).where(CscaRow.retired_at.is_(None)).order_by(CscaRow.created_at)
            ).first()
            if content is None:
                if active is not None:
                    raise CscaKeyMissing(path=str(path))
                if not create:
                    raise NoCsca()
                made = create_csca(now=now)
                pem = private_key_pem(made.key, None) + x509.load_der_x509_certificate(
                    made.certificate_der
                ).public_bytes(serialization.Encoding.PEM)
                content = create_exclusive(path, pem)
            csca = _parse_csca_file(content, path)
            if active is not None and active.key_id != kid_text(csca.certificate_der):
                raise CscaKeyMismatch(path=str(path), expected=active.key_id)
            self._csca = csca
            return csca

    def _ensure_csca_row(self, session: Session, csca: Csca, now: datetime) -> object:
        kid = kid_text(csca.certificate_der)
        existing = session.scalar(select(CscaRow.id).where(CscaRow.key_id == kid))
        if existing is not None:
            return existing
        certificate = csca.certificate
        row = CscaRow(
            subject=certificate.subject.rfc4514_string()[:255],
            certificate_der=csca.certificate_der,
            key_id=kid,
            valid_from=certificate.not_valid_before_utc,
            valid_to=certificate.not_valid_after_utc,
            retired_at=None,
            created_at=now,
            created_by=ACTOR,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # Another process stored the same certificate first.
            return session.scalars(select(CscaRow.id).where(CscaRow.key_id == kid)).one()
        return row.id

    # --- the hub's own document signer -----------------------------------------------------------

    def hub_signer(self, session: Session, now: datetime) -> HubSigner:
        """The hub's DSC and key, issuing a new DSC when none is valid for long enough."""
        key = self._load_signer_key()
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        rows = session.scalars(
            select(SignerCertificate)
            .where(SignerCertificate.site_id.is_(None))
            .order_by(SignerCertificate.valid_to.desc())
        ).all()
        mine = [row for row in rows if _public_key_der(row.certificate_der) == public]
        if any(row.revoked_at is not None for row in mine):
            raise HubSignerKeyRevoked(path=str(self.settings.signer_key))
        for row in mine:
            if row.valid_from <= now and row.valid_to > now + SIGNER_RENEWAL:
                return HubSigner(DocumentSigner.create(key, row.certificate_der), row.id)
        hub_csca = self.csca(session, now)
        csr = create_signer_csr(key, site_code=HUB_SIGNER_CODE)
        der = issue_signer_certificate(csr, hub_csca.csca, site_code=HUB_SIGNER_CODE, now=now)
        row = store_signer_certificate(session, der, site_id=None, csca_id=hub_csca.row_id, now=now)
        return HubSigner(DocumentSigner.create(key, der), row.id)

    def _load_signer_key(self) -> ec.EllipticCurvePrivateKey:
        with self._lock:
            if self._signer_key is None:
                path = self.settings.signer_key
                content = read_key_file(path)
                if content is None:
                    content = create_exclusive(path, private_key_pem(create_signer_key(), None))
                try:
                    self._signer_key = load_private_key(content, None)
                except ValueError as exc:
                    raise KeyFileUnreadable(path=str(path), problem=str(exc)) from exc
            return self._signer_key


def store_signer_certificate(
    session: Session, der: bytes, *, site_id: object, csca_id: object, now: datetime
) -> SignerCertificate:
    """Record a DSC the CSCA issued (added to `session`, flushed)."""
    certificate = x509.load_der_x509_certificate(der)
    row = SignerCertificate(
        site_id=site_id,
        csca_id=csca_id,
        certificate_der=der,
        key_id=kid_text(der),
        valid_from=certificate.not_valid_before_utc,
        valid_to=certificate.not_valid_after_utc,
        revoked_at=None,
        revocation_reason=None,
        created_at=now,
        created_by=ACTOR,
    )
    session.add(row)
    session.flush()
    return row


def _public_key_der(certificate_der: bytes) -> bytes:
    return (
        x509.load_der_x509_certificate(certificate_der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _parse_csca_file(content: bytes, path: Path) -> Csca:
    try:
        key = load_private_key(content, None)
        certificate = x509.load_pem_x509_certificate(content)
    except ValueError as exc:
        raise KeyFileUnreadable(
            path=str(path), problem="it does not hold a private key and a certificate in PEM"
        ) from exc
    public = certificate.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or (
        public.public_numbers() != key.public_key().public_numbers()
    ):
        raise KeyFileUnreadable(path=str(path), problem="its key and certificate do not match")
    return Csca(key=key, certificate_der=certificate.public_bytes(serialization.Encoding.DER))
