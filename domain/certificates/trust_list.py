"""The lists the hub publishes, signed by the CSCA: signers to trust, UVCIs revoked.

Format (both lists): a COSE_Sign1 message (ES256) signed with the CSCA key,
the CSCA certificate's key id (`pki.key_id`) in the protected header and a
content type (label 3) naming the list; its payload is a CBOR map::

    trust list  (content type "application/vnd.imuno.dcc-trust-list+cbor")
        {"kind": "dcc-trust-list", "version": 1, "country": "RS",
         "sequence": 42, "issued_at": 1617000000,
         "signers": [{"kid": h'…8 bytes…', "certificate": h'…DER…', "site": "NS01"}, …]}

    revocation list  (content type "application/vnd.imuno.dcc-revocation-list+cbor")
        {"kind": "dcc-revocation-list", "version": 1, "country": "RS",
         "sequence": 7, "issued_at": 1617000000,
         "uvcis": ["URN:UVCI:01:RS:NS01/…#K", …]}

The bytes are the whole list: store or send them as they are (base64 inside
JSON). `issued_at` is seconds since the epoch. `sequence` increases with
every list the hub publishes; a receiver passes the sequence it holds as
``min_sequence`` so an older list replayed to it is refused (a list with the
same sequence is accepted again: re-delivery is harmless).

A receiver trusts only the CSCA certificate it got at enrolment. Every signer
certificate in a trust list must be issued by that CSCA and listed under its
true key id; the signers' own validity dates are not checked here, because
`domain.certificates.verify` checks them against each certificate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from domain.certificates.cose import Sign1, decode_cbor, parse_sign1, sign1, verify_sign1
from domain.certificates.errors import (
    DecodeError,
    RevocationListInvalid,
    SignedListInvalid,
    SignerCertificateRejected,
    TrustListInvalid,
)
from domain.certificates.pki import Csca, check_issued_by, key_id
from domain.certificates.verify import TrustStore

__all__ = [
    "REVOCATION_LIST_CONTENT_TYPE",
    "TRUST_LIST_CONTENT_TYPE",
    "RevocationList",
    "TrustList",
    "TrustListEntry",
    "sign_revocation_list",
    "sign_trust_list",
    "verify_revocation_list",
    "verify_trust_list",
]

TRUST_LIST_CONTENT_TYPE: Final = "application/vnd.imuno.dcc-trust-list+cbor"
REVOCATION_LIST_CONTENT_TYPE: Final = "application/vnd.imuno.dcc-revocation-list+cbor"
_TRUST_KIND: Final = "dcc-trust-list"
_REVOCATION_KIND: Final = "dcc-revocation-list"
_VERSION: Final = 1


@dataclass(frozen=True)
class TrustListEntry:
    """One trusted document signer: its key id, DER certificate and site code."""

    kid: bytes
    certificate_der: bytes
    site: str

    @classmethod
    def for_certificate(cls, certificate_der: bytes, site: str) -> TrustListEntry:
        return cls(kid=key_id(certificate_der), certificate_der=certificate_der, site=site)


@dataclass(frozen=True)
class TrustList:
    """A verified trust list."""

    country: str
    sequence: int
    issued_at: datetime
    entries: tuple[TrustListEntry, ...]

    def certificates(self) -> tuple[bytes, ...]:
        return tuple(entry.certificate_der for entry in self.entries)

    def store(self) -> TrustStore:
        """The signers as a `TrustStore` for `verify`."""
        return TrustStore(self.certificates())


@dataclass(frozen=True)
class RevocationList:
    """A verified revocation list; `uvcis` is ready for ``verify(revoked_uvcis=...)``."""

    country: str
    sequence: int
    issued_at: datetime
    uvcis: frozenset[str]


def sign_trust_list(
    entries: Iterable[TrustListEntry],
    csca: Csca,
    *,
    sequence: int,
    issued_at: datetime,
    country: str = "RS",
) -> bytes:
    """The signed trust list of `entries` (see the module docstring for the format)."""
    payload = _header(_TRUST_KIND, country, sequence, issued_at)
    payload["signers"] = [
        {"kid": entry.kid, "certificate": entry.certificate_der, "site": entry.site}
        for entry in entries
    ]
    return sign1(cbor2.dumps(payload), csca.key, csca.kid, content_type=TRUST_LIST_CONTENT_TYPE)


def sign_revocation_list(
    uvcis: Iterable[str],
    csca: Csca,
    *,
    sequence: int,
    issued_at: datetime,
    country: str = "RS",
) -> bytes:
    """The signed list of revoked UVCIs (sorted, without duplicates)."""
    payload = _header(_REVOCATION_KIND, country, sequence, issued_at)
    payload["uvcis"] = sorted(set(uvcis))
    return sign1(
        cbor2.dumps(payload), csca.key, csca.kid, content_type=REVOCATION_LIST_CONTENT_TYPE
    )


def verify_trust_list(
    data: bytes, csca_certificate_der: bytes, *, min_sequence: int | None = None
) -> TrustList:
    """The trust list in `data`, after checking it came from the CSCA.

    Raises `TrustListInvalid` when the signature, the kind, the form, any
    signer certificate (not issued by the CSCA, or listed under a wrong key
    id) or the sequence (below `min_sequence`) is wrong.
    """
    payload = _open(data, csca_certificate_der, TRUST_LIST_CONTENT_TYPE, TrustListInvalid)
    country, sequence, issued_at = _read_header(payload, _TRUST_KIND, TrustListInvalid)
    _check_sequence(sequence, min_sequence, TrustListInvalid)
    signers = payload.get("signers")
    if not isinstance(signers, list):
        raise TrustListInvalid(problem="it has no list of signers")
    entries: list[TrustListEntry] = []
    for position, item in enumerate(signers, start=1):
        entries.append(_entry(item, position, csca_certificate_der))
    return TrustList(
        country=country, sequence=sequence, issued_at=issued_at, entries=tuple(entries)
    )


def verify_revocation_list(
    data: bytes, csca_certificate_der: bytes, *, min_sequence: int | None = None
) -> RevocationList:
    """The revocation list in `data`, after checking it came from the CSCA.

    Raises `RevocationListInvalid` when the signature, the kind, the form or
    the sequence (below `min_sequence`) is wrong.
    """
    payload = _open(data, csca_certificate_der, REVOCATION_LIST_CONTENT_TYPE, RevocationListInvalid)
    country, sequence, issued_at = _read_header(payload, _REVOCATION_KIND, RevocationListInvalid)
    _check_sequence(sequence, min_sequence, RevocationListInvalid)
    uvcis = payload.get("uvcis")
    if not isinstance(uvcis, list) or not all(isinstance(uvci, str) for uvci in uvcis):
        raise RevocationListInvalid(problem="its list of certificates is malformed")
    return RevocationList(
        country=country, sequence=sequence, issued_at=issued_at, uvcis=frozenset(uvcis)
    )


def _header(kind: str, country: str, sequence: int, issued_at: datetime) -> dict[str, Any]:
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    return {
        "kind": kind,
        "version": _VERSION,
        "country": country,
        "sequence": sequence,
        "issued_at": int(issued_at.timestamp()),
    }


def _open(
    data: bytes,
    csca_certificate_der: bytes,
    content_type: str,
    error: type[SignedListInvalid],
) -> dict[Any, Any]:
    try:
        message: Sign1 = parse_sign1(data)
    except DecodeError as exc:
        raise error(problem="it is not a signed list") from exc
    csca_key = x509.load_der_x509_certificate(csca_certificate_der).public_key()
    if message.kid != key_id(csca_certificate_der):
        raise error(problem="it was not signed by this country's signing authority")
    if not isinstance(csca_key, ec.EllipticCurvePublicKey) or not verify_sign1(message, csca_key):
        raise error(problem="its signature does not match")
    if message.content_type != content_type:
        raise error(problem="it is a different kind of list")
    try:
        payload = decode_cbor(message.payload, what="list")
    except DecodeError as exc:
        raise error(problem="its content is unreadable") from exc
    if not isinstance(payload, dict):
        raise error(problem="its content is not a map")
    return payload


def _read_header(
    payload: dict[Any, Any], kind: str, error: type[SignedListInvalid]
) -> tuple[str, int, datetime]:
    if payload.get("kind") != kind:
        raise error(problem="it is a different kind of list")
    if payload.get("version") != _VERSION:
        raise error(problem=f"its format version {payload.get('version')!r} is not supported")
    country, sequence, issued_at = (
        payload.get("country"),
        payload.get("sequence"),
        payload.get("issued_at"),
    )
    if (
        not isinstance(country, str)
        or not isinstance(sequence, int)
        or isinstance(sequence, bool)
        or not isinstance(issued_at, int)
        or isinstance(issued_at, bool)
    ):
        raise error(problem="its header is malformed")
    try:
        when = datetime.fromtimestamp(issued_at, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise error(problem="its date is malformed") from exc
    return country, sequence, when


def _check_sequence(
    sequence: int, min_sequence: int | None, error: type[SignedListInvalid]
) -> None:
    if min_sequence is not None and sequence < min_sequence:
        raise error(
            problem=f"it is older (number {sequence}) than the list in use (number {min_sequence})"
        )


def _entry(item: object, position: int, csca_certificate_der: bytes) -> TrustListEntry:
    if not isinstance(item, dict):
        raise TrustListInvalid(problem=f"signer {position} is malformed")
    kid, certificate, site = item.get("kid"), item.get("certificate"), item.get("site")
    if (
        not isinstance(kid, bytes)
        or not isinstance(certificate, bytes)
        or not isinstance(site, str)
    ):
        raise TrustListInvalid(problem=f"signer {position} is malformed")
    try:
        check_issued_by(certificate, csca_certificate_der)
    except SignerCertificateRejected as exc:
        raise TrustListInvalid(
            problem=f"signer {position} ({site}): {exc.params['problem']}"
        ) from exc
    if kid != key_id(certificate):
        raise TrustListInvalid(problem=f"signer {position} ({site}) is listed under a wrong key id")
    return TrustListEntry(kid=kid, certificate_der=certificate, site=site)
