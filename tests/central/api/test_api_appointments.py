"""Appointments for central staff: cancel, reschedule, mark for rebooking, with reasons."""

from __future__ import annotations

import uuid
from datetime import date, time

from sqlalchemy import select

from central.db import Appointment, AppointmentEvent, ChangeLog, Site, StaffRole
from domain.wire import payload_hash
from tests.central.api.conftest import Api, sqlite_only

DAY = date(2021, 6, 2)  # a Wednesday, the day after the tests' "now"


def _booked(api: Api, **site_fields: object) -> tuple[Site, Appointment, str]:
    site = api.add_site("NS-1", **site_fields)
    appointment = api.appointment(site, api.citizen(1), DAY, time(9, 0))
    return site, appointment, api.staff_token()


def test_cancel_records_the_reason_and_tells_the_site(api: Api) -> None:
    site, appointment, admin = _booked(api)

    response = api.client.post(
        f"/v1/appointments/{appointment.id}/cancel",
        json={"reason": "vaccinator ill"},
        headers=api.staff_headers(admin),
    )

    assert response.status_code == 200, response.text
    got = response.json()
    assert got["status"] == "cancelled"
    assert got["events"][-1]["kind"] == "cancelled"
    assert got["events"][-1]["reason"] == "vaccinator ill"
    assert got["events"][-1]["created_by"].startswith("staff:")
    with api.hub.sessions() as session:
        event = session.scalars(
            select(AppointmentEvent).where(AppointmentEvent.kind == "cancelled")
        ).one()
        change = session.scalars(
            select(ChangeLog).where(ChangeLog.table_name == "appointment_events")
        ).one()
    assert change.audience_site_id == site.id
    assert change.record_id == event.id
    assert change.payload is not None
    assert change.payload["reason"] == "vaccinator ill"
    assert len(event.payload_hash) == 64


def test_cancelling_twice_is_a_conflict(api: Api) -> None:
    _, appointment, admin = _booked(api)
    url = f"/v1/appointments/{appointment.id}/cancel"
    api.client.post(url, json={"reason": "first"}, headers=api.staff_headers(admin))

    again = api.client.post(url, json={"reason": "second"}, headers=api.staff_headers(admin))

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "appointments.wrong_state"


def test_viewers_and_sites_cannot_change_appointments(api: Api) -> None:
    _, appointment, _ = _booked(api)
    viewer = api.staff_token(StaffRole.CENTRAL_VIEWER)
    site = api.enrol(api.enrol_code("NS-1")).json()["credential"]["credential"]
    url = f"/v1/appointments/{appointment.id}/cancel"

    as_viewer = api.client.post(url, json={"reason": "no"}, headers=api.staff_headers(viewer))
    as_site = api.client.post(url, json={"reason": "no"}, headers=api.site_headers(site))

    assert as_viewer.status_code == 403
    assert as_viewer.json()["error"]["code"] == "auth.admin_only"
    assert as_site.status_code == 403
    # The site may read its own appointment, though.
    mine = api.client.get(f"/v1/appointments/{appointment.id}", headers=api.site_headers(site))
    assert mine.status_code == 200


@sqlite_only
def test_a_reason_is_required(api: Api) -> None:
    _, appointment, admin = _booked(api)
    response = api.client.post(
        f"/v1/appointments/{appointment.id}/cancel", json={}, headers=api.staff_headers(admin)
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "reason"


def test_mark_for_rebooking(api: Api) -> None:
    _, appointment, admin = _booked(api)

    response = api.client.post(
        f"/v1/appointments/{appointment.id}/rebook",
        json={"reason": "site flooded"},
        headers=api.staff_headers(admin),
    )

    assert response.status_code == 200
    assert response.json()["status"] == "rebook_requested"


def test_reschedule_moves_the_appointment_and_links_both(api: Api) -> None:
    site, appointment, admin = _booked(api)
    other = api.add_site("NS-2")

    response = api.client.post(
        f"/v1/appointments/{appointment.id}/reschedule",
        json={"day": "2021-06-03", "slot_start": "10:20", "site_code": "NS-2", "reason": "closer"},
        headers=api.staff_headers(admin),
    )

    assert response.status_code == 200, response.text
    new = response.json()
    assert new["site_code"] == "NS-2"
    assert new["day"] == "2021-06-03"
    assert new["slot_start"] == "10:20:00"
    assert new["status"] == "scheduled"
    assert new["replaces_appointment_id"] == str(appointment.id)
    old = api.client.get(
        f"/v1/appointments/{appointment.id}", headers=api.staff_headers(admin)
    ).json()
    assert old["status"] == "rescheduled"
    assert old["events"][-1]["new_appointment_id"] == new["id"]
    with api.hub.sessions() as session:
        audiences = {(c.table_name, c.audience_site_id) for c in session.scalars(select(ChangeLog))}
    assert ("appointment_events", site.id) in audiences
    assert ("appointments", other.id) in audiences
    assert ("citizens", other.id) in audiences


def test_reschedule_checks_the_slot(api: Api) -> None:
    site, appointment, admin = _booked(api, vaccinators=1)
    full = api.appointment(site, api.citizen(2), DAY, time(9, 10))
    url = f"/v1/appointments/{appointment.id}/reschedule"

    def move(day: str, slot: str) -> str:
        response = api.client.post(
            url, json={"day": day, "slot_start": slot, "reason": "test"},
            headers=api.staff_headers(admin),
        )  # fmt: skip
        assert response.status_code == 409, response.text
        code: str = response.json()["error"]["code"]
        return code

    assert move("2021-06-02", "09:10") == "appointments.slot_full"
    assert move("2021-06-02", "09:05") == "appointments.slot_not_offered"
    assert move("2021-06-02", "19:55") == "appointments.slot_not_offered"
    assert move("2021-05-31", "09:00") == "appointments.slot_in_past"
    assert move("2021-06-02", "09:00") == "appointments.same_slot"
    # A cancelled appointment frees its place.
    api.client.post(
        f"/v1/appointments/{full.id}/cancel", json={"reason": "freed"},
        headers=api.staff_headers(admin),
    )  # fmt: skip
    freed = api.client.post(
        url, json={"day": "2021-06-02", "slot_start": "09:10", "reason": "test"},
        headers=api.staff_headers(admin),
    )  # fmt: skip
    assert freed.status_code == 200, freed.text


def test_reschedule_to_a_site_without_the_product_is_refused(api: Api) -> None:
    _, appointment, admin = _booked(api)
    api.add_site("NS-2", products=["spikevax"])

    response = api.client.post(
        f"/v1/appointments/{appointment.id}/reschedule",
        json={"day": "2021-06-03", "slot_start": "10:00", "site_code": "NS-2", "reason": "nearer"},
        headers=api.staff_headers(admin),
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "appointments.product_not_stocked"


def test_another_site_cannot_see_the_appointment(api: Api) -> None:
    _, appointment, _ = _booked(api)
    other = api.enrolled_site("NS-2")

    response = api.client.get(f"/v1/appointments/{appointment.id}", headers=api.site_headers(other))

    assert response.status_code == 404


def test_listing_pages_through_filters(api: Api) -> None:
    site = api.add_site("NS-1")
    made = sorted(
        (api.appointment(site, api.citizen(n), DAY, time(8 + n, 0)) for n in range(5)),
        key=lambda a: (a.slot_start, a.id),
    )
    admin = api.staff_token(StaffRole.CENTRAL_VIEWER)
    ids: list[str] = []
    params: dict[str, str | int] = {"site_code": "NS-1", "date": DAY.isoformat(), "limit": 2}
    while True:
        page = api.client.get("/v1/appointments", params=params, headers=api.staff_headers(admin))
        assert page.status_code == 200, page.text
        ids += [a["id"] for a in page.json()["items"]]
        if page.json()["next_cursor"] is None:
            break
        params["cursor"] = page.json()["next_cursor"]

    assert ids == [str(a.id) for a in made]
    by_citizen = api.client.get(
        "/v1/appointments", params={"citizen_id": str(made[0].citizen_id)},
        headers=api.staff_headers(admin),
    ).json()  # fmt: skip
    assert [a["id"] for a in by_citizen["items"]] == [str(made[0].id)]


@sqlite_only
def test_unknown_appointment_is_404(api: Api) -> None:
    admin = api.staff_token()
    response = api.client.post(
        f"/v1/appointments/{uuid.uuid4()}/cancel", json={"reason": "abc"},
        headers=api.staff_headers(admin),
    )  # fmt: skip
    assert response.status_code == 404


def test_event_hashes_are_of_the_canonical_payload() -> None:
    payload = {"b": 1, "a": "ž"}
    assert payload_hash(payload) == payload_hash({"a": "ž", "b": 1})
    assert payload_hash(payload) != payload_hash({"a": "z", "b": 1})
