"""Errors the clinical services raise: each tells the nurse what happened and what to do.

Every class is a `DomainError` with a stable ``code`` (``clinical.<what>``) and
an English template; the Serbian Latin text is in
``domain/locale/services_clinical.sr-Latn.json`` (Cyrillic is derived). The UI
shows ``domain.i18n.message(error, language)`` and logs ``error.code``.

The hierarchy, so a caller can catch a family:

- `ClinicalError`: anything below.
  - `SetupError`: the workstation is not ready (not enrolled, unknown user).
  - `NotFound`: a scan or search found nothing usable.
  - `CheckInRefused`: the appointment cannot be checked in.
  - `WalkInRefused`: the walk-in cannot be registered or booked.
  - `VialRefused`: the vial cannot be used (as scanned, or its state).
  - `DoseRefused`: the dose must not be recorded (wrong person, product, dose, interval).
  - `VoidRefused`: the void cannot be recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from domain.eligibility import Reason
from domain.errors import DomainError


def reason_params(reasons: Sequence[Reason]) -> dict[str, Any]:
    """Eligibility reasons as message params: ``reasons`` (English), ``reasons_sr`` (Serbian).

    Templates pick their language's field, so the reasons read in the
    language of the message around them.
    """
    return {
        "reasons": " ".join(reason.text("en") for reason in reasons),
        "reasons_sr": " ".join(reason.text("sr-Latn") for reason in reasons),
    }


class ClinicalError(DomainError):
    """Root of the clinical services' errors."""

    code: ClassVar[str] = "clinical.error"
    template: ClassVar[str] = "The action could not be completed."


# -- setup ----------------------------------------------------------------------------


class SetupError(ClinicalError):
    code: ClassVar[str] = "clinical.setup"
    template: ClassVar[str] = "This workstation is not ready for clinical work."


class SiteNotEnrolled(SetupError):
    code: ClassVar[str] = "clinical.site_not_enrolled"
    template: ClassVar[str] = (
        "This workstation is not enrolled as a vaccination site yet. "
        "Ask the site manager to enrol it with the hub before vaccinating."
    )


class UnknownUser(SetupError):
    code: ClassVar[str] = "clinical.unknown_user"
    template: ClassVar[str] = (
        "The logged-in user is not known at this site or is deactivated. "
        "Log out and log in again; if it persists, ask the site manager."
    )


class ManagerRequired(SetupError):
    code: ClassVar[str] = "clinical.manager_required"
    template: ClassVar[str] = (
        "Only a site manager can do this. Ask the site manager to log in and do it."
    )


# -- look-ups ---------------------------------------------------------------------------


class NotFound(ClinicalError):
    code: ClassVar[str] = "clinical.lookup"
    template: ClassVar[str] = "Nothing was found."


class CitizenNotFound(NotFound):
    code: ClassVar[str] = "clinical.citizen_not_found"
    template: ClassVar[str] = (
        "No person with {identifier} is known at this site. Check the document; "
        "if the person has no appointment here, register them as a walk-in."
    )


class SeveralCitizensMatch(NotFound):
    code: ClassVar[str] = "clinical.several_citizens_match"
    template: ClassVar[str] = (
        "{count} people at this site match this document's name and date of birth. "
        "Type the person's JMBG or scan the invitation code instead."
    )


class AppointmentNotFound(NotFound):
    code: ClassVar[str] = "clinical.appointment_not_found"
    template: ClassVar[str] = (
        "The invitation code {code} does not match any appointment at this site. "
        "Scan the person's ID card or type the JMBG instead."
    )


class AppointmentNotToday(NotFound):
    code: ClassVar[str] = "clinical.appointment_not_today"
    template: ClassVar[str] = (
        "This appointment is on {day}, not today. Book the person as a walk-in if today "
        "has room, or ask them to come on their day."
    )


class DoseNotFound(NotFound):
    code: ClassVar[str] = "clinical.dose_not_found"
    template: ClassVar[str] = (
        "The dose record {dose_id} is not in this site's records. Refresh the list and try again."
    )


class VialNotFound(NotFound):
    code: ClassVar[str] = "clinical.vial_not_found"
    template: ClassVar[str] = (
        "This vial (serial {serial}) has not been opened or received here. "
        "Scan it to open it before discarding it."
    )


# -- check-in -----------------------------------------------------------------------------


class CheckInRefused(ClinicalError):
    code: ClassVar[str] = "clinical.check_in_refused"
    template: ClassVar[str] = "The person cannot be checked in."


_STATUS_SR: dict[str, str] = {
    "done": "obavljen",
    "cancelled": "otkazan",
    "rescheduled": "pomeren",
    "rebook_requested": "čeka novo zakazivanje",
    "no_show": "označen kao nedolazak",
    "checked_in": "prijavljen",
    "scheduled": "zakazan",
}


def status_params(status: str) -> dict[str, str]:
    """An appointment status as message params: ``status`` (English), ``status_sr``."""
    return {"status": status.replace("_", " "), "status_sr": _STATUS_SR.get(status, status)}


class AppointmentClosed(CheckInRefused):
    code: ClassVar[str] = "clinical.appointment_closed"
    template: ClassVar[str] = (
        "This appointment is already {status}. Do not vaccinate on it; "
        "if the person still needs a dose, register them as a walk-in."
    )


class NotCheckedIn(CheckInRefused):
    code: ClassVar[str] = "clinical.not_checked_in"
    template: ClassVar[str] = (
        "The person is not checked in for this appointment. Check them in first, "
        "then scan the vial."
    )


# -- walk-in --------------------------------------------------------------------------------


class WalkInRefused(ClinicalError):
    code: ClassVar[str] = "clinical.walk_in_refused"
    template: ClassVar[str] = "The walk-in cannot be booked."


class NotEligible(WalkInRefused):
    code: ClassVar[str] = "clinical.not_eligible"
    template: ClassVar[str] = (
        "The person may not get {product} today: {reasons} Do not vaccinate; "
        "explain the reason to the person."
    )


class AlreadyBookedToday(WalkInRefused):
    code: ClassVar[str] = "clinical.already_booked_today"
    template: ClassVar[str] = (
        "The person already has an appointment here today at {time}. "
        "Check them in on that appointment instead."
    )


class NoCapacityToday(WalkInRefused):
    code: ClassVar[str] = "clinical.no_capacity_today"
    template: ClassVar[str] = (
        "There is no free slot left today ({booked} of {capacity} booked). "
        "Ask the person to register for an appointment, or to come back another day."
    )


class SiteClosedToday(WalkInRefused):
    code: ClassVar[str] = "clinical.site_closed_today"
    template: ClassVar[str] = (
        "The site is not open for vaccination today according to its hours from the hub. "
        "Ask the person to register for an appointment."
    )


class CapacityUnknown(WalkInRefused):
    code: ClassVar[str] = "clinical.capacity_unknown"
    template: ClassVar[str] = (
        "This site's opening hours and vaccinator count have not come from the hub yet, "
        "so walk-ins cannot be booked. Sync with the hub, then try again."
    )


class InvalidWalkIn(WalkInRefused):
    code: ClassVar[str] = "clinical.invalid_walk_in"
    template: ClassVar[str] = "The walk-in's {field} is wrong: {problem}. Correct it."


_FIELDS: dict[str, tuple[str, str]] = {
    "jmbg": ("JMBG", "JMBG"),
    "given_name": ("given name", "ime"),
    "family_name": ("family name", "prezime"),
    "birth_date": ("date of birth", "datum rođenja"),
    "sex": ("sex", "pol"),
    "municipality": ("municipality", "opština"),
}
_PROBLEMS: dict[str, tuple[str, str]] = {
    "empty": ("it is empty", "prazno je"),
    "missing": ("it is missing", "nedostaje"),
    "future": ("it is in the future", "u budućnosti je"),
    "disagrees_with_jmbg": ("it does not agree with the JMBG", "ne slaže se sa JMBG-om"),
    "no_identifier": (
        "give a JMBG or a foreign document number",
        "unesite JMBG ili broj strane isprave",
    ),
}


def invalid(field: str, problem: str) -> InvalidWalkIn:
    """`InvalidWalkIn` for a known field and problem, with its Serbian words."""
    field_en, field_sr = _FIELDS[field]
    problem_en, problem_sr = _PROBLEMS[problem]
    return InvalidWalkIn(
        field=field_en, field_sr=field_sr, problem=problem_en, problem_sr=problem_sr
    )


# -- vials ------------------------------------------------------------------------------------


class VialRefused(ClinicalError):
    code: ClassVar[str] = "clinical.vial_refused"
    template: ClassVar[str] = "This vial cannot be used."


class LabelIncomplete(VialRefused):
    code: ClassVar[str] = "clinical.label_incomplete"
    template: ClassVar[str] = (
        "The scanned code has no {missing}. Scan the 2D code (DataMatrix) on the vial "
        "or carton, not the plain barcode."
    )


class UnknownVaccine(VialRefused):
    code: ClassVar[str] = "clinical.unknown_vaccine"
    template: ClassVar[str] = (
        "The product code {gtin} is not a vaccine this system knows. Do not use this vial; "
        "set it aside and tell the site manager."
    )


class LotRecalled(VialRefused):
    code: ClassVar[str] = "clinical.lot_recalled"
    template: ClassVar[str] = (
        "Lot {lot} has been recalled ({reason}). Do not use it: set every vial of this lot "
        "aside, and take a vial of another lot."
    )


class LotExpired(VialRefused):
    code: ClassVar[str] = "clinical.lot_expired"
    template: ClassVar[str] = (
        "Lot {lot} expired on {expiry}. Do not use it: discard the vial and take one of "
        "another lot."
    )


class VialPastUseBy(VialRefused):
    code: ClassVar[str] = "clinical.vial_past_use_by"
    template: ClassVar[str] = (
        "This vial was opened at {opened_at} and had to be used by {use_by}. "
        "Discard it (reason: open too long) and open a new vial."
    )


class VialAlreadyOpened(VialRefused):
    code: ClassVar[str] = "clinical.vial_already_opened"
    template: ClassVar[str] = (
        "This vial was already opened at {opened_at}. Draw the dose from it, "
        "without opening it again."
    )


class VialNotOpened(VialRefused):
    code: ClassVar[str] = "clinical.vial_not_opened"
    template: ClassVar[str] = "This vial has not been opened yet. Open it first."


class VialEmpty(VialRefused):
    code: ClassVar[str] = "clinical.vial_empty"
    template: ClassVar[str] = (
        "All {doses} doses of this vial have been drawn. Discard it and open a new vial."
    )


class VialDiscarded(VialRefused):
    code: ClassVar[str] = "clinical.vial_discarded"
    template: ClassVar[str] = (
        "This vial was discarded at {discarded_at} ({reason}). Do not use it; take a new vial."
    )


class VialLabelMismatch(VialRefused):
    code: ClassVar[str] = "clinical.vial_label_mismatch"
    template: ClassVar[str] = (
        "This serial number was registered here as lot {known_lot}, but the label says lot "
        "{scanned_lot}. Do not use the vial; set it aside and tell the site manager."
    )


class DiscardReasonRequired(VialRefused):
    code: ClassVar[str] = "clinical.discard_reason_required"
    template: ClassVar[str] = "Say why the vial is discarded (for example: broken, open too long)."


# -- doses --------------------------------------------------------------------------------------


class DoseRefused(ClinicalError):
    code: ClassVar[str] = "clinical.dose_refused"
    template: ClassVar[str] = "The dose must not be given."


class WrongProduct(DoseRefused):
    code: ClassVar[str] = "clinical.wrong_product"
    template: ClassVar[str] = (
        "This vial is {scanned}, but dose {dose_number} for this person must be {expected}. "
        "Do not use it; take a vial of {expected}."
    )


class IntervalNotReached(DoseRefused):
    code: ClassVar[str] = "clinical.interval_not_reached"
    template: ClassVar[str] = (
        "Dose {dose_number} may be given from {earliest} ({min_days} days after the previous "
        "dose). Do not vaccinate today; ask the person to come back from {earliest}."
    )


class DoseAlreadyRecorded(DoseRefused):
    code: ClassVar[str] = "clinical.dose_already_recorded"
    template: ClassVar[str] = (
        "Dose {dose_number} is already recorded for this person (on {given_on}). Do not "
        "vaccinate again; if the record is wrong, ask the site manager to void it."
    )


class DoseNumberMismatch(DoseRefused):
    code: ClassVar[str] = "clinical.dose_number_mismatch"
    template: ClassVar[str] = (
        "The appointment is for dose {booked}, but the records show this person's next dose is "
        "dose {due}. Do not vaccinate; ask the site manager to check the person's records."
    )


class IneligibleForDose(DoseRefused):
    code: ClassVar[str] = "clinical.ineligible_for_dose"
    template: ClassVar[str] = "The person may not get this dose today: {reasons} Do not vaccinate."


# -- voids ----------------------------------------------------------------------------------------


class VoidRefused(ClinicalError):
    code: ClassVar[str] = "clinical.void_refused"
    template: ClassVar[str] = "The dose record cannot be voided."


class VoidReasonRequired(VoidRefused):
    code: ClassVar[str] = "clinical.void_reason_required"
    template: ClassVar[str] = (
        "Say why the dose record is wrong (at least {min_length} characters), then void it."
    )


class DoseAlreadyVoided(VoidRefused):
    code: ClassVar[str] = "clinical.dose_already_voided"
    template: ClassVar[str] = (
        "This dose record was already voided on {voided_at} ({reason}). Nothing more to do."
    )
