"""Operations: health, metrics, request ids and JSON logs, rate limits, body limit, schema."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from central.api.logs import ACCESS_LOGGER, JsonFormatter
from domain.wire import PROTOCOL_HEADER
from tests.central.api.conftest import Api, sqlite_only


def test_healthz_reports_the_database(api: Api) -> None:
    response = api.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "protocol_version": 1,
        "accepted_protocol_versions": [1],
    }


@sqlite_only
def test_metrics_count_requests_by_route_template(api: Api) -> None:
    token = api.enrolled_site("NS-1")
    api.client.get("/v1/sites/NS-1/roster?date=2021-06-01", headers=api.site_headers(token))

    response = api.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'route="/v1/sites/{code}/roster"' in text
    assert "imuno_hub_http_requests_total{" in text
    assert "imuno_hub_http_request_duration_seconds_bucket{" in text
    assert "NS-1" not in text  # raw paths never become labels


def _access_lines_until(
    caplog: pytest.LogCaptureFixture, request_id: str, timeout_s: float = 10.0
) -> dict[str, dict[str, object]]:
    """The access-log lines by request id, once `request_id`'s line is written.

    The server thread writes a request's line after the response has left, so
    the client may read the log before the last line is there: wait for it.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        lines = [
            json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == ACCESS_LOGGER
        ]
        by_id = {line["request_id"]: line for line in lines}
        if request_id in by_id or time.monotonic() > deadline:
            return by_id
        time.sleep(0.01)


@sqlite_only
def test_request_ids_are_returned_and_logged_as_json(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    mine = api.client.get("/healthz", headers={"X-Request-Id": "portal-42.a"})
    insane = api.client.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    made = api.client.get("/v1/sites")

    assert mine.headers["X-Request-Id"] == "portal-42.a"
    assert insane.headers["X-Request-Id"] != "bad id\twith spaces"
    assert made.json()["error"]["request_id"] == made.headers["X-Request-Id"]
    by_id = _access_lines_until(caplog, made.headers["X-Request-Id"])
    assert by_id["portal-42.a"]["status"] == 200
    assert by_id["portal-42.a"]["route"] == "/healthz"
    assert by_id[made.headers["X-Request-Id"]]["status"] == 401
    assert by_id[made.headers["X-Request-Id"]]["level"] == "info"


def test_rate_limit_is_per_credential(api_factory: Callable[..., Api]) -> None:
    api = api_factory(rate_limit_site=3)
    first = api.site_headers(api.enrolled_site("NS-1"))
    second = api.site_headers(api.enrolled_site("NS-2"))

    answers = [api.client.get("/v1/site", headers=first).status_code for _ in range(4)]
    other = api.client.get("/v1/site", headers=second)
    refused = api.client.get("/v1/site", headers=first)

    assert answers == [200, 200, 200, 429]
    assert other.status_code == 200
    assert refused.json()["error"]["code"] == "hub.rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    api.clock.advance(timedelta(seconds=60))
    assert api.client.get("/v1/site", headers=first).status_code == 200


def test_requests_without_a_credential_are_limited_by_address(
    api_factory: Callable[..., Api],
) -> None:
    api = api_factory(rate_limit_anonymous=2)
    url = "/v1/registrations/01890a5d-ac96-774b-bcce-b302099a8057"

    statuses = [api.client.get(url).status_code for _ in range(3)]
    bad_token = api.client.get("/v1/sites", headers={"Authorization": "Bearer guess"})

    assert statuses == [404, 404, 429]
    # Guessing tokens counts against the address too.
    assert bad_token.status_code == 429


def test_oversized_bodies_are_413(api_factory: Callable[..., Api]) -> None:
    api = api_factory(max_body_bytes=2048)
    big = {"jmbg": "1" * 13, "first_name": "A" * 50, "municipality": "x" * 3000}

    declared = api.client.post("/v1/registrations", json=big)

    def chunks() -> Iterator[bytes]:
        yield b'{"jmbg": "'
        for _ in range(10):
            yield b"1" * 512

    streamed = api.client.post(
        "/v1/registrations", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "request.too_large"
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "request.too_large"
    assert api.client.get("/healthz").status_code == 200


@sqlite_only
def test_unknown_routes_and_methods_answer_in_the_error_shape(api: Api) -> None:
    missing = api.client.get("/v1/nothing-here")
    wrong_method = api.client.put("/healthz")

    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "http.404"
    assert wrong_method.status_code == 405


@sqlite_only
def test_the_schema_documents_every_route_its_errors_and_credentials(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()

    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert set(schema["paths"]) >= {
        "/healthz", "/metrics", "/v1/registrations", "/v1/registrations/{registration_id}",
        "/v1/enrol", "/v1/site", "/v1/site/credential/rotate", "/v1/sites",
        "/v1/sites/{code}", "/v1/sites/{code}/roster", "/v1/staff/login",
        "/v1/staff/logout", "/v1/staff/me", "/v1/appointments",
        "/v1/appointments/{appointment_id}", "/v1/appointments/{appointment_id}/cancel",
        "/v1/appointments/{appointment_id}/rebook",
        "/v1/appointments/{appointment_id}/reschedule",
    }  # fmt: skip
    for path, operations in schema["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert {"413", "422", "429"} <= set(operation["responses"]), where
            headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            assert PROTOCOL_HEADER in headers, where
            error = operation["responses"]["422"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorResponse"}, where
    roster = schema["paths"]["/v1/sites/{code}/roster"]["get"]
    assert roster["security"] == [{"bearer": []}]
    assert {"401", "403", "404"} <= set(roster["responses"])


@sqlite_only
def test_unknown_query_parameters_are_refused(api: Api) -> None:
    admin = api.staff_token()
    response = api.client.get(
        "/v1/appointments", params={"site": "NS-1"}, headers=api.staff_headers(admin)
    )

    assert response.status_code == 422
    field = response.json()["error"]["fields"][0]
    assert field["field"] == "site"
    assert field["code"] == "request.unknown_query_parameter"
    assert "site_code" in field["message"]
