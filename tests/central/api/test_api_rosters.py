"""GET /v1/sites/{code}/roster: a site's day, for that site or central staff only."""

from __future__ import annotations

from datetime import date, time

from central.db import StaffRole
from central.services.enrolment import revoke_site
from tests.central.api.conftest import Api, sqlite_only

DAY = date(2021, 6, 2)
URL = "/v1/sites/{code}/roster?date=2021-06-02"


def _day_of_appointments(api: Api, count: int) -> list[str]:
    """`count` appointments at NS-1 on DAY, two per slot; returns their ids in roster order."""
    site = api.add_site("NS-1")
    ids = []
    for n in range(count):
        citizen = api.citizen(n, first_name_latin=f"Ana{n}")
        slot = time(8 + (n // 2) // 6, ((n // 2) % 6) * 10)
        ids.append(api.appointment(site, citizen, DAY, slot))
    ids.sort(key=lambda a: (a.slot_start, a.id))
    return [str(a.id) for a in ids]


def test_a_site_reads_its_own_roster(api: Api) -> None:
    expected = _day_of_appointments(api, 3)
    token = api.enrol(api.enrol_code("NS-1")).json()["credential"]["credential"]

    response = api.client.get(URL.format(code="NS-1"), headers=api.site_headers(token))

    assert response.status_code == 200, response.text
    page = response.json()
    assert page["site_code"] == "NS-1"
    assert page["day"] == "2021-06-02"
    assert [e["appointment_id"] for e in page["items"]] == expected
    first = page["items"][0]
    assert first["status"] == "scheduled"
    assert first["slot_start"] == "08:00:00"
    assert first["citizen"]["jmbg"].isdigit()
    assert first["citizen"]["first_name_cyrillic"] == "Љубица"
    assert page["next_cursor"] is None


def test_no_credential_is_401(api: Api) -> None:
    api.add_site("NS-1")
    response = api.client.get(URL.format(code="NS-1"))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.missing"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@sqlite_only
def test_a_garbage_credential_is_401(api: Api) -> None:
    api.add_site("NS-1")
    for token in ("imuno_site_not-a-real-one", "something-else", "x" * 500):
        response = api.client.get(
            URL.format(code="NS-1"), headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "auth.invalid"


def test_another_sites_roster_is_403(api: Api) -> None:
    _day_of_appointments(api, 2)
    other = api.enrolled_site("NS-2")

    existing = api.client.get(URL.format(code="NS-1"), headers=api.site_headers(other))
    missing = api.client.get(URL.format(code="NOPE"), headers=api.site_headers(other))

    assert existing.status_code == 403
    assert existing.json()["error"]["code"] == "auth.other_site"
    # The same answer whether or not the code exists: no probing of other sites.
    assert missing.status_code == 403


def test_a_revoked_credential_is_401(api: Api) -> None:
    token = api.enrolled_site("NS-1")
    revoke_site(api.hub, "NS-1", actor="test")

    response = api.client.get(URL.format(code="NS-1"), headers=api.site_headers(token))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.revoked"


def test_central_staff_read_any_roster(api: Api) -> None:
    expected = _day_of_appointments(api, 2)
    viewer = api.staff_token(StaffRole.CENTRAL_VIEWER)

    response = api.client.get(URL.format(code="NS-1"), headers=api.staff_headers(viewer))
    unknown = api.client.get(URL.format(code="NOPE"), headers=api.staff_headers(viewer))

    assert [e["appointment_id"] for e in response.json()["items"]] == expected
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "sites.unknown"


def test_pages_cover_the_day_exactly_once(api: Api) -> None:
    expected = _day_of_appointments(api, 11)
    token = api.enrol(api.enrol_code("NS-1")).json()["credential"]["credential"]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"date": DAY.isoformat(), "limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = api.client.get(
            "/v1/sites/NS-1/roster", params=params, headers=api.site_headers(token)
        ).json()
        seen += [e["appointment_id"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == expected
    assert pages == 3


@sqlite_only
def test_a_forged_cursor_is_422(api: Api) -> None:
    token = api.enrolled_site("NS-1")
    for cursor in ("not-base64!", "WzFd", "W1siYSIsImIiXV0"):
        response = api.client.get(
            "/v1/sites/NS-1/roster",
            params={"date": DAY.isoformat(), "cursor": cursor},
            headers=api.site_headers(token),
        )
        assert response.status_code == 422, cursor
        assert response.json()["error"]["fields"][0]["field"] == "cursor"


def test_the_status_follows_the_latest_event(api: Api) -> None:
    site = api.add_site("NS-1")
    appointment = api.appointment(site, api.citizen(1), DAY, time(9, 0))
    admin = api.staff_token()
    api.client.post(
        f"/v1/appointments/{appointment.id}/cancel",
        json={"reason": "site closed for repairs"},
        headers=api.staff_headers(admin),
    )

    page = api.client.get(URL.format(code="NS-1"), headers=api.staff_headers(admin)).json()

    assert [e["status"] for e in page["items"]] == ["cancelled"]
