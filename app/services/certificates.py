"""Issuing vaccination certificates at the site, offline, right after a dose.

`issue_certificate` certifies the citizen's latest dose in effect (an EU DCC
records one vaccination event; the printed page lists every dose) and signs it
with this site's own document signer (`domain.certificates.DocumentSigner`,
certified by the hub at enrolment). No network is needed. In one local
transaction it stores the `IssuedCertificate` row and its outbox row (sync
kind ``certificate_issued``), so the hub learns every UVCI.

UVCI: ``URN:UVCI:01:RS:<site>/<certificate id>#<check>``, made by
`domain.certificates.make_uvci` from the site's code (`issuer_code`) and the
certificate's UUIDv7, the same builder the hub uses with its own code.
The UUIDv7 is born here with the record, so two offline sites never collide.

Reprint or new certificate. What a certificate states (citizen, names, date
of birth, the certified dose and its facts) is hashed into a content key:

- the same content as a certificate still in force (not superseded, not on
  the hub's revocation list): a reprint, the stored QR text again, no new row;
- different content (a corrected name or date of birth, a dose corrected or
  a later dose given): a new certificate whose ``supersedes`` names the
  citizen's certificates it replaces, those for the same dose number and
  those certifying a dose no longer in effect. Certificates of earlier doses
  stay valid: they record those events.

Revocation is central, by decision: the revocation list every verifier (a
border app included) trusts is signed by the CSCA, whose key only the hub
holds; a site cannot produce a revocation others would believe. So the site
queues the request (``supersedes`` travels in the ``certificate_issued``
record, through the outbox, surviving days offline) and the hub revokes on
arrival. Meanwhile this site's own verifier already treats the superseded
UVCIs as revoked (`app.services.verification`).

`correct_person` writes corrected names or date of birth (with their HLC
timestamps and outbox row, `app.sync.citizen_writes`) and, when the person
holds a certificate, re-issues it in the same transaction.

PDF: `render_pdf` (no database; call it off the UI thread) prints the A4 page
in Serbian Latin, Serbian Cyrillic (names in Cyrillic) or English.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.certificates import IssuedCertificate
from app.local_db.models.citizens import Citizen
from app.local_db.models.doses import DoseRecord, DoseVoid
from app.local_db.models.site import Setting, SiteIdentity
from app.local_db.models.trust import Revocation, RevocationKind
from app.local_db.unit_of_work import session_scope
from app.services.certificate_errors import (
    CitizenNotHere,
    NoDosesToCertify,
    NotEnrolledForCertificates,
    ProductNotInCatalogue,
)
from app.sync.apply import DEFAULT_TIMEZONE, TIMEZONE_SETTING
from app.sync.certificate_lists import uvci_hash
from app.sync.citizen_writes import write_fields
from app.sync.outbox import record_change
from domain.catalogue import Product
from domain.certificates import (
    CertificateDocument,
    DocumentSigner,
    DoseLine,
    PersonName,
    Vaccination,
    build_payload,
    decode_certificate,
    encode_certificate,
    make_uvci,
    render_certificate_pdf,
)
from domain.certificates.payload import DEFAULT_ISSUER
from domain.certificates.uvci import issuer_code
from domain.clock import Clock
from domain.data import available_versions, load_rules
from domain.hlc import HybridClock
from domain.i18n import Language
from domain.ids import uuid7

__all__ = [
    "SYNC_KIND",
    "CertifiedDose",
    "Correction",
    "IssuedCertificateResult",
    "IssuedSummary",
    "certificates_of",
    "correct_person",
    "is_superseded",
    "issue_certificate",
    "render_pdf",
]

SYNC_KIND: Final = "certificate_issued"
#: Citizen fields a correction may change that a certificate prints.
CORRECTABLE: Final = frozenset(
    {
        "family_name_latin",
        "given_name_latin",
        "family_name_cyrillic",
        "given_name_cyrillic",
        "birth_date",
    }
)
_UNKNOWN_SITE: Final = "-"


@dataclass(frozen=True)
class CertifiedDose:
    """One dose as the page prints it."""

    dose_id: uuid.UUID
    dose_number: int
    total_doses: int
    product: str
    lot: str
    given_on: date
    site: str


@dataclass(frozen=True)
class IssuedCertificateResult:
    """A certificate as issued (or reprinted), with everything the page needs.

    `reprint` is True when the same certificate was issued before (same QR
    text); `superseded` are the UVCIs the new certificate replaces (the hub
    revokes them when it receives it). Names are kept in both scripts so the
    page can be printed in any language without the database.
    """

    uvci: str
    citizen_id: uuid.UUID
    dose_record_id: uuid.UUID
    doses: tuple[CertifiedDose, ...]
    family_name_latin: str
    given_name_latin: str
    family_name_cyrillic: str
    given_name_cyrillic: str
    name_icao: str
    date_of_birth: date
    signer_kid: str
    issued_at: datetime
    expires_at: datetime
    qr_text: str
    reprint: bool
    superseded: tuple[str, ...]


@dataclass(frozen=True)
class Correction:
    """What `correct_person` did: the certificate re-issued, if the person held one."""

    citizen_id: uuid.UUID
    changed: tuple[str, ...]
    reissued: IssuedCertificateResult | None


def issue_certificate(
    engine: Engine,
    signer: DocumentSigner,
    citizen_id: uuid.UUID,
    *,
    clock: Clock,
    actor: uuid.UUID | None,
) -> IssuedCertificateResult:
    """Issue (or reprint) the certificate of the citizen's latest dose; see the module.

    `signer` is this site's document signer; `actor` the logged-in user.
    Raises `NotEnrolledForCertificates`, `CitizenNotHere`, `NoDosesToCertify`,
    `ProductNotInCatalogue`, and `SignerCertificateRejected` when the signer's
    certificate is not valid now (expired, or this computer's clock is wrong).
    """
    with session_scope(engine) as session:
        return _issue(session, signer, citizen_id, clock.now(), actor)


def correct_person(
    engine: Engine,
    signer: DocumentSigner,
    citizen_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    hlc: HybridClock,
    clock: Clock,
    actor: uuid.UUID | None,
) -> Correction:
    """Correct the person's printed data and re-issue their certificate, in one transaction.

    `changes` maps citizen columns (`CORRECTABLE`) to new values; unchanged
    values are ignored. When the person holds a certificate and something
    changed, a new certificate is issued that supersedes the old one (see the
    module). Raises ``ValueError`` for a column outside `CORRECTABLE`, and
    the errors of `issue_certificate`.
    """
    unknown = set(changes) - CORRECTABLE
    if unknown:
        raise ValueError(f"not correctable certificate fields: {sorted(unknown)}")
    now = clock.now()
    with session_scope(engine) as session:
        citizen = session.get(Citizen, citizen_id)
        if citizen is None:
            raise CitizenNotHere()
        changed = {
            column: value for column, value in changes.items() if getattr(citizen, column) != value
        }
        if not changed:
            return Correction(citizen_id, (), None)
        write_fields(session, citizen, changed, clock=hlc, now=now)
        session.flush()
        held = session.scalar(
            sa.select(sa.func.count())
            .select_from(IssuedCertificate)
            .where(IssuedCertificate.citizen_id == citizen_id)
        )
        reissued = _issue(session, signer, citizen_id, now, actor) if held else None
        return Correction(citizen_id, tuple(sorted(changed)), reissued)


def render_pdf(issued: IssuedCertificateResult, language: Language) -> bytes:
    """The A4 page of `issued` in `language` (names in Cyrillic for ``sr-Cyrl``)."""
    cyrillic = language == "sr-Cyrl"
    document = CertificateDocument(
        family_name=issued.family_name_cyrillic if cyrillic else issued.family_name_latin,
        given_name=issued.given_name_cyrillic if cyrillic else issued.given_name_latin,
        name_icao=issued.name_icao,
        date_of_birth=issued.date_of_birth,
        doses=tuple(
            DoseLine(
                dose_number=dose.dose_number,
                total_doses=dose.total_doses,
                product=dose.product,
                lot=dose.lot,
                date=dose.given_on,
                site=dose.site,
            )
            for dose in issued.doses
        ),
        uvci=issued.uvci,
        issuer=DEFAULT_ISSUER,
        issued_on=issued.issued_at.date(),
        valid_until=issued.expires_at.date(),
    )
    return render_certificate_pdf(document, issued.qr_text, language)


@dataclass(frozen=True)
class IssuedSummary:
    """One certificate issued here, for lists and the verifier."""

    uvci: str
    dose_number: int
    issued_at: datetime
    superseded_by: str | None


def certificates_of(engine: Engine, citizen_id: uuid.UUID) -> tuple[IssuedSummary, ...]:
    """The citizen's certificates issued at this site, oldest first."""
    with session_scope(engine, write=False) as session:
        rows = session.scalars(
            sa.select(IssuedCertificate)
            .where(IssuedCertificate.citizen_id == citizen_id)
            .order_by(IssuedCertificate.issued_at, IssuedCertificate.id)
        ).all()
    replaced_by = {old: row.uvci for row in rows for old in row.supersedes}
    return tuple(
        IssuedSummary(row.uvci, row.dose_number, row.issued_at, replaced_by.get(row.uvci))
        for row in rows
    )


def is_superseded(session: Session, uvci: str) -> bool:
    """Whether a certificate issued here superseded `uvci` (the hub revokes it on arrival)."""
    found = session.execute(
        sa.text(
            "SELECT 1 FROM issued_certificates AS c, json_each(c.supersedes) AS s "
            "WHERE c.supersedes != '[]' AND s.value = :uvci LIMIT 1"
        ),
        {"uvci": uvci},
    ).first()
    return found is not None


# -- issuing ---------------------------------------------------------------------------


def _issue(
    session: Session,
    signer: DocumentSigner,
    citizen_id: uuid.UUID,
    now: datetime,
    actor: uuid.UUID | None,
) -> IssuedCertificateResult:
    identity = session.get(SiteIdentity, 1)
    if identity is None:
        raise NotEnrolledForCertificates()
    citizen = session.get(Citizen, citizen_id)
    if citizen is None:
        raise CitizenNotHere()
    doses = _doses_in_effect(session, citizen_id)
    if not doses:
        raise NoDosesToCertify(name=f"{citizen.given_name_latin} {citizen.family_name_latin}")
    zone = ZoneInfo(str(_setting(session, TIMEZONE_SETTING, DEFAULT_TIMEZONE)))
    lines = tuple(_line(dose, identity, zone) for dose in doses)
    latest, line = doses[-1], lines[-1]
    total = _series_total(doses[0].product_code, latest)
    line = CertifiedDose(
        line.dose_id, line.dose_number, total, line.product, line.lot, line.given_on, line.site
    )
    lines = (*lines[:-1], line)
    key = _content_key(citizen, latest, total, line.given_on)
    in_force = _in_force(session, citizen_id)
    same = next((row for row in in_force if row.content_key == key), None)
    if same is not None:
        return _result(citizen, same, lines, reprint=True)

    certificate_id = uuid7()
    uvci = make_uvci(issuer_code(identity.site_code), certificate_id)
    product = _product(latest.product_code)
    name = PersonName(citizen.family_name_latin, citizen.given_name_latin)
    hcert = build_payload(
        name,
        citizen.birth_date,
        Vaccination(
            vaccine=product.dcc.vp,
            product=product.dcc.mp,
            manufacturer=product.dcc.ma,
            dose_number=latest.dose_number,
            total_doses=total,
            date=line.given_on,
            uvci=uvci,
        ),
    )
    qr_text = encode_certificate(hcert, signer, issued_at=now)
    claims = decode_certificate(qr_text).claims
    in_effect = {dose.id for dose in doses}
    supersedes = [
        row.uvci
        for row in in_force
        if row.dose_number == latest.dose_number or row.dose_record_id not in in_effect
    ]
    row = IssuedCertificate(
        id=certificate_id,
        origin_site_id=identity.site_id,
        created_at=now,
        created_by=actor,
        uvci=uvci,
        citizen_id=citizen_id,
        dose_record_id=latest.id,
        dose_number=latest.dose_number,
        dose_ids=[str(dose.id) for dose in doses],
        content_key=key,
        signer_kid=signer.kid.hex(),
        issued_at=claims.issued_at,
        expires_at=claims.expires_at,
        qr_text=qr_text,
        supersedes=supersedes,
    )
    session.add(row)
    session.flush()
    record_change(session, SYNC_KIND, row.id, _wire(row), now=now)
    return _result(citizen, row, lines, reprint=False)


def _wire(row: IssuedCertificate) -> dict[str, Any]:
    """The ``certificate_issued`` payload (`domain.sync_wire.CertificateIssuedPayload`)."""
    return {
        "id": str(row.id),
        "uvci": row.uvci,
        "citizen_id": str(row.citizen_id),
        "dose_record_id": str(row.dose_record_id),
        "dose_number": row.dose_number,
        "dose_ids": list(row.dose_ids),
        "signer_kid": row.signer_kid,
        "issued_at": row.issued_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "supersedes": list(row.supersedes),
        "issued_by": str(row.created_by) if row.created_by else None,
        "created_at": row.created_at.isoformat(),
    }


def _result(
    citizen: Citizen,
    row: IssuedCertificate,
    lines: tuple[CertifiedDose, ...],
    *,
    reprint: bool,
) -> IssuedCertificateResult:
    name = PersonName(citizen.family_name_latin, citizen.given_name_latin)
    return IssuedCertificateResult(
        uvci=row.uvci,
        citizen_id=citizen.id,
        dose_record_id=row.dose_record_id,
        doses=lines,
        family_name_latin=citizen.family_name_latin,
        given_name_latin=citizen.given_name_latin,
        family_name_cyrillic=citizen.family_name_cyrillic,
        given_name_cyrillic=citizen.given_name_cyrillic,
        name_icao=f"{name.family_icao}<<{name.given_icao}",
        date_of_birth=citizen.birth_date,
        signer_kid=row.signer_kid,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        qr_text=row.qr_text,
        reprint=reprint,
        superseded=() if reprint else tuple(row.supersedes),
    )


def _in_force(session: Session, citizen_id: uuid.UUID) -> list[IssuedCertificate]:
    """The citizen's certificates issued here that no later one superseded
    and the hub's revocation list does not name."""
    rows = session.scalars(
        sa.select(IssuedCertificate)
        .where(IssuedCertificate.citizen_id == citizen_id)
        .order_by(IssuedCertificate.issued_at, IssuedCertificate.id)
    ).all()
    if not rows:
        return []
    superseded = {uvci for row in rows for uvci in row.supersedes}
    hashes = {uvci_hash(row.uvci): row.uvci for row in rows}
    revoked = {
        hashes[value]
        for value in session.scalars(
            sa.select(Revocation.value_hash).where(
                Revocation.kind == RevocationKind.UVCI, Revocation.value_hash.in_(hashes)
            )
        )
    }
    return [row for row in rows if row.uvci not in superseded and row.uvci not in revoked]


def _doses_in_effect(session: Session, citizen_id: uuid.UUID) -> list[DoseRecord]:
    """The citizen's doses no void names, by dose number, then time given."""
    voided = sa.select(DoseVoid.dose_id)
    records = session.scalars(
        sa.select(DoseRecord).where(
            DoseRecord.citizen_id == citizen_id, DoseRecord.id.not_in(voided)
        )
    ).all()
    return sorted(records, key=lambda dose: (dose.dose_number, dose.administered_at))


def _line(dose: DoseRecord, identity: SiteIdentity, zone: ZoneInfo) -> CertifiedDose:
    product = _product(dose.product_code)
    series = product.series
    return CertifiedDose(
        dose_id=dose.id,
        dose_number=dose.dose_number,
        total_doses=max(dose.dose_number, series.primary_doses if series else 1),
        product=product.name,
        lot=dose.lot_number,
        given_on=dose.administered_at.astimezone(zone).date(),
        # Doses given elsewhere: this replica keeps no other site's name.
        site=identity.site_name if dose.origin_site_id == identity.site_id else _UNKNOWN_SITE,
    )


def _series_total(first_product: str, latest: DoseRecord) -> int:
    """``sd``: the primary course of the series the first dose started (as the hub does)."""
    series = _product(first_product).series or _product(latest.product_code).series
    return max(latest.dose_number, series.primary_doses if series else latest.dose_number)


def _content_key(citizen: Citizen, dose: DoseRecord, total: int, given_on: date) -> str:
    stated: Sequence[object] = (
        str(citizen.id),
        citizen.family_name_latin,
        citizen.given_name_latin,
        citizen.birth_date.isoformat(),
        str(dose.id),
        dose.product_code,
        dose.dose_number,
        total,
        given_on.isoformat(),
    )
    return hashlib.sha256(json.dumps(stated, ensure_ascii=False).encode("utf-8")).hexdigest()


def _product(product_code: str) -> Product:
    for version in reversed(available_versions()):
        product = load_rules(version).catalogue.get(product_code)
        if product is not None:
            return product
    raise ProductNotInCatalogue(product=product_code)


def _setting(session: Session, key: str, default: object) -> object:
    row = session.get(Setting, key)
    return default if row is None else row.value
