"""The DCC payload (``hcert``) of a vaccination certificate, built and validated.

One certificate records one vaccination event: the EU schema allows exactly
one ``v`` entry, and each dose gets its own certificate (``dn``/``sd`` say
which of the series it is; a later certificate supersedes the earlier ones).

`validate_payload` checks any payload against the official EU DCC JSON schema
1.3.0 shipped in ``schema/`` (see its README), offline, with format checking
for dates. It is called when a certificate is built and again when one is
verified.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Final

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from domain.certificates.errors import SchemaViolation
from domain.certificates.transliterate import icao_transliterate

__all__ = [
    "COVID_19",
    "DEFAULT_ISSUER",
    "SCHEMA_VERSION",
    "PersonName",
    "Vaccination",
    "VaccinationPayload",
    "build_payload",
    "parse_payload",
    "validate_payload",
]

SCHEMA_VERSION: Final = "1.3.0"
#: ``tg``: SNOMED CT 840539006, COVID-19 (value set disease-agent-targeted).
COVID_19: Final = "840539006"
DEFAULT_ISSUER: Final = "Ministry of Health of the Republic of Serbia"

_SCHEMA_FILES: Final = (
    "DCC.schema.json",
    "DCC.Core.Types.schema.json",
    "DCC.Types.schema.json",
    "DCC.ValueSets.schema.json",
)
_ROOT_ID: Final = "https://id.uvci.eu/DCC.schema.json"


@dataclass(frozen=True)
class PersonName:
    """A name as the person writes it (Serbian Latin or Cyrillic, or foreign).

    `given` may be empty for a person with a single name. The ICAO forms for
    ``fnt``/``gnt`` are derived (`domain.certificates.transliterate`).
    """

    family: str
    given: str = ""

    @property
    def family_icao(self) -> str:
        return icao_transliterate(self.family)

    @property
    def given_icao(self) -> str:
        return icao_transliterate(self.given)


@dataclass(frozen=True)
class Vaccination:
    """One dose as the certificate records it.

    `product`, `vaccine` and `manufacturer` are the DCC value-set codes
    ``mp``, ``vp`` and ``ma`` (`domain.catalogue.DccCodes` holds them per
    product). `uvci` is the certificate's identifier (`domain.certificates.uvci`).
    """

    vaccine: str
    product: str
    manufacturer: str
    dose_number: int
    total_doses: int
    date: date
    uvci: str
    country: str = "RS"
    issuer: str = DEFAULT_ISSUER
    disease: str = COVID_19


@dataclass(frozen=True)
class VaccinationPayload:
    """A vaccination certificate's payload, typed; the inverse of `build_payload`.

    `date_of_birth` is the DCC string (``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY`` or
    empty when unknown). `family_icao` and `given_icao` are ``fnt``/``gnt`` as
    they were in the payload (``""`` when absent).
    """

    name: PersonName
    family_icao: str
    given_icao: str
    date_of_birth: str
    vaccination: Vaccination
    schema_version: str


def build_payload(
    name: PersonName, date_of_birth: date | str, vaccination: Vaccination
) -> dict[str, Any]:
    """The ``hcert`` map for one vaccination.

    `date_of_birth` is a date, or a DCC partial date string when only the year
    (and month) are known. Raises `NameNotTransliterable` for a name ICAO 9303
    cannot spell. The map is not validated here: `encode_certificate` checks
    it against the EU schema before signing (`validate_payload` checks it
    earlier where that helps).
    """
    nam: dict[str, str] = {"fn": name.family, "fnt": name.family_icao}
    if name.given:
        nam["gn"] = name.given
        nam["gnt"] = name.given_icao
    dob = date_of_birth.isoformat() if isinstance(date_of_birth, date) else date_of_birth
    hcert: dict[str, Any] = {
        "ver": SCHEMA_VERSION,
        "nam": nam,
        "dob": dob,
        "v": [
            {
                "tg": vaccination.disease,
                "vp": vaccination.vaccine,
                "mp": vaccination.product,
                "ma": vaccination.manufacturer,
                "dn": vaccination.dose_number,
                "sd": vaccination.total_doses,
                "dt": vaccination.date.isoformat(),
                "co": vaccination.country,
                "is": vaccination.issuer,
                "ci": vaccination.uvci,
            }
        ],
    }
    return hcert


def parse_payload(hcert: Mapping[str, Any]) -> VaccinationPayload:
    """The typed view of a valid vaccination payload.

    Raises `SchemaViolation` when `hcert` breaks the schema or is not a
    vaccination certificate (a test or recovery certificate).
    """
    validate_payload(hcert)
    if "v" not in hcert:
        raise SchemaViolation(where="/", problem="this is not a vaccination certificate")
    nam = hcert["nam"]
    entry = hcert["v"][0]
    return VaccinationPayload(
        name=PersonName(family=nam.get("fn", nam["fnt"]), given=nam.get("gn", nam.get("gnt", ""))),
        family_icao=nam["fnt"],
        given_icao=nam.get("gnt", ""),
        date_of_birth=hcert["dob"],
        vaccination=Vaccination(
            vaccine=entry["vp"],
            product=entry["mp"],
            manufacturer=entry["ma"],
            dose_number=entry["dn"],
            total_doses=entry["sd"],
            date=date.fromisoformat(entry["dt"]),
            uvci=entry["ci"],
            country=entry["co"],
            issuer=entry["is"],
            disease=entry["tg"],
        ),
        schema_version=hcert["ver"],
    )


def validate_payload(hcert: object) -> None:
    """Check `hcert` against the EU DCC JSON schema 1.3.0, formats included.

    Raises `SchemaViolation` naming the first offending place (a JSON pointer
    such as ``/v/0/dt``) and the schema's complaint.
    """
    error = best_match(_validator().iter_errors(hcert))
    if error is not None:
        where = "/" + "/".join(str(part) for part in error.absolute_path)
        problem = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        raise SchemaViolation(where=where, problem=problem)


@cache
def _validator() -> Draft202012Validator:
    folder = resources.files("domain.certificates") / "schema"
    schemas = [json.loads((folder / name).read_text(encoding="utf-8")) for name in _SCHEMA_FILES]
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas
    )
    for schema in schemas:
        Draft202012Validator.check_schema(schema)
    root = _inline_references(registry.contents(_ROOT_ID), registry)
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _inline_references(node: Any, registry: Registry[Any]) -> Any:
    """`node` with every ``$ref`` replaced by the schema it points to.

    Resolving the cross-file references once, here, instead of on every
    validation makes validation several times faster. ``{"$ref": X, ...}``
    becomes ``{..., "allOf": [X]}``, which means the same in draft 2020-12
    (a ``$ref`` applies beside its sibling keywords). The DCC schema has no
    recursive references.
    """
    if isinstance(node, list):
        return [_inline_references(item, registry) for item in node]
    if not isinstance(node, dict):
        return node
    inlined = {key: _inline_references(value, registry) for key, value in node.items()}
    reference = inlined.pop("$ref", None)
    if reference is not None:
        target = registry.resolver().lookup(reference).contents
        inlined["allOf"] = [_inline_references(target, registry)]
    return inlined
