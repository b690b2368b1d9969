"""Unique vaccination certificate identifiers (UVCI) with their check character.

Format (eHealth Network, "Guidelines on verifiable vaccination certificates -
basic interoperability elements", annex 2, version 01 with the issuing entity
option)::

    URN:UVCI:01:RS:<ISSUER>/<OPAQUE>#<C>

- ``ISSUER``: the issuing site's code, 1-10 of ``A-Z 0-9``.
- ``OPAQUE``: the certificate's own UUID (the id the record was born with) as
  25 base-36 digits, so issuing the same certificate twice - e.g. a reprint
  after a crash - gives the same UVCI, and two sites never collide.
- ``C``: the check character, Luhn mod N over the alphabet
  ``A-Z 0-9 / :`` (N = 38), computed over everything before ``#``, the
  ``URN:UVCI:`` prefix included. Published example:
  ``URN:UVCI:01:NL:187/37512422923#Z`` (eHN schema repository, Luhn-Mod-N
  example; the same vector is used by Sweden's DCC library).

The longest UVCI made here is 63 characters, within the schema's 80.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Final

from domain.certificates.errors import InvalidUvci

__all__ = [
    "ALPHABET",
    "PREFIX",
    "Uvci",
    "check_character",
    "issuer_code",
    "make_uvci",
    "parse_uvci",
]

PREFIX: Final = "URN:UVCI:"
VERSION: Final = "01"
ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:"
_VALUE: Final = {char: index for index, char in enumerate(ALPHABET)}
_N: Final = len(ALPHABET)
_DIGITS36: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_OPAQUE_LENGTH: Final = 25  # 36**25 > 2**128
_ISSUER: Final = re.compile(r"[A-Z0-9]{1,10}")
_COUNTRY: Final = re.compile(r"[A-Z]{2}")
_SHAPE: Final = re.compile(
    r"URN:UVCI:(?P<version>[0-9]{2}):(?P<country>[A-Z]{2}):"
    r"(?P<body>[A-Z0-9]+(?:/[A-Z0-9]+)*)#(?P<check>[A-Z0-9/:])"
)


def check_character(text: str) -> str:
    """The Luhn mod 38 check character of `text` (characters of `ALPHABET` only)."""
    total = 0
    factor = 2
    for char in reversed(text):
        value = _VALUE.get(char)
        if value is None:
            raise InvalidUvci(uvci=text, problem=f"the character '{char}' is not allowed")
        addend = factor * value
        total += addend // _N + addend % _N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(_N - total % _N) % _N]


@dataclass(frozen=True)
class Uvci:
    """A parsed UVCI. `segments` are the ``/``-separated parts after the country."""

    version: str
    country: str
    segments: tuple[str, ...]
    check: str

    @property
    def text(self) -> str:
        return f"{PREFIX}{self.version}:{self.country}:{'/'.join(self.segments)}#{self.check}"

    def __str__(self) -> str:
        return self.text


def issuer_code(site_code: str) -> str:
    """The UVCI issuer segment for a site code (hub and sites call this alike).

    The code's letters and digits, upper-cased (``"ns-01"`` -> ``"NS01"``),
    when 1 to 10 remain; otherwise ``"S"`` and 9 base-36 digits of the code's
    SHA-256, so any site code gives a valid, stable segment. The segment only
    says who issued: uniqueness comes from the certificate id after it.
    """
    kept = "".join(char for char in site_code.upper() if char in _DIGITS36)
    if _ISSUER.fullmatch(kept):
        return kept
    digest = int.from_bytes(hashlib.sha256(site_code.encode("utf-8")).digest()[:8], "big")
    return "S" + _base36(digest)[-9:]


def make_uvci(issuer: str, certificate_id: uuid.UUID, *, country: str = "RS") -> str:
    """The UVCI of the certificate `certificate_id` issued by `issuer`.

    Deterministic: the same id and issuer always give the same UVCI.
    Raises `InvalidUvci` for an issuer code outside ``[A-Z0-9]{1,10}`` or a
    country that is not two capital letters.
    """
    if not _ISSUER.fullmatch(issuer):
        raise InvalidUvci(
            uvci=issuer, problem="the issuer code must be 1 to 10 capital letters or digits"
        )
    if not _COUNTRY.fullmatch(country):
        raise InvalidUvci(uvci=country, problem="the country must be two capital letters")
    body = f"{PREFIX}{VERSION}:{country}:{issuer}/{_base36(certificate_id.int)}"
    return f"{body}#{check_character(body)}"


def parse_uvci(text: str) -> Uvci:
    """Read and check a UVCI in the form this module makes (any country and issuer).

    Raises `InvalidUvci` for a different shape or a wrong check character.
    """
    match = _SHAPE.fullmatch(text)
    if match is None:
        raise InvalidUvci(
            uvci=text, problem="it does not have the form URN:UVCI:01:RS:ISSUER/NUMBER#C"
        )
    body = text[: match.start("check") - 1]
    if check_character(body) != match["check"]:
        raise InvalidUvci(uvci=text, problem="its check character is wrong")
    return Uvci(
        version=match["version"],
        country=match["country"],
        segments=tuple(match["body"].split("/")),
        check=match["check"],
    )


def _base36(number: int) -> str:
    digits: list[str] = []
    for _ in range(_OPAQUE_LENGTH):
        number, digit = divmod(number, 36)
        digits.append(_DIGITS36[digit])
    return "".join(reversed(digits))
