"""Enrolling this workstation as a site, and the site's document signer.

`enrol_site` is the first thing a new workstation does: with the hub address
and the one-time code from the central help desk it

1. makes the site's own document-signer key (P-256) and a signing request
   for it; the private key never leaves this computer;
2. sends the code and the request to the hub (`app.sync.enrolment`), which
   answers with the site's credential and the signer certificate;
3. checks that the certificate certifies this key, then stores, in one
   transaction, the site identity with the credential sealed under
   `app.sync.identity.CREDENTIAL_PURPOSE` and the private key sealed under
   `SIGNER_KEY_PURPOSE` (`app.local_db.sealing.SecretBox`), beside its
   certificate.

The code is spent at step 2. Should step 3 fail (a full disk), the code is
gone and the help desk must issue a new one; the error says so.

`load_document_signer` gives the certificate engine (offline DCC issuing)
the site's ready `DocumentSigner`.

After enrolling, run a sync round: the site's accounts, roster and trust list
arrive with it, and nobody can log in before (`app.services.accounts.has_users`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Final

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.engine import Engine

from app.local_db.models.site import SiteIdentity
from app.local_db.sealing import SecretBox
from app.local_db.unit_of_work import session_scope
from app.sync.enrolment import (
    EnrolmentClient,
    EnrolmentCodeWrong,
    EnrolmentError,
    HubCannotCertify,
    UnexpectedHubAnswer,
)
from app.sync.errors import NotEnrolled
from app.sync.identity import CREDENTIAL_PURPOSE
from domain.certificates.errors import SignerCertificateRejected
from domain.certificates.pki import DocumentSigner, create_signer_csr, create_signer_key
from domain.clock import Clock
from domain.wire import EnrolRequest

SIGNER_KEY_PURPOSE: Final = "document signer key"
"""`SecretBox` purpose of the sealed document-signer private key (PKCS#8 DER)."""

CLIENT_VERSION: Final = "imuno-site"

_MAX_CODE_LENGTH: Final = 64


class AlreadyEnrolled(EnrolmentError):
    code: ClassVar[str] = "enrolment.already_enrolled"
    template: ClassVar[str] = (
        "This workstation is already enrolled as site {site_code}. To enrol it again (for "
        "another site), the central help desk must reset it; its records would otherwise "
        "be mixed."
    )


class EnrolmentNotStored(EnrolmentError):
    code: ClassVar[str] = "enrolment.not_stored"
    template: ClassVar[str] = (
        "The hub accepted the code, but this computer could not save the enrolment "
        "({detail}). The code is now used: fix the problem (free disk space), then ask the "
        "central help desk for a new code."
    )


class SignerMissing(EnrolmentError):
    code: ClassVar[str] = "enrolment.signer_missing"
    template: ClassVar[str] = (
        "This workstation has no certified signing key, so it cannot issue certificates "
        "offline. Call the central help desk: the site must be enrolled again with a new code."
    )


@dataclass(frozen=True)
class EnrolmentResult:
    """What the site became at enrolment."""

    site_id: uuid.UUID
    site_code: str
    site_name: str
    hub_url: str
    credential_id: uuid.UUID
    enrolled_at: datetime
    #: DCC key id (8 bytes) of the site's certified document signer.
    signer_kid: bytes
    signer_valid_until: datetime


@dataclass(frozen=True)
class EnrolmentStatus:
    """Whether (and as which site) this workstation is enrolled."""

    enrolled: bool
    site_code: str | None = None
    site_name: str | None = None
    hub_url: str | None = None


ClientFactory = Callable[[str], EnrolmentClient]


def enrolment_status(engine: Engine) -> EnrolmentStatus:
    """The workstation's enrolment, read from the store."""
    with session_scope(engine, write=False) as session:
        identity = session.get(SiteIdentity, 1)
        if identity is None:
            return EnrolmentStatus(enrolled=False)
        return EnrolmentStatus(True, identity.site_code, identity.site_name, identity.hub_url)


def enrol_site(
    engine: Engine,
    box: SecretBox,
    hub_url: str,
    code: str,
    clock: Clock,
    *,
    client_factory: ClientFactory = EnrolmentClient,
) -> EnrolmentResult:
    """Enrol this workstation with the hub at `hub_url` using the one-time `code`.

    Raises `AlreadyEnrolled` (checked before the code is spent), any
    `app.sync.enrolment.EnrolmentError` (unreachable hub, wrong, used or
    expired code, ...), or `EnrolmentNotStored`.
    """
    code = code.strip()
    if not code or len(code) > _MAX_CODE_LENGTH:
        raise EnrolmentCodeWrong()
    _refuse_if_enrolled(engine)
    client = client_factory(hub_url)
    try:
        key = create_signer_key()
        csr = x509.load_der_x509_csr(create_signer_csr(key, site_code="enrolment"))
        csr_pem = csr.public_bytes(serialization.Encoding.PEM).decode("ascii")
        answer = client.enrol(
            EnrolRequest(code=code, csr_pem=csr_pem, client_version=CLIENT_VERSION)
        )
    finally:
        client.close()
    if answer.site_id is None:
        raise UnexpectedHubAnswer(url=client.hub_url, detail="no site id in the answer")
    if answer.signer_certificate_pem is None:
        raise HubCannotCertify()
    try:
        der = x509.load_pem_x509_certificate(
            answer.signer_certificate_pem.encode("ascii")
        ).public_bytes(serialization.Encoding.DER)
        signer = DocumentSigner.create(key, der)
    except (ValueError, SignerCertificateRejected) as exc:
        raise UnexpectedHubAnswer(
            url=client.hub_url, detail="the signer certificate is not for this key"
        ) from exc
    private_der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    now = clock.now()
    identity = SiteIdentity(
        id=1,
        site_id=answer.site_id,
        site_code=answer.site.code,
        site_name=answer.site.name,
        municipality_code=answer.site.municipality,
        hub_url=client.hub_url,
        credential_id=str(answer.credential.credential_id),
        credential_secret_sealed=box.seal(
            answer.credential.credential.encode("utf-8"), purpose=CREDENTIAL_PURPOSE
        ),
        signer_certificate=der,
        signer_private_key_sealed=box.seal(private_der, purpose=SIGNER_KEY_PURPOSE),
        enrolled_at=now,
    )
    try:
        with session_scope(engine) as session:
            if session.get(SiteIdentity, 1) is not None:
                raise AlreadyEnrolled(site_code=answer.site.code)
            session.add(identity)
    except sa.exc.SQLAlchemyError as exc:
        raise EnrolmentNotStored(detail=type(exc).__name__) from exc
    return EnrolmentResult(
        site_id=answer.site_id,
        site_code=answer.site.code,
        site_name=answer.site.name,
        hub_url=client.hub_url,
        credential_id=answer.credential.credential_id,
        enrolled_at=now,
        signer_kid=signer.kid,
        signer_valid_until=signer.not_after,
    )


def _refuse_if_enrolled(engine: Engine) -> None:
    status = enrolment_status(engine)
    if status.enrolled:
        raise AlreadyEnrolled(site_code=status.site_code)


def load_document_signer(engine: Engine, box: SecretBox) -> DocumentSigner:
    """The site's document signer: its sealed private key paired with its certificate.

    For issuing DCCs offline (`domain.certificates`). Load it once and keep
    it; it is immutable. Raises `app.sync.errors.NotEnrolled` before
    enrolment, `SignerMissing` when the store holds no signer, and
    `app.local_db.errors.SecretUnreadable` when the key file is not the one
    the key was sealed with.
    """
    with session_scope(engine, write=False) as session:
        identity = session.get(SiteIdentity, 1)
        if identity is None:
            raise NotEnrolled(detail="no site identity")
        certificate = identity.signer_certificate
        sealed = identity.signer_private_key_sealed
    if certificate is None or sealed is None:
        raise SignerMissing()
    private = serialization.load_der_private_key(
        box.unseal(sealed, purpose=SIGNER_KEY_PURPOSE), password=None
    )
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise SignerMissing()
    try:
        return DocumentSigner.create(private, certificate)
    except SignerCertificateRejected as exc:
        raise SignerMissing() from exc
