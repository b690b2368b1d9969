"""Messages in English, Serbian Latin and Serbian Cyrillic.

Catalogues hold English and Serbian Latin only. Serbian Cyrillic is derived by
transliteration, which for Serbian is exact letter for letter (Vuk's alphabet
and Gaj's Latin alphabet map one to one, with lj, nj and dž as single letters),
so a translator never keeps two Serbian catalogues in step. Fields in braces
and spans marked ``⟦…⟧`` (product names, codes) are not transliterated.

Catalogues are JSON files in `domain/locale/` mapping an error or UI code to
its template; each package may add its own file (``domain/locale/sr-Latn.json``
holds the domain's). A code missing from a language falls back to English,
then to the error's own template.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Final, Literal

from domain.errors import DomainError
from domain.script import latin_to_cyrillic

Language = Literal["en", "sr-Latn", "sr-Cyrl"]
LANGUAGES: Final[tuple[Language, ...]] = ("sr-Latn", "sr-Cyrl", "en")

__all__ = ["LANGUAGES", "Language", "latin_to_cyrillic", "message", "translate"]


@cache
def _catalogue(language: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    folder = resources.files("domain") / "locale"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == f"{language}.json" or entry.name.endswith(f".{language}.json"):
            merged.update(json.loads(entry.read_text(encoding="utf-8")))
    return merged


def translate(code: str, language: Language, default: str, /, **params: Any) -> str:
    """The text for `code` in `language`, formatted with `params`.

    A code with no Serbian entry falls back to the English text as it is:
    English transliterated into Cyrillic letters would be unreadable.
    """
    english = _catalogue("en").get(code, default)
    template = english
    if language != "en":
        serbian = _catalogue("sr-Latn").get(code)
        if serbian is not None:
            template = latin_to_cyrillic(serbian) if language == "sr-Cyrl" else serbian
    return template.format(**params).replace("⟦", "").replace("⟧", "")


def message(error: DomainError, language: Language) -> str:
    """The error's message in `language`."""
    return translate(error.code, language, error.template, **error.params_in(language))
