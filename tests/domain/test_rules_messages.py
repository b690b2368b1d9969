"""Every reason and error of the rules has a Serbian text with the same fields."""

from __future__ import annotations

import json
import re
import string
from importlib import import_module, resources

import pytest

from domain.data import available_versions, load_rules
from domain.eligibility import REASON_KINDS
from domain.errors import DomainError
from domain.i18n import latin_to_cyrillic

MODULES = [
    "domain.catalogue",
    "domain.conditions",
    "domain.priority",
    "domain.eligibility",
    "domain.data",
    "domain.data.rule_file",
]
SERBIAN: dict[str, str] = json.loads(
    (resources.files("domain") / "locale" / "eligibility.sr-Latn.json").read_text(encoding="utf-8")
)


def _errors() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in MODULES:
        for value in vars(import_module(name)).values():
            if (
                isinstance(value, type)
                and issubclass(value, DomainError)
                and value.__module__ == name
            ):
                found[value.code] = value.template
    return found


ENGLISH = {kind.code: kind.template for kind in REASON_KINDS} | _errors()


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def test_there_is_something_to_check() -> None:
    assert len(REASON_KINDS) == 13
    assert "catalogue.unknown_gtin" in ENGLISH
    assert "rules.invalid" in ENGLISH


def test_codes_are_unique_between_reasons_and_errors() -> None:
    reason_codes = [kind.code for kind in REASON_KINDS]
    assert len(set(reason_codes)) == len(reason_codes)
    assert not set(reason_codes) & set(_errors())


@pytest.mark.parametrize("code", sorted(ENGLISH))
def test_every_code_has_a_serbian_text_with_the_same_fields(code: str) -> None:
    assert code in SERBIAN, f"{code} has no Serbian translation"
    assert _fields(SERBIAN[code]) == _fields(ENGLISH[code])


def test_the_serbian_file_holds_no_stale_codes() -> None:
    assert set(SERBIAN) <= set(ENGLISH)


@pytest.mark.parametrize("code", sorted(SERBIAN))
def test_serbian_text_transliterates_completely(code: str) -> None:
    # Letters Serbian Latin lacks (q, w, x, y) would survive into Cyrillic.
    cyrillic = latin_to_cyrillic(SERBIAN[code])
    outside_fields = re.sub(r"\{[^{}]*\}|⟦[^⟧]*⟧", "", cyrillic)
    assert not re.search(r"[A-Za-z]", outside_fields), outside_fields


@pytest.mark.parametrize("version", available_versions())
def test_condition_and_group_names_transliterate_completely(version: str) -> None:
    rules = load_rules(version)
    names = [c.name for c in rules.conditions.all] + [g.name for g in rules.priority_groups.groups]
    for name in names:
        cyrillic = name.in_language("sr-Cyrl")
        kept = re.findall(r"⟦([^⟧]*)⟧", name.sr_latn)
        for span in kept:
            cyrillic = cyrillic.replace(span, "")
        assert not re.search(r"[A-Za-z]", cyrillic), (version, name)
        assert "⟦" not in name.in_language("sr-Latn")
        assert name.en
