"""POST/GET/DELETE /v1/registrations: the intake the citizens' portal calls."""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import Any

from sqlalchemy import func, select

from central.db import AppointmentEvent, AuditLog, ChangeLog, Citizen, Registration
from tests.central.api.conftest import Api, new_jmbg, sqlite_only


def body(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "jmbg": new_jmbg(10),
        "first_name": "Љубица",
        "last_name": "Đorđević",
        "phone": "+381 64 123 4567",
        "municipality": "Novi Sad",
        "conditions": ["diabetes"],
        "vaccine_preferences": ["comirnaty", "spikevax"],
    }
    values.update(fields)
    return values


def test_a_new_registration_stores_the_person_in_both_scripts(api: Api) -> None:
    response = api.client.post("/v1/registrations", json=body(priority_claim="education-workers"))

    assert response.status_code == 201, response.text
    got = response.json()
    assert got["status"] == "active"
    assert got["first_name_latin"] == "Ljubica"
    assert got["first_name_cyrillic"] == "Љубица"
    assert got["last_name_cyrillic"] == "Ђорђевић"
    assert got["birth_date"] == "1960-05-27"
    assert got["sex"] == "F"
    assert got["phone"] == "+381641234567"
    assert got["jmbg_masked"] == new_jmbg(10)[:7] + "******"
    assert got["priority_claim"] == "education-workers"
    # Diabetes at 61 qualifies for the chronic-conditions group, ranked above education.
    assert got["priority_group"] == "chronic-conditions"
    assert got["vaccine_preferences"] == ["comirnaty", "spikevax"]
    with api.hub.sessions() as session:
        citizen = session.scalars(select(Citizen)).one()
        assert citizen.jmbg == new_jmbg(10)
        assert set(citizen.field_hlc) >= {"phone", "first_name_latin"}


def test_registering_the_same_jmbg_again_updates_that_person(api: Api) -> None:
    first = api.client.post("/v1/registrations", json=body())
    second = api.client.post(
        "/v1/registrations", json=body(phone="064 765 4321", conditions=[], first_name="Ana")
    )

    assert first.status_code == 201
    assert second.status_code == 200, second.text
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["citizen_id"] == first.json()["citizen_id"]
    assert second.json()["phone"] == "0647654321"
    assert second.json()["first_name_cyrillic"] == "Ана"
    with api.hub.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Citizen)) == 1
        assert session.scalar(select(func.count()).select_from(Registration)) == 1
        citizen = session.scalars(select(Citizen)).one()
        # Changed fields carry a newer clock stamp than unchanged ones.
        assert citizen.field_hlc["phone"] > citizen.field_hlc["municipality"]
        assert citizen.hlc == citizen.field_hlc["phone"]
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.occurred_at)).all()
        assert "registration.create" in actions
        assert "registration.update" in actions


def test_get_and_withdraw_by_registration_id(api: Api) -> None:
    created = api.client.post("/v1/registrations", json=body()).json()
    url = f"/v1/registrations/{created['id']}"

    assert api.client.get(url).json() == created
    withdrawn = api.client.delete(url)
    again = api.client.delete(url)

    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["withdrawn_at"] is not None
    assert again.json() == withdrawn.json()
    assert api.client.get(url).json()["status"] == "withdrawn"
    # Registering again after a withdrawal opens a new registration of the same person.
    renewed = api.client.post("/v1/registrations", json=body())
    assert renewed.status_code == 201
    assert renewed.json()["id"] != created["id"]
    assert renewed.json()["citizen_id"] == created["citizen_id"]


@sqlite_only
def test_unknown_registration_is_404(api: Api) -> None:
    response = api.client.get("/v1/registrations/01890a5d-ac96-774b-bcce-b302099a8057")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "registrations.unknown"


def test_withdrawal_cancels_appointments_still_to_come(api: Api) -> None:
    created = api.client.post("/v1/registrations", json=body()).json()
    site = api.add_site("NS-1")
    with api.hub.sessions() as session:
        citizen = session.get_one(Citizen, uuid.UUID(created["citizen_id"]))
    coming = api.appointment(site, citizen, date(2021, 6, 3), time(9, 0))
    past = api.appointment(site, citizen, date(2021, 5, 30), time(9, 0))

    api.client.delete(f"/v1/registrations/{created['id']}")

    with api.hub.sessions() as session:
        kinds = dict(
            session.execute(
                select(AppointmentEvent.appointment_id, AppointmentEvent.kind).where(
                    AppointmentEvent.kind == "cancelled"
                )
            ).all()
        )
        announced = session.scalars(
            select(ChangeLog.table_name).where(ChangeLog.audience_site_id == site.id)
        ).all()
    assert kinds == {coming.id: "cancelled"}
    assert past.id not in kinds
    assert "appointment_events" in announced
    assert "citizens" in announced


@sqlite_only
def test_every_problem_is_reported_with_its_field(api: Api) -> None:
    response = api.client.post(
        "/v1/registrations",
        json=body(
            jmbg="0101990710006",
            phone="call me",
            email="not-an-address",
            conditions=["diabetes", "no-such-condition"],
            priority_claim="age-75-plus",
            vaccine_preferences=["any", "comirnaty"],
        ),
    )

    assert response.status_code == 422
    error = response.json()["error"]
    fields = {f["field"]: f for f in error["fields"]}
    assert set(fields) == {
        "jmbg", "phone", "email", "conditions.1", "priority_claim", "vaccine_preferences",
    }  # fmt: skip
    assert fields["jmbg"]["code"].startswith("jmbg.")
    assert fields["conditions.1"]["code"] == "conditions.unknown_condition"
    assert fields["priority_claim"]["code"] == "registrations.priority_not_claimable"
    assert all(f["message"] for f in error["fields"])
    assert error["request_id"] == response.headers["X-Request-Id"]
    with api.hub.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Citizen)) == 0


@sqlite_only
def test_preferences_are_checked_against_the_catalogue_and_conditions(api: Api) -> None:
    response = api.client.post(
        "/v1/registrations",
        json=body(
            conditions=["peg-allergy"],
            vaccine_preferences=["comirnaty", "sputnik-v-2", "no-such-vaccine", "comirnaty"],
        ),
    )

    fields = {f["field"]: f["code"] for f in response.json()["error"]["fields"]}
    assert fields == {
        "vaccine_preferences.0": "registrations.preference_contraindicated",
        "vaccine_preferences.1": "catalogue.not_a_first_dose",
        "vaccine_preferences.2": "catalogue.unknown_product",
        "vaccine_preferences.3": "registrations.preference_repeated",
    }


@sqlite_only
def test_a_contact_is_required(api: Api) -> None:
    response = api.client.post("/v1/registrations", json=body(phone=None))
    assert response.status_code == 422
    assert [f["code"] for f in response.json()["error"]["fields"]] == [
        "registrations.contact_missing"
    ]


@sqlite_only
def test_messages_follow_accept_language(api: Api) -> None:
    bad = body(jmbg="123")
    latin = api.client.post("/v1/registrations", json=bad, headers={"Accept-Language": "sr"})
    cyrillic = api.client.post(
        "/v1/registrations", json=bad, headers={"Accept-Language": "en;q=0.5, sr-Cyrl"}
    )
    english = api.client.post("/v1/registrations", json=bad)

    assert "cifara" in latin.json()["error"]["fields"][0]["message"]
    assert "цифара" in cyrillic.json()["error"]["fields"][0]["message"]
    assert "13 digits" in english.json()["error"]["fields"][0]["message"]
    assert "polja" in latin.json()["error"]["message"]


def test_sql_looking_text_is_stored_verbatim(api: Api) -> None:
    sneaky_name = "Robert'); DROP TABLE citizens;--"
    sneaky_place = "x' OR '1'='1"
    response = api.client.post(
        "/v1/registrations",
        json=body(
            first_name=sneaky_name, last_name='"; DELETE FROM sites; --', municipality=sneaky_place
        ),
    )

    assert response.status_code == 201, response.text
    again = api.client.get(f"/v1/registrations/{response.json()['id']}").json()
    assert again["first_name_latin"] == sneaky_name
    assert again["municipality"] == sneaky_place
    with api.hub.sessions() as session:
        citizen = session.scalars(select(Citizen)).one()
        assert citizen.first_name_latin == sneaky_name
        assert citizen.last_name_latin == '"; DELETE FROM sites; --'
        assert citizen.municipality == sneaky_place
        registration = session.scalars(select(Registration)).one()
        assert registration.payload["first_name"] == sneaky_name


def test_control_characters_are_refused_per_field(api: Api) -> None:
    response = api.client.post("/v1/registrations", json=body(municipality="Novi\x00Sad"))
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["fields"]] == ["municipality"]


def test_malformed_json_is_422_with_a_message(api: Api) -> None:
    response = api.client.post(
        "/v1/registrations", content=b'{"jmbg": ', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["fields"][0]["code"] == "request.json_invalid"
    assert "not valid JSON" in error["fields"][0]["message"]


@sqlite_only
def test_unknown_and_missing_fields_are_422(api: Api) -> None:
    response = api.client.post("/v1/registrations", json={"jmbg": new_jmbg(1), "colour": "red"})

    assert response.status_code == 422
    fields = {f["field"]: f["code"] for f in response.json()["error"]["fields"]}
    assert fields["colour"] == "request.extra_forbidden"
    assert fields["first_name"] == "request.missing"
