"""The hub issues, re-issues and revokes citizens' vaccination certificates.

`issue_certificate` certifies the citizen's latest dose in effect (one EU
certificate records one vaccination event; the PDF lists every dose) and
signs it with the hub's own DSC. Its UVCI is derived from what the
certificate states (citizen, name, date of birth, the dose's record and
facts), so:

- issuing again with nothing changed gives the same UVCI: a reprint, no new row;
- after a correction (a new name, a corrected dose) the content, and so the
  UVCI, differ: a new certificate is recorded and the earlier certificates it
  supersedes are revoked at once (reason: superseded by the new UVCI).

Superseded are the citizen's other unrevoked certificates for the same dose
number, and those whose dose record is no longer in effect (corrected or
retracted). Certificates for earlier doses stay valid: they record those
events. A UVCI once revoked is never used again: content that returns to an
earlier, revoked state gets a fresh UVCI.

`revoke_certificate` revokes one UVCI with a reason; it appears on the next
revocation list.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.certificates.authority import HUB_SIGNER_CODE, CertificateAuthority
from central.certificates.doses import doses_in_effect
from central.certificates.errors import (
    AlreadyRevoked,
    NoDoses,
    UnknownCitizen,
    UnknownUvci,
    UnknownVaccine,
)
from central.db import Citizen, DoseRecord, IssuedCertificate, Lot, Site
from central.services.context import Hub
from central.services.records import audit
from domain.catalogue import Product
from domain.certificates import (
    CertificateDocument,
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
from domain.data import available_versions, load_rules
from domain.i18n import Language

_UVCI_NAMESPACE: Final = uuid.UUID("0191f7c2-3d3e-7b4a-9c55-6a1f0e2d4b80")


@dataclass(frozen=True)
class IssuedDocument:
    """A certificate as issued: its UVCI, QR text and PDF.

    `reprint` is True when the same certificate had been issued before;
    `revoked` lists the UVCIs this one superseded.
    """

    uvci: str
    qr_text: str
    pdf: bytes
    reprint: bool
    revoked: tuple[str, ...]


def issue_certificate(
    hub: Hub,
    authority: CertificateAuthority,
    jmbg: str,
    *,
    language: Language,
    actor: str,
) -> IssuedDocument:
    """Issue (or reprint) the certificate of the citizen's latest dose; see the module.

    Raises `UnknownCitizen`, `NoDoses`, `UnknownVaccine`, and the CSCA's
    errors (`central.certificates.errors`).
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        citizen = session.scalar(select(Citizen).where(Citizen.jmbg == jmbg.strip()))
        if citizen is None:
            raise UnknownCitizen(jmbg=jmbg)
        doses = doses_in_effect(session, citizen.id)
        if not doses:
            raise NoDoses(jmbg=jmbg)
        latest = doses[-1]
        first_product = _product(doses[0].product_id)
        product = _product(latest.product_id)
        series = first_product.series or product.series
        total = max(latest.dose_number, series.primary_doses if series else latest.dose_number)
        site = session.get_one(Site, latest.site_id)
        given_on = latest.administered_at.astimezone(ZoneInfo(site.timezone)).date()
        uvci = _fresh_uvci(session, _content_key(citizen, latest, total))
        signer = authority.hub_signer(session, now)
        hcert = build_payload(
            PersonName(citizen.last_name_latin, citizen.first_name_latin),
            citizen.birth_date,
            Vaccination(
                vaccine=product.dcc.vp,
                product=product.dcc.mp,
                manufacturer=product.dcc.ma,
                dose_number=latest.dose_number,
                total_doses=total,
                date=given_on,
                uvci=uvci,
            ),
        )
        qr_text = encode_certificate(hcert, signer.signer, issued_at=now)
        existing = session.scalar(select(IssuedCertificate).where(IssuedCertificate.uvci == uvci))
        revoked: list[str] = []
        if existing is None:
            row = IssuedCertificate(
                uvci=uvci,
                citizen_id=citizen.id,
                dose_record_id=latest.id,
                signer_certificate_id=signer.row_id,
                issued_at=now,
                revoked_at=None,
                revocation_reason=None,
                origin_site_id=None,
                stored_at=now,
                created_at=now,
                created_by=actor,
            )
            session.add(row)
            session.flush()
            revoked = _revoke_superseded(session, citizen.id, row, latest, doses, now, actor)
            audit(
                session,
                occurred_at=now,
                actor=actor,
                action="certificate.issued",
                entity=row,
                after={"uvci": uvci, "superseded": revoked},
            )
        document = _document(session, citizen, doses, uvci, qr_text, language)
        pdf = render_certificate_pdf(document, qr_text, language)
        return IssuedDocument(
            uvci=uvci,
            qr_text=qr_text,
            pdf=pdf,
            reprint=existing is not None,
            revoked=tuple(revoked),
        )


def revoke_certificate(hub: Hub, uvci: str, *, reason: str, actor: str) -> IssuedCertificate:
    """Revoke the certificate `uvci`. Raises `UnknownUvci` or `AlreadyRevoked`."""
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        row = session.scalar(select(IssuedCertificate).where(IssuedCertificate.uvci == uvci))
        if row is None:
            raise UnknownUvci(uvci=uvci)
        if row.revoked_at is not None:
            raise AlreadyRevoked(
                uvci=uvci,
                revoked_on=row.revoked_at.date().isoformat(),
                reason=row.revocation_reason,
            )
        _revoke(session, row, reason, now, actor)
        return row


def _revoke(
    session: Session, row: IssuedCertificate, reason: str, now: datetime, actor: str
) -> None:
    row.revoked_at = now
    row.revocation_reason = reason
    audit(
        session,
        occurred_at=now,
        actor=actor,
        action="certificate.revoked",
        entity=row,
        after={"uvci": row.uvci, "reason": reason},
    )


def _revoke_superseded(
    session: Session,
    citizen_id: uuid.UUID,
    new: IssuedCertificate,
    latest: DoseRecord,
    doses: list[DoseRecord],
    now: datetime,
    actor: str,
) -> list[str]:
    in_effect = {dose.id for dose in doses}
    others = session.execute(
        select(IssuedCertificate, DoseRecord.dose_number)
        .join(DoseRecord, DoseRecord.id == IssuedCertificate.dose_record_id)
        .where(
            IssuedCertificate.citizen_id == citizen_id,
            IssuedCertificate.revoked_at.is_(None),
            IssuedCertificate.id != new.id,
        )
    ).all()
    revoked: list[str] = []
    for other, dose_number in others:
        if dose_number == latest.dose_number or other.dose_record_id not in in_effect:
            _revoke(session, other, f"superseded by {new.uvci}", now, actor)
            revoked.append(other.uvci)
    return revoked


def _content_key(citizen: Citizen, dose: DoseRecord, total: int) -> str:
    return json.dumps(
        [
            str(citizen.id),
            citizen.last_name_latin,
            citizen.first_name_latin,
            citizen.birth_date.isoformat(),
            str(dose.id),
            dose.product_id,
            dose.dose_number,
            total,
            dose.administered_at.isoformat(),
        ],
        ensure_ascii=False,
    )


def _fresh_uvci(session: Session, content_key: str) -> str:
    """The UVCI for this content: the first of its derivations never revoked."""
    attempt = 0
    while True:
        certificate_id = uuid.uuid5(_UVCI_NAMESPACE, f"{content_key}#{attempt}")
        uvci = make_uvci(HUB_SIGNER_CODE, certificate_id)
        revoked_at = session.scalar(
            select(IssuedCertificate.revoked_at).where(IssuedCertificate.uvci == uvci)
        )
        if revoked_at is None:
            return uvci
        attempt += 1


def _product(product_id: str) -> Product:
    for version in reversed(available_versions()):
        product = load_rules(version).catalogue.get(product_id)
        if product is not None:
            return product
    raise UnknownVaccine(product_id=product_id)


def _document(
    session: Session,
    citizen: Citizen,
    doses: list[DoseRecord],
    uvci: str,
    qr_text: str,
    language: Language,
) -> CertificateDocument:
    claims = decode_certificate(qr_text).claims
    lines = []
    for dose in doses:
        site = session.get_one(Site, dose.site_id)
        lot = session.get_one(Lot, dose.lot_id)
        product = _product(dose.product_id)
        series = product.series
        lines.append(
            DoseLine(
                dose_number=dose.dose_number,
                total_doses=max(dose.dose_number, series.primary_doses if series else 1),
                product=product.name,
                lot=lot.lot_number,
                date=dose.administered_at.astimezone(ZoneInfo(site.timezone)).date(),
                site=site.name,
            )
        )
    cyrillic = language == "sr-Cyrl"
    name = PersonName(citizen.last_name_latin, citizen.first_name_latin)
    return CertificateDocument(
        family_name=citizen.last_name_cyrillic if cyrillic else citizen.last_name_latin,
        given_name=citizen.first_name_cyrillic if cyrillic else citizen.first_name_latin,
        name_icao=f"{name.family_icao}<<{name.given_icao}",
        date_of_birth=citizen.birth_date,
        doses=tuple(lines),
        uvci=uvci,
        issuer=DEFAULT_ISSUER,
        issued_on=claims.issued_at.date(),
        valid_until=claims.expires_at.date(),
    )
