"""Deciding whether a scanned certificate can be trusted.

`verify` reads the QR text (`domain.certificates.codec`) and then checks, in
this order, raising the first failure:

1. the key id names a signer certificate we trust    -> `UnknownKeyId`
2. the signature matches                             -> `SignatureInvalid`
3. the certificate's own time window (CWT iat, exp)  -> `NotYetValid`, `Expired`
4. the signer certificate: valid at the validation
   time and when it signed, and allowed to sign
   vaccination certificates                          -> `SignerCertificateExpired`,
                                                        `SignerCertificateNotYetValid`,
                                                        `SignerNotAuthorised`
5. the payload follows the EU DCC schema             -> `SchemaViolation`
6. the UVCI is not revoked                           -> `Revoked`

Errors from step 3 on carry ``signature_valid=True`` and the decoded
certificate, so a screen can say "genuine, but expired". The certificate's
own expiry is checked before its signer's: certificates made here never
outlive their signer (the encoder cuts ``exp``), so an expired signer with an
unexpired certificate means the issuer broke that rule.

The signer certificates are the trusted list (`domain.certificates.trust_list`
verifies the list the hub publishes); pass DER bytes, or a `TrustStore` built
once when the same list checks many certificates.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from domain.certificates.codec import CwtClaims, DecodedCertificate, decode_certificate
from domain.certificates.cose import verify_sign1
from domain.certificates.errors import (
    Expired,
    NotYetValid,
    Revoked,
    SchemaViolation,
    SignatureInvalid,
    SignerCertificateExpired,
    SignerCertificateNotYetValid,
    SignerNotAuthorised,
    UnknownKeyId,
)
from domain.certificates.payload import validate_payload
from domain.certificates.pki import key_id, may_sign_vaccinations
from domain.certificates.uvci import PREFIX as UVCI_PREFIX
from domain.clock import SystemClock

__all__ = [
    "DEFAULT_LEEWAY",
    "TrustStore",
    "TrustedSigner",
    "VerifiedCertificate",
    "verify",
]

#: Tolerated clock difference between the issuing site and the verifier.
DEFAULT_LEEWAY: Final = timedelta(minutes=5)


@dataclass(frozen=True)
class TrustedSigner:
    """A signer certificate, parsed once."""

    certificate_der: bytes = field(repr=False)
    kid: bytes
    public_key: ec.EllipticCurvePublicKey | None = field(repr=False)
    not_before: datetime
    not_after: datetime
    may_sign_vaccinations: bool

    @classmethod
    def from_der(cls, certificate_der: bytes) -> TrustedSigner:
        certificate = x509.load_der_x509_certificate(certificate_der)
        public = certificate.public_key()
        return cls(
            certificate_der=certificate_der,
            kid=key_id(certificate_der),
            # A non-EC key can never verify ES256; kept so its kid is still known.
            public_key=public if isinstance(public, ec.EllipticCurvePublicKey) else None,
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            may_sign_vaccinations=may_sign_vaccinations(certificate),
        )


class TrustStore:
    """Trusted signer certificates by key id.

    Raises ``ValueError`` for bytes that are not a DER X.509 certificate: a
    trust list is checked before it gets here (`trust_list.verify_trust_list`).
    Two certificates with the same key id (an 8-byte hash prefix) are both
    kept and both tried.
    """

    def __init__(self, certificates_der: Iterable[bytes]) -> None:
        self._by_kid: dict[bytes, list[TrustedSigner]] = {}
        for der in certificates_der:
            signer = TrustedSigner.from_der(der)
            self._by_kid.setdefault(signer.kid, []).append(signer)

    def candidates(self, kid: bytes) -> Sequence[TrustedSigner]:
        return self._by_kid.get(kid, ())

    def __len__(self) -> int:
        return sum(len(signers) for signers in self._by_kid.values())


@dataclass(frozen=True)
class VerifiedCertificate:
    """A certificate that passed every check of `verify`."""

    decoded: DecodedCertificate
    signer: TrustedSigner

    @property
    def claims(self) -> CwtClaims:
        return self.decoded.claims

    @property
    def hcert(self) -> Mapping[str, Any]:
        """The DCC payload (JSON-shaped), valid against the EU schema."""
        return self.decoded.claims.hcert

    @property
    def kid(self) -> bytes:
        return self.decoded.kid

    @property
    def issuer(self) -> str | None:
        """The issuing country from the CWT (claim 1)."""
        return self.decoded.claims.issuer

    @property
    def uvci(self) -> str | None:
        return _uvci(self.decoded.claims.hcert)

    @property
    def signature_valid(self) -> bool:
        """Always True: `verify` raises `SignatureInvalid` otherwise.

        Present so a caller can read ``signature_valid`` from a result and from
        a `VerificationError` alike.
        """
        return True


def verify(
    qr_text: str,
    signer_certificates: Sequence[bytes] | TrustStore,
    *,
    at: datetime | None = None,
    revoked_uvcis: Collection[str] = frozenset(),
    leeway: timedelta = DEFAULT_LEEWAY,
) -> VerifiedCertificate:
    """Read `qr_text` and decide whether it is a trustworthy vaccination certificate.

    `signer_certificates` are the trusted document-signer certificates (DER)
    or a `TrustStore` of them. `at` is the validation time (timezone-aware;
    the system clock when None). `revoked_uvcis` is the revocation list (a
    set is fastest), compared with and without the ``URN:UVCI:`` prefix.
    `leeway` tolerates that much clock difference in the time checks.

    Raises a `DecodeError` (with its ``stage``) or one of the
    `VerificationError`s listed in the module docstring; nothing else for any
    input string.
    """
    when = at if at is not None else SystemClock().now()
    if when.tzinfo is None:
        raise ValueError("the validation time must be timezone-aware")
    store = (
        signer_certificates
        if isinstance(signer_certificates, TrustStore)
        else TrustStore(signer_certificates)
    )
    decoded = decode_certificate(qr_text)
    kid = decoded.kid
    candidates = store.candidates(kid)
    if not candidates:
        raise UnknownKeyId(kid=kid.hex(), decoded=decoded)
    signer = next(
        (
            candidate
            for candidate in candidates
            if candidate.public_key is not None
            and verify_sign1(decoded.message, candidate.public_key)
        ),
        None,
    )
    if signer is None:
        raise SignatureInvalid(decoded=decoded)

    claims = decoded.claims
    genuine: dict[str, Any] = {"decoded": decoded, "signature_valid": True}
    if claims.issued_at > when + leeway:
        raise NotYetValid(issued_on=claims.issued_at.date().isoformat(), **genuine)
    if claims.expires_at < when - leeway:
        raise Expired(expired_on=claims.expires_at.date().isoformat(), **genuine)
    if signer.not_after < when - leeway:
        raise SignerCertificateExpired(not_after=signer.not_after.date().isoformat(), **genuine)
    if signer.not_before > min(when, claims.issued_at) + leeway:
        raise SignerCertificateNotYetValid(
            not_before=signer.not_before.date().isoformat(), **genuine
        )
    if not signer.may_sign_vaccinations and "v" in claims.hcert:
        raise SignerNotAuthorised(**genuine)

    try:
        validate_payload(claims.hcert)
    except SchemaViolation as exc:
        raise SchemaViolation(**exc.params, **genuine) from exc

    uvci = _uvci(claims.hcert)
    if uvci is not None and revoked_uvcis and _is_revoked(uvci, revoked_uvcis):
        raise Revoked(uvci=uvci, **genuine)
    return VerifiedCertificate(decoded=decoded, signer=signer)


def _uvci(hcert: Mapping[str, Any]) -> str | None:
    for group in ("v", "t", "r"):
        entries = hcert.get(group)
        if isinstance(entries, list) and entries and isinstance(entries[0], dict):
            ci = entries[0].get("ci")
            return ci if isinstance(ci, str) else None
    return None


def _is_revoked(uvci: str, revoked: Collection[str]) -> bool:
    bare = uvci.removeprefix(UVCI_PREFIX)
    return uvci in revoked or bare in revoked or UVCI_PREFIX + bare in revoked
