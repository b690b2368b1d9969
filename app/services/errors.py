"""Errors the clinical services raise: each tells the nurse what happened and what to do.

Every class is a `DomainError` with a stable ``code`` (``clinical.<what>``) and
an English template; the Serbian Latin text is in
``domain/locale/services_clinical.sr-Latn.json`` (Cyrillic is derived). The UI
shows ``message(error, language)`` (this module's; any `DomainError`) and logs
``error.code``.

Words inside a message that depend on the reader's language (eligibility
reasons, an appointment's status, a field's name) travel as `LocalText`
values (codes and params, not sentences) and are put into words when the
message is shown, in that language: `ReasonsText` renders each
`domain.eligibility.Reason` through `domain.i18n`, `Term` a catalogue code,
so Serbian Cyrillic is derived like every other text. For callers that read
``error.params`` or use ``domain.i18n.message``, the English and Serbian Latin
renderings stay in ``params`` (``reasons`` and ``reasons_sr``, ...), as before.

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

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from domain.eligibility import Reason
from domain.errors import DomainError
from domain.i18n import Language, translate
from domain.i18n import message as i18n_message


class LocalText(ABC):
    """Part of a message put into words only when shown, in the reader's language."""

    @abstractmethod
    def render(self, language: Language) -> str:
        """The text in `language`."""


@dataclass(frozen=True)
class ReasonsText(LocalText):
    """Eligibility reasons (codes and typed params), one sentence each when shown."""

    reasons: tuple[Reason, ...]

    def render(self, language: Language) -> str:
        return " ".join(reason.text(language) for reason in self.reasons)


@dataclass(frozen=True)
class Term(LocalText):
    """A word or phrase with its catalogue code; `english` when the catalogue lacks it."""

    code: str
    english: str

    def render(self, language: Language) -> str:
        return translate(self.code, language, self.english)


@dataclass(frozen=True)
class Terms(LocalText):
    """Several `Term`s shown as one list (``"lot number (10), expiry date (17)"``)."""

    terms: tuple[Term, ...]
    separator: str = ", "

    def render(self, language: Language) -> str:
        return self.separator.join(term.render(language) for term in self.terms)


def reason_params(reasons: Sequence[Reason]) -> dict[str, Any]:
    """Eligibility reasons as the ``reasons`` param of a `ClinicalError`.

    The error keeps them as codes and params (`ClinicalError.reasons`), and
    puts them into words in the language the message is shown in.
    """
    return {"reasons": ReasonsText(tuple(reasons))}


class ClinicalError(DomainError):
    """Root of the clinical services' errors.

    A param given as a `LocalText` is kept as it is (`local_texts`) and also
    stored in ``params`` rendered in English (under its name) and Serbian
    Latin (``<name>_sr``), so ``str(error)`` and ``domain.i18n.message`` read
    as they always did; `params_in` renders it in any language.
    """

    code: ClassVar[str] = "clinical.error"
    template: ClassVar[str] = "The action could not be completed."

    def __init__(self, **params: Any) -> None:
        self._given = dict(params)
        self.local_texts: Mapping[str, LocalText] = {
            name: value for name, value in params.items() if isinstance(value, LocalText)
        }
        plain = {n: v for n, v in params.items() if not isinstance(v, LocalText)}
        for name, text in self.local_texts.items():
            plain[name] = text.render("en")
            plain[f"{name}_sr"] = text.render("sr-Latn")
        super().__init__(**plain)

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """The eligibility reasons this error reports (codes and params), if any."""
        return tuple(
            reason
            for text in self.local_texts.values()
            if isinstance(text, ReasonsText)
            for reason in text.reasons
        )

    def params_in(self, language: Language) -> dict[str, Any]:
        """The message params with every local text rendered in `language`.

        Both the plain name and ``<name>_sr`` get the `language` rendering,
        whichever one the catalogue's template uses.
        """
        params = dict(self.params)
        for name, text in self.local_texts.items():
            params[name] = params[f"{name}_sr"] = text.render(language)
        return params

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from what it was given, local texts included.
        return (_rebuild, (type(self), self._given))


def _rebuild(cls: type[ClinicalError], params: dict[str, Any]) -> ClinicalError:
    return cls(**params)


# Any DomainError's message in a language; a ClinicalError renders its local
# texts (reasons, statuses, field names) through `params_in`, which
# `domain.i18n.message` calls, so Serbian Cyrillic shows no Latin reasons.
message = i18n_message


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


def status_params(status: str) -> dict[str, Any]:
    """An appointment status as the ``status`` param (Serbian: ``clinical.status.<status>``)."""
    return {"status": Term(f"clinical.status.{status}", status.replace("_", " "))}


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


_FIELDS: dict[str, str] = {
    "jmbg": "JMBG",
    "given_name": "given name",
    "family_name": "family name",
    "birth_date": "date of birth",
    "sex": "sex",
    "municipality": "municipality",
}
_PROBLEMS: dict[str, str] = {
    "empty": "it is empty",
    "missing": "it is missing",
    "future": "it is in the future",
    "disagrees_with_jmbg": "it does not agree with the JMBG",
    "no_identifier": "give a JMBG or a foreign document number",
}


def invalid(field: str, problem: str) -> InvalidWalkIn:
    """`InvalidWalkIn` for a known field and problem.

    Their Serbian words are ``clinical.field.<field>`` and ``clinical.problem.<problem>``.
    """
    return InvalidWalkIn(
        field=Term(f"clinical.field.{field}", _FIELDS[field]),
        problem=Term(f"clinical.problem.{problem}", _PROBLEMS[problem]),
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
