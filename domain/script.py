"""Serbian's two alphabets, converted letter for letter.

Vuk's Cyrillic and Gaj's Latin alphabet map one to one (lj, nj and dž are
single letters: Љ, Њ, Џ), so conversion is exact in both directions for
Serbian text. Names are stored in both scripts; UI text is written in Latin
and shown in Cyrillic through `latin_to_cyrillic`.
"""

from __future__ import annotations

import re
from typing import Final

_LATIN_DIGRAPHS: Final = {
    "Lj": "Љ",
    "LJ": "Љ",
    "lj": "љ",
    "Nj": "Њ",
    "NJ": "Њ",
    "nj": "њ",
    "Dž": "Џ",
    "DŽ": "Џ",
    "dž": "џ",
}
_LATIN: Final = "ABVGDĐEŽZIJKLMNOPRSTĆUFHCČŠabvgdđežzijklmnoprstćufhcčš"
_CYRILLIC: Final = "АБВГДЂЕЖЗИЈКЛМНОПРСТЋУФХЦЧШабвгдђежзијклмнопрстћуфхцчш"
_TO_CYRILLIC: Final = dict(zip(_LATIN, _CYRILLIC, strict=True))
_TO_LATIN: Final = {
    **dict(zip(_CYRILLIC, _LATIN, strict=True)),
    "Љ": "Lj",
    "Њ": "Nj",
    "Џ": "Dž",
    "љ": "lj",
    "њ": "nj",
    "џ": "dž",
}
_PROTECTED: Final = re.compile(r"(\{[^{}]*\}|⟦[^⟧]*⟧)")


def latin_to_cyrillic(text: str) -> str:
    """Serbian Latin to Serbian Cyrillic, keeping ``{fields}`` and ``⟦spans⟧`` as they are."""
    out: list[str] = []
    for part in _PROTECTED.split(text):
        if _PROTECTED.fullmatch(part):
            out.append(part)
            continue
        i = 0
        while i < len(part):
            pair = part[i : i + 2]
            if pair in _LATIN_DIGRAPHS:
                out.append(_LATIN_DIGRAPHS[pair])
                i += 2
            else:
                out.append(_TO_CYRILLIC.get(part[i], part[i]))
                i += 1
    return "".join(out)


def cyrillic_to_latin(text: str) -> str:
    """Serbian Cyrillic to Serbian Latin (ЉИЉА -> LjiLja: title case for digraphs).

    An all-caps word keeps its digraphs all caps (ЉУБА -> LJUBA).
    """
    out: list[str] = []
    for word in re.split(r"(\s+)", text):
        upper_word = len(word) > 1 and word.isupper()
        for char in word:
            latin = _TO_LATIN.get(char, char)
            out.append(latin.upper() if upper_word else latin)
    return "".join(out)
