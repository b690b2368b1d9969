"""The hub's certificate lists, brought to the site so certificates verify offline.

Each sync round (`app.sync.engine.SyncEngine`, given a `ListSource`) fetches
``GET /v1/trustlist`` and ``GET /v1/revocations``, checks both against the
CSCA certificate pinned at enrolment (`domain.certificates.trust_list`: the
CSCA's signature, every signer certificate issued by it, the sequence never
going back), and replaces the stored copies in one transaction: the bytes in
`CertificateList`, the parsed signers in `TrustedSigner`, the revoked UVCIs
(as SHA-256 hashes) in `Revocation`. A list that fails its checks is refused
and the previous one stays in use: an attacker on the network can delay the
lists, never forge or roll them back.

Pinning. The enrolment code stores the CSCA with `pin_csca` (fetched during
the enrolment exchange, which the one-time code authenticates). A site
enrolled without that pins on its first refresh only if it holds its own
signer certificate from enrolment and the CSCA the hub serves issued it;
otherwise `CscaNotPinned` (enrol again): nothing else vouches for it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol

import requests
import sqlalchemy as sa
from cryptography import x509
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.certificates import CertificateList, CertificateListKind
from app.local_db.models.site import SiteIdentity
from app.local_db.models.sync import SyncState
from app.local_db.models.trust import Revocation, RevocationKind, TrustedSigner
from app.local_db.unit_of_work import session_scope
from app.sync.errors import HubUnreachable, SyncError, SyncRefused
from domain.certificates.errors import SignedListInvalid, SignerCertificateRejected
from domain.certificates.pki import check_issued_by
from domain.certificates.trust_list import (
    RevocationList,
    TrustList,
    verify_revocation_list,
    verify_trust_list,
)
from domain.wire import PROTOCOL_HEADER, PROTOCOL_VERSION

__all__ = [
    "CertificateListsRefused",
    "CscaNotPinned",
    "HttpListSource",
    "ListSource",
    "ListsRefreshed",
    "pin_csca",
    "pinned_csca",
    "refresh_lists",
    "uvci_hash",
]

TRUST_LIST_PATH: Final = "/v1/trustlist"
REVOCATIONS_PATH: Final = "/v1/revocations"
CSCA_PATH: Final = "/v1/trustlist/csca"


class CertificateListsRefused(SyncError):
    """A list from the hub failed its checks; the previous list stays in use."""

    code = "site_certificates.lists_error"
    template = (
        "A certificate list from the hub was refused: {problem}. The previous list stays "
        "in use; call the hub's support line if this repeats."
    )


class CscaNotPinned(SyncError):
    """No CSCA certificate is pinned and none can be pinned safely."""

    code = "site_certificates.csca_not_pinned"
    template = (
        "This computer has no country signing certificate ({problem}). "
        "Enrol the computer with the hub again."
    )


class ListSource(Protocol):
    """Where the signed lists come from (the hub over HTTP, or a test's hub)."""

    def csca(self) -> bytes:
        """The CSCA certificate (DER)."""
        ...

    def trust_list(self) -> bytes:
        """The signed trust list."""
        ...

    def revocation_list(self) -> bytes:
        """The signed revocation list."""
        ...


@dataclass
class HttpListSource:
    """The hub's public list endpoints (no credential needed: the lists are signed)."""

    base_url: str
    timeout_s: float = 30.0
    session: requests.Session = field(default_factory=requests.Session)

    def _get(self, path: str) -> bytes:
        try:
            response = self.session.get(
                self.base_url.rstrip("/") + path,
                headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
                timeout=self.timeout_s,
            )
        except requests.RequestException as exc:
            raise HubUnreachable(detail=type(exc).__name__) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise HubUnreachable(detail=f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise SyncRefused(status=response.status_code, detail=response.text[:300])
        return response.content

    def csca(self) -> bytes:
        return self._get(CSCA_PATH)

    def trust_list(self) -> bytes:
        return self._get(TRUST_LIST_PATH)

    def revocation_list(self) -> bytes:
        return self._get(REVOCATIONS_PATH)

    def close(self) -> None:
        self.session.close()


@dataclass(frozen=True)
class ListsRefreshed:
    """What a refresh stored."""

    trust_sequence: int
    signers: int
    revocation_sequence: int
    revoked: int


def uvci_hash(uvci: str) -> str:
    """How `Revocation` names a revoked UVCI: SHA-256 hex of it without ``URN:UVCI:``."""
    return hashlib.sha256(uvci.removeprefix("URN:UVCI:").encode("utf-8")).hexdigest()


def pin_csca(engine: Engine, csca_der: bytes, *, now: datetime) -> None:
    """Pin the CSCA certificate (DER) this site trusts; called at enrolment.

    Raises `CscaNotPinned` when it is unreadable or did not issue the site's
    own signer certificate (when the site has one).
    """
    with session_scope(engine) as session:
        _pin(session, csca_der, now)


def pinned_csca(session: Session) -> bytes | None:
    """The pinned CSCA certificate (DER), or None."""
    row = session.get(CertificateList, CertificateListKind.CSCA)
    return None if row is None else row.data


def refresh_lists(engine: Engine, source: ListSource, *, now: datetime) -> ListsRefreshed:
    """Fetch, check and store both lists (see the module).

    Raises `HubUnreachable`/`SyncRefused` from `source`, `CscaNotPinned`, and
    `CertificateListsRefused` for a list that fails its checks (nothing is
    stored then).
    """
    with session_scope(engine, write=False) as session:
        csca = pinned_csca(session)
        held = {row.kind: row.sequence for row in session.scalars(sa.select(CertificateList)).all()}
    if csca is None:
        csca = source.csca()
        with session_scope(engine) as session:
            _pin(session, csca, now, require_signer=True)
    trust_bytes = source.trust_list()
    revocation_bytes = source.revocation_list()
    try:
        trust = verify_trust_list(
            trust_bytes, csca, min_sequence=held.get(CertificateListKind.TRUST_LIST)
        )
        revocations = verify_revocation_list(
            revocation_bytes, csca, min_sequence=held.get(CertificateListKind.REVOCATION_LIST)
        )
    except SignedListInvalid as exc:
        raise CertificateListsRefused(problem=exc.params.get("problem", str(exc))) from exc
    with session_scope(engine) as session:
        _store_trust(session, trust, trust_bytes, now)
        _store_revocations(session, revocations, revocation_bytes, now)
        state = session.get(SyncState, 1)
        if state is not None:  # the engine's round made it; shown on the sync screen
            state.trust_list_version = str(trust.sequence)
            state.revocation_list_version = str(revocations.sequence)
    return ListsRefreshed(
        trust_sequence=trust.sequence,
        signers=len(trust.entries),
        revocation_sequence=revocations.sequence,
        revoked=len(revocations.uvcis),
    )


def _pin(session: Session, csca_der: bytes, now: datetime, *, require_signer: bool = False) -> None:
    try:
        certificate = x509.load_der_x509_certificate(csca_der)
    except ValueError as exc:
        raise CscaNotPinned(problem="the hub's certificate is unreadable") from exc
    identity = session.get(SiteIdentity, 1)
    if require_signer and (identity is None or identity.signer_certificate is None):
        # Nothing from the authenticated enrolment vouches for what the network served.
        raise CscaNotPinned(problem="none was stored at enrolment")
    if identity is not None and identity.signer_certificate is not None:
        try:
            check_issued_by(identity.signer_certificate, csca_der)
        except SignerCertificateRejected as exc:
            raise CscaNotPinned(
                problem="the hub's certificate did not issue this site's signing certificate"
            ) from exc
    row = session.get(CertificateList, CertificateListKind.CSCA)
    if row is None:
        row = CertificateList(kind=CertificateListKind.CSCA, sequence=None)
        session.add(row)
    row.data = csca_der
    row.issued_at = certificate.not_valid_before_utc
    row.fetched_at = now


def _store_list(
    session: Session,
    kind: CertificateListKind,
    data: bytes,
    sequence: int,
    issued_at: datetime,
    now: datetime,
) -> None:
    row = session.get(CertificateList, kind)
    if row is None:
        row = CertificateList(kind=kind)
        session.add(row)
    row.data, row.sequence, row.issued_at, row.fetched_at = data, sequence, issued_at, now


def _store_trust(session: Session, trust: TrustList, data: bytes, now: datetime) -> None:
    session.execute(sa.delete(TrustedSigner))
    for entry in trust.entries:
        certificate = x509.load_der_x509_certificate(entry.certificate_der)
        fingerprint = hashlib.sha256(entry.certificate_der).hexdigest()
        if session.get(TrustedSigner, fingerprint) is not None:
            continue  # the same certificate listed twice
        session.add(
            TrustedSigner(
                fingerprint=fingerprint,
                kid=base64.b64encode(entry.kid).decode("ascii"),
                country=trust.country[:2],
                certificate=entry.certificate_der,
                not_before=certificate.not_valid_before_utc,
                not_after=certificate.not_valid_after_utc,
                fetched_at=now,
            )
        )
    _store_list(session, CertificateListKind.TRUST_LIST, data, trust.sequence, trust.issued_at, now)


def _store_revocations(
    session: Session, revocations: RevocationList, data: bytes, now: datetime
) -> None:
    session.execute(sa.delete(Revocation).where(Revocation.kind == RevocationKind.UVCI))
    for value_hash in {uvci_hash(uvci) for uvci in revocations.uvcis}:
        session.add(
            Revocation(
                kind=RevocationKind.UVCI,
                value_hash=value_hash,
                revoked_at=revocations.issued_at,
                reason=None,
                fetched_at=now,
            )
        )
    _store_list(
        session,
        CertificateListKind.REVOCATION_LIST,
        data,
        revocations.sequence,
        revocations.issued_at,
        now,
    )
