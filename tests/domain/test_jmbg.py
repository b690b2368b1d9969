"""JMBG parsing, building and masking."""

from __future__ import annotations

import json
import re
import string
from datetime import date
from importlib import import_module, resources

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.i18n import latin_to_cyrillic, message
from domain.jmbg import (
    REGIONS,
    Jmbg,
    JmbgCheckDigit,
    JmbgEmpty,
    JmbgError,
    JmbgFutureBirthDate,
    JmbgImpossibleDate,
    JmbgNeverIssued,
    JmbgNonAsciiDigits,
    JmbgNotDigits,
    JmbgUnknownRegion,
    JmbgWrongLength,
    Sex,
    jmbg_check_digit,
    make_jmbg,
    mask_jmbg,
    parse_jmbg,
)

WEIGHTS = (7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def reference_remainder(first_twelve: str) -> int:
    """The weighted sum mod 11, written out plainly to check the table-driven code."""
    return sum(int(d) * w for d, w in zip(first_twelve, WEIGHTS, strict=True)) % 11


def assert_explained(error: DomainError) -> None:
    """A rejection says why, in every language."""
    assert str(error)
    for language in ("en", "sr-Latn", "sr-Cyrl"):
        assert message(error, language)


birth_dates = st.dates(min_value=date(1800, 1, 1), max_value=date(2099, 12, 31))
regions = st.sampled_from(sorted(REGIONS))
serials = st.integers(min_value=0, max_value=499)
sexes = st.sampled_from(Sex)


@st.composite
def valid_jmbgs(draw: st.DrawFn) -> str:
    birth_date, region, sex = draw(birth_dates), draw(regions), draw(sexes)
    serial = draw(serials)
    for candidate in (*range(serial, 500), *range(serial)):
        try:
            return make_jmbg(birth_date, region, candidate, sex)
        except ValueError:
            continue
    raise AssertionError("every date and region has an issuable serial")


# Examples worked by hand from published descriptions of the rule.
@pytest.mark.parametrize(
    ("value", "born", "sex", "region"),
    [
        ("0308964384007", date(1964, 8, 3), Sex.MALE, 38),  # Croatian MUP instruction
        ("0512981717776", date(1981, 12, 5), Sex.FEMALE, 71),  # sum 203, r 5, K 6
        ("2206978816007", date(1978, 6, 22), Sex.FEMALE, 81),
        ("0101000710009", date(2000, 1, 1), Sex.MALE, 71),
    ],
)
def test_known_numbers(value: str, born: date, sex: Sex, region: int) -> None:
    jmbg = parse_jmbg(value)
    assert jmbg == Jmbg(value, born, sex, region, REGIONS[region])


def test_surrounding_whitespace_is_stripped_and_nothing_else() -> None:
    assert parse_jmbg(" \t0512981717776\r\n").value == "0512981717776"
    with pytest.raises(JmbgNotDigits) as caught:
        parse_jmbg("051298 1717776")
    assert caught.value.params == {"position": 7}
    with pytest.raises(JmbgNotDigits):
        parse_jmbg("0512981-717776")


def test_century_rule() -> None:
    assert parse_jmbg(make_jmbg(date(1899, 12, 31), 71, 0, Sex.MALE)).birth_date.year == 1899
    assert parse_jmbg(make_jmbg(date(2099, 1, 1), 71, 1, Sex.MALE)).birth_date.year == 2099
    body = "0101150710" + "00"  # YYY 150 is no possible year
    check = jmbg_check_digit(body)
    with pytest.raises(JmbgImpossibleDate):
        parse_jmbg(body + str(check if check is not None else 0))


def test_remainder_zero_gives_check_digit_zero_and_remainder_one_is_never_issued() -> None:
    bodies = [f"0101990{region}{serial:03d}" for region in (71, 72) for serial in range(1000)]
    zero = next(body for body in bodies if reference_remainder(body) == 0)
    one = next(body for body in bodies if reference_remainder(body) == 1)
    assert jmbg_check_digit(zero) == 0
    assert parse_jmbg(zero + "0").value == zero + "0"
    assert jmbg_check_digit(one) is None
    for last in "0123456789":
        with pytest.raises(JmbgNeverIssued):
            parse_jmbg(one + last)
    serial = int(one[9:12])
    sex = Sex.FEMALE if serial >= 500 else Sex.MALE
    with pytest.raises(ValueError, match="take the next serial"):
        make_jmbg(date(1990, 1, 1), int(one[7:9]), serial % 500, sex)


@given(valid_jmbgs())
def test_built_numbers_parse_back(value: str) -> None:
    jmbg = parse_jmbg(value)
    assert jmbg.value == value
    assert jmbg.birth_date.strftime("%d%m") == value[:4]
    assert jmbg.birth_date.year % 1000 == int(value[4:7])
    assert jmbg.region_code == int(value[7:9])
    assert jmbg.sex is (Sex.MALE if int(value[9:12]) < 500 else Sex.FEMALE)
    assert jmbg.region_name == REGIONS[jmbg.region_code]


@given(birth_dates, regions, serials, sexes)
def test_make_agrees_with_the_written_out_formula(
    birth_date: date, region: int, serial: int, sex: Sex
) -> None:
    body = (
        f"{birth_date:%d%m}{birth_date.year % 1000:03d}{region:02d}"
        f"{serial + (500 if sex is Sex.FEMALE else 0):03d}"
    )
    remainder = reference_remainder(body)
    if remainder == 1:
        with pytest.raises(ValueError):
            make_jmbg(birth_date, region, serial, sex)
        return
    made = make_jmbg(birth_date, region, serial, sex)
    assert made == body + str((11 - remainder) % 11)
    assert parse_jmbg(made, today=date(2100, 1, 1)).sex is sex


@given(valid_jmbgs(), st.integers(0, 12), st.integers(1, 9))
def test_every_single_mistyped_digit_is_refused(value: str, position: int, shift: int) -> None:
    wrong = value[:position] + str((int(value[position]) + shift) % 10) + value[position + 1 :]
    with pytest.raises(JmbgError) as caught:
        parse_jmbg(wrong)
    assert_explained(caught.value)


@given(valid_jmbgs(), st.integers(0, 11))
def test_every_swap_of_neighbouring_digits_is_refused(value: str, position: int) -> None:
    assume(value[position] != value[position + 1])
    swapped = value[:position] + value[position + 1] + value[position] + value[position + 2 :]
    with pytest.raises(JmbgError):
        parse_jmbg(swapped)


@pytest.mark.parametrize(
    ("text", "error", "params"),
    [
        ("", JmbgEmpty, {}),
        ("   \n", JmbgEmpty, {}),
        ("051298171777", JmbgWrongLength, {"length": 12}),
        ("05129817177760", JmbgWrongLength, {"length": 14}),
        ("0512981717776" * 800, JmbgWrongLength, {"length": 10400}),
        ("O512981717776", JmbgNotDigits, {"position": 1}),
        ("0512981717776\x00", JmbgNotDigits, {"position": 14}),
        ("05129817177\u200b76", JmbgNotDigits, {"position": 12}),
        ("٠٥١٢٩٨١٧١٧٧٧٦", JmbgNonAsciiDigits, {"position": 1}),  # Arabic-Indic
        ("０５１２９８１７１７７７６", JmbgNonAsciiDigits, {"position": 1}),  # fullwidth
        ("05129817177७6", JmbgNonAsciiDigits, {"position": 12}),  # Devanagari
        ("3102990710005", JmbgImpossibleDate, {"day": "31", "month": "02", "year_digits": "990"}),
        ("0113990710005", JmbgImpossibleDate, {"day": "01", "month": "13", "year_digits": "990"}),
        ("0001990710005", JmbgImpossibleDate, {"day": "00", "month": "01", "year_digits": "990"}),
        ("0101500710005", JmbgImpossibleDate, {"day": "01", "month": "01", "year_digits": "500"}),
        ("0512981207776", JmbgUnknownRegion, {"region_code": "20"}),
        ("0512981657776", JmbgUnknownRegion, {"region_code": "65"}),
        ("0512981997776", JmbgUnknownRegion, {"region_code": "99"}),
        ("0512981717775", JmbgCheckDigit, {}),
    ],
)
def test_invalid_numbers_are_refused_with_the_reason(
    text: str, error: type[JmbgError], params: dict[str, object]
) -> None:
    with pytest.raises(error) as caught:
        parse_jmbg(text)
    assert type(caught.value) is error
    assert caught.value.params == params
    assert_explained(caught.value)


def test_check_digit_message_tells_the_nurse_what_to_do() -> None:
    with pytest.raises(JmbgCheckDigit) as caught:
        parse_jmbg("0512981717775")
    assert str(caught.value) == (
        "The JMBG check digit does not match: re-type the number from the ID card."
    )


def test_birth_date_after_today_is_refused_only_when_today_is_given() -> None:
    value = make_jmbg(date(2021, 6, 2), 71, 5, Sex.FEMALE)
    assert parse_jmbg(value).birth_date == date(2021, 6, 2)
    assert parse_jmbg(value, today=date(2021, 6, 2)).birth_date == date(2021, 6, 2)
    with pytest.raises(JmbgFutureBirthDate) as caught:
        parse_jmbg(value, today=date(2021, 6, 1))
    assert caught.value.params == {"birth_date": "02.06.2021."}


@given(st.text(max_size=40))
def test_arbitrary_text_is_parsed_or_refused_with_a_jmbg_error(text: str) -> None:
    try:
        jmbg = parse_jmbg(text, today=date(2021, 3, 1))
    except JmbgError as error:
        assert_explained(error)
    else:
        assert jmbg.value == text.strip()


@given(valid_jmbgs(), st.integers(0, 12), st.characters(exclude_categories=["Nd"]))
def test_any_foreign_character_inside_a_valid_number_is_refused(
    value: str, position: int, char: str
) -> None:
    assume(not (position in (0, 12) and char.isspace()))
    with pytest.raises(JmbgError) as caught:
        parse_jmbg(value[:position] + char + value[position + 1 :])
    assert isinstance(caught.value, (JmbgNotDigits, JmbgWrongLength, JmbgEmpty))


# 10 kB strings made by repeating a random piece (Hypothesis cannot shrink 10 kB of noise).
long_texts = st.text(alphabet=string.printable + "\x00\x1d٠١٢३", min_size=1, max_size=40).map(
    lambda piece: (piece * (10_240 // len(piece) + 1))[:10_240]
)


@given(long_texts)
def test_long_hostile_input_is_refused(text: str) -> None:
    with pytest.raises(JmbgError) as caught:
        parse_jmbg(text)
    assert_explained(caught.value)


def test_mask_shows_the_birth_date_only() -> None:
    assert mask_jmbg("0512981717776") == "0512981******"
    assert mask_jmbg("051298171777") == "*" * 13
    assert mask_jmbg("٠٥١٢٩٨١٧١٧٧٧٦") == "*" * 13
    assert mask_jmbg("") == "*" * 13


@given(valid_jmbgs())
def test_mask_never_shows_region_serial_or_check_digit(value: str) -> None:
    masked = mask_jmbg(value)
    assert masked[:7] == value[:7]
    assert masked[7:] == "******"


def test_builder_and_check_digit_refuse_misuse() -> None:
    with pytest.raises(ValueError):
        make_jmbg(date(1799, 12, 31), 71, 1, Sex.MALE)
    with pytest.raises(ValueError):
        make_jmbg(date(2100, 1, 1), 71, 1, Sex.MALE)
    with pytest.raises(ValueError):
        make_jmbg(date(1990, 1, 1), 20, 1, Sex.MALE)
    with pytest.raises(ValueError):
        make_jmbg(date(1990, 1, 1), 71, 500, Sex.MALE)
    with pytest.raises(ValueError):
        make_jmbg(date(1990, 1, 1), 71, -1, Sex.MALE)
    for bad in ("", "12345678901", "1234567890123", "12345678901a", "١٢٣٤٥٦٧٨٩٠١٢"):
        with pytest.raises(ValueError):
            jmbg_check_digit(bad)


def test_region_table_covers_serbia() -> None:
    assert set(range(71, 80)) | set(range(80, 90)) | set(range(91, 97)) <= set(REGIONS)
    assert REGIONS[71] == "Beograd"
    assert REGIONS[80] == "Novi Sad"
    assert not {20, 40, 60, 69, 90, 97, 98, 99} & set(REGIONS)


# Translations: every error of the identifier parsers has a Serbian text.

IDENTIFIER_MODULES = ("domain.jmbg", "domain.mrz", "domain.gs1")
SERBIAN: dict[str, str] = json.loads(
    (resources.files("domain") / "locale" / "identifiers.sr-Latn.json").read_text(encoding="utf-8")
)


def identifier_errors() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in IDENTIFIER_MODULES:
        for value in vars(import_module(name)).values():
            if (
                isinstance(value, type)
                and issubclass(value, DomainError)
                and value.__module__ == name
            ):
                assert value.code not in found, f"duplicate code {value.code}"
                found[value.code] = value.template
    return found


ENGLISH = identifier_errors()


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_there_are_errors_to_translate() -> None:
    assert {"jmbg.check_digit", "mrz.composite_check", "gs1.missing_separator"} <= set(ENGLISH)


@pytest.mark.parametrize("code", sorted(ENGLISH))
def test_every_error_code_has_a_serbian_text_with_the_same_fields(code: str) -> None:
    assert code in SERBIAN, f"{code} has no Serbian translation"
    assert fields(SERBIAN[code]) == fields(ENGLISH[code])


def test_the_serbian_file_holds_no_stale_codes() -> None:
    assert set(SERBIAN) == set(ENGLISH)


@pytest.mark.parametrize("code", sorted(SERBIAN))
def test_serbian_text_transliterates_completely(code: str) -> None:
    outside = re.sub(r"\{[^{}]*\}|⟦[^⟧]*⟧", "", latin_to_cyrillic(SERBIAN[code]))
    assert not re.search(r"[A-Za-z]", outside), outside
