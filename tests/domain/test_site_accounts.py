"""The account rules shared by hub and site, and the hub address parser of enrolment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.sync.enrolment import HubAddressInvalid, normalise_hub_url
from domain.site_accounts import (
    MIN_PASSWORD_LENGTH,
    USERNAME_PATTERN,
    FullNameInvalid,
    PasswordTooShort,
    UsernameInvalid,
    check_full_name,
    check_password,
    check_username,
)


@given(st.text(max_size=80))
def test_a_username_is_refused_or_normal_and_stable(text: str) -> None:
    try:
        normal = check_username(text)
    except UsernameInvalid:
        return
    assert USERNAME_PATTERN.fullmatch(normal)
    assert check_username(normal) == normal


@pytest.mark.parametrize("name", ["ana", "Ana.Petrovic", " jelena_p ", "n-01"])
def test_usual_usernames_pass(name: str) -> None:
    assert check_username(name) == name.strip().lower()


@pytest.mark.parametrize("name", ["", "a", "-ana", "ana petrović", "ana@dz", "x" * 65])
def test_odd_usernames_are_refused(name: str) -> None:
    with pytest.raises(UsernameInvalid):
        check_username(name)


def test_names_and_passwords() -> None:
    assert check_full_name("  Ana   Anić ") == "Ana Anić"
    with pytest.raises(FullNameInvalid):
        check_full_name("   ")
    with pytest.raises(PasswordTooShort):
        check_password("x" * (MIN_PASSWORD_LENGTH - 1))
    assert check_password("x" * MIN_PASSWORD_LENGTH)


@given(st.text(max_size=60))
def test_a_hub_address_is_refused_or_an_http_url_without_trailing_slash(text: str) -> None:
    try:
        url = normalise_hub_url(text)
    except HubAddressInvalid:
        return
    assert url.startswith(("http://", "https://"))
    assert not url.endswith("/")
    assert normalise_hub_url(url) == url


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("hub.zdravlje.rs", "https://hub.zdravlje.rs"),
        (" HTTPS://hub.rs/ ", "https://hub.rs"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_usual_hub_addresses(typed: str, expected: str) -> None:
    assert normalise_hub_url(typed) == expected
