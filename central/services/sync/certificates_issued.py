"""Pushed ``certificate_issued`` records: certificates a site signed offline.

The hub must know every UVCI (to revoke it, to re-issue over it, to answer
"is this one of ours"), so every certificate a site signs is pushed, in the
same outbox as the dose it certifies. Append-only: the same id with the same
facts is a duplicate, with other facts it is quarantined.

Checks, each failing into quarantine with its reason (nothing is dropped):
the UVCI is well formed and not already held under another id; the citizen
and the certified dose are known; the certified dose belongs to the citizen;
the signer key id is a document signer the hub certified for *this* site.

Revocation is the hub's: only the CSCA signs the revocation list verifiers
read. A certificate that ``supersedes`` earlier UVCIs (a site corrected the
person's data and re-issued) therefore revokes them here, on arrival, with
the reason "superseded by <new UVCI>". Only the same citizen's unrevoked
certificates are revoked; UVCIs the hub does not hold, holds for another
citizen, or already revoked are left as they are and named in the outcome's
detail.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import Citizen, DoseRecord, IssuedCertificate, SignerCertificate
from central.services.records import audit
from central.services.sync.citizen_aliases import resolve_citizen
from central.services.sync.kinds import ApplyContext, Outcome
from domain.certificates.errors import InvalidUvci
from domain.certificates.uvci import parse_uvci
from domain.sync_wire import CertificateIssuedPayload, RecordStatus, WireRecord

TABLE = "issued_certificates"


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Store one certificate a site issued (and revoke what it supersedes), or say why not."""
    try:
        issued = CertificateIssuedPayload.model_validate(record.payload)
    except ValidationError as exc:
        return Outcome.quarantined("invalid_payload", str(exc)[:2000])
    if issued.id != record.id:
        return Outcome.quarantined("invalid_payload", "the payload's id is not the record's id")
    session = ctx.session
    citizen_id = resolve_citizen(session, issued.citizen_id)  # a walk-in's id at its site
    existing = session.get(IssuedCertificate, issued.id)
    if existing is not None:
        if _same(existing, issued, citizen_id):
            return Outcome(RecordStatus.DUPLICATE)
        return Outcome.quarantined(
            "conflicting_payload",
            "a certificate with this id is already stored with different details",
        )
    try:
        parse_uvci(issued.uvci)
    except InvalidUvci as exc:
        return Outcome.quarantined("invalid_uvci", str(exc))
    if session.scalar(select(IssuedCertificate.id).where(IssuedCertificate.uvci == issued.uvci)):
        return Outcome.quarantined(
            "duplicate_uvci", f"the UVCI {issued.uvci} is already held for another certificate"
        )
    if session.get(Citizen, citizen_id) is None:
        return Outcome.quarantined("unknown_citizen", f"no citizen {issued.citizen_id} at the hub")
    dose = session.get(DoseRecord, issued.dose_record_id)
    if dose is None:
        return Outcome.quarantined(
            "unknown_dose", f"the certified dose {issued.dose_record_id} is not at the hub"
        )
    if dose.citizen_id != citizen_id:
        return Outcome.quarantined("dose_of_another_citizen", "the dose is another citizen's")
    stored_kid = base64.b64encode(bytes.fromhex(issued.signer_kid)).decode("ascii")
    signer = session.scalar(select(SignerCertificate).where(SignerCertificate.key_id == stored_kid))
    if signer is None or signer.site_id != ctx.site_id:
        return Outcome.quarantined(
            "unknown_signer",
            f"key id {issued.signer_kid} is not a document signer of this site at the hub",
        )
    actor = f"site-user:{issued.issued_by}" if issued.issued_by else f"site:{ctx.site_id}"
    row = IssuedCertificate(
        id=issued.id,
        uvci=issued.uvci,
        citizen_id=citizen_id,
        dose_record_id=issued.dose_record_id,
        signer_certificate_id=signer.id,
        issued_at=issued.issued_at,
        revoked_at=None,
        revocation_reason=None,
        origin_site_id=ctx.site_id,
        stored_at=ctx.now,
        created_at=issued.created_at,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    revoked, left = _revoke_superseded(session, issued, citizen_id, ctx.now, actor)
    audit(
        session,
        occurred_at=ctx.now,
        actor=actor,
        action="certificate.issued",
        entity=row,
        site_id=ctx.site_id,
        after={"uvci": issued.uvci, "superseded": revoked},
    )
    detail = (
        f"not revoked (unknown, another citizen's or revoked already): {left}" if left else None
    )
    return Outcome(RecordStatus.APPLIED, detail=detail)


def _same(row: IssuedCertificate, issued: CertificateIssuedPayload, citizen_id: uuid.UUID) -> bool:
    return (
        row.uvci == issued.uvci
        and row.citizen_id == citizen_id
        and row.dose_record_id == issued.dose_record_id
        and row.issued_at == issued.issued_at
    )


def _revoke_superseded(
    session: Session,
    issued: CertificateIssuedPayload,
    citizen_id: uuid.UUID,
    now: datetime,
    actor: str,
) -> tuple[list[str], list[str]]:
    revoked: list[str] = []
    left: list[str] = []
    for uvci in issued.supersedes:
        old = session.scalar(select(IssuedCertificate).where(IssuedCertificate.uvci == uvci))
        if old is None or old.citizen_id != citizen_id or old.revoked_at is not None:
            left.append(uvci)
            continue
        old.revoked_at = now
        old.revocation_reason = f"superseded by {issued.uvci}"
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="certificate.revoked",
            entity=old,
            after={"uvci": uvci, "reason": old.revocation_reason},
        )
        revoked.append(uvci)
    return revoked, left
