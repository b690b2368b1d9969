"""Why a waiting citizen got no appointment.

Every citizen in the input who is not booked gets exactly one `Reason`. The
value is stable (stored and shown by the hub); `Reason.description` is the
English text, ``domain.i18n.translate(reason.message_code, ...)`` the Serbian.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """A reason code for a citizen left without an appointment."""

    INELIGIBLE = "ineligible"
    INTERVAL_NOT_REACHED = "interval_not_reached"
    INTERVAL_PASSED = "interval_passed"
    NO_SESSION_IN_REACH = "no_session_in_reach"
    NO_STOCK = "no_stock"
    NO_CAPACITY = "no_capacity"
    SECOND_DOSE_UNAVAILABLE = "second_dose_unavailable"

    @property
    def description(self) -> str:
        """What happened, in English, for staff reading a report."""
        return _DESCRIPTIONS[self]

    @property
    def message_code(self) -> str:
        """The i18n code of the description (``scheduler.reason.<value>``)."""
        return f"scheduler.reason.{self.value}"


_DESCRIPTIONS: dict[Reason, str] = {
    Reason.INELIGIBLE: (
        "An eligibility rule excludes every product for this citizen; the unbooked "
        "record names the rule."
    ),
    Reason.INTERVAL_NOT_REACHED: (
        "The earliest date for this dose is after the scheduling horizon; the citizen "
        "will be scheduled in a later run."
    ),
    Reason.INTERVAL_PASSED: (
        "The latest date for this dose was before the scheduling horizon; a doctor "
        "must decide how to continue the series."
    ),
    Reason.NO_SESSION_IN_REACH: (
        "No site within reach offers an accepted product on a day inside the citizen's window."
    ),
    Reason.NO_STOCK: (
        "Sites within reach have free places, but no stock of an accepted product is "
        "left for the citizen's window."
    ),
    Reason.NO_CAPACITY: (
        "Every place within reach for an accepted product is taken by citizens of the "
        "same or a higher priority."
    ),
    Reason.SECOND_DOSE_UNAVAILABLE: (
        "A first dose was possible, but no place for the second dose was free inside "
        "the product's interval, so the first dose was not booked."
    ),
}
