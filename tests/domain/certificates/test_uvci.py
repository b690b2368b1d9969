"""UVCIs and their Luhn mod 38 check character."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.certificates.errors import InvalidUvci
from domain.certificates.uvci import ALPHABET, check_character, make_uvci, parse_uvci

ISSUERS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=10)
IDS = st.uuids()


def test_the_published_example() -> None:
    # eHN schema repository, examples/Luhn-Mod-N; also Sweden's DCC library test.
    assert check_character("URN:UVCI:01:NL:187/37512422923") == "Z"
    assert parse_uvci("URN:UVCI:01:NL:187/37512422923#Z").segments == ("187", "37512422923")


def test_a_uvci_made_here() -> None:
    uvci = make_uvci("NS01", uuid.UUID("0179b3d2-c800-7000-8000-000000000001"))
    assert uvci.startswith("URN:UVCI:01:RS:NS01/")
    parsed = parse_uvci(uvci)
    assert parsed.country == "RS"
    assert parsed.segments[0] == "NS01"
    assert len(parsed.segments[1]) == 25
    assert parsed.text == uvci == str(parsed)


@given(ISSUERS, IDS)
def test_the_same_certificate_always_gets_the_same_uvci(
    issuer: str, certificate_id: uuid.UUID
) -> None:
    uvci = make_uvci(issuer, certificate_id)
    assert make_uvci(issuer, certificate_id) == uvci
    assert parse_uvci(uvci).text == uvci
    assert len(uvci) <= 63


@given(IDS, IDS)
def test_different_certificates_get_different_uvcis(first: uuid.UUID, second: uuid.UUID) -> None:
    if first != second:
        assert make_uvci("NS01", first) != make_uvci("NS01", second)


@given(ISSUERS, IDS, st.data())
def test_any_single_changed_character_is_caught(
    issuer: str, certificate_id: uuid.UUID, data: st.DataObject
) -> None:
    uvci = make_uvci(issuer, certificate_id)
    body = uvci[: uvci.index("#")]
    position = data.draw(st.integers(min_value=len("URN:UVCI:01:RS:"), max_value=len(body) - 1))
    if body[position] == "/":
        return
    replacement = data.draw(st.sampled_from([c for c in ALPHABET[:36] if c != body[position]]))
    changed = body[:position] + replacement + body[position + 1 :] + uvci[len(body) :]
    with pytest.raises(InvalidUvci):
        parse_uvci(changed)


@given(ISSUERS, IDS)
def test_swapping_two_neighbouring_characters_is_caught(
    issuer: str, certificate_id: uuid.UUID
) -> None:
    uvci = make_uvci(issuer, certificate_id)
    body = uvci[: uvci.index("#")]
    opaque_start = body.index("/") + 1
    for position in range(opaque_start, len(body) - 1):
        a, b = body[position], body[position + 1]
        if a == b:
            continue
        swapped = body[:position] + b + a + body[position + 2 :] + uvci[len(body) :]
        with pytest.raises(InvalidUvci):
            parse_uvci(swapped)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "URN:UVCI:01:RS:NS01/ABC",  # no check character
        "urn:uvci:01:rs:ns01/abc#x",  # lower case
        "URN:UVCI:01:SRB:NS01/ABC#A",  # three-letter country
        "URN:UVCI:01:RS:NS01//ABC#A",  # empty segment
        "UVCI:01:RS:NS01/ABC#A",  # no URN prefix
        "URN:UVCI:01:RS:NS01/ABC#A ",  # trailing space
    ],
)
def test_malformed_uvcis_are_refused(text: str) -> None:
    with pytest.raises(InvalidUvci):
        parse_uvci(text)


@pytest.mark.parametrize("issuer", ["", "ns01", "NS-01", "ABCDEFGHIJK", "ŠID"])
def test_issuer_codes_outside_the_uvci_alphabet_are_refused(issuer: str) -> None:
    with pytest.raises(InvalidUvci):
        make_uvci(issuer, uuid.UUID(int=1))


def test_a_check_character_needs_the_uvci_alphabet() -> None:
    with pytest.raises(InvalidUvci):
        check_character("URN:UVCI:01:RS:a")
