from __future__ import annotations

import json
from importlib import resources

import pytest

from domain.errors import DomainError
from domain.i18n import latin_to_cyrillic, message, translate


class _Sample(DomainError):
    code = "test.sample"
    template = "Value {value} is wrong."


def test_cyrillic_is_derived_with_digraphs_and_protected_spans() -> None:
    assert latin_to_cyrillic("Ljiljana Njegoš, džep, Đurđevdan") == "Љиљана Његош, џеп, Ђурђевдан"
    assert latin_to_cyrillic("Vakcina ⟦Comirnaty⟧ za {name}") == "Вакцина ⟦Comirnaty⟧ за {name}"


def test_unknown_code_falls_back_to_the_error_template() -> None:
    error = _Sample(value=3)
    assert str(error) == "Value 3 is wrong."
    assert message(error, "sr-Latn") == "Value 3 is wrong."
    assert message(error, "en") == "Value 3 is wrong."


def test_catalogues_are_valid_json_with_the_same_fields_as_english() -> None:
    folder = resources.files("domain") / "locale"
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            data = json.loads(entry.read_text(encoding="utf-8"))
            assert isinstance(data, dict), entry.name
            for code, text in data.items():
                assert isinstance(text, str), (entry.name, code)
                assert text, (entry.name, code)


@pytest.mark.parametrize("language", ["en", "sr-Latn", "sr-Cyrl"])
def test_translate_formats_params(language: str) -> None:
    assert "42" in translate("no.such.code", language, "Count {n}", n=42)  # type: ignore[arg-type]


def test_a_missing_serbian_entry_falls_back_to_readable_english() -> None:
    assert translate("no.such.code", "sr-Cyrl", "Scan again") == "Scan again"


def test_params_may_be_called_code_language_or_default() -> None:
    text = translate(
        "no.such.code", "en", "{code}/{language}/{default}", code=1, language=2, default=3
    )
    assert text == "1/2/3"
