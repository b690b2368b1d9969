"""Pushed vial events: append-only (received, opened, dose drawn, discarded).

The event carries its vial's identity, so the hub registers a vial the first
time it hears of it (at the pushing site). The vial's lot (GTIN + lot
number) must be known at the hub, or the event is quarantined: a lot the hub
never delivered is a matter for central staff. A vial whose GTIN and serial
the hub already holds under another id (a label read twice, a duplicated
label) is quarantined too, never merged silently.

The change log returns the event to its own site only (for a restore from a
backup); other sites do not hold this site's vials.
"""

from __future__ import annotations

from sqlalchemy import select

from central.db import DoseRecord, Lot, Vial, VialEvent
from central.services.sync.append_only import actor, echo, parse, resent
from central.services.sync.kinds import ApplyContext, Outcome
from central.stock.site_facts import book_vial_event
from domain.sync_wire import RecordStatus, VialEventPayload, WireRecord
from domain.wire import payload_hash

TABLE = "vial_events"


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Store one pushed vial event (and its vial when new), or say why not."""
    digest = payload_hash(record.payload)
    session = ctx.session
    existing = session.get(VialEvent, record.id)
    answer = resent(existing.payload_hash if existing else None, digest, "a vial event")
    if answer is not None:
        return answer
    event = parse(VialEventPayload, record)
    if isinstance(event, Outcome):
        return event
    lot_id = session.scalar(
        select(Lot.id).where(Lot.gtin == event.gtin, Lot.lot_number == event.lot_number)
    )
    if lot_id is None:
        return Outcome.quarantined(
            "unknown_lot", f"lot {event.lot_number} of GTIN {event.gtin} is not known at the hub"
        )
    vial = session.get(Vial, event.vial_id)
    if vial is None:
        taken = session.scalar(
            select(Vial).where(Vial.lot_id == lot_id, Vial.serial == event.serial)
        )
        if taken is not None:
            return Outcome.quarantined(
                "vial_serial_taken",
                f"vial serial {event.serial} of lot {event.lot_number} is already registered"
                f" at the hub as {taken.id}",
            )
        vial = Vial(
            id=event.vial_id,
            lot_id=lot_id,
            serial=event.serial,
            site_id=ctx.site_id,
            origin_site_id=ctx.site_id,
            created_at=event.created_at,
            created_by=actor(event.recorded_by, ctx.site_id),
            stored_at=ctx.now,
        )
        session.add(vial)
    elif vial.lot_id != lot_id or vial.serial != event.serial:
        return Outcome.quarantined(
            "vial_mismatch", f"vial {event.vial_id} is registered at the hub with another label"
        )
    elif vial.site_id != ctx.site_id:
        return Outcome.quarantined(
            "other_site_vial", f"vial {event.vial_id} is registered to another site"
        )
    dose_id = event.dose_record_id
    if dose_id is not None and session.get(DoseRecord, dose_id) is None:
        # Kept in the payload (and the change log); the column needs a known row.
        dose_id = None
    session.add(
        VialEvent(
            id=event.id,
            vial_id=event.vial_id,
            site_id=ctx.site_id,
            kind=event.kind,
            occurred_at=event.occurred_at,
            reason=event.reason,
            dose_record_id=dose_id,
            payload_hash=digest,
            origin_site_id=ctx.site_id,
            created_at=event.created_at,
            created_by=actor(event.recorded_by, ctx.site_id),
            stored_at=ctx.now,
        )
    )
    session.flush()
    # An opened or discarded vial leaves the site's stock now, not at the next settle.
    book_vial_event(session, event.id, at=ctx.now)
    return Outcome(RecordStatus.APPLIED, changes=(echo(ctx, TABLE, record),))
