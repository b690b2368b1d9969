"""Pushed dose voids: append-only statements that a dose record was wrong.

The voided dose must be at the hub (the site pushes the dose before its
void), and tied to the pushing site: given there, or given to a citizen the
site holds (a nurse may find another site's mistake). A dose is voided at
most once: a second void with another id is quarantined for central staff.
From then on the dose no longer counts (certificates, the scheduler's view
of a citizen's doses).

The change log carries the void to every site holding the citizen, so their
double-dose guards and certificates stop counting the dose too.
"""

from __future__ import annotations

from sqlalchemy import select

from central.db import ChangeOp, DoseRecord, DoseVoid, NewChange
from central.services.sync.append_only import actor, parse, resent
from central.services.sync.audience import citizen_sites, for_citizen_record
from central.services.sync.kinds import ApplyContext, Outcome
from domain.sync_wire import DoseVoidPayload, RecordStatus, WireRecord
from domain.wire import payload_hash

TABLE = "dose_voids"


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Store one pushed void, or say why not."""
    digest = payload_hash(record.payload)
    session = ctx.session
    existing = session.get(DoseVoid, record.id)
    answer = resent(existing.payload_hash if existing else None, digest, "a dose void")
    if answer is not None:
        return answer
    void = parse(DoseVoidPayload, record)
    if isinstance(void, Outcome):
        return void
    dose = session.get(DoseRecord, void.dose_id)
    if dose is None:
        return Outcome.quarantined(
            "unknown_dose", f"the voided dose {void.dose_id} is not at the hub"
        )
    if dose.site_id != ctx.site_id and ctx.site_id not in citizen_sites(session, dose.citizen_id):
        return Outcome.quarantined(
            "other_site_dose", "the dose was given elsewhere to a citizen this site does not hold"
        )
    earlier = session.scalar(select(DoseVoid.id).where(DoseVoid.dose_id == void.dose_id))
    if earlier is not None:
        return Outcome.quarantined(
            "already_voided", f"dose {void.dose_id} was already voided by {earlier}"
        )
    session.add(
        DoseVoid(
            id=void.id,
            dose_id=void.dose_id,
            site_id=ctx.site_id,
            reason=void.reason,
            voided_at=void.voided_at,
            voided_by=void.voided_by,
            payload_hash=digest,
            origin_site_id=ctx.site_id,
            created_at=void.created_at,
            created_by=actor(void.voided_by, ctx.site_id),
            stored_at=ctx.now,
        )
    )
    session.flush()
    audience = for_citizen_record(session, dose.citizen_id, ctx.site_id)
    if dose.site_id not in audience:
        audience.append(dose.site_id)
    changes = tuple(
        NewChange(
            table_name=TABLE,
            record_id=void.id,
            op=ChangeOp.UPSERT,
            payload=record.payload,
            audience_site_id=site_id,
            origin_site_id=ctx.site_id,
        )
        for site_id in audience
    )
    return Outcome(RecordStatus.APPLIED, changes=changes)
