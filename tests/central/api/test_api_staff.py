"""Central staff log-in sessions: argon2 passwords, expiring tokens, roles."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from central.db import StaffRole, StaffUser
from tests.central.api.conftest import STAFF_PASSWORD, Api, sqlite_only


def test_login_gives_a_token_that_identifies_the_person(api: Api) -> None:
    token = api.staff_token(StaffRole.CENTRAL_VIEWER)

    assert token.startswith("imuno_staff_")
    me = api.client.get("/v1/staff/me", headers=api.staff_headers(token))
    assert me.status_code == 200
    assert me.json()["role"] == "central_viewer"
    with api.hub.sessions() as session:
        assert session.scalars(select(StaffUser.password_hash)).one().startswith("$argon2id$")


def test_wrong_passwords_unknown_users_and_inactive_accounts_look_alike(api: Api) -> None:
    api.staff_token()  # creates staff1
    with api.hub.sessions() as session, session.begin():
        session.add(StaffUser(
            username="gone", full_name="Gone", role="central_admin", active=False,
            password_hash=api.hub.passwords.hash(STAFF_PASSWORD), updated_at=api.clock.now(),
            created_at=api.clock.now(), created_by="test",
        ))  # fmt: skip

    answers = [
        api.client.post("/v1/staff/login", json={"username": user, "password": password})
        for user, password in (
            ("staff1", "wrong password!"),
            ("nobody", "x"),
            ("gone", STAFF_PASSWORD),
        )
    ]

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert {a.json()["error"]["code"] for a in answers} == {"auth.login_failed"}


def test_tokens_expire(api: Api) -> None:
    token = api.staff_token()
    api.clock.advance(timedelta(hours=8, seconds=1))

    response = api.client.get("/v1/staff/me", headers=api.staff_headers(token))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.expired"


def test_logout_revokes_the_token_at_once(api: Api) -> None:
    token = api.staff_token()

    logout = api.client.post("/v1/staff/logout", headers=api.staff_headers(token))
    after = api.client.get("/v1/staff/me", headers=api.staff_headers(token))

    assert logout.status_code == 204
    assert after.status_code == 401


@sqlite_only
def test_sites_cannot_use_staff_routes(api: Api) -> None:
    site = api.enrolled_site("NS-1")
    response = api.client.get("/v1/staff/me", headers=api.site_headers(site))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "auth.staff_only"
