"""Names in the ICAO 9303 alphabet (``fnt``/``gnt`` of the DCC)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.certificates.errors import NameNotTransliterable
from domain.certificates.transliterate import MAX_LENGTH, icao_transliterate
from domain.i18n import message
from domain.script import latin_to_cyrillic

SERBIAN_LATIN = "ABCČĆDĐEFGHIJKLMNOPRSŠTUVZŽabcčćdđefghijklmnoprsštuvzž"
SERBIAN_CYRILLIC = "АБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШабвгдђежзијклљмнњопрстћуфхцчџш"
ICAO = re.compile(r"([A-Z]+(<[A-Z]+)*)?")


def test_the_examples_of_the_eu_schema() -> None:
    assert icao_transliterate("d'Červenková Panklová") == "DCERVENKOVA<PANKLOVA"
    assert icao_transliterate("Jiřina-Maria Alena") == "JIRINA<MARIA<ALENA"


@pytest.mark.parametrize(
    ("latin", "cyrillic", "icao"),
    [
        ("Đorđević", "Ђорђевић", "DORDEVIC"),
        ("Živković", "Живковић", "ZIVKOVIC"),
        ("Čolić", "Чолић", "COLIC"),
        ("Šćekić", "Шћекић", "SCEKIC"),
        ("Hadžić", "Хаџић", "HADZIC"),
        ("Ljiljana", "Љиљана", "LJILJANA"),
        ("Njegoš", "Његош", "NJEGOS"),
        ("Jovana", "Јована", "JOVANA"),
        ("Cvijić", "Цвијић", "CVIJIC"),
        ("Goran", "Горан", "GORAN"),
    ],
)
def test_serbian_names_agree_in_both_scripts(latin: str, cyrillic: str, icao: str) -> None:
    assert icao_transliterate(latin) == icao
    assert icao_transliterate(cyrillic) == icao


@pytest.mark.parametrize(
    ("letter", "icao"),
    [
        # ICAO 9303 part 3 table B with the Serbian exceptions
        ("Ж", "Z"),
        ("Х", "H"),
        ("Ц", "C"),
        ("Ч", "C"),
        ("Ш", "S"),
        ("Ђ", "D"),
        ("Ћ", "C"),
        ("Џ", "DZ"),
        ("Љ", "LJ"),
        ("Њ", "NJ"),
        ("Ј", "J"),
        # other Cyrillic alphabets: the generic column
        ("Щ", "SHCH"),
        ("Я", "IA"),
        ("Ю", "IU"),
        ("Ы", "Y"),
        ("Й", "I"),
        ("Є", "IE"),
        ("Ъ", "IE"),
        # table A
        ("Đ", "D"),
        ("Ä", "AE"),
        ("Ö", "OE"),
        ("Ü", "UE"),
        ("Å", "AA"),
        ("Æ", "AE"),
        ("Ø", "OE"),
        ("Þ", "TH"),
        ("ß", "SS"),
        ("Ł", "L"),
        ("Ő", "O"),
        ("Ș", "S"),
    ],
)
def test_letters(letter: str, icao: str) -> None:
    assert icao_transliterate(f"A{letter}A") == f"A{icao}A"
    assert icao_transliterate(f"a{letter.lower()}a") == f"A{icao}A"


def test_the_soft_sign_is_omitted() -> None:
    assert icao_transliterate("Ольга") == "OLGA"


def test_separators_and_punctuation() -> None:
    assert icao_transliterate("  Ana   Marija ") == "ANA<MARIJA"
    assert icao_transliterate("Petrović-Njegoš") == "PETROVIC<NJEGOS"
    assert icao_transliterate("O'Brien") == "OBRIEN"
    assert icao_transliterate("St. John") == "ST<JOHN"
    assert icao_transliterate("-") == ""
    assert icao_transliterate("") == ""


def test_decomposed_diacritics_are_read_like_composed_ones() -> None:
    assert icao_transliterate("C\u030colic\u0301") == "COLIC"


def test_digraph_letters_of_unicode() -> None:
    assert icao_transliterate("ǅulić ǈubica ǋegoš") == "DZULIC<LJUBICA<NJEGOS"


def test_long_names_are_cut_to_80_without_a_trailing_filler() -> None:
    name = "Petrović " * 20
    result = icao_transliterate(name)
    assert len(result) <= MAX_LENGTH
    assert not result.endswith("<")
    assert result.startswith("PETROVIC<PETROVIC<")


def test_a_letter_no_table_covers_is_refused_by_name() -> None:
    with pytest.raises(NameNotTransliterable) as raised:
        icao_transliterate("Ἀλέξανδρος")
    assert raised.value.params["char"] == "Ἀ"
    assert "Ἀλέξανδρος" in message(raised.value, "sr-Latn")


def test_digits_are_not_letters() -> None:
    with pytest.raises(NameNotTransliterable):
        icao_transliterate("Marko 2")


@given(st.text(alphabet=SERBIAN_LATIN + " -'", max_size=60))
def test_a_latin_name_and_its_cyrillic_spelling_give_the_same_icao_form(name: str) -> None:
    assert icao_transliterate(name) == icao_transliterate(latin_to_cyrillic(name))


@given(st.text(alphabet=SERBIAN_LATIN + SERBIAN_CYRILLIC + " -'", max_size=120))
def test_serbian_names_always_give_the_icao_alphabet(name: str) -> None:
    result = icao_transliterate(name)
    assert ICAO.fullmatch(result)
    assert len(result) <= MAX_LENGTH


@given(st.text(max_size=40))
def test_any_text_gives_the_icao_alphabet_or_names_the_letter_it_cannot_spell(
    name: str,
) -> None:
    refused: NameNotTransliterable | None = None
    try:
        result = icao_transliterate(name)
    except NameNotTransliterable as error:
        refused = error
    if refused is None:
        assert ICAO.fullmatch(result)
    else:
        assert refused.params["char"] in unicodedata.normalize("NFC", name).upper()
