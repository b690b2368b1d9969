"""Pushed dose records: append-only clinical facts (sync rule 2).

Same id and payload: a no-op (duplicate). Same id, other payload: quarantined,
never dropped. A dose the hub cannot tie to its citizen, lot or nurse is
quarantined with the reason, for central staff to resolve; nothing a site
sends is lost. A dose naming a site's walk-in id that the hub merged into a
citizen it already held (`central.services.sync.citizen_aliases`) is stored
on that citizen.

The change log carries the dose's wire form (`DoseRecordPayload`), so a site
holding the citizen stores the dose exactly as the giving site sent it.

`apply_many` settles a whole push's doses set-wise: one query per thing a
dose refers to (stored doses, citizens with the sites holding each, lots,
nurses, appointments, vials) for the lot, then one bulk insert. `apply`
is the same code for one record, so both give the same answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

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
from central.db.bulk import insert_rows
from central.services.sync.append_only import among, existing, stored_hashes
from central.services.sync.citizen_aliases import resolve_citizens
from central.services.sync.kinds import ApplyContext, Outcome
from domain.sync_wire import DoseRecordPayload, RecordStatus, WireRecord
from domain.wire import payload_hash

TABLE = "dose_records"


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Store one pushed dose, or say why not."""
    return apply_many(ctx, [record])[0]


@dataclass(frozen=True)
class _Parsed:
    """A record whose payload validated, with its digest."""

    record: WireRecord
    dose: DoseRecordPayload
    digest: str


@dataclass(frozen=True)
class _Known:
    """What the hub already holds of everything a batch of doses refers to."""

    stored_hashes: dict[uuid.UUID, str]
    citizens: set[uuid.UUID]
    aliases: dict[uuid.UUID, uuid.UUID]
    lots: dict[tuple[str, str], uuid.UUID]
    nurse_sites: dict[uuid.UUID, uuid.UUID]
    appointments: set[uuid.UUID]
    vials: set[uuid.UUID]
    citizen_sites: dict[uuid.UUID, set[uuid.UUID]]


def _look_up(session: Session, records: Sequence[WireRecord], parsed: list[_Parsed]) -> _Known:
    doses = [p.dose for p in parsed]
    voided = {d.voids_dose_id for d in doses if d.voids_dose_id is not None}
    stored = stored_hashes(
        session, DoseRecord.id, DoseRecord.payload_hash, {r.id for r in records} | voided
    )
    lot_keys = {(d.gtin, d.lot_number) for d in doses}
    lots: dict[tuple[str, str], uuid.UUID] = {}
    if lot_keys:
        rows = session.execute(
            select(Lot.gtin, Lot.lot_number, Lot.id).where(
                Lot.gtin.in_({g for g, _ in lot_keys}),
                Lot.lot_number.in_({n for _, n in lot_keys}),
            )
        ).all()
        lots = {(gtin, number): lot_id for gtin, number, lot_id in rows}
    nurses = {d.vaccinator_id for d in doses}
    nurse_sites: dict[uuid.UUID, uuid.UUID] = {}
    if nurses:
        nurse_sites = dict(
            session.execute(
                select(SiteUser.id, SiteUser.site_id).where(among(session, SiteUser.id, nurses))
            ).all()
        )
    # A site's walk-in id for a citizen the hub already held stands for that citizen.
    aliases = resolve_citizens(session, {d.citizen_id for d in doses})
    citizens, citizen_sites = _citizens(
        session, {aliases.get(d.citizen_id, d.citizen_id) for d in doses}
    )
    return _Known(
        stored_hashes=stored,
        citizens=citizens,
        aliases=aliases,
        lots=lots,
        nurse_sites=nurse_sites,
        appointments=existing(session, Appointment.id, (d.appointment_id for d in doses)),
        vials=existing(session, Vial.id, (d.vial_id for d in doses)),
        citizen_sites=citizen_sites,
    )


def _citizens(
    session: Session, wanted: set[uuid.UUID]
) -> tuple[set[uuid.UUID], dict[uuid.UUID, set[uuid.UUID]]]:
    """Which citizens the hub knows, and the sites holding each, in one query.

    The sites holding a citizen are those where it has (or had) an appointment,
    as in `central.services.sync.audience.sites_by_citizen`.
    """
    known: set[uuid.UUID] = set()
    sites: dict[uuid.UUID, set[uuid.UUID]] = {}
    if not wanted:
        return known, sites
    rows = session.execute(
        select(Citizen.id, Appointment.site_id)
        .outerjoin(Appointment, Appointment.citizen_id == Citizen.id)
        .where(among(session, Citizen.id, wanted))
        .distinct()
    )
    for citizen_id, site_id in rows:
        known.add(citizen_id)
        if site_id is not None:
            sites.setdefault(citizen_id, set()).add(site_id)
    return known, sites


def _parse(record: WireRecord) -> _Parsed | Outcome:
    digest = payload_hash(record.payload)
    try:
        dose = DoseRecordPayload.model_validate(record.payload)
    except ValidationError as exc:
        return Outcome.quarantined("invalid_payload", str(exc)[:2000])
    if dose.id != record.id:
        return Outcome.quarantined("invalid_payload", "the payload's id is not the record's id")
    return _Parsed(record, dose, digest)


def apply_many(ctx: ApplyContext, records: Sequence[WireRecord]) -> list[Outcome]:
    """Store the pushed doses in order, or say why not: one outcome per record.

    A dose may void one stored earlier in the same batch; a re-sent id in the
    same batch is a duplicate (or a conflict) of the first.
    """
    session = ctx.session
    parsed_or_refused = [_parse(record) for record in records]
    parsed = [p for p in parsed_or_refused if isinstance(p, _Parsed)]
    known = _look_up(session, records, parsed)
    outcomes: list[Outcome] = []
    rows: list[dict[str, Any]] = []
    for record, item in zip(records, parsed_or_refused, strict=True):
        stored = known.stored_hashes.get(record.id)
        if stored is not None:
            digest = item.digest if isinstance(item, _Parsed) else payload_hash(record.payload)
            outcomes.append(_resent(stored, digest))
            continue
        if isinstance(item, Outcome):
            outcomes.append(item)
            continue
        row_or_refusal = _row(ctx, item, known)
        if isinstance(row_or_refusal, Outcome):
            outcomes.append(row_or_refusal)
            continue
        rows.append(row_or_refusal)
        known.stored_hashes[item.dose.id] = item.digest
        outcomes.append(Outcome(RecordStatus.APPLIED, changes=_announce(ctx, item, known)))
    if rows:
        insert_rows(session, DoseRecord, rows)
    return outcomes


def _resent(stored_hash: str, digest: str) -> Outcome:
    if stored_hash == digest:
        return Outcome(RecordStatus.DUPLICATE)
    return Outcome.quarantined(
        "conflicting_payload", "a dose with this id is already stored with different details"
    )


def _row(ctx: ApplyContext, item: _Parsed, known: _Known) -> dict[str, Any] | Outcome:
    """The dose's hub row, or why it cannot be stored (checks in the order a nurse fixes them)."""
    dose = item.dose
    citizen_id = known.aliases.get(dose.citizen_id, dose.citizen_id)
    if citizen_id not in known.citizens:
        return Outcome.quarantined("unknown_citizen", f"no citizen {dose.citizen_id} at the hub")
    lot_id = known.lots.get((dose.gtin, dose.lot_number))
    if lot_id is None:
        return Outcome.quarantined(
            "unknown_lot", f"lot {dose.lot_number} of GTIN {dose.gtin} is not known at the hub"
        )
    if known.nurse_sites.get(dose.vaccinator_id) != ctx.site_id:
        return Outcome.quarantined(
            "unknown_nurse", f"{dose.vaccinator_id} is not a user of this site at the hub"
        )
    kind = DoseRecordKind.ADMINISTERED
    if dose.voids_dose_id is not None:
        if not dose.correction_reason:
            return Outcome.quarantined(
                "correction_without_reason", "a dose voiding another must give a reason"
            )
        if dose.voids_dose_id not in known.stored_hashes:
            return Outcome.quarantined(
                "unknown_voided_dose", f"the voided dose {dose.voids_dose_id} is not at the hub"
            )
        kind = DoseRecordKind.RETRACTION if dose.retraction else DoseRecordKind.CORRECTION
    # An unknown appointment or vial stays in the payload (and the change log);
    # the column needs a known row.
    appointment_id = dose.appointment_id if dose.appointment_id in known.appointments else None
    vial_id = dose.vial_id if dose.vial_id in known.vials else None
    return {
        "id": dose.id,
        "kind": kind.value,
        "citizen_id": citizen_id,
        "appointment_id": appointment_id,
        "site_id": ctx.site_id,
        "nurse_id": dose.vaccinator_id,
        "product_id": dose.product_code,
        "lot_id": lot_id,
        "vial_id": vial_id,
        "dose_number": dose.dose_number,
        "administered_at": dose.administered_at,
        "injection_site": dose.injection_site,
        "voids_dose_id": dose.voids_dose_id,
        "correction_reason": dose.correction_reason,
        "payload_hash": item.digest,
        "origin_site_id": ctx.site_id,
        "created_at": dose.created_at,
        "created_by": f"site-user:{dose.vaccinator_id}",
        "stored_at": ctx.now,
    }


def _announce(ctx: ApplyContext, item: _Parsed, known: _Known) -> tuple[NewChange, ...]:
    """The origin site first, then every other site holding the citizen, sorted."""
    audience = [ctx.site_id]
    citizen_id = known.aliases.get(item.dose.citizen_id, item.dose.citizen_id)
    holders = known.citizen_sites.get(citizen_id)
    if holders and (len(holders) > 1 or ctx.site_id not in holders):
        audience += sorted(holders - {ctx.site_id})
    return tuple(
        NewChange(
            table_name=TABLE,
            record_id=item.dose.id,
            op=ChangeOp.UPSERT,
            payload=item.record.payload,
            audience_site_id=site_id,
            origin_site_id=ctx.site_id,
        )
        for site_id in audience
    )
