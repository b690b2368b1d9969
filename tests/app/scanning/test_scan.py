"""Routing scanned text by content (app/scanning/scan.py)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.scanning.errors import (
    AppointmentCodeInvalid,
    ScanEmpty,
    ScanKeyboardLayout,
    ScanNotRecognised,
)
from app.scanning.scan import (
    AppointmentScan,
    DccScan,
    Gs1Scan,
    JmbgScan,
    MrzScan,
    UnknownScan,
    appointment_qr_text,
    classify,
)
from domain.data import load_rules
from domain.gs1 import (
    GS,
    Gs1GtinCheckDigit,
    Gs1MissingSeparator,
    Gs1ProductBarcodeOnly,
    encode_gs1,
)
from domain.gtin import is_valid_gtin
from domain.jmbg import REGIONS, JmbgCheckDigit, JmbgWrongLength, Sex, make_jmbg
from domain.mrz import MrzCompositeCheck, make_td1, make_td3

TODAY = date(2026, 11, 26)
GTIN = load_rules().catalogue.products[0].gtins[0]
JMBG = make_jmbg(date(1990, 1, 1), 71, 1, Sex.MALE)

GS1_TEXT = st.text(
    alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-./",
    min_size=1,
    max_size=20,
)


@st.composite
def jmbgs(draw: st.DrawFn) -> str:
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    region = draw(st.sampled_from(sorted(REGIONS)))
    sex = draw(st.sampled_from(list(Sex)))
    serial = draw(st.integers(0, 499))
    try:
        return make_jmbg(birth, region, serial, sex)
    except ValueError:
        return make_jmbg(birth, region, (serial + 1) % 500, sex)


@given(st.text(max_size=200))
def test_classify_never_raises(text: str) -> None:
    scan = classify(text, today=TODAY)
    assert scan.raw == text


SCANNER_NOISE = st.text(
    alphabet=st.sampled_from([*"0123456789()<>]^dCQEL:-ABCXYZabc\r\n ", GS, "\u241d"]),
    max_size=120,
)


@given(
    st.sampled_from(["", "]d2", "]C1", "]Q3", "]E0", "]C0", "HC1:", "IMUNO:APPT:"]), SCANNER_NOISE
)
def test_classify_never_raises_on_scanner_like_text(prefix: str, text: str) -> None:
    scan = classify(prefix + text, today=TODAY)
    assert scan.raw == prefix + text
    if isinstance(scan, UnknownScan):
        assert str(scan.reason)


@given(jmbgs(), st.sampled_from(["", "\r", "\n", "\r\n", " "]))
def test_a_valid_jmbg_is_a_jmbg_scan(value: str, ending: str) -> None:
    scan = classify(value + ending, today=TODAY)
    assert isinstance(scan, JmbgScan)
    assert scan.jmbg.value == value


@given(jmbgs(), st.integers(0, 12), st.integers(1, 9))
def test_one_mistyped_digit_is_refused_with_a_jmbg_message(
    value: str, position: int, delta: int
) -> None:
    digit = (int(value[position]) + delta) % 10
    typo = value[:position] + str(digit) + value[position + 1 :]
    scan = classify(typo, today=TODAY)
    assert not isinstance(scan, JmbgScan)
    assert isinstance(scan, UnknownScan)


def test_a_wrong_check_digit_says_so() -> None:
    typo = JMBG[:-1] + str((int(JMBG[-1]) + 1) % 10)
    scan = classify(typo, today=TODAY)
    assert isinstance(scan, UnknownScan)
    assert isinstance(scan.reason, JmbgCheckDigit)
    assert scan.code == "jmbg.check_digit"


def test_twelve_digits_are_a_short_jmbg() -> None:
    short = JMBG[:12]
    assert not is_valid_gtin(short)  # else it would be a UPC-A product barcode
    scan = classify(short, today=TODAY)
    assert isinstance(scan, UnknownScan)
    assert isinstance(scan.reason, JmbgWrongLength)
    assert scan.reason.params == {"length": 12}


def test_an_ean13_product_barcode_is_named_as_such() -> None:
    scan = classify(GTIN[1:], today=TODAY)
    assert isinstance(scan, UnknownScan)
    assert isinstance(scan.reason, Gs1ProductBarcodeOnly)


@given(
    st.sampled_from([g for p in load_rules().catalogue.products for g in p.gtins]),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    GS1_TEXT,
    GS1_TEXT,
    st.sampled_from(["", "]d2", "]Q3", "]C1", GS]),
    st.sampled_from(["", "\r", "\r\n"]),
)
def test_a_gs1_label_gives_gtin_lot_expiry_serial(
    gtin: str, expiry: date, lot: str, serial: str, prefix: str, ending: str
) -> None:
    text = prefix + encode_gs1(gtin, expiry, lot, serial) + ending
    scan = classify(text, today=TODAY)
    assert isinstance(scan, Gs1Scan)
    assert (scan.gtin, scan.lot, scan.expiry_date, scan.serial) == (gtin, lot, expiry, serial)


def test_a_dropped_separator_is_refused_not_misread() -> None:
    text = encode_gs1(GTIN, date(2027, 3, 31), "LOT42A", "SN000123").replace(GS, "")
    scan = classify(text, today=TODAY)
    assert isinstance(scan, UnknownScan)
    assert isinstance(scan.reason, Gs1MissingSeparator)


def test_the_caret_stand_in_for_gs_is_a_separator() -> None:
    text = encode_gs1(GTIN, date(2027, 3, 31), "LOT42A", "SN000123", separator="^]")
    scan = classify(text, today=TODAY)
    assert isinstance(scan, Gs1Scan)
    assert scan.serial == "SN000123"


def test_a_bracketed_label_typed_from_the_print() -> None:
    scan = classify(f"(01){GTIN}(17)270331(10)LOT42A(21)SN1", today=TODAY)
    assert isinstance(scan, Gs1Scan)
    assert scan.lot == "LOT42A"


def test_a_gs1_label_with_a_bad_gtin_says_so() -> None:
    bad = GTIN[:-1] + str((int(GTIN[-1]) + 1) % 10)
    scan = classify(f"]d201{bad}17270331", today=TODAY)
    assert isinstance(scan, UnknownScan)
    assert isinstance(scan.reason, Gs1GtinCheckDigit)


@given(st.uuids())
def test_appointment_codes_plain_and_in_the_qr_form(appointment_id: uuid.UUID) -> None:
    for text in (
        str(appointment_id),
        str(appointment_id).upper(),
        appointment_qr_text(appointment_id),
    ):
        scan = classify(text + "\r", today=TODAY)
        assert isinstance(scan, AppointmentScan)
        assert scan.appointment_id == appointment_id


def test_a_damaged_appointment_qr_code() -> None:
    scan = classify("IMUNO:APPT:0190a6b2-1c2d-7e3f-8a4b", today=TODAY)
    assert isinstance(scan, UnknownScan)
    assert isinstance(scan.reason, AppointmentCodeInvalid)


SERBIAN_ID = make_td1(
    document_number="012345678",
    birth_date=date(1990, 1, 1),
    sex=Sex.MALE,
    expiry_date=date(2030, 5, 1),
    surname="Petrović",
    given_names="Marko",
    optional_data=JMBG,
)
PASSPORT = make_td3(
    document_number="P1234567",
    birth_date=date(1990, 1, 1),
    sex=Sex.MALE,
    expiry_date=date(2031, 5, 1),
    surname="Petrović",
    given_names="Marko",
    personal_number=JMBG,
)


@pytest.mark.parametrize("separator", ["\n", "\r", "\r\n", ""])
def test_an_id_card_mrz_as_readers_send_it(separator: str) -> None:
    scan = classify(separator.join(SERBIAN_ID.split("\n")) + "\r", today=TODAY)
    assert isinstance(scan, MrzScan)
    assert scan.document.format == "TD1"
    assert scan.jmbg is not None
    assert scan.jmbg.value == JMBG


@pytest.mark.parametrize("separator", ["\r", ""])
def test_a_passport_mrz(separator: str) -> None:
    scan = classify(separator.join(PASSPORT.split("\n")), today=TODAY)
    assert isinstance(scan, MrzScan)
    assert scan.document.format == "TD3"
    assert scan.jmbg is not None
    assert scan.jmbg.value == JMBG


def test_a_misread_mrz_keeps_the_mrz_message() -> None:
    lines = SERBIAN_ID.split("\n")
    damaged = lines[1][:-1] + str((int(lines[1][-1]) + 1) % 10)
    scan = classify("\r".join((lines[0], damaged, lines[2])), today=TODAY)
    assert isinstance(scan, UnknownScan)
    assert isinstance(scan.reason, MrzCompositeCheck)


def test_a_certificate() -> None:
    text = (
        "HC1:6BF+70790T9WJWG.FKY*4GO0.O1CV2 O5 N2FBBRW1*70HS8WY04AC*WIFN0AHCD8KD97TK0F90KECTHGWJC"
    )
    scan = classify(text + "\r", today=TODAY)
    assert isinstance(scan, DccScan)
    assert scan.text == text


def test_caps_lock_inverted_certificate_prefix() -> None:
    scan = classify("hc1:nc f", today=TODAY)
    assert isinstance(scan, DccScan)
    assert scan.text == "HC1:NC F"


@pytest.mark.parametrize("text", ["", "\r", "  \r\n", GS + "\r"])
def test_an_empty_scan(text: str) -> None:
    scan = classify(text, today=TODAY)
    assert isinstance(scan, UnknownScan)
    assert isinstance(scan.reason, ScanEmpty)


@pytest.mark.parametrize("text", ["hello world", "https://example.org/x", "12345"])
def test_unrecognised_text(text: str) -> None:
    scan = classify(text, today=TODAY)
    assert isinstance(scan, UnknownScan)
    assert isinstance(scan.reason, ScanNotRecognised)


def test_aim_identifier_of_a_plain_symbology_is_dropped() -> None:
    assert isinstance(classify("]C0" + JMBG, today=TODAY), JmbgScan)
    assert isinstance(
        classify("]Q1" + appointment_qr_text(uuid.uuid4()), today=TODAY), AppointmentScan
    )


def test_an_ean13_with_its_identifier_is_a_product_barcode() -> None:
    scan = classify("]E0" + GTIN[1:], today=TODAY)
    assert isinstance(scan, UnknownScan)
    assert isinstance(scan.reason, Gs1ProductBarcodeOnly)


def test_personal_data_stays_out_of_repr() -> None:
    scan = classify(JMBG, today=TODAY)
    assert JMBG not in repr(scan)
    assert JMBG not in repr(classify(SERBIAN_ID, today=TODAY))


def test_an_appointment_code_through_a_serbian_latin_keyboard_layout() -> None:
    appointment_id = uuid.uuid4()
    for sent in (str(appointment_id), appointment_qr_text(appointment_id)):
        garbled = sent.replace("-", "'").replace(":", "Č")
        scan = classify(garbled, today=TODAY)
        assert isinstance(scan, AppointmentScan)
        assert scan.appointment_id == appointment_id


@pytest.mark.parametrize(("text", "position"), [("HC1Č6BF+70790", 4), ("ТЕСТ", 1)])
def test_serbian_letters_mean_the_keyboard_layout_is_wrong(text: str, position: int) -> None:
    scan = classify(text, today=TODAY)
    assert isinstance(scan, UnknownScan)
    assert isinstance(scan.reason, ScanKeyboardLayout)
    assert scan.reason.params == {"position": position}
