"""Pushed walk-in appointments: the slots a site booked itself, append-only.

A walk-in is registered and booked at the site's desk (`app.services.walk_in`);
the appointment travels as kind ``walk_in_appointment`` right after the
citizen and before its events (``checked_in``, ``done``) and the dose given
on it, so the hub's dose record names its appointment and the scheduler
(`central.scheduling.demand`) sees the person booked for that dose.

Rules (DESIGN.md, sync rules 1 and 2):

- the site is the credential's: an appointment at another site is quarantined;
- the citizen must be known at the hub (the ``citizen`` kind is applied first);
- same id, same details: a duplicate (no-op); same id, other details (or an id
  the hub already uses for another appointment): quarantined, never dropped.

The hub keeps no payload hash on appointments (the scheduler's have none), so
a re-sent record is compared with the stored row field by field, in the
payload's own terms.

The stored row is announced back to its own site only (`upsert_change`, the
form the hub's own appointments take): a site pulls its own entries only
when restored from an old backup, which then gets its walk-ins back.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import time
from zoneinfo import ZoneInfo

from central.db import Appointment, Citizen, Site
from central.services.records import upsert_change
from central.services.sync.append_only import actor, parse
from central.services.sync.citizen_aliases import resolve_citizen
from central.services.sync.kinds import ApplyContext, Outcome
from domain.sync_wire import RecordStatus, WalkInAppointmentPayload, WireRecord

TABLE = "appointments"


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Store one pushed walk-in appointment, or say why not."""
    payload = parse(WalkInAppointmentPayload, record)
    if isinstance(payload, Outcome):
        return payload
    if payload.site_id != ctx.site_id:
        return Outcome.quarantined(
            "other_site_appointment",
            f"a walk-in booked at site {payload.site_id} was pushed by site {ctx.site_id}",
        )
    site = ctx.session.get(Site, ctx.site_id)
    if site is None:  # the credential names a site; this is a broken hub, not a site's fault
        raise LookupError(f"the pushing site {ctx.site_id} is not in the hub database")
    zone = ZoneInfo(site.timezone)
    # A walk-in the site registered under its own id for a citizen the hub held.
    citizen_id = resolve_citizen(ctx.session, payload.citizen_id)
    stored = ctx.session.get(Appointment, payload.id)
    if stored is not None:
        if _same(stored, payload, ctx, zone, citizen_id):
            return Outcome(RecordStatus.DUPLICATE)
        return Outcome.quarantined(
            "conflicting_payload",
            "an appointment with this id is already stored with different details",
        )
    if ctx.session.get(Citizen, citizen_id) is None:
        return Outcome.quarantined("unknown_citizen", f"no citizen {payload.citizen_id} at the hub")
    row = Appointment(
        id=payload.id,
        citizen_id=citizen_id,
        site_id=ctx.site_id,
        day=payload.day,
        slot_start=_wall_clock(payload, zone),
        product_id=payload.product_code,
        dose_number=payload.dose_number,
        scheduler_run_id=None,
        replaces_appointment_id=None,
        origin_site_id=ctx.site_id,
        created_at=payload.created_at,
        created_by=actor(payload.booked_by, ctx.site_id),
        stored_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    change = replace(upsert_change(row, audience_site_id=ctx.site_id), origin_site_id=ctx.site_id)
    return Outcome(RecordStatus.APPLIED, changes=(change,))


def _wall_clock(payload: WalkInAppointmentPayload, zone: ZoneInfo) -> time:
    """The slot's start as the roster prints it: wall-clock time at the site."""
    return payload.slot_start.astimezone(zone).time().replace(tzinfo=None)


def _same(
    stored: Appointment,
    payload: WalkInAppointmentPayload,
    ctx: ApplyContext,
    zone: ZoneInfo,
    citizen_id: uuid.UUID,
) -> bool:
    """Whether `stored` is this very walk-in as the site first sent it."""
    return (
        stored.scheduler_run_id is None
        and stored.replaces_appointment_id is None
        and stored.origin_site_id == ctx.site_id
        and stored.site_id == ctx.site_id
        and stored.citizen_id == citizen_id
        and stored.day == payload.day
        and stored.slot_start == _wall_clock(payload, zone)
        and stored.product_id == payload.product_code
        and stored.dose_number == payload.dose_number
        and stored.created_at == payload.created_at
        and stored.created_by == actor(payload.booked_by, ctx.site_id)
    )
