"""Schemathesis against the live hub: every operation, generated good and bad input.

For each operation of the hub's OpenAPI schema, schemathesis generates
requests that fit the schema (positive) and requests that break it
(negative), sends them to the real hub (uvicorn subprocess) with a site
credential or a staff token as the route needs, and checks every answer:

- no 5xx (`not_a_server_error`);
- the status code, content type and body are the ones the schema documents;
- input that breaks the schema is refused with a 4xx (`negative_data_rejection`).

The default run is bounded (a few examples per operation and mode); the run
marked slow tries many more.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import _fresh_pg_database
from tests.e2e.conftest import RunningHub, start_hub

pytestmark = pytest.mark.e2e

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Refusals of broken input: the usual 4xx plus 413 (too large) and 426 (a protocol
# version outside the window, which negative generation often produces).
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 409, 413, 415, 422, 426, 429]
            }
        }
    }
)
STAFF_PASSWORD = "schemathesis staff password"
Operation = APIOperation[Any, Any, Any, Any]
UNLIMITED = {
    "IMUNO_HUB_RATE_LIMIT_SITE": "0",
    "IMUNO_HUB_RATE_LIMIT_STAFF": "0",
    "IMUNO_HUB_RATE_LIMIT_ANONYMOUS": "0",
}


@pytest.fixture(scope="module")
def fuzzed_hub(hub_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """A hub without rate limits (the fuzzer is fast), with a site and a staff member."""
    with start_hub(hub_db_url, tmp_path_factory.mktemp("fuzzed"), env=UNLIMITED) as hub:
        yield hub


def _credentials(hub: RunningHub) -> dict[str, str]:
    hub.add_site("FZ-1")
    hub.admin(
        "users", "add", "fuzzer", "--full-name", "Fuzzer", "--role", "central_admin",
        "--password-stdin", input=STAFF_PASSWORD + "\n",
    )  # fmt: skip
    with hub.client() as client:
        site = client.post(
            "/v1/enrol", json={"code": hub.enrol_code("FZ-1")}, headers={"Imuno-Protocol": "1"}
        ).json()["credential"]["credential"]
        staff = client.post(
            "/v1/staff/login", json={"username": "fuzzer", "password": STAFF_PASSWORD}
        ).json()["token"]
    return {"site": site, "staff": staff}


def _who(path: str) -> str | None:
    """Which credential a route is meant for (None: public)."""
    if path.startswith(("/v1/staff/me", "/v1/staff/logout", "/v1/appointments", "/v1/stock")):
        return "staff"
    if path.startswith(("/v1/site", "/v1/sites")):
        return "site"
    return None


def _exercise(
    hub: RunningHub,
    operation: Operation,
    mode: GenerationMode,
    headers: dict[str, str],
    path: dict[str, str] | None,
    examples: int,
) -> None:
    """Send `examples` generated requests for `operation` and check every answer."""
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: schemathesis.Case[Operation]) -> None:
        case.call_and_validate(base_url=hub.base_url, headers=headers, checks=checks)

    exercise()


def _fuzz(hub: RunningHub, examples: int) -> None:
    tokens = _credentials(hub)
    schema = schemathesis.openapi.from_url(f"{hub.base_url}/openapi.json", config=CONFIG)
    operations: list[Operation] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    # Logging out revokes the staff token: fuzz it last.
    operations.sort(key=lambda op: op.path == "/v1/staff/logout")
    assert len(operations) >= 18
    without_input: set[str] = set()
    for operation in operations:
        who = _who(operation.path)
        credential = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # Positive cases carry a working credential and protocol version and
            # name the enrolled site, so they reach the handlers; negative ones
            # are sent as generated (a credential added to them would undo a
            # "missing Authorization" case).
            positive = mode is GenerationMode.POSITIVE
            headers = {**credential, "Imuno-Protocol": "1"} if positive else {}
            path = {"code": "FZ-1"} if positive and "{code}" in operation.path else None
            try:
                _exercise(hub, operation, mode, headers, path, examples)
            except Unsatisfiable:
                # Nothing to break in an operation that takes no input.
                assert mode is GenerationMode.NEGATIVE, operation.label
                without_input.add(operation.path)
    assert without_input <= {"/healthz", "/metrics"}
    answered = {(line.get("method"), line.get("route")) for line in hub.log_lines()}
    missed = {(op.method.upper(), op.path) for op in operations} - answered
    assert not missed, f"never reached the hub: {missed}"


def test_every_operation_survives_generated_input(fuzzed_hub: RunningHub) -> None:
    _fuzz(fuzzed_hub, examples=8)
    lines = fuzzed_hub.log_lines()
    assert not [line for line in lines if line.get("level") == "error"]


@pytest.fixture
def fresh_hub_db_url(hub_db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own, on the engine of `hub_db_url`.

    The module's database already holds what `fuzzed_hub` made (site FZ-1,
    the staff member), which `_fuzz` creates again.
    """
    if hub_db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'central-many.sqlite'}"
    else:
        yield from _fresh_pg_database()


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 150 examples of every operation, both modes: many minutes
def test_every_operation_survives_many_generated_inputs(
    fresh_hub_db_url: str, tmp_path: Path
) -> None:
    with start_hub(fresh_hub_db_url, tmp_path, env=UNLIMITED) as hub:
        hub.admin("migrate")
        _fuzz(hub, examples=150)
