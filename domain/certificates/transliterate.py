"""Names as ICAO Doc 9303 writes them: A-Z and the filler ``<``.

The DCC keeps a name twice: ``fn``/``gn`` as the person writes it (Serbian
Latin or Cyrillic, diacritics and all) and ``fnt``/``gnt`` "transliterated
ICAO 9303", the form a border officer compares with the passport's MRZ.

Tables: ICAO Doc 9303 Part 3 (8th edition, 2021), section 6
"Transliterations recommended for use by States": table A (multinational
Latin-based characters) and table B (Cyrillic characters, with its
language-specific exceptions).

Serbian
-------
Latin letters with diacritics lose them (table A): Č→C, Ć→C, Š→S, Ž→Z and
Đ→D; Dž is D+Ž→DZ, Lj→LJ, Nj→NJ.

Cyrillic uses table B with the exceptions ICAO lists for Serbian: Ж→Z, Х→H,
Ц→C, Ч→C, Ш→S (the generic column would give ZH, KH, TS, CH, SH); the other
Serbian letters are generic: Ђ→D, Ј→J, Љ→LJ, Њ→NJ, Ћ→C, Џ→DZ. With these, a
name gives the same ``fnt`` whichever script it was registered in
(Ђорђевић and Đorđević are both DORDEVIC), which is what Serbian travel
documents print and what a verifier compares against.

One deliberate deviation: transcriptions of the ICAO table (e.g. the
interscript map ``icao-srp-Cyrl-Latn-9303``) also list Г→H for Serbian. That
is the Belarusian/Ukrainian exception; Serbian Г is always G (Горан is GORAN
on a Serbian passport), and H would make the Cyrillic and Latin spellings of
one person disagree. Г→G here.

Letters of other Cyrillic alphabets (a citizen of Russian or Ukrainian origin)
use the generic column: Я→IA, Ю→IU, Щ→SHCH, Ы→Y, Й→I, Ъ→IE, Ь omitted, ...

Punctuation, as Part 3 writes names in the MRZ: spaces and hyphens become a
single ``<``; apostrophes, full stops and commas are omitted. The result is at most
80 characters (the DCC schema's ``maxLength``; ICAO allows truncating names).
"""

from __future__ import annotations

import unicodedata
from typing import Final

from domain.certificates.errors import NameNotTransliterable

__all__ = ["MAX_LENGTH", "icao_transliterate"]

MAX_LENGTH: Final = 80

# Table A entries that are not "drop the diacritic" (upper case only: the input
# is upper-cased first; ß upper-cases to SS by itself).
_LATIN: Final[dict[str, str]] = {
    "Ä": "AE",
    "Å": "AA",
    "Æ": "AE",
    "Ð": "D",
    "Đ": "D",
    "Ħ": "H",
    "Ĳ": "IJ",
    "Ł": "L",
    "Ŋ": "N",
    "Ö": "OE",
    "Ø": "OE",
    "Œ": "OE",
    "Þ": "TH",
    "Ü": "UE",
    "ẞ": "SS",
}

# Table B. Serbian letters carry ICAO's Serbian values (see module docstring).
_CYRILLIC: Final[dict[str, str]] = {
    "А": "A",
    "Б": "B",
    "В": "V",
    "Г": "G",
    "Д": "D",
    "Ђ": "D",
    "Е": "E",
    "Ж": "Z",
    "З": "Z",
    "И": "I",
    "Ј": "J",
    "К": "K",
    "Л": "L",
    "Љ": "LJ",
    "М": "M",
    "Н": "N",
    "Њ": "NJ",
    "О": "O",
    "П": "P",
    "Р": "R",
    "С": "S",
    "Т": "T",
    "Ћ": "C",
    "У": "U",
    "Ф": "F",
    "Х": "H",
    "Ц": "C",
    "Ч": "C",
    "Џ": "DZ",
    "Ш": "S",
    # not in the Serbian alphabet: the generic column
    "Ё": "E",
    "Є": "IE",
    "Ѓ": "G",
    "Ґ": "G",
    "Ѕ": "DZ",
    "І": "I",
    "Ї": "I",
    "Й": "I",
    "Ќ": "K",
    "Ў": "U",
    "Щ": "SHCH",
    "Ъ": "IE",
    "Ы": "Y",
    "Ь": "",
    "Э": "E",
    "Ю": "IU",
    "Я": "IA",
}

_TABLE: Final = {**_LATIN, **_CYRILLIC}
_FILLER_SOURCES: Final = frozenset(" -\u00a0\u2010\u2011\u2012\u2013\u2014\t\n\r")
_OMITTED: Final = frozenset("'’‘ʼ`´.,")
_ASCII_UPPER: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def icao_transliterate(name: str) -> str:
    """`name` in the ICAO 9303 alphabet: ``A-Z`` and ``<``, at most 80 characters.

    Words are separated by one ``<``; there is none at either end. An empty or
    all-punctuation name gives ``""``.

    Raises `NameNotTransliterable` for a letter no table covers (e.g. Greek
    or CJK), naming it, rather than dropping part of a person's name.
    """
    out: list[str] = []
    for char in unicodedata.normalize("NFC", name).upper():
        if char in _ASCII_UPPER:
            out.append(char)
        elif char in _TABLE:
            out.append(_TABLE[char])
        elif char in _FILLER_SOURCES:
            out.append("<")
        elif char in _OMITTED:
            continue
        else:
            out.append(_strip_diacritics(char, name))
    joined = "".join(out)
    words = [word for word in joined.split("<") if word]
    return "<".join(words)[:MAX_LENGTH].rstrip("<")


def _strip_diacritics(char: str, name: str) -> str:
    base = "".join(
        part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part)
    )
    if base and all(c in _ASCII_UPPER for c in base):
        return base
    raise NameNotTransliterable(name=name, char=char)
