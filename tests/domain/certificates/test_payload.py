"""The hcert payload and the EU DCC JSON schema 1.3.0."""

from __future__ import annotations

import copy
import json
from datetime import date
from importlib import resources
from typing import Any

import pytest

from domain.certificates.errors import SchemaViolation
from domain.certificates.payload import (
    COVID_19,
    SCHEMA_VERSION,
    PersonName,
    build_payload,
    parse_payload,
    validate_payload,
)
from domain.i18n import message

from .conftest import hcert_for, vaccination


def test_a_vaccination_payload_has_every_field_of_the_eu_format() -> None:
    hcert = build_payload(
        PersonName("Ђорђевић", "Милица"),
        date(1961, 3, 14),
        vaccination("URN:UVCI:01:RS:NS01/X#K", dose=1, total=2),
    )
    assert hcert == {
        "ver": "1.3.0",
        "nam": {"fn": "Ђорђевић", "fnt": "DORDEVIC", "gn": "Милица", "gnt": "MILICA"},
        "dob": "1961-03-14",
        "v": [
            {
                "tg": "840539006",
                "vp": "1119349007",
                "mp": "EU/1/20/1528",
                "ma": "ORG-100030215",
                "dn": 1,
                "sd": 2,
                "dt": "2021-05-31",
                "co": "RS",
                "is": "Ministry of Health of the Republic of Serbia",
                "ci": "URN:UVCI:01:RS:NS01/X#K",
            }
        ],
    }
    validate_payload(hcert)


def test_a_person_with_one_name_has_no_given_name_fields() -> None:
    hcert = build_payload(PersonName("Madona"), "1958", vaccination("URN:UVCI:01:RS:X/Y#Z"))
    assert hcert["nam"] == {"fn": "Madona", "fnt": "MADONA"}
    assert hcert["dob"] == "1958"
    validate_payload(hcert)


def test_parse_is_the_inverse_of_build() -> None:
    name = PersonName("Čolić-Šćekić", "Džeraldina Ana")
    shot = vaccination("URN:UVCI:01:RS:NS01/ABC#D", dose=3, total=3)
    parsed = parse_payload(build_payload(name, date(1990, 1, 2), shot))
    assert parsed.name == name
    assert parsed.family_icao == "COLIC<SCEKIC"
    assert parsed.given_icao == "DZERALDINA<ANA"
    assert parsed.date_of_birth == "1990-01-02"
    assert parsed.vaccination == shot
    assert parsed.schema_version == SCHEMA_VERSION
    assert parsed.vaccination.disease == COVID_19


def test_a_test_certificate_is_valid_dcc_but_not_a_vaccination() -> None:
    test_certificate = {
        "ver": "1.3.0",
        "nam": {"fnt": "MUSTERMANN"},
        "dob": "1964-08",
        "t": [
            {
                "tg": "840539006",
                "tt": "LP6464-4",
                "sc": "2021-05-30T10:12:22Z",
                "tr": "260415000",
                "co": "AT",
                "is": "Ministry of Health, Austria",
                "ci": "URN:UVCI:01:AT:71EE2559DE38C6BF7304FB65A1A451EC#3",
            }
        ],
    }
    validate_payload(test_certificate)
    with pytest.raises(SchemaViolation):
        parse_payload(test_certificate)


def _broken(change: str) -> dict[str, Any]:
    hcert = copy.deepcopy(hcert_for(PersonName("Petrović", "Marko")))
    entry = hcert["v"][0]
    if change == "no fnt":
        del hcert["nam"]["fnt"]
    elif change == "lower-case fnt":
        hcert["nam"]["fnt"] = "Petrovic"
    elif change == "long name":
        hcert["nam"]["fn"] = "P" * 81
    elif change == "impossible date":
        entry["dt"] = "2021-02-30"
    elif change == "date with time":
        entry["dt"] = "2021-05-31T10:00:00"
    elif change == "dose zero":
        entry["dn"] = 0
    elif change == "dose as text":
        entry["sd"] = "2"
    elif change == "no UVCI":
        del entry["ci"]
    elif change == "two vaccinations":
        hcert["v"].append(copy.deepcopy(entry))
    elif change == "vaccination and test":
        hcert["t"] = [{}]
    elif change == "birth year 1850":
        hcert["dob"] = "1850-01-01"
    elif change == "version":
        hcert["ver"] = "one"
    elif change == "not a map":
        return {"v": "nothing"} | {"ver": 1}
    return hcert


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ("no fnt", "/nam"),
        ("lower-case fnt", "/nam/fnt"),
        ("long name", "/nam/fn"),
        ("impossible date", "/v/0/dt"),
        ("date with time", "/v/0/dt"),
        ("dose zero", "/v/0/dn"),
        ("dose as text", "/v/0/sd"),
        ("no UVCI", "/v/0"),
        ("two vaccinations", "/v"),
        ("vaccination and test", None),
        ("birth year 1850", "/dob"),
        ("version", "/ver"),
        ("not a map", None),
    ],
)
def test_schema_violations_name_the_place(change: str, where: str | None) -> None:
    with pytest.raises(SchemaViolation) as raised:
        validate_payload(_broken(change))
    if where is not None:
        assert raised.value.params["where"] == where
    assert raised.value.params["problem"]
    assert message(raised.value, "sr-Latn").startswith("Sadržaj sertifikata ne poštuje EU format")


def test_the_schema_files_are_the_official_1_3_0_set() -> None:
    folder = resources.files("domain.certificates") / "schema"
    root = json.loads((folder / "DCC.schema.json").read_text(encoding="utf-8"))
    assert root["$comment"] == "Schema version 1.3.0"
    ids = {
        json.loads((folder / name).read_text(encoding="utf-8"))["$id"]
        for name in (
            "DCC.schema.json",
            "DCC.Core.Types.schema.json",
            "DCC.Types.schema.json",
            "DCC.ValueSets.schema.json",
        )
    }
    assert ids == {
        "https://id.uvci.eu/DCC.schema.json",
        "https://id.uvci.eu/DCC.Core.Types.schema.json",
        "https://id.uvci.eu/DCC.Types.schema.json",
        "https://id.uvci.eu/DCC.ValueSets.schema.json",
    }
