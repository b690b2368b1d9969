"""Invitation texts sent to a booked citizen: an SMS and an e-mail, in Serbian.

Both carry the appointment id (`Šifra termina`), which the site's roster
lists and its check-in screen accepts, so the citizen can show it on arrival.

The SMS is written without diacritics (``č`` -> ``c``, ``đ`` -> ``dj``):
one diacritic forces the whole message into UCS-2, where a segment holds 70
characters instead of 160. It is kept within `SMS_LIMIT` by shortening the
site's name when the rest leaves too little room.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, time
from functools import cache
from typing import Final

from domain.i18n import translate

SMS_LIMIT: Final = 160

SMS_CODE: Final = "scheduling.invitation.sms"
SMS_TEMPLATE: Final = (
    "Vaccination appointment {day} at {time}, {site}. Vaccine: {vaccine}, dose {dose}. "
    "Code: {appointment_id}"
)
EMAIL_CODE: Final = "scheduling.invitation.email"
EMAIL_TEMPLATE: Final = (
    "Subject: Your vaccination appointment\n\n"
    "Dear {name},\n\n"
    "you have a vaccination appointment:\n\n"
    "Date: {day}\nTime: {time}\nSite: {site}\nAddress: {address}\n"
    "Vaccine: {vaccine}, dose {dose}\n\n"
    "Appointment code: {appointment_id}\n\n"
    "Bring an identity document and this code. If you cannot come, tell your site "
    "so that the place goes to someone else."
)

_FOLD: Final = str.maketrans({"đ": "dj", "Đ": "Dj"})


@dataclass(frozen=True)
class Invitation:
    """What an invitation says (`appointment_id` as a UUID or its canonical text)."""

    appointment_id: uuid.UUID | str
    citizen_name: str
    day: date
    slot_start: time
    site_name: str
    site_address: str
    vaccine: str
    dose_number: int


@cache
def _day(value: date) -> str:
    return f"{value.day:02d}.{value.month:02d}.{value.year}."


@cache
def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def without_diacritics(text: str) -> str:
    """Serbian Latin folded to ASCII letters (``đ`` -> ``dj``, ``č`` -> ``c``)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _sms_template() -> str:
    """The Serbian SMS template, folded once (the fields filled in are ASCII or folded)."""
    fields = ("day", "time", "site", "vaccine", "dose", "appointment_id")
    raw = translate(SMS_CODE, "sr-Latn", SMS_TEMPLATE, **{f: "{" + f + "}" for f in fields})
    return without_diacritics(raw)


@cache
def _email_template() -> str:
    """The Serbian e-mail template, looked up once."""
    fields = ("name", "day", "time", "site", "address", "vaccine", "dose", "appointment_id")
    return translate(EMAIL_CODE, "sr-Latn", EMAIL_TEMPLATE, **{f: "{" + f + "}" for f in fields})


@cache
def _folded(text: str) -> str:
    return without_diacritics(text)


def sms_text(invitation: Invitation) -> str:
    """The SMS, at most `SMS_LIMIT` characters when the fixed parts allow it."""
    params = {
        "day": _day(invitation.day),
        "time": _clock(invitation.slot_start),
        "vaccine": _folded(invitation.vaccine),
        "dose": invitation.dose_number,
        "appointment_id": str(invitation.appointment_id),
    }
    template = _sms_template()
    site = _folded(invitation.site_name)
    text = template.format(site=site, **params)
    excess = len(text) - SMS_LIMIT
    if excess > 0 and len(site) > excess + 1:
        site = site[: len(site) - excess - 1].rstrip() + "."
        text = template.format(site=site, **params)
    return text


def email_text(invitation: Invitation) -> str:
    """The e-mail, a subject line and the body, in Serbian Latin."""
    return _email_template().format(
        name=invitation.citizen_name,
        day=_day(invitation.day),
        time=_clock(invitation.slot_start),
        site=invitation.site_name,
        address=invitation.site_address,
        vaccine=invitation.vaccine,
        dose=invitation.dose_number,
        appointment_id=str(invitation.appointment_id),
    )
