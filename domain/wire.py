"""What sites, the portal and the hub say to each other over HTTP, as pydantic models.

These models are the contract of the hub's API: the hub validates requests
with them and serialises its answers with them, and the site client parses
the answers with the same classes. The hub's OpenAPI schema is generated
from them, so a field documented here is a field on the wire.

Conventions:

- Requests refuse unknown fields (``extra="forbid"``): a typo in a field name
  is an error, not silently dropped data. Responses ignore unknown fields, so
  the hub may add a field without breaking sites that do not know it yet.
- Every text a client sends is bounded (no column overflows) and free of
  control characters and unpaired surrogates (`Text`): PostgreSQL refuses NUL
  bytes and invalid UTF-8, and a name with a newline in it would break every
  roster printout.
- Structural validation only. Whether a JMBG's check digit is right, or a
  condition code exists in the rules in force, is decided by the hub with the
  domain rules, which answers with a message per field.

Protocol versions (sync rule 7): every site request carries the header
`PROTOCOL_HEADER` with the client's protocol version; the hub accepts the
window `MIN_PROTOCOL_VERSION`..`MAX_PROTOCOL_VERSION`, so 400 sites need not
upgrade on the same day. Raise `PROTOCOL_VERSION` (and the window) only with a
change of the wire format that old peers cannot read.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "ANY_VACCINE",
    "MAX_PROTOCOL_VERSION",
    "MIN_PROTOCOL_VERSION",
    "PROTOCOL_ACCEPTED_HEADER",
    "PROTOCOL_HEADER",
    "PROTOCOL_VERSION",
    "SITE_CODE_PATTERN",
    "AppointmentEventView",
    "AppointmentList",
    "AppointmentStatus",
    "AppointmentView",
    "CancelRequest",
    "CredentialIssued",
    "EnrolRequest",
    "EnrolResponse",
    "ErrorBody",
    "ErrorResponse",
    "FieldError",
    "Health",
    "OpeningInterval",
    "RebookRequest",
    "RegistrationRequest",
    "RegistrationStatus",
    "RegistrationView",
    "RescheduleRequest",
    "RosterCitizen",
    "RosterEntry",
    "RosterPage",
    "SiteInfo",
    "SiteList",
    "StaffLoginRequest",
    "StaffSession",
    "StaffView",
    "Text",
    "Weekday",
    "canonical_json",
    "payload_hash",
    "protocol_accepted",
]

PROTOCOL_HEADER: Final = "Imuno-Protocol"
"""Request header naming the client's wire-protocol version (an integer)."""

PROTOCOL_ACCEPTED_HEADER: Final = "Imuno-Protocol-Accepted"
"""Response header with the window the hub accepts, as ``"<min>-<max>"``."""

PROTOCOL_VERSION: Final = 1
"""The version this code speaks."""

MIN_PROTOCOL_VERSION: Final = 1
"""The oldest version the hub still accepts from sites."""

MAX_PROTOCOL_VERSION: Final = PROTOCOL_VERSION
"""The newest version the hub accepts: its own."""

ANY_VACCINE: Final = "any"
"""The vaccine preference of a person who will take any suitable vaccine."""

SITE_CODE_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$"
"""A site code: 1-16 letters, digits and dashes, starting with a letter or digit."""


def protocol_accepted(version: int) -> bool:
    """Whether the hub serves a client speaking `version`."""
    return MIN_PROTOCOL_VERSION <= version <= MAX_PROTOCOL_VERSION


def _printable(value: str) -> str:
    """Refuse control characters, unpaired surrogates and non-characters."""
    for position, char in enumerate(value, start=1):
        category = unicodedata.category(char)
        if category in {"Cc", "Cs", "Cn"} or char in "\u2028\u2029":
            raise ValueError(
                f"character {position} is a control or invalid character; "
                "use letters, digits, spaces and punctuation only"
            )
    return value


_PEM_LINE: Final = re.compile(r"^[\x20-\x7e]*$")


def _printable_multiline(value: str) -> str:
    """PEM text: printable ASCII lines only."""
    for number, line in enumerate(value.splitlines(), start=1):
        if not _PEM_LINE.match(line):
            raise ValueError(f"line {number} is not printable ASCII; send the PEM text unchanged")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_printable)]
"""Client text: surrounding whitespace stripped, no control characters."""


def _text(min_length: int, max_length: int, description: str) -> Any:
    return Field(min_length=min_length, max_length=max_length, description=description)


SiteCode = Annotated[str, Field(pattern=SITE_CODE_PATTERN, description="The site's code.")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
AppointmentStatus = Literal[
    "scheduled", "checked_in", "done", "no_show", "cancelled", "rescheduled", "rebook_requested"
]
RegistrationStatus = Literal["active", "withdrawn"]
_CODE_LIST_MAX: Final = 30


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- errors -----------------------------------------------------------------


class FieldError(_Response):
    """What is wrong with one field of a request."""

    field: str = Field(description="Dotted path of the field, e.g. 'conditions.2' or 'jmbg'.")
    code: str = Field(description="Stable error code, e.g. 'jmbg.check_digit'.")
    message: str = Field(description="What is wrong and how to fix it, for a person.")


class ErrorBody(_Response):
    """An error answer: a stable code, a message for a person, and per-field detail."""

    code: str = Field(description="Stable error code, e.g. 'auth.revoked'.")
    message: str
    fields: list[FieldError] = Field(default_factory=list)
    request_id: str | None = Field(default=None, description="Quote it when calling support.")


class ErrorResponse(_Response):
    """The body of every 4xx and 5xx answer of the hub."""

    error: ErrorBody


class Health(_Response):
    """Liveness and database reachability."""

    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
    protocol_version: int
    accepted_protocol_versions: list[int]


# --- sites and enrolment -------------------------------------------------------


class OpeningInterval(_Response):
    """One interval of a weekday in which the site vaccinates (site-local time)."""

    day: Weekday
    opens: str = Field(pattern=r"^\d{2}:\d{2}$", examples=["08:00"])
    closes: str = Field(pattern=r"^\d{2}:\d{2}$", examples=["20:00"])


class SiteInfo(_Response):
    """A vaccination site as the hub knows it."""

    code: str
    name: str
    municipality: str
    latitude: float
    longitude: float
    timezone: str
    opening_hours: list[OpeningInterval]
    slot_minutes: int
    vaccinators: int
    products: list[str]
    active: bool


class SiteList(_Response):
    """A page of sites, ordered by code."""

    items: list[SiteInfo]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: done.")


class EnrolRequest(_Request):
    """A site's one-time enrolment.

    ``csr_pem`` is the extension point for the site's document-signer key:
    a PKCS#10 certificate signing request in PEM, answered with the signer
    certificate in `EnrolResponse.signer_certificate_pem`. A hub without a
    signer refuses a request that carries one (and keeps the code unused).
    """

    code: Annotated[Text, _text(1, 64, "The one-time enrolment code, dashes optional.")]
    csr_pem: Annotated[str, AfterValidator(_printable_multiline)] | None = Field(
        default=None, max_length=16_384, description="PKCS#10 CSR (PEM) for the signer key."
    )
    client_version: Annotated[Text, _text(1, 40, "The site client's version.")] | None = None


class CredentialIssued(_Response):
    """A new site credential. Shown once: the hub keeps only its hash."""

    credential: str = Field(description="Send as 'Authorization: Bearer <credential>'.")
    credential_id: uuid.UUID
    issued_at: datetime


class EnrolResponse(_Response):
    """What an enrolled site receives: who it is and its credential."""

    site: SiteInfo
    site_id: uuid.UUID | None = Field(
        default=None, description="The site's id at the hub: what its synced records carry."
    )
    credential: CredentialIssued
    signer_certificate_pem: str | None = Field(
        default=None, description="The signer certificate, when a CSR was sent."
    )
    protocol_version: int


# --- staff ----------------------------------------------------------------------


class StaffLoginRequest(_Request):
    """A central staff member's log-in."""

    username: Annotated[Text, _text(1, 64, "The staff username.")]
    password: str = Field(min_length=1, max_length=1024)


class StaffView(_Response):
    """A central staff account."""

    id: uuid.UUID
    username: str
    full_name: str
    role: Literal["central_admin", "central_viewer"]


class StaffSession(_Response):
    """A bearer token for a staff member. Shown once."""

    token: str = Field(description="Send as 'Authorization: Bearer <token>'.")
    expires_at: datetime
    user: StaffView


# --- registrations of interest ----------------------------------------------------


class RegistrationRequest(_Request):
    """A citizen's registration of interest, as the portal submits it.

    Names may be written in Serbian Latin or Cyrillic; the hub stores both.
    At least one of ``phone`` and ``email`` is needed to send the invitation.
    ``priority_claim`` is a group the person declares (health workers,
    care homes, ...); age and chronic-condition groups are derived, not
    claimed. ``vaccine_preferences`` lists product codes, most wanted first,
    or is ``["any"]``.
    """

    jmbg: Annotated[Text, _text(1, 32, "The 13-digit JMBG.")]
    first_name: Annotated[Text, _text(1, 100, "Given name, Latin or Cyrillic.")]
    last_name: Annotated[Text, _text(1, 100, "Family name, Latin or Cyrillic.")]
    phone: Annotated[Text, _text(1, 32, "Mobile number, e.g. +381 64 123 4567.")] | None = None
    email: Annotated[Text, _text(3, 254, "E-mail address.")] | None = None
    municipality: Annotated[Text, _text(1, 100, "Municipality of residence.")]
    priority_claim: Annotated[Text, _text(1, 40, "A claimable priority group code.")] | None = None
    conditions: list[Annotated[Text, _text(1, 40, "A condition code.")]] = Field(
        default_factory=list, max_length=_CODE_LIST_MAX
    )
    vaccine_preferences: list[Annotated[Text, _text(1, 64, "A product code, or 'any'.")]] = Field(
        default_factory=lambda: [ANY_VACCINE], min_length=1, max_length=_CODE_LIST_MAX
    )


class RegistrationView(_Response):
    """A registration as the hub stored it. The JMBG is shown masked."""

    id: uuid.UUID
    status: RegistrationStatus
    citizen_id: uuid.UUID
    jmbg_masked: str
    first_name_latin: str
    last_name_latin: str
    first_name_cyrillic: str
    last_name_cyrillic: str
    birth_date: date
    sex: Literal["M", "F"]
    phone: str | None
    email: str | None
    municipality: str
    priority_claim: str | None
    priority_group: str = Field(description="The group the person is served in (derived).")
    conditions: list[str]
    vaccine_preferences: list[str]
    rules_version: str
    registered_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None


# --- rosters and appointments -------------------------------------------------------


class RosterCitizen(_Response):
    """Who is coming: enough to find and identify the person at the desk."""

    id: uuid.UUID
    jmbg: str
    first_name_latin: str
    last_name_latin: str
    first_name_cyrillic: str
    last_name_cyrillic: str
    birth_date: date
    sex: Literal["M", "F"]
    phone: str | None


class RosterEntry(_Response):
    """One appointment on a site's roster."""

    appointment_id: uuid.UUID
    slot_start: time = Field(description="Site-local wall-clock time.")
    product_id: str
    dose_number: int
    status: AppointmentStatus
    citizen: RosterCitizen


class RosterPage(_Response):
    """A page of a site's roster for one day, ordered by slot then appointment id."""

    site_code: str
    day: date
    items: list[RosterEntry]
    next_cursor: str | None


class AppointmentEventView(_Response):
    """Something that happened to an appointment."""

    id: uuid.UUID
    kind: AppointmentStatus
    occurred_at: datetime
    reason: str | None
    new_appointment_id: uuid.UUID | None
    created_by: str


class AppointmentView(_Response):
    """An appointment with its status (the fold of its events) and history."""

    id: uuid.UUID
    citizen_id: uuid.UUID
    site_code: str
    day: date
    slot_start: time
    product_id: str
    dose_number: int
    status: AppointmentStatus
    replaces_appointment_id: uuid.UUID | None
    events: list[AppointmentEventView]


class AppointmentList(_Response):
    """A page of appointments, ordered by day, slot and id."""

    items: list[AppointmentView]
    next_cursor: str | None


_Reason = Annotated[Text, _text(3, 500, "Why: recorded with the change.")]


class CancelRequest(_Request):
    """Cancel an appointment."""

    reason: _Reason


class RebookRequest(_Request):
    """Mark an appointment for rebooking by the scheduler."""

    reason: _Reason


class RescheduleRequest(_Request):
    """Move an appointment to another day, slot or site.

    ``site_code`` defaults to the appointment's site. The new slot must lie
    on the site's slot grid within its opening hours and have a free place.
    """

    day: date
    slot_start: time
    site_code: SiteCode | None = None
    reason: _Reason


# --- canonical form -------------------------------------------------------------


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The canonical JSON text of a wire payload: sorted keys, no spaces, UTF-8.

    Values must already be JSON types (strings, numbers, booleans, null,
    lists, objects); ids and times are sent as strings.
    """
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_hash(payload: Mapping[str, Any]) -> str:
    """Hex SHA-256 of `canonical_json(payload)`: equal payloads, equal hashes."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
