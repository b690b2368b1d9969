"""Pure ASGI middleware: request context (id, access log, metrics) and body size limit.

`RequestContext` is the outermost layer. It gives every request an id (the
caller's ``X-Request-Id`` when it is a sane token, else a new one), returns
it in the answer's ``X-Request-Id`` header and puts it in every log line
written while the request runs; it stamps the protocol headers on every
answer, writes one access line per request and records the metrics. An
exception no handler took becomes a logged 500 in the hub's error shape, so
even that answer carries the request id.

`BodyLimit` refuses bodies over the limit with 413: at once when
``Content-Length`` says so, else as soon as the streamed body passes it.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central.api import metrics
from central.api.errors import BodyTooLarge, error_json
from central.api.logs import ACCESS_LOGGER, request_id_var
from domain.ids import uuid7
from domain.wire import (
    MAX_PROTOCOL_VERSION,
    MIN_PROTOCOL_VERSION,
    PROTOCOL_ACCEPTED_HEADER,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
)

REQUEST_ID_HEADER: Final = "X-Request-Id"
_SANE_ID: Final = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

access_log = logging.getLogger(ACCESS_LOGGER)
error_log = logging.getLogger("imuno.hub")


class RequestContext:
    """Request id, protocol headers, access log, metrics, last-resort 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = incoming if incoming and _SANE_ID.match(incoming) else uuid7().hex
        token = request_id_var.set(request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                headers[PROTOCOL_HEADER] = str(PROTOCOL_VERSION)
                headers[PROTOCOL_ACCEPTED_HEADER] = f"{MIN_PROTOCOL_VERSION}-{MAX_PROTOCOL_VERSION}"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            error_log.exception("unhandled error")
            if response_started:
                raise
            response = error_json(
                500,
                "hub.internal_error",
                "The hub failed to answer this request. It has been logged; quote the "
                "request id to the central help desk.",
            )
            await response(scope, receive, send_with_headers)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            template = (
                route.path
                if isinstance(route, BaseRoute) and hasattr(route, "path")
                else "unmatched"
            )
            metrics.observe(scope["method"], template, status, seconds)
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "principal": state.get("principal"),
                    "client": (scope.get("client") or ("-",))[0],
                },
            )
            request_id_var.reset(token)


class BodyLimit:
    """Refuse request bodies larger than `max_bytes` with 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the app's body read; its handler answers 413.
                    raise HTTPException(413, BodyTooLarge(limit=self.max_bytes).args[0])
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = BodyTooLarge(limit=self.max_bytes)
        response = error_json(413, error.code, str(error), headers={"Connection": "close"})
        await response(scope, receive, send)
