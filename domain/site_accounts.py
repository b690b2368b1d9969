"""Rules for the accounts of nurses and managers at a site, the same at hub and site.

A site user is created at the site (by its manager) or at the hub (by an
operator) and travels between them as a ``site_user`` record; both ends check
the same rules here so that neither accepts a user the other would refuse.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import ClassVar, Final

from domain.errors import DomainError

USERNAME_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
"""2-64 characters: lower-case letters, digits, '.', '_', '-'; not starting with a sign."""

MIN_PASSWORD_LENGTH: Final = 8
"""Shortest password accepted. The workstation also locks after failed log-ins."""

MAX_PASSWORD_LENGTH: Final = 256


class SiteRole(StrEnum):
    """What a site user may do: managers also manage users and void records."""

    NURSE = "nurse"
    MANAGER = "manager"


class AccountError(DomainError):
    """Root of the errors about site accounts."""

    code: ClassVar[str] = "account.error"
    template: ClassVar[str] = "The account could not be changed."


class UsernameInvalid(AccountError):
    code: ClassVar[str] = "account.username_invalid"
    template: ClassVar[str] = (
        "The username '{username}' cannot be used: use 2 to 64 lower-case letters, digits, "
        "'.', '_' or '-', starting with a letter or digit."
    )


class FullNameInvalid(AccountError):
    code: ClassVar[str] = "account.full_name_invalid"
    template: ClassVar[str] = "Enter the person's full name (1 to 200 characters)."


class PasswordTooShort(AccountError):
    code: ClassVar[str] = "account.password_too_short"
    template: ClassVar[str] = (
        "The password is too short: use at least {minimum} characters. A longer phrase is "
        "easier to remember and harder to guess."
    )


class PasswordTooLong(AccountError):
    code: ClassVar[str] = "account.password_too_long"
    template: ClassVar[str] = "The password is too long: use at most {maximum} characters."


def normalise_username(username: str) -> str:
    """`username` as stored: trimmed and in lower case."""
    return username.strip().lower()


def check_username(username: str) -> str:
    """The normalised username; raises `UsernameInvalid`."""
    normal = normalise_username(username)
    if not USERNAME_PATTERN.fullmatch(normal):
        raise UsernameInvalid(username=username.strip())
    return normal


def check_full_name(full_name: str) -> str:
    """The trimmed full name; raises `FullNameInvalid`."""
    trimmed = " ".join(full_name.split())
    if not 1 <= len(trimmed) <= 200:
        raise FullNameInvalid()
    return trimmed


def check_password(password: str) -> str:
    """`password` unchanged if acceptable; raises `PasswordTooShort` or `PasswordTooLong`."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(minimum=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordTooLong(maximum=MAX_PASSWORD_LENGTH)
    return password
