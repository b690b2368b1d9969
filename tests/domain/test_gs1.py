"""Reading GS1 element strings from vaccine labels."""

from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.gs1 import (
    Gs1ConflictingValues,
    Gs1Empty,
    Gs1Error,
    Gs1GtinCheckDigit,
    Gs1InvalidCharacter,
    Gs1InvalidDate,
    Gs1InvalidValue,
    Gs1KeyboardLayout,
    Gs1Label,
    Gs1MissingGtin,
    Gs1MissingSeparator,
    Gs1NotGs1,
    Gs1ProductBarcodeOnly,
    Gs1UnknownAi,
    Gs1UnsupportedSymbology,
    bracketed,
    encode_gs1,
    parse_gs1,
)
from domain.gtin import with_check_digit
from domain.i18n import message

GS = "\x1d"
GTIN = "09506000134352"
LABEL = f"01{GTIN}17261231" + f"10LOT42A{GS}21000123"
HRI = f"(01){GTIN}(17)261231(10)LOT42A(21)000123"
CHARSET_82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
EXPECTED = Gs1Label(
    gtin=GTIN,
    expiry_date=date(2026, 12, 31),
    lot="LOT42A",
    serial="000123",
    raw=LABEL,
    elements=(("01", GTIN), ("17", "261231"), ("10", "LOT42A"), ("21", "000123")),
)


def assert_explained(error: DomainError) -> None:
    assert str(error)
    for language in ("en", "sr-Latn", "sr-Cyrl"):
        assert message(error, language)


def same_label(text: str) -> Gs1Label:
    label = parse_gs1(text)
    assert label.raw == text
    return label


def test_raw_scanner_output() -> None:
    assert parse_gs1(LABEL) == EXPECTED


def test_bracketed_text() -> None:
    label = parse_gs1(HRI)
    assert (label.gtin, label.expiry_date, label.lot, label.serial) == (
        GTIN,
        date(2026, 12, 31),
        "LOT42A",
        "000123",
    )
    assert label.elements == EXPECTED.elements
    assert bracketed(label) == HRI
    assert parse_gs1(" (01) 09506000134352 (17) 261231\n(10) LOT42A (21) 000123 ").lot == "LOT42A"


@pytest.mark.parametrize(
    "text",
    [
        "]d2" + LABEL,
        "]C1" + LABEL,
        "]Q3" + LABEL,
        "]e0" + LABEL,
        GS + LABEL,  # a leading FNC1 sent as GS
        LABEL + GS,
        LABEL + "\r\n",
        "]d2" + GS + LABEL + "\n",
        LABEL.replace(GS, "^]"),  # caret notation of Ctrl+]
        LABEL.replace(GS, "\u241d"),  # Unicode picture of GS
        f"01{GTIN}17261231" + f"21000123{GS}10LOT42A",  # serial before lot
    ],
)
def test_scanner_variants_give_the_same_label(text: str) -> None:
    label = same_label(text)
    assert (label.gtin, label.expiry_date, label.lot, label.serial) == (
        GTIN,
        date(2026, 12, 31),
        "LOT42A",
        "000123",
    )


def test_a_literal_gs_tag_is_not_taken_for_a_separator() -> None:
    # "<GS>" could be part of a real lot, so it is not substituted; the lot that
    # swallows the serial is then caught as a dropped separator.
    with pytest.raises(Gs1MissingSeparator):
        parse_gs1(LABEL.replace(GS, "<GS>"))


@pytest.mark.parametrize(
    ("yymmdd", "expiry"),
    [
        ("261200", date(2026, 12, 31)),
        ("240200", date(2024, 2, 29)),
        ("250200", date(2025, 2, 28)),
        ("000101", date(2000, 1, 1)),
        ("991130", date(2099, 11, 30)),
    ],
)
def test_expiry_date_day_zero_is_the_last_day_of_the_month(yymmdd: str, expiry: date) -> None:
    assert parse_gs1(f"(01){GTIN}(17){yymmdd}(10)A1").expiry_date == expiry


def test_other_elements_are_kept_in_order() -> None:
    text = f"01{GTIN}11210115" + f"17261231714PT12345{GS}10LOT42A{GS}21SN1"
    label = parse_gs1(text)
    assert label.others == (("11", "210115"), ("714", "PT12345"))
    assert bracketed(label) == f"(01){GTIN}(11)210115(17)261231(714)PT12345(10)LOT42A(21)SN1"
    assert parse_gs1(bracketed(label)).elements == label.elements


def test_label_without_lot_expiry_or_serial_has_none() -> None:
    label = parse_gs1(f"01{GTIN}")
    assert (label.lot, label.expiry_date, label.serial, label.others) == (None, None, None, ())


def test_repeated_identical_field_is_accepted_and_conflicting_one_refused() -> None:
    assert parse_gs1(f"(01){GTIN}(10)A1(10)A1").lot == "A1"
    with pytest.raises(Gs1ConflictingValues) as caught:
        parse_gs1(f"(01){GTIN}(10)A1(10)B2")
    assert caught.value.params == {"ai": "10"}


# The dropped separator (TOOLCHAIN.md: a QLineEdit eats GS).


def test_dropped_separator_between_lot_and_serial_is_refused() -> None:
    with pytest.raises(Gs1MissingSeparator) as caught:
        parse_gs1(LABEL.replace(GS, ""))
    assert caught.value.params == {"ai": "10", "next_ai": "21"}
    assert "dropping the separator" in str(caught.value)


def test_dropped_separator_between_serial_and_lot_is_refused() -> None:
    with pytest.raises(Gs1MissingSeparator) as caught:
        parse_gs1(f"01{GTIN}17261231" + "21SN00012310LOT42A")
    assert caught.value.params == {"ai": "21", "next_ai": "10"}


def test_lot_running_into_expiry_or_gtin_is_refused() -> None:
    with pytest.raises(Gs1MissingSeparator) as caught:
        parse_gs1(f"10LOT42A01{GTIN}")
    assert caught.value.params == {"ai": "10", "next_ai": "01"}
    with pytest.raises(Gs1MissingSeparator) as caught:
        parse_gs1(f"01{GTIN}" + "10LOT4217261231" + f"{GS}21SN0001")
    assert caught.value.params == {"ai": "10", "next_ai": "17"}


def test_full_length_lot_followed_by_data_without_separator_is_refused() -> None:
    with pytest.raises(Gs1MissingSeparator) as caught:
        parse_gs1(f"01{GTIN}17261231" + "10ABCDEFGHIJKLMNOPQRST21SN0001")
    assert caught.value.params == {"ai": "10", "next_ai": "21"}


def test_lot_with_digits_is_not_mistaken_when_the_serial_is_present() -> None:
    label = parse_gs1(f"01{GTIN}17261231" + f"103002183{GS}2100000042")
    assert (label.lot, label.serial) == ("3002183", "00000042")


def test_short_lot_ending_like_a_serial_is_accepted_without_serial() -> None:
    # "21" plus fewer than three characters is not taken for a swallowed serial.
    assert parse_gs1(f"01{GTIN}17261231" + "10FA2154").lot == "FA2154"


# Round trips.

gtins = st.text(alphabet=string.digits, min_size=13, max_size=13).map(with_check_digit)
expiries = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
texts = st.text(alphabet=CHARSET_82, min_size=1, max_size=20)


@given(gtins, expiries, texts, texts)
def test_encoded_labels_parse_back(gtin: str, expiry: date, lot: str, serial: str) -> None:
    text = encode_gs1(gtin, expiry, lot, serial)
    label = parse_gs1(text)
    assert (label.gtin, label.expiry_date, label.lot, label.serial) == (gtin, expiry, lot, serial)
    assert parse_gs1(bracketed(label)).elements == label.elements
    assert parse_gs1("]d2" + text.replace(GS, "^]")).elements == label.elements


@given(gtins, expiries, texts)
def test_without_serial_the_lot_parses_back_unless_it_ends_like_a_serial(
    gtin: str, expiry: date, lot: str
) -> None:
    text = encode_gs1(gtin, expiry, lot, None)
    assert GS not in text
    try:
        label = parse_gs1(text)
    except Gs1MissingSeparator:
        # The documented trade-off: a lot whose end reads as (21) + 3 characters.
        assert any(lot[i : i + 2] == "21" and len(lot) - i >= 5 for i in range(1, len(lot)))
    else:
        assert (label.lot, label.serial) == (lot, None)


@given(gtins, expiries, texts, st.text(alphabet=CHARSET_82, min_size=3, max_size=20))
def test_a_dropped_separator_is_always_caught(
    gtin: str, expiry: date, lot: str, serial: str
) -> None:
    with pytest.raises(Gs1MissingSeparator) as caught:
        parse_gs1(encode_gs1(gtin, expiry, lot, serial).replace(GS, ""))
    assert caught.value.params["ai"] == "10"
    assert_explained(caught.value)


# Refusals.


@pytest.mark.parametrize(
    ("text", "error", "params"),
    [
        ("", Gs1Empty, {}),
        (" \r\n", Gs1Empty, {}),
        (GS * 3, Gs1Empty, {}),
        ("]d2", Gs1Empty, {}),
        ("hello", Gs1NotGs1, {}),
        ("https://example.com/01/09506000134352", Gs1NotGs1, {}),
        ("(", Gs1NotGs1, {}),
        ("(01", Gs1NotGs1, {}),
        ("]", Gs1NotGs1, {}),
        ("]d", Gs1NotGs1, {}),
        ("9506000134352", Gs1ProductBarcodeOnly, {}),
        ("]E09506000134352", Gs1ProductBarcodeOnly, {}),
        ("]I1" + GTIN, Gs1ProductBarcodeOnly, {}),
        ("]d1" + LABEL, Gs1UnsupportedSymbology, {"symbology": "]d1"}),
        ("]A0ABC", Gs1UnsupportedSymbology, {"symbology": "]A0"}),
        (LABEL.replace("LOT", "ЛОТ"), Gs1KeyboardLayout, {"position": 27}),
        (LABEL.replace("LOT", "LOŠ"), Gs1KeyboardLayout, {"position": 29}),
        (LABEL.replace("LOT", "LO T"), Gs1InvalidCharacter, {"position": 29, "char": "U+0020"}),
        (LABEL.replace("LOT", "LO\x07"), Gs1InvalidCharacter, {"position": 29, "char": "U+0007"}),
        (LABEL.replace("LOT", "LO#"), Gs1InvalidCharacter, {"position": 29, "char": "'#'"}),
        (LABEL.replace("LOT", "LO\u00e9"), Gs1InvalidCharacter, {"position": 29, "char": "'é'"}),
        (f"01{GTIN}23ABC", Gs1UnknownAi, {"position": 17, "text": "23AB"}),
        (f"(01){GTIN}(23)ABC", Gs1UnknownAi, {"position": 19, "text": "23"}),
        ("(01)0950600013435", Gs1InvalidValue, {"ai": "01", "value": "0950600013435"}),
        ("010950600013435A", Gs1InvalidValue, {"ai": "01", "value": "0950600013435A"}),
        (f"(01){GTIN}(10)", Gs1InvalidValue, {"ai": "10", "value": ""}),
        (f"01{GTIN}10", Gs1InvalidValue, {"ai": "10", "value": ""}),
        (f"01{GTIN}1726123", Gs1InvalidValue, {"ai": "17", "value": "26123"}),
        ("01" + "A" * 10_000, Gs1InvalidValue, {"ai": "01", "value": "A" * 32 + "…"}),
        (f"01{GTIN}17261331", Gs1InvalidDate, {"ai": "17", "value": "261331"}),
        (f"01{GTIN}17260431", Gs1InvalidDate, {"ai": "17", "value": "260431"}),
        (f"01{GTIN}17250229", Gs1InvalidDate, {"ai": "17", "value": "250229"}),
        (f"01{GTIN}17260000", Gs1InvalidDate, {"ai": "17", "value": "260000"}),
        (f"(01){GTIN}(11)211301", Gs1InvalidDate, {"ai": "11", "value": "211301"}),
        ("17261231" + "10LOT42A", Gs1MissingGtin, {}),
        ("(10)LOT42A", Gs1MissingGtin, {}),
        ("0109506000134353", Gs1GtinCheckDigit, {"gtin": "09506000134353"}),
        ("(01)19506000134352", Gs1GtinCheckDigit, {"gtin": "19506000134352"}),
    ],
)
def test_refusals_say_why(text: str, error: type[Gs1Error], params: dict[str, object]) -> None:
    with pytest.raises(error) as caught:
        parse_gs1(text)
    assert type(caught.value) is error
    assert caught.value.params == params
    assert_explained(caught.value)


@given(st.text(max_size=100))
def test_arbitrary_text_only_raises_gs1_errors(text: str) -> None:
    try:
        parse_gs1(text)
    except Gs1Error as error:
        assert_explained(error)


@given(st.text(alphabet=CHARSET_82 + GS + "()", max_size=120))
def test_gs1_shaped_noise_only_raises_gs1_errors(text: str) -> None:
    try:
        label = parse_gs1(text)
    except Gs1Error as error:
        assert_explained(error)
    else:
        assert len(label.gtin) == 14


@given(st.sampled_from([LABEL, HRI]), st.data())
def test_one_random_character_in_a_valid_label_only_raises_gs1_errors(
    text: str, data: st.DataObject
) -> None:
    position = data.draw(st.integers(0, len(text) - 1))
    char = data.draw(st.characters())
    try:
        parse_gs1(text[:position] + char + text[position + 1 :])
    except Gs1Error as error:
        assert_explained(error)


@given(st.sampled_from([LABEL, HRI]), st.integers(1, 40))
def test_truncated_labels_only_raise_gs1_errors(text: str, cut: int) -> None:
    try:
        label = parse_gs1(text[:-cut])
    except Gs1Error as error:
        assert_explained(error)
    else:
        assert label.gtin == GTIN


@given(st.text(alphabet=CHARSET_82 + GS + "()\x00é", min_size=1, max_size=30))
def test_ten_kilobytes_only_raise_gs1_errors(piece: str) -> None:
    text = (piece * (10_240 // len(piece) + 1))[:10_240]
    try:
        parse_gs1(text)
    except Gs1Error as error:
        assert_explained(error)


def test_ten_kilobytes_of_valid_elements_parse() -> None:
    label = parse_gs1(f"01{GTIN}" * 640)
    assert label.gtin == GTIN
    assert len(label.elements) == 640


def test_encoder_refuses_what_a_label_cannot_hold() -> None:
    expiry = date(2026, 12, 31)
    assert encode_gs1("9506000134352", expiry, "A", None) == f"01{GTIN}17261231" + "10A"
    assert encode_gs1(GTIN, expiry, "A", "B", separator="^]") == f"01{GTIN}17261231" + "10A^]21B"
    for bad_gtin in ("09506000134353", "123", "０９５０６０００１３４３５２"):
        with pytest.raises(ValueError):
            encode_gs1(bad_gtin, expiry, "A", None)
    for bad_text in ("", "A" * 21, "LOT 1", "LOT#", "ЛОТ"):
        with pytest.raises(ValueError):
            encode_gs1(GTIN, expiry, bad_text, None)
        with pytest.raises(ValueError):
            encode_gs1(GTIN, expiry, "A", bad_text)
    with pytest.raises(ValueError):
        encode_gs1(GTIN, date(1999, 12, 31), "A", None)
    with pytest.raises(ValueError):
        encode_gs1(GTIN, expiry, "A", "B", separator="")
