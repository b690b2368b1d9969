"""Secrets and the small parsers of the hub: tokens, enrolment codes, passwords,
opening hours, cursors, Accept-Language."""

from __future__ import annotations

import argon2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.api.errors import negotiate_language
from central.auth import (
    ENROL_CODE_ALPHABET,
    PasswordHasher,
    TokenKind,
    new_enrol_code,
    new_site_token,
    new_staff_token,
    normalise_enrol_code,
    token_hash,
    token_kind,
)
from central.services.errors import InvalidRequest
from central.services.pagination import decode_cursor, encode_cursor
from central.services.sites import OpeningHoursInvalid, format_opening_hours, parse_opening_hours


def test_tokens_say_what_they_are_and_are_unique() -> None:
    site, staff = new_site_token(), new_staff_token()

    assert token_kind(site) is TokenKind.SITE
    assert token_kind(staff) is TokenKind.STAFF
    assert token_kind("Bearer-nonsense") is None
    assert token_kind("imuno_site_" + "a" * 200) is None
    assert len({new_site_token() for _ in range(100)}) == 100
    assert len(site) >= len("imuno_site_") + 43  # 256 bits of base64url


def test_only_hashes_are_stored() -> None:
    token = new_site_token()
    assert token_hash(token) != token
    assert len(token_hash(token)) == 64
    assert token_hash(token) == token_hash(token)


def test_enrol_codes_avoid_look_alike_characters() -> None:
    code = new_enrol_code()
    groups = code.split("-")

    assert [len(g) for g in groups] == [4, 4, 4, 4, 4]
    assert set("".join(groups)) <= set(ENROL_CODE_ALPHABET)
    assert not set("01ILOU") & set(ENROL_CODE_ALPHABET)


@given(st.text(alphabet=ENROL_CODE_ALPHABET, min_size=20, max_size=20), st.data())
def test_typing_a_code_with_any_case_dashes_or_spaces_is_the_same_code(
    raw: str, data: st.DataObject
) -> None:
    typed = "".join(
        data.draw(st.sampled_from([ch, ch.lower()])) + data.draw(st.sampled_from(["", "-", " "]))
        for ch in raw
    )
    assert normalise_enrol_code(typed) == raw


def test_passwords_are_argon2id_and_weak_hashes_are_refreshed() -> None:
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    hasher = PasswordHasher()
    old_hash = weak.hash("a long enough secret")

    good = hasher.check(old_hash, "a long enough secret")
    bad = hasher.check(old_hash, "a wrong secret")

    assert good.ok
    assert good.new_hash is not None
    assert good.new_hash.startswith("$argon2id$")
    assert hasher.check(good.new_hash, "a long enough secret").new_hash is None
    assert not bad.ok
    assert not hasher.check(None, "anything").ok
    assert not hasher.check("not a hash", "anything").ok


def test_opening_hours_read_like_people_write_them() -> None:
    hours = parse_opening_hours(
        ["mon-fri 08:00-20:00", "sat 08:00-12:00,13:00-16:00", "sun 09:00-10:00"]
    )

    assert hours["mon"] == [["08:00", "20:00"]]
    assert hours["sat"] == [["08:00", "12:00"], ["13:00", "16:00"]]
    assert list(hours) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert format_opening_hours(hours).startswith("mon 08:00-20:00; tue")


@pytest.mark.parametrize(
    "spec",
    ["mon", "funday 08:00-09:00", "mon 8-9", "mon 25:00-26:00", "fri-mon 08:00-09:00",
     "mon 10:00-09:00", "mon 08:00-10:00,09:00-11:00"],
)  # fmt: skip
def test_bad_opening_hours_are_refused(spec: str) -> None:
    with pytest.raises(OpeningHoursInvalid):
        parse_opening_hours([spec])


@given(st.text(max_size=60))
def test_the_opening_hours_parser_never_fails_otherwise(spec: str) -> None:
    try:
        hours = parse_opening_hours([spec])
    except OpeningHoursInvalid:
        return
    assert parse_opening_hours(format_opening_hours(hours).split("; ")) == hours


@given(st.lists(st.text(max_size=30), min_size=1, max_size=3))
def test_cursors_round_trip(key: list[str]) -> None:
    assert decode_cursor(encode_cursor(key), len(key)) == key


@given(st.text(max_size=80))
def test_any_cursor_text_is_either_decoded_or_refused_as_a_field_error(cursor: str) -> None:
    problems: list[str] = []
    try:
        decode_cursor(cursor, 2)
    except InvalidRequest as error:
        problems = [p.field for p in error.problems]
    assert problems in ([], ["cursor"])


@pytest.mark.parametrize(
    ("header", "language"),
    [(None, "en"), ("", "en"), ("sr", "sr-Latn"), ("sr-RS", "sr-Latn"), ("sr-Cyrl-RS", "sr-Cyrl"),
     ("de, sr-Latn;q=0.5", "sr-Latn"), ("en;q=0.1, sr-Cyrl;q=0.9", "sr-Cyrl"),
     ("sr;q=0", "en"), ("fr", "en"), ("sr;q=abc, en", "en")],
)  # fmt: skip
def test_accept_language(header: str | None, language: str) -> None:
    assert negotiate_language(header) == language


@given(st.text(max_size=200))
def test_accept_language_never_fails(header: str) -> None:
    assert negotiate_language(header) in {"en", "sr-Latn", "sr-Cyrl"}
