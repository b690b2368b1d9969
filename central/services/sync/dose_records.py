"""Pushed dose records: append-only clinical facts (sync rule 2).

Same id and payload: a no-op (duplicate). Same id, other payload: quarantined,
never dropped. A dose the hub cannot tie to its citizen, lot or nurse is
quarantined with the reason, for central staff to resolve; nothing a site
sends is lost.

The change log carries the dose's wire form (`DoseRecordPayload`), so a site
holding the citizen stores the dose exactly as the giving site sent it.
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select

from central.db import (
    Appointment,
    ChangeOp,
    Citizen,
    DoseRecord,
    DoseRecordKind,
    Lot,
    NewChange,
    SiteUser,
    Vial,
)
from central.services.sync.audience import for_citizen_record
from central.services.sync.kinds import ApplyContext, Outcome
from domain.sync_wire import DoseRecordPayload, RecordStatus, WireRecord
from domain.wire import payload_hash

TABLE = "dose_records"


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Store one pushed dose, or say why not."""
    digest = payload_hash(record.payload)
    existing = ctx.session.get(DoseRecord, record.id)
    if existing is not None:
        if existing.payload_hash == digest:
            return Outcome(RecordStatus.DUPLICATE)
        return Outcome.quarantined(
            "conflicting_payload",
            "a dose with this id is already stored with different details",
        )
    try:
        dose = DoseRecordPayload.model_validate(record.payload)
    except ValidationError as exc:
        return Outcome.quarantined("invalid_payload", str(exc)[:2000])
    if dose.id != record.id:
        return Outcome.quarantined("invalid_payload", "the payload's id is not the record's id")
    session = ctx.session
    if session.get(Citizen, dose.citizen_id) is None:
        return Outcome.quarantined("unknown_citizen", f"no citizen {dose.citizen_id} at the hub")
    lot_id = session.scalar(
        select(Lot.id).where(Lot.gtin == dose.gtin, Lot.lot_number == dose.lot_number)
    )
    if lot_id is None:
        return Outcome.quarantined(
            "unknown_lot", f"lot {dose.lot_number} of GTIN {dose.gtin} is not known at the hub"
        )
    nurse = session.get(SiteUser, dose.vaccinator_id)
    if nurse is None or nurse.site_id != ctx.site_id:
        return Outcome.quarantined(
            "unknown_nurse", f"{dose.vaccinator_id} is not a user of this site at the hub"
        )
    kind = DoseRecordKind.ADMINISTERED
    if dose.voids_dose_id is not None:
        if not dose.correction_reason:
            return Outcome.quarantined(
                "correction_without_reason", "a dose voiding another must give a reason"
            )
        if session.get(DoseRecord, dose.voids_dose_id) is None:
            return Outcome.quarantined(
                "unknown_voided_dose", f"the voided dose {dose.voids_dose_id} is not at the hub"
            )
        kind = DoseRecordKind.RETRACTION if dose.retraction else DoseRecordKind.CORRECTION
    appointment_id = dose.appointment_id
    if appointment_id is not None and session.get(Appointment, appointment_id) is None:
        # Kept in the payload (and the change log); the column needs a known row.
        appointment_id = None
    vial_id = dose.vial_id
    if vial_id is not None and session.get(Vial, vial_id) is None:
        vial_id = None
    session.add(
        DoseRecord(
            id=dose.id,
            kind=kind,
            citizen_id=dose.citizen_id,
            appointment_id=appointment_id,
            site_id=ctx.site_id,
            nurse_id=dose.vaccinator_id,
            product_id=dose.product_code,
            lot_id=lot_id,
            vial_id=vial_id,
            dose_number=dose.dose_number,
            administered_at=dose.administered_at,
            injection_site=dose.injection_site,
            voids_dose_id=dose.voids_dose_id,
            correction_reason=dose.correction_reason,
            payload_hash=digest,
            origin_site_id=ctx.site_id,
            created_at=dose.created_at,
            created_by=f"site-user:{dose.vaccinator_id}",
            stored_at=ctx.now,
        )
    )
    session.flush()
    changes = tuple(
        NewChange(
            table_name=TABLE,
            record_id=dose.id,
            op=ChangeOp.UPSERT,
            payload=record.payload,
            audience_site_id=site_id,
            origin_site_id=ctx.site_id,
        )
        for site_id in for_citizen_record(session, dose.citizen_id, ctx.site_id)
    )
    return Outcome(RecordStatus.APPLIED, changes=changes)
