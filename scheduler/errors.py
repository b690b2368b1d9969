"""Errors in the scheduler's input, for the central staff who run it.

Each names the record that is wrong and what to fix; Serbian texts are in
``domain/locale/scheduler.sr-Latn.json``.
"""

from __future__ import annotations

from domain.errors import DomainError


class SchedulerInputError(DomainError):
    """The scheduler was given input it cannot plan with."""

    code = "scheduler.input"
    template = "The scheduling input is invalid."


class UnknownReference(SchedulerInputError):
    """A record points at a product, site or municipality that is not in the input."""

    code = "scheduler.unknown_reference"
    template = (
        "{what} {ref!r} is referenced by {owner} but is not in the scheduling input. "
        "Add it to the input or correct the reference, then run the scheduler again."
    )


class DuplicateRecord(SchedulerInputError):
    """The same key appears twice where it must be unique."""

    code = "scheduler.duplicate"
    template = (
        "{what} {key} appears more than once in the scheduling input. "
        "Keep one record per {what} and run the scheduler again."
    )


class InvalidValue(SchedulerInputError):
    """A field holds a value outside its allowed range."""

    code = "scheduler.invalid_value"
    template = "{owner}: {field} is {value!r}, but {rule}. Correct it and run the scheduler again."
