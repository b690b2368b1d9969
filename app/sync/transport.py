"""How the engine talks to the hub: the `Transport` interface and its HTTP implementation.

`HttpTransport` speaks the hub's /v1/sync API through a `requests.Session`
with connect and read timeouts; push bodies are gzip-compressed
(``Content-Encoding: gzip``). Every request carries the protocol version,
the site's credential, and (push) the batch's idempotency key.

Failures are sorted by what to do about them: `HubUnreachable` (network,
timeouts, 5xx, 429: retry later), `SyncRefused` (another 4xx: a person must
look), `RestoreDetected` (409 with the sequence the hub expects).
"""

from __future__ import annotations

import gzip
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from app.sync.errors import HubUnreachable, RestoreDetected, SyncRefused
from domain.sync_wire import (
    IDEMPOTENCY_HEADER,
    FetchRequest,
    FetchResponse,
    IdList,
    PullPage,
    PushRequest,
    PushResponse,
    SnapshotPage,
    VerifyResponse,
)
from domain.wire import PROTOCOL_HEADER, PROTOCOL_VERSION


class Transport(Protocol):
    """The hub, as the sync engine sees it."""

    def push(self, request: PushRequest) -> PushResponse:
        """Send a batch; raises `RestoreDetected`, `HubUnreachable` or `SyncRefused`."""
        ...

    def pull(self, cursor: str | None, limit: int) -> PullPage:
        """The next page of changes after `cursor`."""
        ...

    def verify(self) -> VerifyResponse:
        """The hub's counts and digests of what this site's replica should hold."""
        ...

    def ids(self, table: str) -> IdList:
        """Every id of `table` the hub says this replica should hold."""
        ...

    def fetch(self, table: str, ids: list[uuid.UUID]) -> FetchResponse:
        """The records asked for again (a targeted re-pull)."""
        ...


@dataclass
class WireStats:
    """Bytes and requests on the wire, for the benchmark and the round report.

    Bytes as sent: a gzip answer counts compressed (its Content-Length), not
    as `requests` hands it over inflated.
    """

    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0


@dataclass
class HttpTransport:
    """The real transport: HTTP(S) to the hub with a site credential."""

    base_url: str
    credential: str
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    session: requests.Session = field(default_factory=requests.Session)
    stats: WireStats = field(default_factory=WireStats)

    def __post_init__(self) -> None:
        if self.session.trust_env:
            # requests re-reads proxy and CA settings from the environment on
            # every request (a tenth of a site's sync CPU); read them once.
            self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle and self.session.verify is True:
                self.session.verify = bundle
            self.session.trust_env = False

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.credential}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
            "Accept-Encoding": "gzip",
        }

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.base_url.rstrip("/") + path
        try:
            response = self.session.request(
                method, url, timeout=(self.connect_timeout_s, self.read_timeout_s), **kwargs
            )
        except requests.RequestException as exc:
            raise HubUnreachable(detail=type(exc).__name__) from exc
        self.stats.requests += 1
        body = kwargs.get("data")
        self.stats.bytes_sent += len(body) if isinstance(body, bytes) else 0
        self.stats.bytes_received += _wire_length(response)
        if response.status_code >= 500 or response.status_code == 429:
            raise HubUnreachable(detail=f"HTTP {response.status_code}")
        return response

    def _refused(self, response: requests.Response) -> SyncRefused:
        try:
            detail = str(response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            detail = response.text[:300]
        return SyncRefused(status=response.status_code, detail=detail)

    def push(self, request: PushRequest) -> PushResponse:
        raw = request.model_dump_json().encode("utf-8")
        headers = {
            **self._headers(),
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            IDEMPOTENCY_HEADER: request.idempotency_key,
        }
        response = self._send(
            "POST", "/v1/sync/push", data=gzip.compress(raw, compresslevel=6), headers=headers
        )
        if response.status_code == 409:
            body = _json(response)
            if "expected_seq" in body:
                raise RestoreDetected(
                    expected_seq=int(body["expected_seq"]),
                    recovery_cursor=str(body["recovery_cursor"]),
                )
        if response.status_code != 200:
            raise self._refused(response)
        return PushResponse.model_validate_json(response.content)

    def pull(self, cursor: str | None, limit: int) -> PullPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = self._send("GET", "/v1/sync/pull", params=params, headers=self._headers())
        if response.status_code == 409:
            body = _json(response)
            if "expected_seq" in body:
                raise RestoreDetected(
                    expected_seq=int(body["expected_seq"]),
                    recovery_cursor=str(body["recovery_cursor"]),
                )
        if response.status_code != 200:
            raise self._refused(response)
        return PullPage.model_validate_json(response.content)

    def snapshot(self, token: str | None, limit: int) -> SnapshotPage | None:
        """A page of the bootstrap snapshot (gzip on the wire); None from a hub without one."""
        params: dict[str, Any] = {"limit": limit}
        if token:
            params["token"] = token
        response = self._send("GET", "/v1/sync/snapshot", params=params, headers=self._headers())
        if response.status_code in (404, 405):
            return None
        if response.status_code != 200:
            raise self._refused(response)
        return SnapshotPage.model_validate_json(response.content)

    def verify(self) -> VerifyResponse:
        response = self._send("GET", "/v1/sync/verify", headers=self._headers())
        if response.status_code != 200:
            raise self._refused(response)
        return VerifyResponse.model_validate_json(response.content)

    def ids(self, table: str) -> IdList:
        response = self._send(
            "GET", "/v1/sync/verify/ids", params={"table": table}, headers=self._headers()
        )
        if response.status_code != 200:
            raise self._refused(response)
        return IdList.model_validate_json(response.content)

    def fetch(self, table: str, ids: list[uuid.UUID]) -> FetchResponse:
        body = FetchRequest(table=table, ids=ids).model_dump_json().encode("utf-8")
        headers = {**self._headers(), "Content-Type": "application/json"}
        response = self._send("POST", "/v1/sync/fetch", data=body, headers=headers)
        if response.status_code != 200:
            raise self._refused(response)
        return FetchResponse.model_validate_json(response.content)

    def close(self) -> None:
        self.session.close()


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _wire_length(response: requests.Response) -> int:
    """The body's length on the wire: Content-Length, else the (inflated) content's."""
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return len(response.content)
