"""Errors of the demo-data generator that the operator reads."""

from __future__ import annotations

from typing import ClassVar

from domain.errors import DomainError


class DemoDatabaseNotEmpty(DomainError):
    """Demo data would mix with records already in the database."""

    code: ClassVar[str] = "demo.database_not_empty"
    template: ClassVar[str] = (
        "The database already holds {citizens} citizens, {sites} sites and {lots} lots. "
        "Demo data is only written into an empty database: give a new SQLite file or "
        "an empty PostgreSQL database with --db."
    )


class DemoSizeInvalid(DomainError):
    """A number of citizens or sites the generator cannot make."""

    code: ClassVar[str] = "demo.size_invalid"
    template: ClassVar[str] = (
        "{option} must be a number from {low} to {high}; {value} was given. "
        "Choose a number in that range."
    )
