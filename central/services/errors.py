"""Errors of the hub's use cases, by what the caller did wrong.

Each is a `domain.errors.DomainError` (stable ``code``, English template,
Serbian in ``domain/locale/hub.sr-Latn.json``). The HTTP layer maps the
classes below to status codes; the CLI prints the message. Subclasses give
the precise code and text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from domain.errors import DomainError


class HubError(DomainError):
    """Root of the hub's refusals."""

    code: ClassVar[str] = "hub.error"
    template: ClassVar[str] = "The hub cannot do this."


class Unauthenticated(HubError):
    """No credential, or one the hub does not accept (HTTP 401)."""

    code: ClassVar[str] = "auth.missing"
    template: ClassVar[str] = (
        "This request needs a credential: send the header 'Authorization: Bearer <token>'."
    )


class CredentialInvalid(Unauthenticated):
    code: ClassVar[str] = "auth.invalid"
    template: ClassVar[str] = (
        "The credential is not valid. A site must enrol again with a new enrolment code; "
        "staff must log in again."
    )


class CredentialRevoked(Unauthenticated):
    code: ClassVar[str] = "auth.revoked"
    template: ClassVar[str] = (
        "This credential was revoked. Ask the central help desk for a new enrolment code "
        "and enrol the site again."
    )


class SessionExpired(Unauthenticated):
    code: ClassVar[str] = "auth.expired"
    template: ClassVar[str] = "Your session has expired. Log in again."


class AccountInactive(Unauthenticated):
    code: ClassVar[str] = "auth.inactive"
    template: ClassVar[str] = (
        "This account or site is switched off at the hub. Call the central help desk."
    )


class LoginFailed(Unauthenticated):
    code: ClassVar[str] = "auth.login_failed"
    template: ClassVar[str] = "The username or password is wrong. Check both and try again."


class Forbidden(HubError):
    """An authenticated caller asking for something that is not theirs (HTTP 403)."""

    code: ClassVar[str] = "auth.forbidden"
    template: ClassVar[str] = "This credential may not do this."


class OtherSite(Forbidden):
    code: ClassVar[str] = "auth.other_site"
    template: ClassVar[str] = (
        "A site may read only its own roster and record, not those of another site."
    )


class SiteOnly(Forbidden):
    code: ClassVar[str] = "auth.site_only"
    template: ClassVar[str] = "Only a site's own credential may call this, not a staff token."


class StaffOnly(Forbidden):
    code: ClassVar[str] = "auth.staff_only"
    template: ClassVar[str] = "Only central staff may call this, not a site."


class AdminOnly(Forbidden):
    code: ClassVar[str] = "auth.admin_only"
    template: ClassVar[str] = (
        "This needs the central_admin role; your account may only read. Ask an administrator."
    )


class NotFound(HubError):
    """No such thing (HTTP 404)."""

    code: ClassVar[str] = "hub.not_found"
    template: ClassVar[str] = "There is no {what} '{key}'. Check it and try again."


class Conflict(HubError):
    """The request contradicts the current state (HTTP 409)."""

    code: ClassVar[str] = "hub.conflict"
    template: ClassVar[str] = "This contradicts the current state. Reload and try again."


class TooManyRequests(HubError):
    """The caller went over its rate limit (HTTP 429)."""

    code: ClassVar[str] = "hub.rate_limited"
    template: ClassVar[str] = (
        "Too many requests: at most {limit} a minute are accepted. "
        "Wait {retry_after} seconds and try again."
    )

    @property
    def retry_after(self) -> int:
        return int(self.params["retry_after"])


class EnrolmentRefused(HubError):
    """An enrolment code that cannot be used (HTTP 400)."""

    code: ClassVar[str] = "enrol.invalid_code"
    template: ClassVar[str] = (
        "This enrolment code is not valid: check that it was typed exactly as printed. "
        "If it is right, ask the central help desk for a new code."
    )


class EnrolmentCodeUsed(EnrolmentRefused):
    code: ClassVar[str] = "enrol.code_used"
    template: ClassVar[str] = (
        "This enrolment code was already used. Each code works once: ask the central "
        "help desk for a new one."
    )


class EnrolmentCodeExpired(EnrolmentRefused):
    code: ClassVar[str] = "enrol.code_expired"
    template: ClassVar[str] = (
        "This enrolment code expired at {expired_at}. Ask the central help desk for a new one."
    )


class CsrNotSupported(EnrolmentRefused):
    code: ClassVar[str] = "enrol.csr_not_supported"
    template: ClassVar[str] = (
        "This hub cannot certify signer keys yet, so the request was refused and the "
        "enrolment code is still unused. Enrol without a signing request, or ask the "
        "central help desk when certificates become available."
    )


@dataclass(frozen=True)
class FieldProblem:
    """One field's problem: dotted path and the error explaining it."""

    field: str
    error: DomainError


class InvalidRequest(HubError):
    """Input that breaks a rule, with one problem per field (HTTP 422)."""

    code: ClassVar[str] = "hub.invalid_request"
    template: ClassVar[str] = "Some fields are not valid: {fields}. Correct them and send again."

    def __init__(self, problems: Sequence[FieldProblem], **params: Any) -> None:
        self.problems: tuple[FieldProblem, ...] = tuple(problems)
        super().__init__(fields=", ".join(p.field for p in self.problems), **params)

    def __reduce__(self) -> tuple[Any, ...]:
        return (InvalidRequest, (self.problems,))
