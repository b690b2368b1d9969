"""Refusals of a scheduling run or a schedule-status question."""

from __future__ import annotations

from typing import ClassVar

from central.services.errors import NotFound
from domain.errors import DomainError


class HorizonInvalid(DomainError):
    """A horizon too short or too long to schedule."""

    code: ClassVar[str] = "scheduling.horizon_invalid"
    template: ClassVar[str] = (
        "The number of days to schedule must be between 1 and {max_days}; {days} was given. "
        "Choose a smaller number of days."
    )


class UnknownCitizen(NotFound):
    """No citizen with this id (HTTP 404)."""

    code: ClassVar[str] = "scheduling.unknown_citizen"
    template: ClassVar[str] = "There is no citizen {citizen_id}. Check the id."


__all__ = ["HorizonInvalid", "UnknownCitizen"]
