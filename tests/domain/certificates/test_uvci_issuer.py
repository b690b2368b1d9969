"""The UVCI issuer segment made from any site code."""

from __future__ import annotations

import re
import uuid

from hypothesis import given
from hypothesis import strategies as st

from domain.certificates.uvci import issuer_code, make_uvci, parse_uvci


def test_site_codes_keep_their_letters_and_digits() -> None:
    assert issuer_code("ns-01") == "NS01"
    assert issuer_code("RS-BG-042") == "RSBG042"
    assert issuer_code("HUB") == "HUB"


def test_codes_that_do_not_fit_get_a_stable_hashed_segment() -> None:
    long = issuer_code("Dom zdravlja Novi Sad")
    assert re.fullmatch(r"S[0-9A-Z]{9}", long)
    assert issuer_code("Dom zdravlja Novi Sad") == long
    assert issuer_code("Dom zdravlja Novi Sad 2") != long
    assert re.fullmatch(r"S[0-9A-Z]{9}", issuer_code("čćž-"))


@given(st.text(max_size=40), st.uuids())
def test_any_site_code_makes_a_uvci_that_parses(site_code: str, certificate_id: uuid.UUID) -> None:
    code = issuer_code(site_code)
    assert re.fullmatch(r"[A-Z0-9]{1,10}", code)
    parsed = parse_uvci(make_uvci(code, certificate_id))
    assert parsed.segments[0] == code
