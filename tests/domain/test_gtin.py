from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.gtin import gs1_check_digit, is_valid_gtin, with_check_digit


def test_known_gtins() -> None:
    assert is_valid_gtin("4006381333931")
    assert is_valid_gtin("04006381333931")
    assert not is_valid_gtin("4006381333932")
    assert gs1_check_digit("400638133393") == 1


@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_every_body_gets_a_valid_check_digit_and_one_changed_digit_breaks_it(body: str) -> None:
    gtin = with_check_digit(body)
    assert is_valid_gtin(gtin)
    wrong = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    assert not is_valid_gtin(wrong)


@given(st.text(max_size=20))
def test_arbitrary_text_never_raises(text: str) -> None:
    assert is_valid_gtin(text) in (True, False)
