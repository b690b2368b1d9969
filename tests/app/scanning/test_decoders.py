"""Decoding real barcode pictures (app/scanning/decoders.py), end to end through classify."""

from __future__ import annotations

import uuid
from datetime import date

import numpy as np
import pytest

from app.scanning.decoders import ChainDecoder, DecodedSymbol, ZbarDecoder, ZxingDecoder
from app.scanning.scan import (
    AppointmentScan,
    Gs1Scan,
    JmbgScan,
    MrzScan,
    appointment_qr_text,
    classify,
)
from domain.gs1 import GS
from domain.jmbg import Sex
from domain.mrz import make_td1
from tests.app.scanning.pictures import (
    VIAL_EXPIRY,
    VIAL_GTIN,
    VIAL_LOT,
    VIAL_SERIAL,
    barcode,
    camera_frame,
    vial_datamatrix,
    vial_element_string,
)

TODAY = date(2026, 11, 26)
JMBG = "0101990710016"


def only(symbols: list[DecodedSymbol]) -> DecodedSymbol:
    assert len(symbols) == 1, symbols
    return symbols[0]


def assert_vial(symbol: DecodedSymbol) -> None:
    scan = classify(symbol.text, today=TODAY)
    assert isinstance(scan, Gs1Scan), scan
    assert scan.gtin == VIAL_GTIN
    assert scan.lot == VIAL_LOT
    assert scan.expiry_date == VIAL_EXPIRY
    assert scan.serial == VIAL_SERIAL


def test_gs1_datamatrix_of_a_vial_keeps_its_separator() -> None:
    symbol = only(ZxingDecoder().decode(vial_datamatrix()))
    assert symbol.format == "DataMatrix"
    assert symbol.gs1
    assert symbol.text == "]d2" + vial_element_string()
    assert GS in symbol.text
    assert_vial(symbol)


def test_vial_in_a_noisy_rotated_camera_frame() -> None:
    frame = camera_frame(vial_datamatrix(scale=5), angle=23.0, noise=18.0, at=(200, 700))
    assert frame.shape == (720, 1280, 3)
    symbol = only(ZxingDecoder().decode(frame))
    assert_vial(symbol)
    xs = [x for x, _ in symbol.position]
    assert 650 < min(xs) < max(xs) < 1050


def test_appointment_qr_by_both_decoders() -> None:
    appointment_id = uuid.uuid4()
    frame = camera_frame(barcode(appointment_qr_text(appointment_id), "QRCode", ec_level="Q"))
    for decoder in (ZxingDecoder(), ZbarDecoder()):
        symbol = only(decoder.decode(frame))
        assert symbol.format == "QRCode"
        scan = classify(symbol.text, today=TODAY)
        assert isinstance(scan, AppointmentScan)
        assert scan.appointment_id == appointment_id


def test_jmbg_code128_by_both_decoders() -> None:
    frame = camera_frame(barcode(JMBG, "Code128", scale=3), bgr=False, noise=8.0)
    for decoder in (ZxingDecoder(), ZbarDecoder()):
        symbol = only(decoder.decode(frame))
        assert symbol.format == "Code128"
        scan = classify(symbol.text, today=TODAY)
        assert isinstance(scan, JmbgScan)
        assert scan.jmbg.value == JMBG


def test_gs1_128_through_zbar_still_classifies_as_a_label() -> None:
    text = f"(01){VIAL_GTIN}(17){VIAL_EXPIRY:%y%m%d}(10){VIAL_LOT}(21){VIAL_SERIAL}"
    frame = camera_frame(barcode(text, "Code128", scale=2, gs1=True))
    zbar = only(ZbarDecoder().decode(frame))
    assert not zbar.gs1
    assert_vial(zbar)
    zxing = only(ZxingDecoder().decode(frame))
    assert zxing.gs1
    assert zxing.text.startswith("]C1")
    assert_vial(zxing)


def test_id_card_pdf417_carrying_the_mrz() -> None:
    zone = make_td1(
        document_number="012345678",
        birth_date=date(1990, 1, 1),
        sex=Sex.MALE,
        expiry_date=date(2030, 5, 1),
        surname="Petrović",
        given_names="Marko",
        optional_data=JMBG,
    ).replace("\n", "\r")
    symbol = only(ZxingDecoder().decode(camera_frame(barcode(zone, "PDF417", scale=3))))
    assert symbol.format == "PDF417"
    scan = classify(symbol.text, today=TODAY)
    assert isinstance(scan, MrzScan)
    assert scan.jmbg is not None
    assert scan.jmbg.value == JMBG


def test_zbar_cannot_read_datamatrix_but_the_chain_can() -> None:
    frame = camera_frame(vial_datamatrix())
    assert ZbarDecoder().decode(frame) == []
    chain = ChainDecoder([ZbarDecoder(), ZxingDecoder()])
    assert_vial(only(chain.decode(frame)))


def test_chain_stops_at_the_first_decoder_that_finds_something() -> None:
    frame = camera_frame(barcode(JMBG, "Code128", scale=3))
    found = ChainDecoder([ZxingDecoder(), ZbarDecoder()]).decode(frame)
    assert [s.format for s in found] == ["Code128"]


def test_a_frame_without_codes_gives_nothing() -> None:
    blank = np.full((720, 1280, 3), 128, dtype=np.uint8)
    assert ZxingDecoder().decode(blank) == []
    assert ZbarDecoder().decode(blank) == []
    assert ChainDecoder([ZxingDecoder(), ZbarDecoder()]).decode(blank) == []


def test_only_the_named_formats_are_read() -> None:
    frame = camera_frame(vial_datamatrix())
    assert ZxingDecoder(formats=("QRCode",)).decode(frame) == []


def test_bad_input_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="grayscale or BGR"):
        ZxingDecoder().decode(np.zeros((10, 10), dtype=np.float32))
    with pytest.raises(ValueError, match="unknown zxing-cpp"):
        ZxingDecoder(formats=("NoSuchCode",))
    with pytest.raises(ValueError, match="unknown zbar"):
        ZbarDecoder(symbols=("NOSUCH",))
    with pytest.raises(ValueError, match="at least one"):
        ChainDecoder([])
