"""The real hub (``imuno-hub serve`` under uvicorn) on SQLite and on PostgreSQL.

Everything here goes through the operator's commands and HTTP only, as a
site client, the portal and an operator would.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import httpx
import pytest

from domain.jmbg import Sex, make_jmbg
from tests.e2e.conftest import RunningHub

pytestmark = pytest.mark.e2e

PROTOCOL = {"Imuno-Protocol": "1"}
JMBG = make_jmbg(date(1960, 5, 17), 71, 2, Sex.FEMALE)


def _enrol(hub: RunningHub, site_code: str) -> str:
    code = hub.enrol_code(site_code)
    with hub.client() as client:
        response = client.post("/v1/enrol", json={"code": code}, headers=PROTOCOL)
    assert response.status_code == 200, response.text
    token: str = response.json()["credential"]["credential"]
    return token


def _site(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **PROTOCOL}


def test_enrolment_and_roster_access(live_hub: RunningHub) -> None:
    live_hub.add_site("E2E-1")
    live_hub.add_site("E2E-2")
    code = live_hub.enrol_code("E2E-1")

    with live_hub.client() as client:
        enrolled = client.post("/v1/enrol", json={"code": code}, headers=PROTOCOL)
        reused = client.post("/v1/enrol", json={"code": code}, headers=PROTOCOL)
        token = enrolled.json()["credential"]["credential"]
        other = _enrol(live_hub, "E2E-2")
        own = client.get("/v1/sites/E2E-1/roster?date=2021-06-01", headers=_site(token))
        anonymous = client.get("/v1/sites/E2E-1/roster?date=2021-06-01", headers=PROTOCOL)
        foreign = client.get("/v1/sites/E2E-1/roster?date=2021-06-01", headers=_site(other))

        assert enrolled.status_code == 200
        assert reused.status_code == 400
        assert reused.json()["error"]["code"] == "enrol.code_used"
        assert own.status_code == 200
        assert own.json()["items"] == []
        assert anonymous.status_code == 401
        assert foreign.status_code == 403

        live_hub.cli("sites", "revoke", "E2E-1")
        revoked = client.get("/v1/sites/E2E-1/roster?date=2021-06-01", headers=_site(token))
        assert revoked.status_code == 401
        assert revoked.json()["error"]["code"] == "auth.revoked"


def test_registration_intake(live_hub: RunningHub) -> None:
    sneaky = "Robert'); DROP TABLE citizens;--"
    body = {
        "jmbg": JMBG,
        "first_name": sneaky,
        "last_name": "Петровић",
        "email": "x@example.org",
        "municipality": "1' OR '1'='1",
    }
    with live_hub.client() as client:
        created = client.post("/v1/registrations", json=body)
        updated = client.post("/v1/registrations", json={**body, "phone": "+381 64 000 0000"})
        read = client.get(f"/v1/registrations/{created.json()['id']}")
        malformed = client.post(
            "/v1/registrations",
            content=b'{"jmbg": "1',
            headers={"Content-Type": "application/json"},
        )
        oversized = client.post(
            "/v1/registrations",
            content=b'{"jmbg": "' + b"1" * 3_000_000 + b'"}',
            headers={"Content-Type": "application/json"},
        )

    assert created.status_code == 201, created.text
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    assert read.json()["first_name_latin"] == sneaky
    assert read.json()["last_name_latin"] == "Petrović"
    assert read.json()["municipality"] == "1' OR '1'='1"
    assert read.json()["phone"] == "+381640000000"
    assert malformed.status_code == 422
    assert malformed.json()["error"]["fields"][0]["code"] == "request.json_invalid"
    assert oversized.status_code == 413


def test_logs_are_json_lines_with_the_request_id(live_hub: RunningHub) -> None:
    with live_hub.client() as client:
        answer = client.get("/healthz", headers={"X-Request-Id": "e2e-trace-1"})
        metrics = client.get("/metrics")

    assert answer.headers["X-Request-Id"] == "e2e-trace-1"
    lines = live_hub.log_lines()
    assert any(
        line.get("request_id") == "e2e-trace-1" and line.get("status") == 200 for line in lines
    )
    assert 'imuno_hub_http_requests_total{method="GET",route="/healthz",status="200"}' in (
        metrics.text
    )


@pytest.mark.postgres
def test_the_rate_limit_holds_across_worker_processes(
    pg_url: str, hub_factory: Callable[..., RunningHub]
) -> None:
    """Two uvicorn workers over one PostgreSQL enforce one limit per credential."""
    hub = hub_factory(pg_url, workers=2, env={"IMUNO_HUB_RATE_LIMIT_SITE": "10"})
    hub.add_site("RL-1")
    token = _enrol(hub, "RL-1")

    def one_request(_: int) -> int:
        # A new connection each time, so the kernel spreads them over the workers.
        with httpx.Client(base_url=hub.base_url, timeout=30) as client:
            return client.get("/v1/site", headers=_site(token)).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(one_request, range(30)))

    assert statuses.count(200) == 10
    assert statuses.count(429) == 20
    workers = {line["pid"] for line in hub.log_lines() if line.get("route") == "/v1/site"}
    assert len(workers) == 2, "the requests did not reach both workers"
    # /metrics adds up every worker's counts.
    metrics = httpx.get(f"{hub.base_url}/metrics", timeout=30).text
    served = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('imuno_hub_http_requests_total{method="GET",route="/v1/site"')
    ]
    assert sum(served) == 30
