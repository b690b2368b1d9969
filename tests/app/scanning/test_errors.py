"""Scan errors read well in every language (app/scanning/errors.py)."""

from __future__ import annotations

import inspect
import json
import string
from importlib import resources

import pytest

from app.scanning import errors
from domain.i18n import message

ERRORS = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.ScanError)
]


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def serbian() -> dict[str, str]:
    entry = resources.files("domain") / "locale" / "ui_scanning.sr-Latn.json"
    data: dict[str, str] = json.loads(entry.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.code)
def test_every_scan_error_has_serbian_text_with_the_same_fields(
    cls: type[errors.ScanError],
) -> None:
    catalogue = serbian()
    assert cls.code in catalogue
    assert fields(catalogue[cls.code]) == fields(cls.template)
    error = cls(**dict.fromkeys(fields(cls.template), "⟦X1⟧"))
    latin, cyrillic = message(error, "sr-Latn"), message(error, "sr-Cyrl")
    assert latin == catalogue[cls.code].format(**dict.fromkeys(fields(cls.template), "X1"))
    assert latin != str(error)
    assert "X1" in cyrillic or not fields(cls.template)


def test_codes_are_unique() -> None:
    codes = [cls.code for cls in ERRORS]
    assert len(codes) == len(set(codes))
