"""Citizens whose appointment fell through are booked again by the next run:
a rebooking request at the hub, and a no-show or a rebooking request pushed by
the site; the schedule status follows (booked, waiting, booked again).
(Cancellation: `test_scheduling_run.test_a_cancelled_appointment_is_rebooked_by_the_next_run`.)"""

# The served-hub fixtures live in tests/central/api/conftest.py; they are imported
# below, so test arguments named after them "redefine" the imported names.
# ruff: noqa: F811

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from central.db import Citizen
from central.scheduling.run import run_schedule
from domain.ids import uuid7
from domain.sync_wire import IDEMPOTENCY_HEADER, PushRequest, WireRecord
from tests.central.api.conftest import (  # noqa: F401
    NOW,
    Api,
    _migrated_templates,
    api,
    api_factory,
    migrated_db_url,
)
from tests.central.test_scheduling_run import DAYS, START, _appointments, _world


def _status(api: Api, citizen: Citizen) -> dict[str, Any]:
    staff = api.staff_headers(api.staff_token())
    response = api.client.get(f"/v1/citizens/{citizen.id}/schedule-status", headers=staff)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _push_event(api: Api, token: str, appointment_id: uuid.UUID, kind: str) -> None:
    """The site reports `kind` for the appointment, as its sync engine would."""
    at = datetime.combine(START, time(18, 0), tzinfo=UTC)
    event = {
        "id": str(uuid7()),
        "appointment_id": str(appointment_id),
        "kind": kind,
        "occurred_at": at.isoformat(),
        "reason": "did not come" if kind == "no_show" else "asked for another day",
        "new_appointment_id": None,
        "recorded_by": None,
        "created_at": at.isoformat(),
    }
    record = WireRecord(
        kind="appointment_event",
        id=uuid.UUID(event["id"]),
        op="insert",
        outbox_seq=1,
        payload=event,
    )
    request = PushRequest(
        idempotency_key=f"rebook-{event['id']}",
        first_seq=1,
        last_seq=1,
        records=[record],
        sent_at=NOW,
        backlog=1,
        client_version="test/1",
    )
    response = api.client.post(
        "/v1/sync/push",
        json=request.model_dump(mode="json"),
        headers={**api.site_headers(token), IDEMPOTENCY_HEADER: request.idempotency_key},
    )
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["applied"]


def _rebooked(api: Api, citizen: Citizen, old_id: uuid.UUID) -> None:
    """The next run books the citizen again, and the status names the new appointment."""
    assert _status(api, citizen)["state"] == "waiting"

    rerun = run_schedule(api.hub, START + timedelta(days=1), DAYS, actor="operator:test")

    assert rerun.appointments == 1
    old, new = _appointments(api, citizen)
    assert old.id == old_id
    assert new.id != old_id
    assert new.day == START + timedelta(days=1)
    status = _status(api, citizen)
    assert status["state"] == "booked"
    assert status["appointment"]["appointment_id"] == str(new.id)


def test_a_rebooking_request_at_the_hub_is_booked_again(api: Api) -> None:
    _, people = _world(api)
    run_schedule(api.hub, START, DAYS, actor="operator:test")
    (old,) = _appointments(api, people["nurse"])
    assert _status(api, people["nurse"])["appointment"]["appointment_id"] == str(old.id)
    admin = api.staff_headers(api.staff_token())

    marked = api.client.post(
        f"/v1/appointments/{old.id}/rebook", json={"reason": "asked by phone"}, headers=admin
    )

    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "rebook_requested"
    _rebooked(api, people["nurse"], old.id)


@pytest.mark.parametrize("kind", ["no_show", "rebook_requested"])
def test_a_no_show_or_request_pushed_by_the_site_is_booked_again(api: Api, kind: str) -> None:
    token, people = _world(api)
    run_schedule(api.hub, START, DAYS, actor="operator:test")
    (old,) = _appointments(api, people["nurse"])

    _push_event(api, token, old.id, kind)

    _rebooked(api, people["nurse"], old.id)


def test_a_kept_appointment_is_not_booked_again(api: Api) -> None:
    token, people = _world(api)
    run_schedule(api.hub, START, DAYS, actor="operator:test")
    (old,) = _appointments(api, people["nurse"])

    _push_event(api, token, old.id, "checked_in")
    rerun = run_schedule(api.hub, START + timedelta(days=1), DAYS, actor="operator:test")

    assert rerun.appointments == 0
    assert [a.id for a in _appointments(api, people["nurse"])] == [old.id]
