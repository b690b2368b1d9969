"""Walk-in appointments pushed by a site, on both engines: stored once, at the pushing site only,
before the events and the dose that name them, and counted by the scheduler as the booking."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.db import (
    Appointment,
    AppointmentEvent,
    ChangeLog,
    Citizen,
    DoseRecord,
    Lot,
    Quarantine,
    Site,
    SiteUser,
)
from central.scheduling.demand import existing_appointments, waiting_citizens
from central.services.sync.push import push_batch
from domain.data import rules_in_force
from domain.ids import uuid7
from domain.sync_wire import PushRequest, RecordResult, RecordStatus, WireRecord
from tests.central.conftest import T0, Rows

BELGRADE_MORNING = datetime(2021, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=1)))
"""09:00 in Belgrade on T0's day (CET): the slot the walk-in took."""


class Pusher:
    """Pushes records as one site, numbering its outbox and batches."""

    def __init__(self, session: Session, site: Site) -> None:
        self.session, self.site = session, site
        self.seq = 0

    def push(self, *records: tuple[str, dict[str, Any]]) -> list[RecordResult]:
        wire = []
        for kind, payload in records:
            self.seq += 1
            wire.append(
                WireRecord(
                    kind=kind, id=uuid.UUID(payload["id"]), outbox_seq=self.seq, payload=payload
                )
            )
        request = PushRequest(
            idempotency_key=f"batch-{self.site.code}-{self.seq:06d}",
            first_seq=wire[0].outbox_seq,
            last_seq=wire[-1].outbox_seq,
            records=wire,
            sent_at=T0,
            backlog=len(wire),
            client_version="test/1",
        )
        response = push_batch(self.session, self.site.id, request, now=T0 + timedelta(hours=1))
        self.session.flush()
        return response.results


def walk_in(
    citizen: Citizen, site: Site, nurse: SiteUser | None = None, **changes: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(uuid7()),
        "citizen_id": str(citizen.id),
        "site_id": str(site.id),
        "day": "2021-03-01",
        "slot_start": BELGRADE_MORNING.isoformat(),
        "product_code": "comirnaty",
        "dose_number": 1,
        "booked_by": str(nurse.id) if nurse else None,
        "created_at": T0.isoformat(),
    }
    payload.update(changes)
    return payload


def event(appointment: dict[str, Any], kind: str, minutes: int) -> dict[str, Any]:
    return {
        "id": str(uuid7()),
        "appointment_id": appointment["id"],
        "kind": kind,
        "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "reason": None,
        "new_appointment_id": None,
        "recorded_by": None,
        "created_at": (T0 + timedelta(minutes=minutes)).isoformat(),
    }


def dose(appointment: dict[str, Any], nurse: SiteUser, lot: Lot) -> dict[str, Any]:
    return {
        "id": str(uuid7()),
        "citizen_id": appointment["citizen_id"],
        "appointment_id": appointment["id"],
        "product_code": "comirnaty",
        "gtin": lot.gtin,
        "lot_number": lot.lot_number,
        "vial_id": None,
        "dose_number": 1,
        "administered_at": (T0 + timedelta(minutes=5)).isoformat(),
        "injection_site": "left_arm",
        "vaccinator_id": str(nurse.id),
        "vaccinator_name": "Sestra",
        "notes": None,
        "voids_dose_id": None,
        "correction_reason": None,
        "retraction": False,
        "created_at": (T0 + timedelta(minutes=5)).isoformat(),
    }


def statuses(results: list[RecordResult]) -> list[tuple[RecordStatus, str | None]]:
    return [(r.status, r.reason) for r in results]


def test_a_walk_in_is_stored_at_the_pushing_site_in_its_wall_clock_time(rows: Rows) -> None:
    site, citizen = rows.site(), rows.citizen()
    nurse = rows.nurse(site)
    payload = walk_in(citizen, site, nurse)
    results = Pusher(rows.session, site).push(("walk_in_appointment", payload))
    assert statuses(results) == [(RecordStatus.APPLIED, None)]
    stored = rows.session.get_one(Appointment, uuid.UUID(payload["id"]))
    assert (stored.site_id, stored.citizen_id) == (site.id, citizen.id)
    assert (stored.day, stored.slot_start) == (date(2021, 3, 1), time(9, 0))
    assert (stored.product_id, stored.dose_number) == ("comirnaty", 1)
    assert stored.scheduler_run_id is None
    assert stored.origin_site_id == site.id
    assert stored.created_by == f"site-user:{nurse.id}"
    # Announced to its own site only, in the form the hub's own appointments take.
    (entry,) = rows.session.scalars(
        sa.select(ChangeLog).where(ChangeLog.record_id == stored.id)
    ).all()
    assert entry.table_name == "appointments"
    assert entry.audience_site_id == site.id
    assert entry.payload is not None
    assert entry.payload["slot_start"] == "09:00:00"


def test_a_re_sent_walk_in_is_a_duplicate_whatever_offset_its_instant_is_written_in(
    rows: Rows,
) -> None:
    site, citizen = rows.site(), rows.citizen()
    payload = walk_in(citizen, site)
    pusher = Pusher(rows.session, site)
    pusher.push(("walk_in_appointment", payload))
    same_instant = {**payload, "slot_start": BELGRADE_MORNING.astimezone(UTC).isoformat()}
    results = pusher.push(("walk_in_appointment", payload), ("walk_in_appointment", same_instant))
    assert statuses(results) == [(RecordStatus.DUPLICATE, None)] * 2
    assert rows.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 1
    assert rows.session.scalar(sa.select(sa.func.count()).select_from(Quarantine)) == 0


def test_the_same_id_with_other_details_is_quarantined_and_the_first_kept(rows: Rows) -> None:
    site, citizen = rows.site(), rows.citizen()
    payload = walk_in(citizen, site)
    pusher = Pusher(rows.session, site)
    pusher.push(("walk_in_appointment", payload))
    later = (BELGRADE_MORNING + timedelta(minutes=10)).isoformat()
    results = pusher.push(
        ("walk_in_appointment", {**payload, "slot_start": later}),
        ("walk_in_appointment", {**payload, "dose_number": 2}),
    )
    assert statuses(results) == [(RecordStatus.QUARANTINED, "conflicting_payload")] * 2
    stored = rows.session.get_one(Appointment, uuid.UUID(payload["id"]))
    assert (stored.slot_start, stored.dose_number) == (time(9, 0), 1)
    quarantined = rows.session.scalars(sa.select(Quarantine)).all()
    assert {q.table_name for q in quarantined} == {"appointments"}
    assert {q.reason_code for q in quarantined} == {"conflicting_payload"}


def test_an_id_the_scheduler_already_uses_is_quarantined(rows: Rows) -> None:
    site, citizen = rows.site(), rows.citizen()
    booked = Appointment(
        citizen_id=citizen.id,
        site_id=site.id,
        day=date(2021, 3, 1),
        slot_start=time(9, 0),
        product_id="comirnaty",
        dose_number=1,
        origin_site_id=None,
        created_at=T0,
        created_by="scheduler",
        stored_at=T0,
    )
    rows.session.add(booked)
    rows.session.flush()
    payload = walk_in(citizen, site, id=str(booked.id), created_at=T0.isoformat())
    results = Pusher(rows.session, site).push(("walk_in_appointment", payload))
    assert statuses(results) == [(RecordStatus.QUARANTINED, "conflicting_payload")]


def test_a_walk_in_at_another_site_is_quarantined(rows: Rows) -> None:
    pushing, other, citizen = rows.site(), rows.site(), rows.citizen()
    payload = walk_in(citizen, other)
    results = Pusher(rows.session, pushing).push(("walk_in_appointment", payload))
    assert statuses(results) == [(RecordStatus.QUARANTINED, "other_site_appointment")]
    assert rows.session.get(Appointment, uuid.UUID(payload["id"])) is None


def test_a_walk_in_for_a_citizen_the_hub_lacks_or_with_a_naive_slot_is_quarantined(
    rows: Rows,
) -> None:
    site, citizen = rows.site(), rows.citizen()
    stranger = walk_in(citizen, site, citizen_id=str(uuid7()))
    naive = walk_in(citizen, site, slot_start="2021-03-01T09:00:00")
    results = Pusher(rows.session, site).push(
        ("walk_in_appointment", stranger), ("walk_in_appointment", naive)
    )
    assert statuses(results)[0] == (RecordStatus.QUARANTINED, "unknown_citizen")
    assert statuses(results)[1] == (RecordStatus.QUARANTINED, "invalid_payload")
    assert rows.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 0


def test_events_and_dose_sent_before_their_walk_in_in_one_batch_still_apply_and_link(
    rows: Rows,
) -> None:
    site, citizen, lot = rows.site(), rows.citizen(), rows.lot()
    nurse = rows.nurse(site)
    appointment = walk_in(citizen, site, nurse)
    checked_in, done = event(appointment, "checked_in", 1), event(appointment, "done", 6)
    given = dose(appointment, nurse, lot)
    # Listed out of order on purpose: the hub applies the appointment first.
    results = Pusher(rows.session, site).push(
        ("appointment_event", checked_in),
        ("dose_record", given),
        ("appointment_event", done),
        ("walk_in_appointment", appointment),
    )
    assert [r.status for r in results] == [RecordStatus.APPLIED] * 4
    stored_dose = rows.session.get_one(DoseRecord, uuid.UUID(given["id"]))
    assert stored_dose.appointment_id == uuid.UUID(appointment["id"])
    events = rows.session.scalars(
        sa.select(AppointmentEvent.kind).where(
            AppointmentEvent.appointment_id == uuid.UUID(appointment["id"])
        )
    ).all()
    assert sorted(events) == ["checked_in", "done"]


def test_the_scheduler_counts_a_checked_in_walk_in_as_the_booking_for_that_dose(
    rows: Rows,
) -> None:
    site = rows.site()
    walked_in, waiting = rows.citizen(), rows.citizen()
    appointment = walk_in(walked_in, site)
    results = Pusher(rows.session, site).push(
        ("walk_in_appointment", appointment),
        ("appointment_event", event(appointment, "checked_in", 1)),
    )
    assert [r.status for r in results] == [RecordStatus.APPLIED] * 2
    start = date(2021, 3, 2)
    rules = rules_in_force(start)
    booked = existing_appointments(rows.session, start)
    assert [(a.citizen_id, a.status.value) for a in booked] == [(walked_in.id, "checked_in")]
    waiting_ids = {w.id for w in waiting_citizens(rows.session, rules, start, booked)}
    assert walked_in.id not in waiting_ids
    assert waiting.id in waiting_ids  # the same person without a walk-in is booked
