"""Every error the certificate package raises, in one hierarchy.

::

    CertificateError
    ├── DecodeError                    the QR text is not a readable DCC (`stage` says where)
    │   ├── PrefixError                    stage "prefix": no "HC1:" at the start
    │   ├── Base45Error                    stage "base45"
    │   ├── ZlibError                      stage "zlib"
    │   ├── CoseError                      stage "cose": CBOR, but not an ES256 COSE_Sign1
    │   └── CborError                      stage "cbor": not CBOR, or the CWT claims are malformed
    ├── VerificationError              readable, but not to be trusted (carries `decoded`)
    │   ├── UnknownKeyId                   no signer certificate with the message's key id
    │   ├── SignatureInvalid               the signature does not match (tampered or wrong key)
    │   ├── SignerCertificateExpired       the document-signer certificate has expired
    │   ├── SignerCertificateNotYetValid
    │   ├── SignerNotAuthorised            the signer may not sign vaccination certificates
    │   ├── Expired                        the certificate's own validity (CWT exp) is over
    │   ├── NotYetValid                    issued in the future (CWT iat)
    │   ├── SchemaViolation                the payload breaks the EU DCC JSON schema
    │   └── Revoked                        the UVCI is on the revocation list
    ├── NameNotTransliterable          a name has a letter ICAO 9303 cannot write in A-Z
    ├── InvalidUvci                    malformed UVCI or wrong check character
    ├── SignerCertificateRejected      a CSR or signer certificate the hub must not accept
    └── SignedListInvalid              a signed list from the hub that fails its checks
        ├── TrustListInvalid
        └── RevocationListInvalid

Verification errors raised after the signature was checked carry
``signature_valid=True``: a person can be told "genuine, but expired" rather
than only "invalid". Every error also keeps the decoded (untrusted) certificate
in ``decoded`` when there is one, so a screen can still show what it says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from domain.errors import DomainError

if TYPE_CHECKING:
    from domain.certificates.codec import DecodedCertificate

__all__ = [
    "Base45Error",
    "CborError",
    "CertificateError",
    "CoseError",
    "DecodeError",
    "DecodeStage",
    "Expired",
    "InvalidUvci",
    "NameNotTransliterable",
    "NotYetValid",
    "PrefixError",
    "RevocationListInvalid",
    "Revoked",
    "SchemaViolation",
    "SignatureInvalid",
    "SignedListInvalid",
    "SignerCertificateExpired",
    "SignerCertificateNotYetValid",
    "SignerCertificateRejected",
    "SignerNotAuthorised",
    "TrustListInvalid",
    "UnknownKeyId",
    "VerificationError",
    "ZlibError",
]

DecodeStage = Literal["prefix", "base45", "zlib", "cose", "cbor"]


class CertificateError(DomainError):
    """Root of the certificate package's errors."""

    code: ClassVar[str] = "certificate.error"
    template: ClassVar[str] = "The certificate could not be processed."


# --- reading the QR text -------------------------------------------------------------------------


class DecodeError(CertificateError):
    """The QR text is not a well-formed EU DCC; `stage` names the layer that failed.

    `detail` (a param, English, for logs) says what exactly was wrong.
    """

    code: ClassVar[str] = "certificate.decode"
    template: ClassVar[str] = (
        "This QR code is not a readable EU Digital COVID Certificate. Scan it again; if it "
        "still fails, the code is damaged or is not a COVID certificate."
    )
    stage: ClassVar[DecodeStage]


class PrefixError(DecodeError):
    code: ClassVar[str] = "certificate.decode.prefix"
    template: ClassVar[str] = (
        "This QR code is not an EU Digital COVID Certificate: its text does not start with "
        "'HC1:'. Make sure you scan the certificate's QR code and not another code on the page."
    )
    stage: ClassVar[DecodeStage] = "prefix"


class Base45Error(DecodeError):
    code: ClassVar[str] = "certificate.decode.base45"
    template: ClassVar[str] = (
        "The certificate's QR code was read incompletely or with wrong characters. Scan it "
        "again, holding it flat and still; a scanner set to a different keyboard layout also "
        "causes this."
    )
    stage: ClassVar[DecodeStage] = "base45"


class ZlibError(DecodeError):
    code: ClassVar[str] = "certificate.decode.zlib"
    template: ClassVar[str] = (
        "The certificate's QR code holds damaged data (the compressed content cannot be "
        "unpacked). Scan it again; if it still fails, the certificate must be issued again."
    )
    stage: ClassVar[DecodeStage] = "zlib"


class CoseError(DecodeError):
    code: ClassVar[str] = "certificate.decode.cose"
    template: ClassVar[str] = (
        "The certificate's QR code does not hold a signed certificate in the EU format. It "
        "cannot be checked; the holder should ask the issuer for a new certificate."
    )
    stage: ClassVar[DecodeStage] = "cose"


class CborError(DecodeError):
    code: ClassVar[str] = "certificate.decode.cbor"
    template: ClassVar[str] = (
        "The certificate's content is damaged or not in the EU format. It cannot be "
        "checked; the holder should ask the issuer for a new certificate."
    )
    stage: ClassVar[DecodeStage] = "cbor"


# --- trusting it ---------------------------------------------------------------------------------


class VerificationError(CertificateError):
    """A readable certificate that must not be accepted.

    `decoded` is the certificate as read (untrusted); `signature_valid` says
    whether its signature was checked and matched before this error arose.
    """

    code: ClassVar[str] = "certificate.not_valid"
    template: ClassVar[str] = "This certificate is not valid."

    def __init__(
        self,
        *,
        decoded: DecodedCertificate | None = None,
        signature_valid: bool = False,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.decoded = decoded
        self.signature_valid = signature_valid

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps `decoded` and `signature_valid` when the error crosses a process pool.
        return (
            _rebuild_verification_error,
            (type(self), self.params, self.decoded, self.signature_valid),
        )


def _rebuild_verification_error(
    cls: type[VerificationError],
    params: dict[str, Any],
    decoded: DecodedCertificate | None,
    signature_valid: bool,
) -> VerificationError:
    return cls(decoded=decoded, signature_valid=signature_valid, **params)


class UnknownKeyId(VerificationError):
    code: ClassVar[str] = "certificate.unknown_key_id"
    template: ClassVar[str] = (
        "This certificate was signed with a key that is not on the trust list (key id {kid}). "
        "Synchronise to get the latest trust list and scan again; if it still fails, the "
        "certificate does not come from a trusted issuer."
    )


class SignatureInvalid(VerificationError):
    code: ClassVar[str] = "certificate.signature_invalid"
    template: ClassVar[str] = (
        "This certificate's signature does not match its content: it has been altered or "
        "forged. Do not accept it."
    )


class SignerCertificateExpired(VerificationError):
    code: ClassVar[str] = "certificate.signer_expired"
    template: ClassVar[str] = (
        "The key that signed this certificate expired on {not_after}, so the certificate can "
        "no longer be trusted. The holder should get a new certificate at a vaccination site."
    )


class SignerCertificateNotYetValid(VerificationError):
    code: ClassVar[str] = "certificate.signer_not_yet_valid"
    template: ClassVar[str] = (
        "This certificate was signed before its signing key became valid ({not_before}). "
        "Check that this computer's date and time are correct; if they are, do not accept it."
    )


class SignerNotAuthorised(VerificationError):
    code: ClassVar[str] = "certificate.signer_not_authorised"
    template: ClassVar[str] = (
        "The key that signed this certificate is not allowed to sign vaccination certificates. "
        "Do not accept it."
    )


class Expired(VerificationError):
    code: ClassVar[str] = "certificate.expired"
    template: ClassVar[str] = (
        "This certificate expired on {expired_on}. The holder can get a new certificate at any "
        "vaccination site."
    )


class NotYetValid(VerificationError):
    code: ClassVar[str] = "certificate.not_yet_valid"
    template: ClassVar[str] = (
        "This certificate is dated {issued_on}, which is still in the future. Check that this "
        "computer's date and time are correct; if they are, the issuing site's clock was wrong "
        "and the certificate must be issued again."
    )


class SchemaViolation(VerificationError):
    code: ClassVar[str] = "certificate.schema_violation"
    template: ClassVar[str] = (
        "The certificate's content does not follow the EU format at '{where}': {problem}. "
        "It cannot be issued or accepted this way; report it to the central help desk."
    )


class Revoked(VerificationError):
    code: ClassVar[str] = "certificate.revoked"
    template: ClassVar[str] = (
        "This certificate ({uvci}) has been revoked and is no longer valid. The holder should "
        "contact a vaccination site for a new certificate."
    )


# --- issuing it ----------------------------------------------------------------------------------


class NameNotTransliterable(CertificateError):
    code: ClassVar[str] = "certificate.name_not_transliterable"
    template: ClassVar[str] = (
        "The name '{name}' contains '{char}', which has no spelling in the Latin letters A-Z "
        "used on travel documents. Correct the name as it is written on the person's ID "
        "document, or write it in Serbian Latin or Cyrillic."
    )


class InvalidUvci(CertificateError):
    code: ClassVar[str] = "certificate.invalid_uvci"
    template: ClassVar[str] = (
        "'{uvci}' is not a valid certificate identifier (UVCI): {problem}. Check that it was "
        "typed or scanned completely."
    )


class SignerCertificateRejected(CertificateError):
    code: ClassVar[str] = "certificate.signer_rejected"
    template: ClassVar[str] = (
        "The site's signing certificate or request was refused: {problem}. Enrol the site again "
        "to get a new signing key; if it fails again, call the central help desk."
    )


class SignedListInvalid(CertificateError):
    """A signed list from the hub that fails its checks; the previous list stays in use."""

    code: ClassVar[str] = "certificate.signed_list_invalid"
    template: ClassVar[str] = (
        "A list received from the hub cannot be trusted: {problem}. The previous list stays in "
        "use; synchronise again later and call the central help desk if this repeats."
    )


class TrustListInvalid(SignedListInvalid):
    code: ClassVar[str] = "certificate.trust_list_invalid"
    template: ClassVar[str] = (
        "The trust list of certificate signers received from the hub cannot be trusted: "
        "{problem}. The previous list stays in use; synchronise again later and call the "
        "central help desk if this repeats."
    )


class RevocationListInvalid(SignedListInvalid):
    code: ClassVar[str] = "certificate.revocation_list_invalid"
    template: ClassVar[str] = (
        "The list of revoked certificates received from the hub cannot be trusted: {problem}. "
        "The previous list stays in use; synchronise again later and call the central help "
        "desk if this repeats."
    )
