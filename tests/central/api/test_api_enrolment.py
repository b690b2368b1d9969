"""Site enrolment and credentials: one-time codes, revocation, rotation, protocol window."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import Site, SiteCredential
from central.services.enrolment import reissue_site, revoke_site
from domain.wire import PROTOCOL_HEADER
from tests.central.api.conftest import Api, sqlite_only


def test_enrolment_returns_the_credential_once_and_stores_only_its_hash(api: Api) -> None:
    api.add_site("NS-1")
    response = api.enrol(api.enrol_code("NS-1"))

    assert response.status_code == 200, response.text
    got = response.json()
    token = got["credential"]["credential"]
    assert token.startswith("imuno_site_")
    assert got["site"]["code"] == "NS-1"
    assert got["site"]["products"] == ["comirnaty", "spikevax"]
    assert got["signer_certificate_pem"] is None
    with api.hub.sessions() as session:
        stored = session.scalars(select(SiteCredential)).one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in repr([getattr(stored, c.key) for c in SiteCredential.__table__.columns])
    # The site's identity comes from the credential alone.
    own = api.client.get("/v1/site", headers=api.site_headers(token))
    assert own.status_code == 200
    assert own.json()["code"] == "NS-1"


def test_a_used_code_is_refused(api: Api) -> None:
    api.add_site("NS-1")
    code = api.enrol_code("NS-1")
    assert api.enrol(code).status_code == 200

    again = api.enrol(code)

    assert again.status_code == 400
    assert again.json()["error"]["code"] == "enrol.code_used"


@sqlite_only
def test_codes_are_typed_forgivingly_but_unknown_codes_are_refused(api: Api) -> None:
    api.add_site("NS-1")
    code = api.enrol_code("NS-1")

    assert api.enrol("nope-nope").json()["error"]["code"] == "enrol.invalid_code"
    assert api.enrol(code.replace("-", " ").lower()).status_code == 200


def test_an_expired_code_is_refused(api: Api) -> None:
    api.add_site("NS-1")
    code = api.enrol_code("NS-1")
    api.clock.advance(timedelta(hours=24, seconds=1))

    response = api.enrol(code)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "enrol.code_expired"


def test_a_new_code_voids_the_unused_old_one(api: Api) -> None:
    api.add_site("NS-1")
    old = api.enrol_code("NS-1")
    new = api.enrol_code("NS-1")

    assert api.enrol(old).json()["error"]["code"] == "enrol.code_expired"
    assert api.enrol(new).status_code == 200


def test_enrolling_again_revokes_the_previous_credential(api: Api) -> None:
    first = api.enrolled_site("NS-1")
    second = api.enrol(api.enrol_code("NS-1")).json()["credential"]["credential"]

    old = api.client.get("/v1/site", headers=api.site_headers(first))
    assert old.status_code == 401
    assert old.json()["error"]["code"] == "auth.revoked"
    assert api.client.get("/v1/site", headers=api.site_headers(second)).status_code == 200


def test_revocation_works_immediately(api: Api) -> None:
    token = api.enrolled_site("NS-1")
    headers = api.site_headers(token)
    assert (
        api.client.get("/v1/sites/NS-1/roster?date=2021-06-01", headers=headers).status_code == 200
    )

    assert revoke_site(api.hub, "NS-1", actor="test") == 1
    response = api.client.get("/v1/sites/NS-1/roster?date=2021-06-01", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.revoked"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_reissue_revokes_and_hands_out_a_working_code(api: Api) -> None:
    token = api.enrolled_site("NS-1")
    revoked, issued = reissue_site(api.hub, "NS-1", actor="test")

    assert revoked == 1
    assert api.client.get("/v1/site", headers=api.site_headers(token)).status_code == 401
    assert api.enrol(issued.code).status_code == 200


def test_rotation_keeps_the_old_credential_until_the_new_one_is_used(api: Api) -> None:
    old = api.enrolled_site("NS-1")
    rotated = api.client.post("/v1/site/credential/rotate", headers=api.site_headers(old))
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["credential"]

    # The answer might have been lost: the old credential still works...
    assert api.client.get("/v1/site", headers=api.site_headers(old)).status_code == 200
    # ...until the site uses the new one.
    assert api.client.get("/v1/site", headers=api.site_headers(new)).status_code == 200
    assert api.client.get("/v1/site", headers=api.site_headers(old)).status_code == 401


def test_rotating_twice_leaves_only_the_newest_credential(api: Api) -> None:
    old = api.enrolled_site("NS-1")
    headers = api.site_headers(old)
    lost = api.client.post("/v1/site/credential/rotate", headers=headers).json()["credential"]
    kept = api.client.post("/v1/site/credential/rotate", headers=headers).json()["credential"]

    assert api.client.get("/v1/site", headers=api.site_headers(lost)).status_code == 401
    assert api.client.get("/v1/site", headers=api.site_headers(kept)).status_code == 200


def test_an_inactive_site_cannot_authenticate(api: Api) -> None:
    token = api.enrolled_site("NS-1")
    with api.hub.sessions() as session, session.begin():
        session.scalars(select(Site)).one().active = False

    response = api.client.get("/v1/site", headers=api.site_headers(token))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "auth.inactive"


@sqlite_only
def test_sites_must_send_a_protocol_version_inside_the_window(api: Api) -> None:
    token = api.enrolled_site("NS-1")
    bearer = {"Authorization": f"Bearer {token}"}

    missing = api.client.get("/v1/site", headers=bearer)
    too_new = api.client.get("/v1/site", headers={**bearer, PROTOCOL_HEADER: "99"})
    too_old = api.client.post("/v1/enrol", json={"code": "x"}, headers={PROTOCOL_HEADER: "0"})
    not_a_number = api.client.get("/v1/site", headers={**bearer, PROTOCOL_HEADER: "one"})

    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "protocol.missing"
    assert too_new.status_code == 426
    assert too_old.status_code == 426
    assert "1 to 1" in too_new.json()["error"]["message"]
    assert not_a_number.status_code == 422
    assert missing.headers[PROTOCOL_HEADER] == "1"
    assert missing.headers["Imuno-Protocol-Accepted"] == "1-1"


@sqlite_only
def test_staff_tokens_cannot_use_site_routes(api: Api) -> None:
    staff = api.staff_token()
    response = api.client.get("/v1/site", headers=api.staff_headers(staff))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "auth.site_only"


@sqlite_only
def test_a_csr_is_refused_without_a_signer_and_the_code_stays_usable(api: Api) -> None:
    api.add_site("NS-1")
    code = api.enrol_code("NS-1")
    with_csr = api.client.post(
        "/v1/enrol",
        json={"code": code, "csr_pem": "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n"},
        headers={PROTOCOL_HEADER: "1"},
    )

    assert with_csr.status_code == 400
    assert with_csr.json()["error"]["code"] == "enrol.csr_not_supported"
    assert api.enrol(code).status_code == 200


class RecordingSigner:
    """A stand-in for the certificate authority behind the CSR extension point."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def sign(self, session: Session, site: Site, csr_pem: str, now: datetime) -> str:
        self.calls.append((site.code, csr_pem))
        return "-----BEGIN CERTIFICATE-----\nsigned\n-----END CERTIFICATE-----\n"


@sqlite_only
def test_a_csr_goes_to_the_signer_inside_the_enrolment(api: Api) -> None:
    signer = RecordingSigner()
    api.app.state.csr_signer = signer
    api.add_site("NS-1")

    response = api.client.post(
        "/v1/enrol",
        json={"code": api.enrol_code("NS-1"), "csr_pem": "CSR"},
        headers={PROTOCOL_HEADER: "1"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["signer_certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert signer.calls == [("NS-1", "CSR")]
