"""/v1/admin/conflicts and /v1/admin/quarantine: staff read, admins act, sites are refused."""

from __future__ import annotations

import uuid

from central.db import ConflictLog, Quarantine, StaffRole
from domain.ids import uuid7
from tests.central.api.conftest import Api


def _conflict(api: Api) -> uuid.UUID:
    citizen = api.citizen(1)
    entry_id = uuid7()
    now = api.clock.now()
    with api.hub.sessions() as session, session.begin():
        session.add(
            ConflictLog(
                id=entry_id,
                citizen_id=citizen.id,
                field_name="first_name_latin",
                kept_value="Ljubica",
                kept_hlc=citizen.hlc,
                kept_origin_site_id=None,
                lost_value="Ljubinka",
                lost_hlc=citizen.hlc,
                lost_origin_site_id=None,
                detected_at=now,
            )
        )
    return entry_id


def _quarantined(api: Api, site_code: str) -> uuid.UUID:
    site = api.add_site(site_code)
    row_id = uuid7()
    with api.hub.sessions() as session, session.begin():
        session.add(
            Quarantine(
                id=row_id,
                site_id=site.id,
                batch_id=None,
                table_name="dose_records",
                record_id="not-a-uuid",
                payload={"kind": "dose_record", "id": "not-a-uuid", "payload": {}},
                reason_code="invalid_payload",
                detail="id is not a UUID",
                received_at=api.clock.now(),
            )
        )
    return row_id


def test_staff_list_and_an_admin_restores_a_conflict(api: Api) -> None:
    entry_id = _conflict(api)
    viewer = api.staff_headers(api.staff_token(StaffRole.CENTRAL_VIEWER))
    admin = api.staff_headers(api.staff_token())

    listed = api.client.get("/v1/admin/conflicts", headers=viewer)
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert (item["id"], item["kept_value"], item["lost_value"]) == (
        str(entry_id),
        "Ljubica",
        "Ljubinka",
    )
    body = {"action": "restore", "note": "passport checked"}
    refused = api.client.post(f"/v1/admin/conflicts/{entry_id}/resolve", json=body, headers=viewer)
    assert refused.status_code == 403

    done = api.client.post(f"/v1/admin/conflicts/{entry_id}/resolve", json=body, headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["current_value"] == "Ljubinka"
    again = api.client.post(f"/v1/admin/conflicts/{entry_id}/resolve", json=body, headers=admin)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "review.conflict_resolved"
    assert api.client.get("/v1/admin/conflicts", headers=viewer).json()["items"] == []
    missing = api.client.post(f"/v1/admin/conflicts/{uuid7()}/resolve", json=body, headers=admin)
    assert missing.status_code == 404


def test_a_set_without_a_value_is_refused_before_anything_happens(api: Api) -> None:
    entry_id = _conflict(api)
    admin = api.staff_headers(api.staff_token())

    response = api.client.post(
        f"/v1/admin/conflicts/{entry_id}/resolve",
        json={"action": "set", "note": "x"},
        headers=admin,
    )

    assert response.status_code == 422
    listed = api.client.get("/v1/admin/conflicts", headers=admin).json()["items"]
    assert [i["resolved_at"] for i in listed] == [None]


def test_quarantine_is_listed_by_site_retried_and_dismissed(api: Api) -> None:
    row_id = _quarantined(api, "QR-01")
    _quarantined(api, "QR-02")
    admin = api.staff_headers(api.staff_token())

    listed = api.client.get("/v1/admin/quarantine", params={"site": "QR-01"}, headers=admin)
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert (item["id"], item["reason_code"], item["retryable"]) == (
        str(row_id),
        "invalid_payload",
        False,
    )
    retried = api.client.post(f"/v1/admin/quarantine/{row_id}/retry", headers=admin)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "still_quarantined"
    # A filtered retry takes only retryable reasons: nothing here.
    matched = api.client.post(
        "/v1/admin/quarantine/retry", json={"site_code": "QR-01"}, headers=admin
    )
    assert matched.status_code == 200
    assert matched.json()["items"] == []
    dismissed = api.client.post(
        f"/v1/admin/quarantine/{row_id}/dismiss", json={"note": "a broken test push"}, headers=admin
    )
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["resolution"] == "dismissed: a broken test push"
    remaining = api.client.get("/v1/admin/quarantine", headers=admin).json()["items"]
    assert [i["site_code"] for i in remaining] == ["QR-02"]


def test_a_site_credential_cannot_review(api: Api) -> None:
    token = api.enrolled_site("QR-03")

    response = api.client.get("/v1/admin/quarantine", headers=api.site_headers(token))

    assert response.status_code == 403


def test_pages_follow_the_cursor_and_a_forged_cursor_is_a_clear_error(api: Api) -> None:
    for code in ("QP-01", "QP-02", "QP-03"):
        _quarantined(api, code)
    admin = api.staff_headers(api.staff_token())

    first = api.client.get("/v1/admin/quarantine", params={"limit": 2}, headers=admin).json()
    rest = api.client.get(
        "/v1/admin/quarantine", params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin
    ).json()
    forged = api.client.get(
        "/v1/admin/quarantine", params={"cursor": "WyJub3QtYS11dWlkIl0"}, headers=admin
    )

    codes = [i["site_code"] for i in first["items"] + rest["items"]]
    assert codes == ["QP-03", "QP-02", "QP-01"]
    assert rest["next_cursor"] is None
    assert forged.status_code == 422
    assert forged.json()["error"]["code"] == "hub.invalid_request"
