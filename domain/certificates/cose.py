"""COSE_Sign1 with ES256 (RFC 9052, RFC 9053), on `cryptography` and `cbor2`.

Only what the DCC needs: one signer, ECDSA P-256 with SHA-256, the signature
as raw ``r || s`` (64 bytes, not DER), no external AAD. The protected header
carries the algorithm (label 1, ES256 = -7) and the key id (label 4); a
content type (label 3) may be added, as the signed trust lists do.

Reading accepts the message tagged COSE_Sign1 (18), tagged CWT (61) around
that, or untagged, as the DCC specification asks verifiers to. A key id found
only in the unprotected header is accepted too (some issuers put it there);
the algorithm must be protected.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from domain.certificates.errors import CborError, CoseError

__all__ = [
    "ALG_ES256",
    "Sign1",
    "decode_cbor",
    "parse_sign1",
    "sign1",
    "verify_sign1",
]

ALG_ES256: Final = -7
HEADER_ALG: Final = 1
HEADER_CONTENT_TYPE: Final = 3
HEADER_KID: Final = 4
TAG_COSE_SIGN1: Final = 18
TAG_CWT: Final = 61
_COORDINATE: Final = 32  # bytes of a P-256 coordinate, and of r and s
# What cbor2 returns for a lone "break" code; exported, but missing from its type hints.
_BREAK: Final[object] = cbor2.break_marker  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Sign1:
    """A parsed, not yet verified, COSE_Sign1 message.

    `protected` is the protected header exactly as received (the signature
    covers these bytes, not the decoded map).
    """

    protected: bytes
    protected_header: Mapping[Any, Any]
    unprotected_header: Mapping[Any, Any]
    payload: bytes
    signature: bytes

    @property
    def kid(self) -> bytes:
        kid = self.protected_header.get(HEADER_KID, self.unprotected_header.get(HEADER_KID))
        assert isinstance(kid, bytes)  # parse_sign1 guarantees it
        return kid

    @property
    def content_type(self) -> object:
        return self.protected_header.get(HEADER_CONTENT_TYPE)

    def to_be_signed(self) -> bytes:
        """The Sig_structure (RFC 9052 section 4.4) the signature is over."""
        return _sig_structure(self.protected, self.payload)


def sign1(
    payload: bytes,
    key: ec.EllipticCurvePrivateKey,
    kid: bytes,
    *,
    content_type: str | None = None,
) -> bytes:
    """`payload` signed with `key` (P-256) as a tagged COSE_Sign1, CBOR-encoded."""
    if not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"ES256 needs a P-256 key, not {key.curve.name}")
    header: dict[int, Any] = {HEADER_ALG: ALG_ES256, HEADER_KID: kid}
    if content_type is not None:
        header[HEADER_CONTENT_TYPE] = content_type
    protected = cbor2.dumps(header)
    der = key.sign(_sig_structure(protected, payload), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(_COORDINATE, "big") + s.to_bytes(_COORDINATE, "big")
    return cbor2.dumps(cbor2.CBORTag(TAG_COSE_SIGN1, [protected, {}, payload, signature]))


def parse_sign1(data: bytes) -> Sign1:
    """Read a COSE_Sign1 message without checking its signature.

    Raises `CborError` when `data` is not one CBOR item and `CoseError` when
    it is CBOR but not an ES256 COSE_Sign1 with a key id.
    """
    item = decode_cbor(data, what="COSE message")
    if isinstance(item, cbor2.CBORTag) and item.tag == TAG_CWT:
        item = item.value
    if isinstance(item, cbor2.CBORTag):
        if item.tag != TAG_COSE_SIGN1:
            raise CoseError(detail=f"CBOR tag {item.tag} is not COSE_Sign1 (18)")
        item = item.value
    if not isinstance(item, list) or len(item) != 4:
        raise CoseError(detail="a COSE_Sign1 is an array of four items")
    protected, unprotected, payload, signature = item
    if not isinstance(protected, bytes):
        raise CoseError(detail="the protected header is not a byte string")
    if not isinstance(unprotected, dict):
        raise CoseError(detail="the unprotected header is not a map")
    if not isinstance(payload, bytes):
        raise CoseError(detail="the payload is not a byte string (detached payloads are refused)")
    if not isinstance(signature, bytes):
        raise CoseError(detail="the signature is not a byte string")
    protected_header = decode_cbor(protected, what="protected header") if protected else {}
    if not isinstance(protected_header, dict):
        raise CoseError(detail="the protected header is not a map")
    alg = protected_header.get(HEADER_ALG)
    if alg != ALG_ES256:
        raise CoseError(detail=f"signature algorithm {alg!r} is not ES256 (-7)")
    kid = protected_header.get(HEADER_KID, unprotected.get(HEADER_KID))
    if not isinstance(kid, bytes):
        raise CoseError(detail="the message has no key id")
    return Sign1(
        protected=protected,
        protected_header=protected_header,
        unprotected_header=unprotected,
        payload=payload,
        signature=signature,
    )


def verify_sign1(message: Sign1, public_key: ec.EllipticCurvePublicKey) -> bool:
    """Whether `message`'s ES256 signature was made by the key of `public_key`."""
    if not isinstance(public_key.curve, ec.SECP256R1):
        return False
    if len(message.signature) != 2 * _COORDINATE:
        return False
    r = int.from_bytes(message.signature[:_COORDINATE], "big")
    s = int.from_bytes(message.signature[_COORDINATE:], "big")
    try:
        public_key.verify(
            encode_dss_signature(r, s), message.to_be_signed(), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        return False
    return True


def decode_cbor(data: bytes, *, what: str) -> Any:
    """Exactly one CBOR data item from `data`; `CborError` otherwise.

    `what` names the item in the error's detail.
    """
    stream = io.BytesIO(data)
    try:
        item = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORDecodeError, RecursionError) as exc:
        raise CborError(detail=f"{what}: {exc}") from exc
    if item is _BREAK:  # a lone "break" byte (0xff) is not a data item
        raise CborError(detail=f"{what}: a break code without an indefinite-length item")
    if stream.tell() != len(data):
        raise CborError(detail=f"{what}: {len(data) - stream.tell()} bytes after the CBOR item")
    return item


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])
