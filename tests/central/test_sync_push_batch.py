"""A push batch applied set-wise answers every record as if applied one by one, in order."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from central.db import Appointment, ChangeLog, DoseRecord, Quarantine
from central.db import AppointmentEvent as HubEvent
from central.services.appointments import latest_kind
from central.services.records import upsert_change
from central.services.sync.kinds import ApplyContext, registry
from central.services.sync.push import push_batch
from domain.ids import uuid7
from domain.jmbg import parse_jmbg
from domain.sync_wire import PushRequest, RecordStatus, WireRecord
from tests.app.sync.world import GTIN, LOT, NOW, SiteClient, World, new_jmbg


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    yield w
    w.close()


def _dose(site: SiteClient, citizen_id: uuid.UUID, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(uuid7()),
        "citizen_id": str(citizen_id),
        "appointment_id": None,
        "product_code": "comirnaty",
        "gtin": GTIN,
        "lot_number": LOT,
        "vial_id": None,
        "dose_number": 1,
        "administered_at": NOW.isoformat(),
        "injection_site": "left_arm",
        "vaccinator_id": str(site.nurse_id),
        "vaccinator_name": "Sestra",
        "notes": None,
        "voids_dose_id": None,
        "correction_reason": None,
        "retraction": False,
        "created_at": NOW.isoformat(),
    }
    payload.update(changes)
    return payload


def _record(
    payload: dict[str, Any], seq: int, kind: str = "dose_record", record_id: uuid.UUID | None = None
) -> WireRecord:
    return WireRecord(
        kind=kind,
        id=record_id or uuid.UUID(payload["id"]),
        op="insert",
        outbox_seq=seq,
        payload=payload,
    )


def _request(records: list[WireRecord], key: str = "batch-0001") -> PushRequest:
    return PushRequest(
        idempotency_key=key,
        first_seq=records[0].outbox_seq,
        last_seq=records[-1].outbox_seq,
        records=records,
        sent_at=NOW,
        backlog=len(records),
        client_version="test/1",
    )


def _mixed_batch(world: World, site: SiteClient) -> list[WireRecord]:
    """Applied, duplicate, conflicting, unknown citizen/nurse/lot/voided, invalid, corrections."""
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    other = world.add_site("PB-02")
    world.book(citizen.id, other)  # the other site holds the citizen: it hears of the doses
    first = _dose(site, citizen.id)
    correction = _dose(
        site, citizen.id, voids_dose_id=first["id"], correction_reason="wrong arm",
        injection_site="right_arm",
    )  # fmt: skip
    retraction = _dose(
        site, citizen.id, voids_dose_id=correction["id"], correction_reason="not given",
        retraction=True,
    )  # fmt: skip
    payloads = [
        first,
        dict(first),  # the same dose again: duplicate
        {**first, "dose_number": 2},  # same id, other details: conflict
        _dose(site, uuid7()),  # unknown citizen
        _dose(site, citizen.id, vaccinator_id=str(other.nurse_id)),  # another site's nurse
        _dose(site, citizen.id, lot_number="NOPE1"),  # unknown lot
        _dose(site, citizen.id, voids_dose_id=str(uuid7()), correction_reason="x"),
        _dose(site, citizen.id, voids_dose_id=first["id"]),  # a void without a reason
        {**_dose(site, citizen.id), "dose_number": 0},  # invalid payload
        correction,  # voids a dose of this very batch
        retraction,
        _dose(site, citizen.id, appointment_id=str(uuid7()), vial_id=str(uuid7())),
    ]
    return [_record(p, seq) for seq, p in enumerate(payloads, start=1)]


def _one_by_one(world: World, site: SiteClient, records: list[WireRecord]) -> list[Any]:
    """What each record's per-record handler answers applied alone, in order (rolled back)."""
    answers = []
    with world.hub.sessions() as session, session.begin():
        ctx = ApplyContext(session, site.site_id, NOW)
        for record in records:
            outcome = registry()[record.kind].handler(ctx, record)
            answers.append((outcome.status, outcome.reason))
        session.rollback()
    return answers


def test_a_batch_answers_each_record_as_one_by_one_would(world: World) -> None:
    site = world.add_site("PB-01")
    records = _mixed_batch(world, site)
    expected = _one_by_one(world, site, records)
    with world.hub.sessions() as session, session.begin():
        response = push_batch(session, site.site_id, _request(records), now=NOW)
    assert [(r.status, r.reason) for r in response.results] == expected
    assert [r.id for r in response.results] == [r.id for r in records]
    assert [(r.status, r.reason) for r in response.results] == [
        (RecordStatus.APPLIED, None),
        (RecordStatus.DUPLICATE, None),
        (RecordStatus.QUARANTINED, "conflicting_payload"),
        (RecordStatus.QUARANTINED, "unknown_citizen"),
        (RecordStatus.QUARANTINED, "unknown_nurse"),
        (RecordStatus.QUARANTINED, "unknown_lot"),
        (RecordStatus.QUARANTINED, "unknown_voided_dose"),
        (RecordStatus.QUARANTINED, "correction_without_reason"),
        (RecordStatus.QUARANTINED, "invalid_payload"),
        (RecordStatus.APPLIED, None),
        (RecordStatus.APPLIED, None),
        (RecordStatus.APPLIED, None),
    ]
    with world.hub.read_sessions() as session:
        stored = {
            row.id: row for row in session.scalars(sa.select(DoseRecord).order_by(DoseRecord.id))
        }
        kinds = [stored[records[i].id].kind for i in (0, 9, 10)]
        last = stored[records[11].id]
        logged = session.execute(
            sa.select(ChangeLog.record_id, ChangeLog.audience_site_id).order_by(ChangeLog.seq)
        ).all()
        quarantined = session.scalar(sa.select(sa.func.count()).select_from(Quarantine))
    assert kinds == ["administered", "correction", "retraction"]
    assert (last.appointment_id, last.vial_id) == (None, None)  # unknown: kept in the payload
    doses = [r.id for i, r in enumerate(records) if i in (0, 9, 10, 11)]
    dose_entries = [(rid, aud) for rid, aud in logged if rid in set(doses)]
    # Each dose announced to its site first, then to the other site holding the citizen.
    other = world.sites["PB-02"].site_id
    assert dose_entries == [(d, s) for d in doses for s in (site.site_id, other)]
    assert quarantined == 7


def test_a_retried_batch_gets_the_stored_answer_and_applies_nothing(world: World) -> None:
    site = world.add_site("PB-01")
    records = _mixed_batch(world, site)
    with world.hub.sessions() as session, session.begin():
        first = push_batch(session, site.site_id, _request(records), now=NOW)
    logged = world.hub_count(ChangeLog)
    with world.hub.sessions() as session, session.begin():
        again = push_batch(session, site.site_id, _request(records), now=NOW + timedelta(minutes=1))
    assert again.replayed
    assert again.results == first.results
    assert world.hub_count(ChangeLog) == logged
    assert world.hub_count(DoseRecord) == 4


def test_doses_before_their_citizen_in_a_batch_still_find_it(world: World) -> None:
    site = world.add_site("PB-01")
    citizen_id = uuid7()
    stamp = site.hlc.now().encode()
    jmbg = new_jmbg(999)
    values = {
        "jmbg": jmbg,
        "first_name_latin": "Ana",
        "last_name_latin": "Anić",
        "first_name_cyrillic": "Ана",
        "last_name_cyrillic": "Анић",
        "birth_date": parse_jmbg(jmbg).birth_date.isoformat(),
        "sex": "F",
        "municipality": "Novi Sad",
        "priority_group": "general",
    }
    walk_in = {
        "values": values,
        "field_hlc": dict.fromkeys(values, stamp),
        "registered_at": NOW.isoformat(),
        "created_at": NOW.isoformat(),
    }
    doses = [_dose(site, citizen_id) for _ in range(3)]
    records = [
        _record(doses[0], 1),
        _record(doses[1], 2),
        _record(walk_in, 3, kind="citizen", record_id=citizen_id),
        _record(doses[2], 4),
    ]
    with world.hub.sessions() as session, session.begin():
        response = push_batch(session, site.site_id, _request(records), now=NOW)
    assert [r.status for r in response.results] == [RecordStatus.APPLIED] * 4
    with world.hub.read_sessions() as session:
        tables = list(
            session.scalars(
                sa.select(ChangeLog.table_name)
                .where(ChangeLog.table_name != "sites")
                .order_by(ChangeLog.seq)
            )
        )
    # The citizen is announced before its doses: a pulling site can hold them.
    assert tables == ["citizens", "dose_records", "dose_records", "dose_records"]


def _event(appointment_id: uuid.UUID, kind: str, minute: int, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(uuid7()),
        "appointment_id": str(appointment_id),
        "kind": kind,
        "occurred_at": (NOW + timedelta(minutes=minute)).isoformat(),
        "reason": None,
        "new_appointment_id": None,
        "recorded_by": None,
        "created_at": (NOW + timedelta(minutes=minute)).isoformat(),
    }
    payload.update(changes)
    return payload


def _status(world: World, appointment_id: uuid.UUID) -> str | None:
    with world.hub.read_sessions() as session:
        return session.scalar(
            sa.select(latest_kind())
            .select_from(Appointment)
            .where(Appointment.id == appointment_id)
        )


def test_a_batch_of_appointment_events_answers_each_as_one_by_one_would(world: World) -> None:
    site, other = world.add_site("PB-01"), world.add_site("PB-02")
    citizen = world.hub_citizen()
    mine = world.book(citizen.id, site)
    theirs = world.book(world.hub_citizen().id, other)
    done = _event(mine, "done", 9)
    checked_in = _event(mine, "checked_in", 1)
    payloads = [
        done,  # before its check-in on purpose: the status is by precedence
        checked_in,
        dict(done),  # the same event again: duplicate
        {**checked_in, "kind": "no_show"},  # same id, other details: conflict
        _event(uuid7(), "checked_in", 2),  # unknown appointment
        _event(theirs, "checked_in", 2),  # another site's appointment
        _event(mine, "rescheduled", 3, new_appointment_id=str(uuid7())),  # unknown new one
        {**_event(mine, "checked_in", 4), "kind": "vaccinated"},  # invalid payload
        _event(mine, "no_show", 5),  # after done: stored, the status stays done
    ]
    records = [_record(p, seq, kind="appointment_event") for seq, p in enumerate(payloads, 1)]
    expected = _one_by_one(world, site, records)
    with world.hub.sessions() as session, session.begin():
        response = push_batch(session, site.site_id, _request(records), now=NOW)
    assert [(r.status, r.reason) for r in response.results] == expected
    assert [(r.status, r.reason) for r in response.results] == [
        (RecordStatus.APPLIED, None),
        (RecordStatus.APPLIED, None),
        (RecordStatus.DUPLICATE, None),
        (RecordStatus.QUARANTINED, "conflicting_payload"),
        (RecordStatus.QUARANTINED, "unknown_appointment"),
        (RecordStatus.QUARANTINED, "other_site_appointment"),
        (RecordStatus.QUARANTINED, "unknown_appointment"),
        (RecordStatus.QUARANTINED, "invalid_payload"),
        (RecordStatus.APPLIED, None),
    ]
    assert _status(world, mine) == "done"
    assert _status(world, theirs) == "scheduled"
    applied = [records[i].id for i in (0, 1, 8)]
    with world.hub.read_sessions() as session:
        stored = session.scalars(
            sa.select(HubEvent).where(HubEvent.id.in_(applied)).order_by(HubEvent.id)
        ).all()
        logged = session.execute(
            sa.select(ChangeLog.record_id, ChangeLog.audience_site_id, ChangeLog.payload)
            .where(ChangeLog.table_name == "appointment_events", ChangeLog.record_id.in_(applied))
            .order_by(ChangeLog.seq)
        ).all()
    assert {row.created_by for row in stored} == {f"site:{site.site_id}"}
    assert {row.origin_site_id for row in stored} == {site.site_id}
    # Announced back to the site in batch order, as the hub's row (`upsert_change`).
    assert [(rid, aud) for rid, aud, _ in logged] == [(rid, site.site_id) for rid in applied]
    by_id = {row.id: row for row in stored}
    assert [payload for _, _, payload in logged] == [
        upsert_change(by_id[rid], audience_site_id=site.site_id).payload for rid in applied
    ]
    assert world.hub_count(Quarantine) == 5


@pytest.mark.postgres
def test_an_event_the_database_refuses_is_quarantined_alone(pg_url: str, tmp_path: Path) -> None:
    # PostgreSQL text refuses a NUL character (SQLite stores it): only there is it refused.
    world = World(pg_url, tmp_path)
    try:
        site = world.add_site("PB-01")
        appointment = world.book(world.hub_citizen().id, site)
        payloads = [
            _event(appointment, "checked_in", 1),
            _event(appointment, "no_show", 2, reason="nul \x00 byte"),
            _event(appointment, "done", 3),
        ]
        records = [_record(p, seq, kind="appointment_event") for seq, p in enumerate(payloads, 1)]
        with world.hub.sessions() as session, session.begin():
            response = push_batch(session, site.site_id, _request(records), now=NOW)
        assert [(r.status, r.reason) for r in response.results] == [
            (RecordStatus.APPLIED, None),
            (RecordStatus.QUARANTINED, "refused_by_database"),
            (RecordStatus.APPLIED, None),
        ]
        assert _status(world, appointment) == "done"
        with world.hub.read_sessions() as session:
            kept = session.scalars(sa.select(Quarantine)).one()
        # Kept for a person to read: the NUL the database refuses is shown as a symbol.
        assert kept.payload["payload"]["reason"] == "nul \u2400 byte"
        assert "NUL" in kept.detail
    finally:
        world.close()
