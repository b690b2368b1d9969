"""Talking to the hub's ``POST /v1/enrol``: a one-time code for the site's credential.

`EnrolmentClient.enrol` sends an `EnrolRequest` through a `requests.Session`
with connect and read timeouts and returns the hub's `EnrolResponse`. What
can go wrong is sorted into errors a person can act on:

- `HubAddressInvalid`: the address typed is not a web address;
- `EnrolmentHubUnreachable`: no network, a timeout, or the hub failing (5xx);
- `EnrolmentCodeWrong`, `EnrolmentCodeUsed`, `EnrolmentCodeExpired`: the hub
  refused the code;
- `SiteSwitchedOff`: the hub knows the site but has switched it off;
- `HubCannotCertify`: the hub has no signing authority for the site's key
  (the code is still unused);
- `ClientTooOld`: the hub no longer speaks this client's protocol;
- `UnexpectedHubAnswer`: anything else (not the hub, a broken proxy, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import requests
from pydantic import ValidationError

from domain.errors import DomainError
from domain.wire import PROTOCOL_HEADER, PROTOCOL_VERSION, EnrolRequest, EnrolResponse

ENROL_PATH: Final = "/v1/enrol"


class EnrolmentError(DomainError):
    """Root of the reasons an enrolment did not happen."""

    code: ClassVar[str] = "enrolment.failed"
    template: ClassVar[str] = "The workstation could not be enrolled."


class HubAddressInvalid(EnrolmentError):
    code: ClassVar[str] = "enrolment.hub_address_invalid"
    template: ClassVar[str] = (
        "'{url}' is not a hub address. Type it as printed on the enrolment sheet, starting "
        "with https:// (for example https://hub.example.rs)."
    )


class EnrolmentHubUnreachable(EnrolmentError):
    code: ClassVar[str] = "enrolment.hub_unreachable"
    template: ClassVar[str] = (
        "The hub at {url} could not be reached ({detail}). Check the network cable or Wi-Fi "
        "and the hub address, then try again. The enrolment code was not used."
    )


class EnrolmentCodeWrong(EnrolmentError):
    code: ClassVar[str] = "enrolment.code_wrong"
    template: ClassVar[str] = (
        "The hub does not know this enrolment code. Check that it was typed exactly as "
        "printed (letters and digits; dashes do not matter). If it is right, ask the central "
        "help desk for a new code."
    )


class EnrolmentCodeUsed(EnrolmentError):
    code: ClassVar[str] = "enrolment.code_used"
    template: ClassVar[str] = (
        "This enrolment code was already used. Each code works once: ask the central help "
        "desk for a new one."
    )


class EnrolmentCodeExpired(EnrolmentError):
    code: ClassVar[str] = "enrolment.code_expired"
    template: ClassVar[str] = (
        "This enrolment code has expired. Ask the central help desk for a new one."
    )


class SiteSwitchedOff(EnrolmentError):
    code: ClassVar[str] = "enrolment.site_inactive"
    template: ClassVar[str] = (
        "The hub has switched this site off, so it cannot be enrolled. Call the central help desk."
    )


class HubCannotCertify(EnrolmentError):
    code: ClassVar[str] = "enrolment.hub_cannot_certify"
    template: ClassVar[str] = (
        "The hub cannot certify this workstation's signing key. The enrolment code is still "
        "unused; call the central help desk."
    )


class ClientTooOld(EnrolmentError):
    code: ClassVar[str] = "enrolment.client_too_old"
    template: ClassVar[str] = (
        "The hub does not accept this version of the site client. Install the current "
        "version, then enrol again with the same code."
    )


class UnexpectedHubAnswer(EnrolmentError):
    code: ClassVar[str] = "enrolment.unexpected_answer"
    template: ClassVar[str] = (
        "The server at {url} did not answer as the hub does ({detail}). Check the hub "
        "address; if it is right, call the central help desk and quote this message."
    )


_REFUSALS: Final[dict[str, type[EnrolmentError]]] = {
    "enrol.invalid_code": EnrolmentCodeWrong,
    "enrol.code_used": EnrolmentCodeUsed,
    "enrol.code_expired": EnrolmentCodeExpired,
    "enrol.csr_not_supported": HubCannotCertify,
    "auth.inactive": SiteSwitchedOff,
    "protocol.unsupported": ClientTooOld,
}
"""The hub's error codes (central.services.errors) -> what to tell the person."""


def normalise_hub_url(url: str) -> str:
    """`url` trimmed, without a trailing slash; ``https://`` added when no scheme is given.

    Raises `HubAddressInvalid` when it is empty or not http(s).
    """
    text = url.strip().rstrip("/")
    if not text:
        raise HubAddressInvalid(url=url)
    if "://" not in text:
        text = f"https://{text}"
    scheme, _, rest = text.partition("://")
    if scheme.lower() not in ("http", "https") or not rest or any(c.isspace() for c in rest):
        raise HubAddressInvalid(url=url)
    return f"{scheme.lower()}://{rest}"


@dataclass
class EnrolmentClient:
    """HTTP(S) to one hub, for the one enrolment call."""

    hub_url: str
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.hub_url = normalise_hub_url(self.hub_url)

    def close(self) -> None:
        self.session.close()

    def enrol(self, request: EnrolRequest) -> EnrolResponse:
        """The hub's answer to `request`; raises an `EnrolmentError` (module docstring)."""
        try:
            response = self.session.post(
                self.hub_url + ENROL_PATH,
                data=request.model_dump_json(exclude_none=True),
                headers={
                    "Content-Type": "application/json",
                    PROTOCOL_HEADER: str(PROTOCOL_VERSION),
                },
                timeout=(self.connect_timeout_s, self.read_timeout_s),
                allow_redirects=False,
            )
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema) as exc:
            raise HubAddressInvalid(url=self.hub_url) from exc
        except requests.RequestException as exc:
            raise EnrolmentHubUnreachable(url=self.hub_url, detail=_network_detail(exc)) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise EnrolmentHubUnreachable(url=self.hub_url, detail=f"HTTP {response.status_code}")
        if response.status_code != 200:
            code = _error_code(response)
            refusal = _REFUSALS.get(code or "")
            if refusal is not None:
                raise refusal()
            raise UnexpectedHubAnswer(
                url=self.hub_url, detail=f"HTTP {response.status_code} {code or ''}".strip()
            )
        try:
            return EnrolResponse.model_validate_json(response.content)
        except ValidationError as exc:
            raise UnexpectedHubAnswer(url=self.hub_url, detail="unreadable answer") from exc


def _network_detail(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "no answer to the connection"
    if isinstance(exc, requests.exceptions.Timeout):
        return "the hub took too long to answer"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the secure connection failed"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection refused or no network"
    return type(exc).__name__


def _error_code(response: requests.Response) -> str | None:
    try:
        body: Any = response.json()
        return str(body["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None
