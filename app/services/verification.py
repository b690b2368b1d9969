"""Checking a vaccination certificate at the site, offline, with the stored lists.

Input: the QR text (a scanner burst starting ``HC1:``), an image file, or a
PDF (`read_qr_text`). The check is `domain.certificates.verify` against the
trusted signers of the last trust list this site received (and checked
against the pinned CSCA, `app.sync.certificate_lists`), then the revocation
list: a UVCI is revoked when the hub's list names it or when a certificate
issued at this site superseded it (the hub will list it after the next sync).

The answer, `VerificationReport`, never raises for a bad certificate: it
says what is wrong in `status` (one of `STATUSES`), with the error (a
`DomainError`, shown translated), what the certificate says even when it
cannot be trusted (so a nurse can compare it with the ID in front of her,
marked as untrusted), and how old the lists are (`ListsStatus`): a
revocation made yesterday is unknown to a site that last synced a week ago,
and the screen must say so.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.certificates import CertificateList, CertificateListKind
from app.local_db.models.trust import Revocation, RevocationKind, TrustedSigner
from app.local_db.unit_of_work import session_scope
from app.services.certificates import is_superseded
from app.sync.certificate_lists import uvci_hash
from domain.certificates import TrustStore, verify
from domain.certificates.codec import DecodedCertificate
from domain.certificates.errors import (
    CertificateError,
    DecodeError,
    Expired,
    NotYetValid,
    Revoked,
    SchemaViolation,
    SignatureInvalid,
    SignerCertificateExpired,
    SignerCertificateNotYetValid,
    SignerNotAuthorised,
    UnknownKeyId,
    VerificationError,
)
from domain.certificates.qr_read import UnreadableSource, find_qr_text
from domain.clock import Clock
from domain.data import available_versions, load_rules
from domain.errors import DomainError

__all__ = [
    "STATUSES",
    "CertificateFileUnreadable",
    "DoseShown",
    "ListAge",
    "ListsStatus",
    "NoQrCodeFound",
    "Status",
    "VerificationReport",
    "lists_status",
    "read_qr_text",
    "verify_file",
    "verify_text",
]

Status = Literal[
    "valid",
    "revoked",
    "expired",
    "not_yet_valid",
    "unknown_signer",
    "tampered",
    "signer_invalid",
    "invalid_content",
    "unreadable",
]
STATUSES: Final[tuple[Status, ...]] = (
    "valid",
    "revoked",
    "expired",
    "not_yet_valid",
    "unknown_signer",
    "tampered",
    "signer_invalid",
    "invalid_content",
    "unreadable",
)
#: Lists older than this are flagged on the screen: a site should sync daily.
STALE_AFTER: Final = timedelta(days=2)


class CertificateFileUnreadable(DomainError):
    code = "site_certificates.file_unreadable"
    template = "The file {name} cannot be read as an image or a PDF: {problem}. Choose another."


class NoQrCodeFound(DomainError):
    code = "site_certificates.no_qr"
    template = (
        "No QR code was found in {name}. Scan the certificate's QR code directly, or open "
        "a sharper picture."
    )


@dataclass(frozen=True)
class ListAge:
    """One stored list: its number, when the hub signed it, when this site got it."""

    sequence: int | None
    issued_at: datetime
    fetched_at: datetime
    age: timedelta

    @property
    def stale(self) -> bool:
        return self.age > STALE_AFTER


@dataclass(frozen=True)
class ListsStatus:
    """The lists a verification relies on (None: never received)."""

    trust_list: ListAge | None
    revocation_list: ListAge | None
    signers: int


@dataclass(frozen=True)
class DoseShown:
    """The vaccination a certificate states (its ``v`` entry)."""

    dose_number: int
    total_doses: int
    given_on: str
    product: str
    country: str
    issuer: str


@dataclass(frozen=True)
class VerificationReport:
    """The verdict on one certificate; see the module.

    `valid` only for status ``"valid"``. `signature_valid` tells "genuine but
    expired/revoked" from "forged". Person and dose fields are what the
    certificate says (empty when unreadable), trusted only when
    `signature_valid`.
    """

    status: Status
    signature_valid: bool
    problem: DomainError | None
    family_name: str
    given_name: str
    name_icao: str
    date_of_birth: str
    dose: DoseShown | None
    uvci: str | None
    issued_at: datetime | None
    expires_at: datetime | None
    signer_kid: str | None
    lists: ListsStatus

    @property
    def valid(self) -> bool:
        return self.status == "valid"


def verify_text(engine: Engine, qr_text: str, *, clock: Clock) -> VerificationReport:
    """Check the certificate whose QR text is `qr_text`, offline."""
    now = clock.now()
    with session_scope(engine, write=False) as session:
        lists = _lists_status(session, now)
        store = TrustStore(session.scalars(sa.select(TrustedSigner.certificate)).all())
        try:
            verified = verify(qr_text, store, at=now)
        except DecodeError as exc:
            return _report("unreadable", exc, None, False, lists)
        except VerificationError as exc:
            return _report(_status(exc), exc, exc.decoded, exc.signature_valid, lists)
        uvci = verified.uvci
        if uvci is not None and _revoked(session, uvci):
            revoked = Revoked(uvci=uvci, decoded=verified.decoded, signature_valid=True)
            return _report("revoked", revoked, verified.decoded, True, lists)
    return _report("valid", None, verified.decoded, True, lists)


def verify_file(engine: Engine, path: Path, *, clock: Clock) -> VerificationReport:
    """Check the certificate in an image or PDF file (or a text file holding ``HC1:``).

    Raises `CertificateFileUnreadable` or `NoQrCodeFound`.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CertificateFileUnreadable(name=path.name, problem=exc.strerror or str(exc)) from exc
    return verify_text(engine, read_qr_text(data, name=path.name), clock=clock)


def read_qr_text(data: bytes, *, name: str = "the file") -> str:
    """The certificate QR text in `data`: ``HC1:`` text, a PDF, or an image.

    Read by `domain.certificates.qr_read.find_qr_text`. The first QR code starting ``HC1:``
    wins, else the first QR code (so the verdict says what was found).
    Raises `CertificateFileUnreadable` or `NoQrCodeFound`.
    """
    try:
        text = find_qr_text(data)
    except UnreadableSource as exc:
        raise CertificateFileUnreadable(name=name, problem=exc.problem) from exc
    if text is None:
        raise NoQrCodeFound(name=name)
    return text


def lists_status(engine: Engine, *, clock: Clock) -> ListsStatus:
    """How old the stored trust and revocation lists are."""
    with session_scope(engine, write=False) as session:
        return _lists_status(session, clock.now())


# -- internals -------------------------------------------------------------------------


def _status(error: VerificationError) -> Status:
    statuses: tuple[tuple[type[CertificateError], Status], ...] = (
        (UnknownKeyId, "unknown_signer"),
        (SignatureInvalid, "tampered"),
        (Expired, "expired"),
        (NotYetValid, "not_yet_valid"),
        (SignerCertificateExpired, "signer_invalid"),
        (SignerCertificateNotYetValid, "signer_invalid"),
        (SignerNotAuthorised, "signer_invalid"),
        (SchemaViolation, "invalid_content"),
        (Revoked, "revoked"),
    )
    for kind, status in statuses:
        if isinstance(error, kind):
            return status
    return "invalid_content"


def _revoked(session: Session, uvci: str) -> bool:
    if is_superseded(session, uvci):
        return True
    found = session.get(Revocation, (RevocationKind.UVCI, uvci_hash(uvci)))
    return found is not None


def _lists_status(session: Session, now: datetime) -> ListsStatus:
    rows = {row.kind: row for row in session.scalars(sa.select(CertificateList)).all()}

    def age(kind: CertificateListKind) -> ListAge | None:
        row = rows.get(kind)
        if row is None:
            return None
        return ListAge(
            row.sequence, row.issued_at, row.fetched_at, max(now - row.issued_at, timedelta())
        )

    signers = session.scalar(sa.select(sa.func.count()).select_from(TrustedSigner)) or 0
    return ListsStatus(
        trust_list=age(CertificateListKind.TRUST_LIST),
        revocation_list=age(CertificateListKind.REVOCATION_LIST),
        signers=int(signers),
    )


def _report(
    status: Status,
    problem: DomainError | None,
    decoded: DecodedCertificate | None,
    signature_valid: bool,
    lists: ListsStatus,
) -> VerificationReport:
    hcert: Mapping[str, Any] = decoded.claims.hcert if decoded is not None else {}
    nam = hcert.get("nam") if isinstance(hcert.get("nam"), dict) else {}
    assert isinstance(nam, dict)
    family = str(nam.get("fn") or nam.get("fnt") or "")
    given = str(nam.get("gn") or nam.get("gnt") or "")
    icao = f"{nam.get('fnt', '')}<<{nam.get('gnt', '')}" if nam else ""
    return VerificationReport(
        status=status,
        signature_valid=signature_valid,
        problem=problem,
        family_name=family,
        given_name=given,
        name_icao=icao,
        date_of_birth=str(hcert.get("dob", "")),
        dose=_dose(hcert),
        uvci=_uvci(hcert),
        issued_at=decoded.claims.issued_at if decoded is not None else None,
        expires_at=decoded.claims.expires_at if decoded is not None else None,
        signer_kid=base64.b16encode(decoded.kid).decode("ascii").lower() if decoded else None,
        lists=lists,
    )


def _dose(hcert: Mapping[str, Any]) -> DoseShown | None:
    entries = hcert.get("v")
    if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
        return None
    entry = entries[0]
    try:
        return DoseShown(
            dose_number=int(entry.get("dn", 0)),
            total_doses=int(entry.get("sd", 0)),
            given_on=str(entry.get("dt", "")),
            product=_product_name(str(entry.get("mp", ""))),
            country=str(entry.get("co", "")),
            issuer=str(entry.get("is", "")),
        )
    except (TypeError, ValueError):
        return None


def _uvci(hcert: Mapping[str, Any]) -> str | None:
    dose = hcert.get("v")
    if isinstance(dose, list) and dose and isinstance(dose[0], dict):
        ci = dose[0].get("ci")
        return ci if isinstance(ci, str) else None
    return None


def _product_name(dcc_product: str) -> str:
    """The product's name for an EU product code (``mp``), else the code itself."""
    for version in reversed(available_versions()):
        for product in load_rules(version).catalogue.products:
            if product.dcc.mp == dcc_product:
                return str(product.name)
    return dcc_product
