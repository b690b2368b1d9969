"""Keys and X.509 certificates of the signing hierarchy.

::

    CSCA (country signing CA, held by the hub; self-signed, P-256)
      └── document-signer certificate (DSC), one per site, issued at enrolment

At enrolment a site makes its own key pair (`create_signer_key`) and sends a
certificate signing request (`create_signer_csr`); the private key never
leaves the site. The hub checks the request and issues the DSC
(`issue_signer_certificate`). The subject of the DSC is set by the hub from
the site it enrolled (``site_code``), never taken from the request: a request
proves possession of a key, not who the site is.

DSCs carry the extended key usage for vaccination certificates from the DCC
specification (OID 1.3.6.1.4.1.1847.2021.1.2; .1.1 is tests, .1.3 recovery).
A verifier honours those OIDs: a DSC that lists some of them may sign only
those types, a DSC that lists none may sign all (`may_sign_vaccinations`).

The key id of a DSC, carried in every certificate's COSE header, is the first
8 bytes of the SHA-256 of its DER encoding (`key_id`).

Nothing here reads a clock: every function that depends on time takes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from domain.certificates.errors import SignerCertificateRejected

__all__ = [
    "EKU_RECOVERY",
    "EKU_TEST",
    "EKU_VACCINATION",
    "Csca",
    "DocumentSigner",
    "check_issued_by",
    "create_csca",
    "create_signer_csr",
    "create_signer_key",
    "issue_signer_certificate",
    "key_id",
    "load_private_key",
    "may_sign_vaccinations",
    "private_key_pem",
    "verify_signer_certificate",
]

EKU_TEST: Final = x509.ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.1")
EKU_VACCINATION: Final = x509.ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.2")
EKU_RECOVERY: Final = x509.ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.3")
# The DCC specification also accepts these, after a typo in an early version.
_EKU_TEST_ALT: Final = x509.ObjectIdentifier("1.3.6.1.4.1.0.1847.2021.1.1")
_EKU_VACCINATION_ALT: Final = x509.ObjectIdentifier("1.3.6.1.4.1.0.1847.2021.1.2")
_EKU_RECOVERY_ALT: Final = x509.ObjectIdentifier("1.3.6.1.4.1.0.1847.2021.1.3")
_DCC_TYPES: Final = frozenset(
    {
        EKU_TEST,
        EKU_VACCINATION,
        EKU_RECOVERY,
        _EKU_TEST_ALT,
        _EKU_VACCINATION_ALT,
        _EKU_RECOVERY_ALT,
    }
)
_VACCINATION: Final = frozenset({EKU_VACCINATION, _EKU_VACCINATION_ALT})
KEY_ID_LENGTH: Final = 8


@dataclass(frozen=True)
class Csca:
    """The country signing CA: its private key and self-signed certificate (DER)."""

    key: ec.EllipticCurvePrivateKey = field(repr=False)
    certificate_der: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.certificate_der)

    @property
    def kid(self) -> bytes:
        return key_id(self.certificate_der)


def key_id(certificate_der: bytes) -> bytes:
    """The DCC key id of a certificate: the first 8 bytes of SHA-256 over its DER."""
    return hashlib.sha256(certificate_der).digest()[:KEY_ID_LENGTH]


def create_csca(
    *,
    now: datetime,
    country: str = "RS",
    organisation: str = "Ministry of Health of the Republic of Serbia",
    common_name: str = "Serbia DCC CSCA",
    valid_days: int = 3650,
    key: ec.EllipticCurvePrivateKey | None = None,
) -> Csca:
    """A new CSCA: a P-256 key (or `key`) and a self-signed CA certificate from `now`."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Csca(key=key, certificate_der=certificate.public_bytes(serialization.Encoding.DER))


def create_signer_key() -> ec.EllipticCurvePrivateKey:
    """A new document-signer key (P-256, for ES256). Made on the site; never sent."""
    return ec.generate_private_key(ec.SECP256R1())


def create_signer_csr(
    key: ec.EllipticCurvePrivateKey, *, site_code: str, country: str = "RS"
) -> bytes:
    """A certificate signing request (DER) for `key`, signed by it."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.COMMON_NAME, f"DSC {site_code}"),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.DER)


def issue_signer_certificate(
    csr_der: bytes,
    csca: Csca,
    *,
    site_code: str,
    now: datetime,
    valid_days: int = 730,
    serial: int | None = None,
) -> bytes:
    """The DSC (DER) for the key in `csr_der`, for the enrolled site `site_code`.

    Valid from `now` for `valid_days`, but never beyond the CSCA certificate.
    It should outlive the certificates it signs: a certificate's expiry is
    cut to its signer's (`domain.certificates.codec`). `serial` defaults to
    a random 159-bit number.

    Raises `SignerCertificateRejected` when the request is not DER, its
    signature does not verify, or its key is not P-256.
    """
    try:
        csr = x509.load_der_x509_csr(csr_der)
    except ValueError as exc:
        raise SignerCertificateRejected(problem="the signing request is unreadable") from exc
    if not csr.is_signature_valid:
        raise SignerCertificateRejected(problem="the signing request's signature is wrong")
    public = csr.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(
        public.curve, ec.SECP256R1
    ):
        raise SignerCertificateRejected(problem="the site's key is not an ECDSA P-256 key")
    ca = csca.certificate
    country = ca.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value
    organisation = ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    subject = [x509.NameAttribute(NameOID.COUNTRY_NAME, str(country))]
    if organisation:
        subject.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, str(organisation[0].value)))
    subject.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, site_code))
    subject.append(x509.NameAttribute(NameOID.COMMON_NAME, f"DSC {site_code}"))
    not_after = min(now + timedelta(days=valid_days), ca.not_valid_after_utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(ca.subject)
        .public_key(public)
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([EKU_VACCINATION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(csca.key.public_key()),
            critical=False,
        )
        .sign(csca.key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


def verify_signer_certificate(
    certificate_der: bytes, csca_certificate_der: bytes, *, at: datetime
) -> x509.Certificate:
    """The DSC, after checking it was issued by the CSCA and is valid `at`.

    Raises `SignerCertificateRejected` when it is unreadable, not issued by
    this CSCA, a CA certificate, has a key that is not P-256, or is not
    valid `at`.
    """
    certificate = check_issued_by(certificate_der, csca_certificate_der)
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        pass
    else:
        if constraints.value.ca:
            raise SignerCertificateRejected(problem="it is a CA certificate, not a signer's")
    public = certificate.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(
        public.curve, ec.SECP256R1
    ):
        raise SignerCertificateRejected(problem="its key is not an ECDSA P-256 key")
    if at > certificate.not_valid_after_utc:
        raise SignerCertificateRejected(
            problem=f"it expired on {certificate.not_valid_after_utc.date().isoformat()}"
        )
    if at < certificate.not_valid_before_utc:
        raise SignerCertificateRejected(
            problem=f"it is valid only from {certificate.not_valid_before_utc.date().isoformat()}"
        )
    return certificate


def check_issued_by(certificate_der: bytes, csca_certificate_der: bytes) -> x509.Certificate:
    """The certificate, after checking the CSCA's signature on it (validity not checked).

    Raises `SignerCertificateRejected` when either is unreadable or the CSCA
    did not issue it.
    """
    certificate = _load(certificate_der)
    csca = _load(csca_certificate_der)
    try:
        certificate.verify_directly_issued_by(csca)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise SignerCertificateRejected(
            problem="it was not issued by this country's signing authority"
        ) from exc
    return certificate


def may_sign_vaccinations(certificate: x509.Certificate) -> bool:
    """Whether a DSC's extended key usage lets it sign vaccination certificates."""
    try:
        usages: Iterable[x509.ObjectIdentifier] = certificate.extensions.get_extension_for_class(
            x509.ExtendedKeyUsage
        ).value
    except x509.ExtensionNotFound:
        return True
    dcc_usages = _DCC_TYPES.intersection(usages)
    return not dcc_usages or bool(_VACCINATION & dcc_usages)


@dataclass(frozen=True)
class DocumentSigner:
    """A site's signing key with its DSC, checked once and ready to sign many times.

    Build it with `DocumentSigner.create`; `kid`, validity and country are
    read from the certificate there, not on every signature.
    """

    key: ec.EllipticCurvePrivateKey = field(repr=False)
    certificate_der: bytes = field(repr=False)
    kid: bytes
    country: str
    not_before: datetime
    not_after: datetime
    may_sign_vaccinations: bool

    @classmethod
    def create(cls, key: ec.EllipticCurvePrivateKey, certificate_der: bytes) -> DocumentSigner:
        """Pair `key` with its DSC.

        Raises `SignerCertificateRejected` when the certificate is unreadable
        or certifies a different key.
        """
        certificate = _load(certificate_der)
        public = certificate.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey) or (
            public.public_numbers() != key.public_key().public_numbers()
        ):
            raise SignerCertificateRejected(
                problem="the site's signing key does not belong to its signer certificate"
            )
        countries = certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
        return cls(
            key=key,
            certificate_der=certificate_der,
            kid=key_id(certificate_der),
            country=str(countries[0].value) if countries else "",
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            may_sign_vaccinations=may_sign_vaccinations(certificate),
        )


def private_key_pem(key: ec.EllipticCurvePrivateKey, password: bytes | None) -> bytes:
    """`key` as PKCS#8 PEM, encrypted with `password` unless it is None."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def load_private_key(pem: bytes, password: bytes | None) -> ec.EllipticCurvePrivateKey:
    """The EC private key in `pem` (see `private_key_pem`)."""
    key = serialization.load_pem_private_key(pem, password=password)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SignerCertificateRejected(problem="the stored signing key is not an ECDSA key")
    return key


def _load(certificate_der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(certificate_der)
    except ValueError as exc:
        raise SignerCertificateRejected(problem="the certificate is unreadable") from exc


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
