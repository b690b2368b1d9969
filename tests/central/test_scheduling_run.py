"""``imuno-hub schedule`` end to end: database -> scheduler -> appointments, pulls,
invitations and schedule status, through the real hub on both engines."""

# The served-hub fixtures live in tests/central/api/conftest.py; they are imported
# below, so test arguments named after them "redefine" the imported names.
# ruff: noqa: F811

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from central.cli import app as cli_app
from central.db import (
    Appointment,
    AppointmentEvent,
    Citizen,
    Lot,
    NotificationOutbox,
    SchedulerRun,
    Site,
    StockMovement,
)
from central.scheduling.run import run_schedule
from central.services.records import row_payload
from domain.ids import uuid7
from tests.central.api.conftest import (  # noqa: F401
    NOW,
    Api,
    _migrated_templates,
    api,
    api_factory,
    migrated_db_url,
)

# The hub served for real, with its fixtures (both engines via migrated_db_url).
from tests.central.conftest import Rows

START = date(2021, 6, 2)  # the Wednesday after the tests' "now"; rules 2021.03 in force
DAYS = 3


def _stock(api: Api, site: Site, product: str, vials: int) -> None:
    """Vials of `product` received at `site` (one lot)."""
    with api.hub.sessions() as session, session.begin():
        lot = Lot(
            id=uuid7(),
            gtin="09520000000017",
            lot_number=f"L{uuid.uuid4().hex[:8]}",
            product_id=product,
            expiry=date(2021, 12, 31),
            created_at=NOW,
            created_by="test",
        )
        session.add(lot)
        session.flush()
        session.add(
            StockMovement(
                kind="receipt",
                occurred_at=NOW,
                from_location="warehouse",
                to_location=f"site:{site.id}",
                lot_id=lot.id,
                quantity_vials=vials,
                created_at=NOW,
                created_by="test",
                stored_at=NOW,
            )
        )


def _world(api: Api) -> tuple[str, dict[str, Citizen]]:
    """One enrolled site with Comirnaty; a health worker with phone and e-mail, one
    with e-mail only, and a general-population citizen (no start date yet under the March rules)."""
    token = api.enrolled_site("NS-001", name="Dom zdravlja Novi Sad")
    with api.hub.sessions() as session:
        site = session.scalars(select(Site)).one()
    _stock(api, site, "comirnaty", 10)
    people = {
        "nurse": api.citizen(1, priority_group="health-workers", email="ljubica@example.rs"),
        "doctor": api.citizen(
            2, priority_group="health-workers", phone=None, email="dr@example.rs",
            registered_at=NOW + timedelta(minutes=1),
        ),
        "general": api.citizen(3, priority_group="general"),
    }  # fmt: skip
    return token, people


def _appointments(api: Api, citizen: Citizen) -> list[Appointment]:
    with api.hub.sessions() as session:
        return list(
            session.scalars(
                select(Appointment)
                .where(Appointment.citizen_id == citizen.id)
                .order_by(Appointment.created_at, Appointment.id)
            )
        )


def test_a_run_books_announces_and_invites(api: Api) -> None:
    token, people = _world(api)

    summary = run_schedule(api.hub, START, DAYS, actor="operator:test")

    assert summary.appointments == 2
    assert summary.unbooked == {"ineligible": 1}
    assert {(b.group, b.product, b.appointments) for b in summary.booked} == {
        ("health-workers", "comirnaty", 2)
    }
    (first,) = _appointments(api, people["nurse"])
    (second,) = _appointments(api, people["doctor"])
    assert _appointments(api, people["general"]) == []
    # Earlier registration first, both in the first slot of the first day (2 vaccinators).
    assert (first.day, first.slot_start, first.dose_number) == (START, time(8, 0), 1)
    assert (second.day, second.slot_start) == (START, time(8, 0))
    assert first.scheduler_run_id == summary.run_id
    with api.hub.sessions() as session:
        run = session.get_one(SchedulerRun, summary.run_id)
        kinds = session.scalars(
            select(AppointmentEvent.kind).where(AppointmentEvent.appointment_id == first.id)
        ).all()
        notices = session.scalars(
            select(NotificationOutbox).order_by(NotificationOutbox.channel)
        ).all()
    assert run.status == "succeeded"
    assert run.summary is not None
    assert run.summary["appointments"] == 2
    assert kinds == ["scheduled"]
    # SMS and e-mail for the nurse, e-mail only for the doctor (no phone).
    assert sorted((n.channel, n.citizen_id == first.citizen_id) for n in notices) == [
        ("email", False), ("email", True), ("sms", True),
    ]  # fmt: skip
    sms = next(n for n in notices if n.channel == "sms")
    email = next(n for n in notices if n.channel == "email" and n.citizen_id == first.citizen_id)
    assert sms.status == "pending"
    assert sms.recipient == "+381641234567"
    assert len(sms.body) <= 160
    assert sms.body.isascii()
    assert sms.body.startswith("Termin za vakcinaciju 02.06.2021. u 08:00")
    assert str(first.id) in sms.body
    assert "Comirnaty" in sms.body
    assert "Šifra termina: " + str(first.id) in email.body
    assert "Dom zdravlja Novi Sad" in email.body
    assert "Poštovani/a Ljubica Đorđević" in email.body

    # The site's next pull brings the citizens, appointments and their events.
    pulled = api.client.get("/v1/sync/pull", headers=api.site_headers(token)).json()
    tables = [(c["table"], c["record_id"]) for c in pulled["changes"]]
    assert ("citizens", str(first.citizen_id)) in tables
    assert ("appointments", str(first.id)) in tables
    assert tables.index(("citizens", str(first.citizen_id))) < tables.index(
        ("appointments", str(first.id))
    )
    assert sum(1 for t, _ in tables if t == "appointment_events") == 2
    with api.hub.sessions() as session:
        nurse = session.get_one(Citizen, first.citizen_id)
        expected = row_payload(nurse)
    pulled_citizen = next(c for c in pulled["changes"] if c["record_id"] == str(nurse.id))
    assert pulled_citizen["payload"] == expected
    assert pulled_citizen["hlc"] == nurse.hlc


def test_schedule_status_gives_the_appointment_or_the_reason(api: Api) -> None:
    _, people = _world(api)
    run_schedule(api.hub, START, DAYS, actor="operator:test")
    staff = api.staff_headers(api.staff_token())
    (booked,) = _appointments(api, people["nurse"])

    ok = api.client.get(f"/v1/citizens/{people['nurse'].id}/schedule-status", headers=staff)
    refused = api.client.get(
        f"/v1/citizens/{people['general'].id}/schedule-status",
        headers={**staff, "Accept-Language": "sr-Latn"},
    )
    unknown = api.client.get(f"/v1/citizens/{uuid7()}/schedule-status", headers=staff)
    anonymous = api.client.get(f"/v1/citizens/{people['nurse'].id}/schedule-status")

    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "booked"
    assert ok.json()["appointment"]["appointment_id"] == str(booked.id)
    assert ok.json()["appointment"]["site_code"] == "NS-001"
    assert ok.json()["appointment"]["slot_start"] == "08:00:00"
    body = refused.json()
    assert (body["state"], body["reason"], body["rule"]) == (
        "not_booked", "ineligible", "eligibility.group_not_scheduled",
    )  # fmt: skip
    assert body["message"].startswith("Pravilo podobnosti")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "scheduling.unknown_citizen"
    assert anonymous.status_code == 401


def test_running_again_books_nobody_twice(api: Api) -> None:
    _world(api)
    run_schedule(api.hub, START, DAYS, actor="operator:test")

    again = run_schedule(api.hub, START, DAYS, actor="operator:test")

    assert again.appointments == 0
    assert again.waiting == 1  # only the ineligible citizen is still waiting
    with api.hub.sessions() as session:
        total = session.scalar(select(func.count()).select_from(Appointment))
        notices = session.scalar(select(func.count()).select_from(NotificationOutbox))
    assert total == 2
    assert notices == 3


def test_a_cancelled_appointment_is_rebooked_by_the_next_run(api: Api) -> None:
    _, people = _world(api)
    run_schedule(api.hub, START, DAYS, actor="operator:test")
    (old,) = _appointments(api, people["nurse"])
    admin = api.staff_headers(api.staff_token())
    cancelled = api.client.post(
        f"/v1/appointments/{old.id}/cancel", json={"reason": "citizen ill"}, headers=admin
    )
    assert cancelled.status_code == 200, cancelled.text
    waiting = api.client.get(f"/v1/citizens/{people['nurse'].id}/schedule-status", headers=admin)
    assert waiting.json()["state"] == "waiting"

    rerun = run_schedule(api.hub, START, DAYS, actor="operator:test")

    assert rerun.appointments == 1
    old_again, new = _appointments(api, people["nurse"])
    assert old_again.id == old.id
    assert new.id != old.id
    # The freed place is offered again: the first slot, beside the doctor.
    assert (new.day, new.slot_start) == (START, time(8, 0))
    status = api.client.get(f"/v1/citizens/{people['nurse'].id}/schedule-status", headers=admin)
    assert status.json()["appointment"]["appointment_id"] == str(new.id)


def _doses(api: Api, citizen: Citizen, site: Site, *given: date) -> None:
    """Comirnaty doses 1, 2, ... recorded at `site` on the `given` days (noon UTC)."""
    with api.hub.sessions() as session, session.begin():
        rows = Rows(session)
        nurse = rows.nurse(site)
        lot = rows.lot()
        for number, day in enumerate(given, start=1):
            rows.dose(
                citizen, site, nurse, lot, id=uuid7(), dose_number=number,
                administered_at=datetime.combine(day, time(12), UTC),
            )  # fmt: skip


def test_a_second_dose_is_booked_where_the_first_was_given(api: Api) -> None:
    first_site = api.add_site("NS-001")
    other = api.add_site("NS-002")
    for site in (first_site, other):
        _stock(api, site, "comirnaty", 5)
    citizen = api.citizen(1, priority_group="health-workers")
    _doses(api, citizen, first_site, date(2021, 5, 10))

    summary = run_schedule(api.hub, START, DAYS, actor="operator:test")

    assert summary.appointments == 1
    (booked,) = _appointments(api, citizen)
    assert (booked.dose_number, booked.product_id, booked.site_id) == (
        2,
        "comirnaty",
        first_site.id,
    )
    assert booked.day == START  # 21 days after dose 1 had passed by the start


def test_a_completed_series_is_not_booked_and_says_so(api: Api) -> None:
    site = api.add_site("NS-001")
    _stock(api, site, "comirnaty", 5)
    citizen = api.citizen(1, priority_group="health-workers")
    _doses(api, citizen, site, date(2021, 4, 1), date(2021, 4, 25))

    summary = run_schedule(api.hub, START, DAYS, actor="operator:test")

    assert summary.waiting == 0
    status = api.client.get(
        f"/v1/citizens/{citizen.id}/schedule-status",
        headers=api.staff_headers(api.staff_token()),
    )
    assert status.json()["state"] == "complete"


def test_stock_bounds_the_bookings(api: Api) -> None:
    """One vial of six doses: the seventh health worker is told there is no stock."""
    api.add_site("NS-001")
    with api.hub.sessions() as session:
        site = session.scalars(select(Site)).one()
    _stock(api, site, "comirnaty", 1)
    for n in range(7):
        api.citizen(10 + n, priority_group="health-workers", vaccine_preferences=["comirnaty"])

    summary = run_schedule(api.hub, START, DAYS, actor="operator:test")

    assert summary.appointments == 6
    assert summary.unbooked == {"no_stock": 1}
    assert summary.stock_doses == 6


def test_the_command_prints_the_summary(api: Api) -> None:
    _world(api)
    url = api.hub.engine.url.render_as_string(hide_password=False)

    result = CliRunner().invoke(
        cli_app, ["schedule", "--start", START.isoformat(), "--days", str(DAYS), "--db", url]
    )

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "appointments: 2" in out
    assert "GROUP" in out
    assert "health-workers" in out
    assert "comirnaty" in out
    assert "ineligible" in out
    assert "fill rate:" in out


def test_the_command_refuses_a_bad_horizon(api: Api) -> None:
    url = api.hub.engine.url.render_as_string(hide_password=False)

    result = CliRunner().invoke(
        cli_app, ["schedule", "--start", START.isoformat(), "--days", "400", "--db", url]
    )

    assert result.exit_code == 1
    assert "between 1 and 60" in result.stderr
