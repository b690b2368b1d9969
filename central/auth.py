"""Secrets the hub hands out and checks: site credentials, staff tokens,
enrolment codes, staff passwords.

- Bearer tokens are 256-bit random (`secrets.token_urlsafe`) with a prefix
  telling what they are (`SITE_TOKEN_PREFIX`, `STAFF_TOKEN_PREFIX`), so a
  request is routed to the right table without a guess, and a token pasted
  into a ticket or a log is recognisable (and greppable) as a secret.
- Enrolment codes are typed by a person from a printout: 20 characters from
  an alphabet without look-alikes (no 0/O, 1/I/L, U), about 98 bits, shown in
  groups of four. Dashes, spaces and case are ignored when checking.
- Only SHA-256 hashes of tokens and codes are stored (`token_hash`); for
  256-bit random secrets a slow hash adds nothing and would cost on every
  request. Passwords people choose are hashed with argon2id (`PasswordHasher`).

Nothing here touches the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

SITE_TOKEN_PREFIX: Final = "imuno_site_"  # noqa: S105 - a prefix, not a secret
STAFF_TOKEN_PREFIX: Final = "imuno_staff_"  # noqa: S105 - a prefix, not a secret
ENROL_CODE_ALPHABET: Final = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
ENROL_CODE_LENGTH: Final = 20
_TOKEN_BYTES: Final = 32
MAX_TOKEN_LENGTH: Final = 128
"""Longer bearer values are refused before hashing: no real token is that long."""


class TokenKind(StrEnum):
    """Which kind of principal a bearer token belongs to."""

    SITE = "site"
    STAFF = "staff"


def token_hash(secret: str) -> str:
    """Hex SHA-256 of a token or normalised enrolment code: what the database stores."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_site_token() -> str:
    """A new site credential (shown once, stored as `token_hash`)."""
    return SITE_TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def new_staff_token() -> str:
    """A new staff session token (shown once, stored as `token_hash`)."""
    return STAFF_TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def token_kind(token: str) -> TokenKind | None:
    """The kind of a bearer token by its prefix; None if it is neither."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    if token.startswith(SITE_TOKEN_PREFIX):
        return TokenKind.SITE
    if token.startswith(STAFF_TOKEN_PREFIX):
        return TokenKind.STAFF
    return None


def new_enrol_code() -> str:
    """A new one-time enrolment code for printing, e.g. ``ABCD-EFGH-JKMN-PQRS-TVWX``."""
    raw = "".join(secrets.choice(ENROL_CODE_ALPHABET) for _ in range(ENROL_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, ENROL_CODE_LENGTH, 4))


def normalise_enrol_code(typed: str) -> str:
    """The code as hashed: upper case, without dashes and whitespace."""
    return "".join(ch for ch in typed.upper() if ch not in "- \t")


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of checking a password: whether it matched, and a fresher hash.

    ``new_hash`` is set when the stored hash used weaker parameters than the
    current ones; the caller stores it so hashes improve as people log in.
    """

    ok: bool
    new_hash: str | None = None


class PasswordHasher:
    """argon2id hashing of passwords people choose (argon2-cffi's defaults)."""

    def __init__(self, hasher: argon2.PasswordHasher | None = None) -> None:
        self._hasher = hasher or argon2.PasswordHasher()
        self._decoy: str | None = None

    def _decoy_hash(self) -> str:
        """A hash checked when the user does not exist, so that an unknown
        username takes as long to refuse as a wrong password. Made on first
        use: hashing costs as much as a log-in."""
        if self._decoy is None:
            self._decoy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._decoy

    def hash(self, password: str) -> str:
        """The argon2id encoded hash of `password`."""
        return self._hasher.hash(password)

    def check(self, stored_hash: str | None, password: str) -> PasswordCheck:
        """Whether `password` matches `stored_hash` (None: no such user)."""
        if stored_hash is None:
            # The decoy's answer never matters: the answer is "no" either way.
            with contextlib.suppress(VerificationError):
                self._hasher.verify(self._decoy_hash(), password)
            return PasswordCheck(ok=False)
        try:
            self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return PasswordCheck(ok=False)
        if self._hasher.check_needs_rehash(stored_hash):
            return PasswordCheck(ok=True, new_hash=self._hasher.hash(password))
        return PasswordCheck(ok=True)
