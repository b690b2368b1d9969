"""The QR text of an EU Digital COVID Certificate, written and read.

Layers, outside in (eHN "Electronic Health Certificate Container Format")::

    "HC1:" + base45( zlib( COSE_Sign1( CWT claims ) ) )

    CWT claims:  1 iss (issuing country), 6 iat, 4 exp (seconds since the
                 epoch), -260 hcert: {1: the DCC payload}

`encode_certificate` signs; `decode_certificate` only reads (no trust
decision) and raises a `DecodeError` whose ``stage`` names the layer that
failed. `domain.certificates.verify` adds the trust decisions.

Reading is strict where the format is fixed (the prefix, zlib compression)
and tolerant where scanners differ: carriage returns, line feeds and tabs
around the text are dropped (keyboard-wedge scanners append them). Spaces
are kept: a space is a base45 digit.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import base45
import cbor2

from domain.certificates.cose import Sign1, decode_cbor, parse_sign1, sign1
from domain.certificates.errors import (
    Base45Error,
    CborError,
    PrefixError,
    SignerCertificateRejected,
    ZlibError,
)
from domain.certificates.payload import validate_payload
from domain.certificates.pki import DocumentSigner

__all__ = [
    "PREFIX",
    "CwtClaims",
    "DecodedCertificate",
    "decode_certificate",
    "encode_certificate",
]

PREFIX: Final = "HC1:"
CLAIM_ISS: Final = 1
CLAIM_EXP: Final = 4
CLAIM_IAT: Final = 6
CLAIM_HCERT: Final = -260
HCERT_DCC: Final = 1
#: A DCC is a few hundred bytes; refuse to inflate more than this (zlib bombs).
MAX_DECOMPRESSED: Final = 64 * 1024
DEFAULT_VALIDITY: Final = timedelta(days=365)
_SCANNER_NOISE: Final = "\r\n\t"


@dataclass(frozen=True)
class CwtClaims:
    """The CWT claims of a certificate; `hcert` is the DCC payload map."""

    issuer: str | None
    issued_at: datetime
    expires_at: datetime
    hcert: Mapping[str, Any]


@dataclass(frozen=True)
class DecodedCertificate:
    """A certificate as read from its QR text: nothing about it is trusted yet."""

    message: Sign1
    claims: CwtClaims

    @property
    def kid(self) -> bytes:
        return self.message.kid


def encode_certificate(
    hcert: Mapping[str, Any],
    signer: DocumentSigner,
    *,
    issued_at: datetime,
    valid_for: timedelta = DEFAULT_VALIDITY,
) -> str:
    """The QR text ("HC1:...") of `hcert` signed by `signer` at `issued_at`.

    The expiry is `issued_at` + `valid_for`, cut to the signer certificate's
    end so the certificate never outlives the key that vouches for it. The
    issuing country (claim 1) is the signer certificate's country.

    Raises `SchemaViolation` for a payload that breaks the EU schema, and
    `SignerCertificateRejected` when `signer` may not sign at `issued_at`
    (expired, not yet valid, or not for vaccinations): a certificate signed
    then would be refused by every verifier.
    """
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    if issued_at > signer.not_after:
        raise SignerCertificateRejected(
            problem=f"it expired on {signer.not_after.date().isoformat()}"
        )
    if issued_at < signer.not_before:
        raise SignerCertificateRejected(
            problem=f"it is valid only from {signer.not_before.date().isoformat()}; "
            "check this computer's date and time"
        )
    if not signer.may_sign_vaccinations:
        raise SignerCertificateRejected(problem="it may not sign vaccination certificates")
    validate_payload(hcert)
    expires_at = min(issued_at + valid_for, signer.not_after)
    claims = {
        CLAIM_ISS: signer.country,
        CLAIM_IAT: int(issued_at.timestamp()),
        CLAIM_EXP: int(expires_at.timestamp()),
        CLAIM_HCERT: {HCERT_DCC: dict(hcert)},
    }
    message = sign1(cbor2.dumps(claims), signer.key, signer.kid)
    encoded: bytes = base45.b45encode(zlib.compress(message, 9))
    return PREFIX + encoded.decode("ascii")


def decode_certificate(qr_text: str) -> DecodedCertificate:
    """Read a certificate's QR text, checking its form but not its signature.

    Raises a `DecodeError` subclass: `PrefixError`, `Base45Error`,
    `ZlibError`, `CoseError` or `CborError` (also for CWT claims that are
    missing or of the wrong type).
    """
    text = qr_text.strip(_SCANNER_NOISE)
    if not text.startswith(PREFIX):
        raise PrefixError(detail=f"starts with {text[:4]!r}")
    try:
        compressed = base45.b45decode(text[len(PREFIX) :])
    except ValueError as exc:
        raise Base45Error(detail=str(exc)) from exc
    message = parse_sign1(_inflate(compressed))
    claims = _claims(decode_cbor(message.payload, what="CWT claims"))
    return DecodedCertificate(message=message, claims=claims)


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        # One byte more than allowed tells "too large" from "exactly the limit".
        out = inflater.decompress(data, MAX_DECOMPRESSED + 1)
    except zlib.error as exc:
        raise ZlibError(detail=str(exc)) from exc
    if len(out) > MAX_DECOMPRESSED:
        raise ZlibError(detail=f"inflates to more than {MAX_DECOMPRESSED} bytes")
    if not inflater.eof:
        raise ZlibError(detail="the compressed data is cut short")
    if inflater.unused_data:
        raise ZlibError(detail=f"{len(inflater.unused_data)} bytes after the compressed data")
    return out


def _claims(payload: object) -> CwtClaims:
    if not isinstance(payload, dict):
        raise CborError(detail="the CWT claims are not a map")
    hcert_claim = payload.get(CLAIM_HCERT)
    if not isinstance(hcert_claim, dict) or not isinstance(hcert_claim.get(HCERT_DCC), dict):
        raise CborError(detail="the CWT has no DCC payload (claim -260/1)")
    issuer = payload.get(CLAIM_ISS)
    if issuer is not None and not isinstance(issuer, str):
        raise CborError(detail="the issuer claim (1) is not text")
    return CwtClaims(
        issuer=issuer,
        issued_at=_numeric_date(payload.get(CLAIM_IAT), "iat"),
        expires_at=_numeric_date(payload.get(CLAIM_EXP), "exp"),
        hcert=hcert_claim[HCERT_DCC],
    )


def _numeric_date(value: object, name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CborError(detail=f"the {name} claim is missing or not a number")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise CborError(detail=f"the {name} claim {value!r} is not a date") from exc
