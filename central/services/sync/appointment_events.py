"""Pushed appointment events: append-only (check-in, done, no-show, ...).

A site may add events only to its own appointments. The change log carries
the event's hub row (`central.services.records.row_payload`), the same form
the hub's own appointment changes use.
"""

from __future__ import annotations

from dataclasses import replace

from pydantic import ValidationError

from central.db import Appointment, AppointmentEvent
from central.services.records import upsert_change
from central.services.sync.kinds import ApplyContext, Outcome
from domain.sync_wire import AppointmentEventPayload, RecordStatus, WireRecord
from domain.wire import payload_hash


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Store one pushed appointment event, or say why not."""
    digest = payload_hash(record.payload)
    existing = ctx.session.get(AppointmentEvent, record.id)
    if existing is not None:
        if existing.payload_hash == digest:
            return Outcome(RecordStatus.DUPLICATE)
        return Outcome.quarantined(
            "conflicting_payload",
            "an appointment event with this id is already stored with different details",
        )
    try:
        event = AppointmentEventPayload.model_validate(record.payload)
    except ValidationError as exc:
        return Outcome.quarantined("invalid_payload", str(exc)[:2000])
    if event.id != record.id:
        return Outcome.quarantined("invalid_payload", "the payload's id is not the record's id")
    appointment = ctx.session.get(Appointment, event.appointment_id)
    if appointment is None:
        return Outcome.quarantined(
            "unknown_appointment", f"no appointment {event.appointment_id} at the hub"
        )
    if appointment.site_id != ctx.site_id:
        return Outcome.quarantined(
            "other_site_appointment", "the appointment belongs to another site"
        )
    new_id = event.new_appointment_id
    if new_id is not None and ctx.session.get(Appointment, new_id) is None:
        return Outcome.quarantined("unknown_appointment", f"no appointment {new_id} at the hub")
    row = AppointmentEvent(
        id=event.id,
        appointment_id=event.appointment_id,
        kind=event.kind,
        occurred_at=event.occurred_at,
        reason=event.reason,
        new_appointment_id=new_id,
        payload_hash=digest,
        origin_site_id=ctx.site_id,
        created_at=event.created_at,
        created_by=(
            f"site-user:{event.recorded_by}" if event.recorded_by else f"site:{ctx.site_id}"
        ),
        stored_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    change = replace(
        upsert_change(row, audience_site_id=appointment.site_id), origin_site_id=ctx.site_id
    )
    return Outcome(RecordStatus.APPLIED, changes=(change,))
