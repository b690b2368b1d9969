"""The printed certificate: its text, and a QR code that scans and verifies."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import numpy as np
import pypdfium2
import pytest
import zxingcpp

from domain.certificates.codec import encode_certificate
from domain.certificates.payload import PersonName, parse_payload
from domain.certificates.pdf import CertificateDocument, DoseLine, render_certificate_pdf
from domain.certificates.verify import verify
from domain.i18n import Language

from .conftest import NOW, Site, hcert_for

A4_POINTS = (595.28, 841.89)  # 210 mm x 297 mm


def _document(
    name: PersonName, hcert: dict[str, Any], *, site_name: str = "Dom zdravlja Novi Sad"
) -> CertificateDocument:
    payload = parse_payload(hcert)
    return CertificateDocument(
        family_name=name.family,
        given_name=name.given,
        name_icao=f"{payload.family_icao}<<{payload.given_icao}",
        date_of_birth=date(1961, 3, 14),
        doses=(
            DoseLine(1, 2, "Comirnaty", "EW2243", date(2021, 5, 10), site_name),
            DoseLine(2, 2, "Comirnaty", "FA4597", date(2021, 5, 31), site_name),
        ),
        uvci=payload.vaccination.uvci,
        issuer="Ministarstvo zdravlja Republike Srbije",
        issued_on=NOW.date(),
        valid_until=NOW.date() + timedelta(days=365),
    )


def _page(pdf: bytes) -> pypdfium2.PdfPage:
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 1
    return document[0]


def _text(pdf: bytes) -> str:
    return str(_page(pdf).get_textpage().get_text_range())


def _scan(pdf: bytes, dpi: int = 200) -> list[str]:
    bitmap = _page(pdf).render(scale=dpi / 72, grayscale=True).to_numpy()
    found = zxingcpp.read_barcodes(
        np.ascontiguousarray(bitmap), formats=zxingcpp.barcode_formats_from_str("QRCode")
    )
    return [barcode.text for barcode in found]


@pytest.mark.parametrize("language", ["sr-Latn", "sr-Cyrl", "en"])
def test_the_qr_code_on_the_page_scans_and_verifies(site: Site, language: Language) -> None:
    name = PersonName("Ђорђевић", "Милица")
    hcert = hcert_for(name)
    qr_text = encode_certificate(hcert, site.signer, issued_at=NOW)
    pdf = render_certificate_pdf(_document(name, hcert), qr_text, language)
    assert pdf.startswith(b"%PDF-")
    assert _scan(pdf) == [qr_text]
    result = verify(_scan(pdf)[0], [site.certificate_der], at=NOW + timedelta(days=1))
    assert result.hcert["nam"]["fnt"] == "DORDEVIC"


def test_the_qr_code_also_scans_from_a_coarse_rendering(site: Site) -> None:
    name = PersonName("Petrović", "Marko")
    hcert = hcert_for(name)
    qr_text = encode_certificate(hcert, site.signer, issued_at=NOW)
    pdf = render_certificate_pdf(_document(name, hcert), qr_text, "sr-Latn")
    assert _scan(pdf, dpi=100) == [qr_text]


def test_the_page_is_a4(site: Site, hcert: dict[str, Any]) -> None:
    qr_text = encode_certificate(hcert, site.signer, issued_at=NOW)
    pdf = render_certificate_pdf(_document(PersonName("Ђорђевић", "Милица"), hcert), qr_text, "en")
    width, height = _page(pdf).get_size()
    assert (width, height) == pytest.approx(A4_POINTS, abs=0.1)


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        (
            "sr-Latn",
            [
                "Potvrda o vakcinaciji",
                "Datum rođenja",
                "Serija",
                "Vaccination certificate",
                "Date of birth",
            ],
        ),
        (
            "sr-Cyrl",
            ["Потврда о вакцинацији", "Датум рођења", "Серија", "Vaccination certificate", "Lot"],
        ),
        ("en", ["Vaccination certificate", "Date of birth", "Lot", "Vaccination site"]),
    ],
)
def test_the_page_shows_the_holder_every_dose_and_the_uvci(
    site: Site, hcert: dict[str, Any], language: Language, labels: list[str]
) -> None:
    name = PersonName("Ђорђевић", "Милица")
    qr_text = encode_certificate(hcert, site.signer, issued_at=NOW)
    text = _text(render_certificate_pdf(_document(name, hcert), qr_text, language))
    for expected in [
        "Ђорђевић, Милица",
        "DORDEVIC<<MILICA",
        "EW2243",
        "FA4597",
        "Comirnaty",
        "Dom zdravlja Novi Sad",
        "1/2",
        "2/2",
        hcert["v"][0]["ci"],
        *labels,
    ]:
        assert expected in text, expected
    if language == "en":
        assert "1961-03-14" in text
        assert "Datum" not in text
    else:
        assert "14.03.1961." in text
        assert "31.05.2021." in text


def test_serbian_latin_diacritics_are_printed(site: Site) -> None:
    name = PersonName("Čolić-Šćekić", "Đurđa Žaklina")
    hcert = hcert_for(name)
    qr_text = encode_certificate(hcert, site.signer, issued_at=NOW)
    text = _text(render_certificate_pdf(_document(name, hcert), qr_text, "sr-Latn"))
    assert "Čolić-Šćekić, Đurđa Žaklina" in text
    assert "COLIC<SCEKIC<<DURDA<ZAKLINA" in text


def test_a_long_site_name_is_cut_to_its_column(site: Site, hcert: dict[str, Any]) -> None:
    long_name = "Specijalna bolnica za rehabilitaciju i ortopedsku protetiku Banjica"
    qr_text = encode_certificate(hcert, site.signer, issued_at=NOW)
    document = _document(PersonName("Ђорђевић", "Милица"), hcert, site_name=long_name)
    text = _text(render_certificate_pdf(document, qr_text, "en"))
    assert long_name not in text
    assert "Specijalna bolnica" in text
    assert "…" in text


def test_unknown_parts_of_a_birth_date(site: Site, hcert: dict[str, Any]) -> None:
    qr_text = encode_certificate(hcert, site.signer, issued_at=NOW)
    base = _document(PersonName("Ђорђевић", "Милица"), hcert)
    for dob, serbian in (("1961-03", "03.1961."), ("1961", "1961."), ("", "-")):
        document = dataclasses.replace(base, date_of_birth=dob)
        assert serbian in _text(render_certificate_pdf(document, qr_text, "sr-Latn"))


def test_the_same_certificate_gives_the_same_bytes(site: Site, hcert: dict[str, Any]) -> None:
    qr_text = encode_certificate(hcert, site.signer, issued_at=NOW)
    document = _document(PersonName("Ђорђевић", "Милица"), hcert)
    assert render_certificate_pdf(document, qr_text, "sr-Cyrl") == render_certificate_pdf(
        document, qr_text, "sr-Cyrl"
    )
