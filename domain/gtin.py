"""GS1 check digits for GTIN-8/12/13/14 (mod-10, weights 3 and 1 from the right)."""

from __future__ import annotations


def gs1_check_digit(body: str) -> int:
    """Check digit for the digits of a GS1 key without its last digit.

    >>> gs1_check_digit("400638133393")
    1
    """
    if not body.isdigit() or not body.isascii():
        raise ValueError(f"GS1 key body must be ASCII digits, got {body!r}")
    total = 0
    for position, char in enumerate(reversed(body)):
        total += int(char) * (3 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10


def is_valid_gtin(gtin: str) -> bool:
    """True for an 8, 12, 13 or 14 digit GTIN whose last digit checks."""
    return (
        len(gtin) in (8, 12, 13, 14)
        and gtin.isascii()
        and gtin.isdigit()
        and gs1_check_digit(gtin[:-1]) == int(gtin[-1])
    )


def with_check_digit(body: str) -> str:
    """The body followed by its check digit."""
    return body + str(gs1_check_digit(body))
