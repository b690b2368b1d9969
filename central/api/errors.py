"""Every error answer of the hub has one shape: `domain.wire.ErrorResponse`.

``{"error": {"code": "...", "message": "...", "fields": [...], "request_id": "..."}}``

The message is in the language the caller asks for with ``Accept-Language``
(Serbian Latin, Serbian Cyrillic or English, the default); the code is
stable, for programs and support. Status codes by kind of error:

====  ==============================================================
400   a refused enrolment code, a missing protocol header, other refusals
401   no credential, or one not accepted (``WWW-Authenticate: Bearer``)
403   a credential asking for what is not its own
404   no such thing
409   the request contradicts the current state
413   the body is larger than the hub accepts
422   malformed JSON or fields that break a rule, one entry per field
426   a wire-protocol version outside the accepted window
429   over the rate limit (``Retry-After``)
503   the database cannot be reached
====  ==============================================================
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from central.api.logs import request_id_var
from central.services.errors import (
    Conflict,
    EnrolmentRefused,
    Forbidden,
    HubError,
    InvalidRequest,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from domain.errors import DomainError
from domain.i18n import Language, message
from domain.wire import ErrorBody, ErrorResponse, FieldError

log = logging.getLogger("imuno.hub")


class ProtocolMissing(HubError):
    code = "protocol.missing"
    template = (
        "The request does not say which protocol version it speaks: send the header "
        "'Imuno-Protocol'. Update the site client if it does not."
    )


class ProtocolUnsupported(HubError):
    code = "protocol.unsupported"
    template = (
        "This hub accepts protocol versions {minimum} to {maximum}, but the request speaks "
        "version {version}. Update the site client (or, for a newer client, wait for the hub "
        "to be upgraded)."
    )


class BodyTooLarge(HubError):
    code = "request.too_large"
    template = "The request body is larger than {limit} bytes. Send less data per request."


_STATUS: Final[tuple[tuple[type[DomainError], int], ...]] = (
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (BodyTooLarge, 413),
    (InvalidRequest, 422),
    (ProtocolUnsupported, 426),
    (TooManyRequests, 429),
    (EnrolmentRefused, 400),
    (ProtocolMissing, 400),
    (HubError, 400),
    (DomainError, 422),
)

_DESCRIPTIONS: Final = {
    400: "Refused (see the error code).",
    401: "No credential, or a credential the hub does not accept.",
    403: "The credential may not do this.",
    404: "No such resource.",
    409: "The request contradicts the current state.",
    413: "The request body is too large.",
    422: "Malformed JSON, or fields that break a rule (one entry per field).",
    426: "Wire-protocol version outside the accepted window.",
    429: "Rate limit exceeded; see Retry-After.",
    503: "The database cannot be reached; try again later.",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of error answers, for a route's ``responses=``."""
    return {
        status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]}
        for status in sorted({*statuses, 413, 422, 429, 503})
    }


def status_of(error: DomainError) -> int:
    """The HTTP status for an error, by its class."""
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    raise AssertionError("unreachable: DomainError is in the table")


def negotiate_language(header: str | None) -> Language:
    """The caller's preferred language among ours, from ``Accept-Language``."""
    if not header:
        return "en"
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip().lower()))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality >= 0:
            break
        if tag.startswith("sr-cyrl"):
            return "sr-Cyrl"
        if tag == "sr" or tag.startswith("sr-"):
            return "sr-Latn"
        if tag.startswith("en") or tag == "*":
            return "en"
    return "en"


def error_json(
    status: int,
    code: str,
    text: str,
    fields: Iterable[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error answer in the hub's one shape, with the current request id."""
    body = ErrorResponse(
        error=ErrorBody(
            code=code, message=text, fields=list(fields), request_id=request_id_var.get()
        )
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def domain_error_response(error: DomainError, language: Language) -> JSONResponse:
    """The answer for a refusal raised by a use case."""
    status = status_of(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(error.retry_after)
    fields: Sequence[FieldError] = ()
    if isinstance(error, InvalidRequest):
        fields = [
            FieldError(field=p.field, code=p.error.code, message=message(p.error, language))
            for p in error.problems
        ]
    return error_json(status, error.code, message(error, language), fields, headers or None)


def _field_path(location: Sequence[Any]) -> str:
    parts = [str(p) for p in location]
    if len(parts) > 1 and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_response(error: RequestValidationError) -> JSONResponse:
    """422 with one entry per field for a request that does not fit the schema."""
    fields = []
    for problem in error.errors():
        kind = str(problem.get("type", "invalid"))
        location = problem.get("loc", ())
        if kind == "json_invalid":
            reason = problem.get("ctx", {}).get("error", "parse error")
            fields.append(
                FieldError(
                    field="body",
                    code="request.json_invalid",
                    message=f"The body is not valid JSON ({reason}). Send a JSON object.",
                )
            )
            continue
        fields.append(
            FieldError(
                field=_field_path(location), code=f"request.{kind}", message=str(problem.get("msg"))
            )
        )
    summary = ", ".join(dict.fromkeys(f.field for f in fields))
    return error_json(
        422,
        "request.invalid",
        f"The request is not valid: {summary}. Correct these fields and send it again.",
        fields,
    )


def install(app: FastAPI) -> None:
    """Register the handlers that turn errors into the one error shape."""

    async def on_domain_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError)
        return domain_error_response(
            error, negotiate_language(request.headers.get("accept-language"))
        )

    async def on_validation(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return validation_response(error)

    async def on_http(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        text = {
            400: "The request body could not be read. Send JSON with 'Content-Type: "
            "application/json'.",
            404: "There is nothing at this address. Check the URL.",
            405: "This address does not accept that method.",
        }.get(error.status_code, str(error.detail))
        code = "request.too_large" if error.status_code == 413 else f"http.{error.status_code}"
        return error_json(error.status_code, code, text, headers=dict(error.headers or {}) or None)

    async def on_database_down(_request: Request, error: Exception) -> JSONResponse:
        log.error("database unavailable", exc_info=error)
        return error_json(
            503,
            "hub.database_unavailable",
            "The hub cannot reach its database. Try again in a minute; sites keep working "
            "offline meanwhile.",
            headers={"Retry-After": "30"},
        )

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(OperationalError, on_database_down)
