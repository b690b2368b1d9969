"""Text shown in the site client, in the language the nurse picked.

Contract for every widget author:

* Build every visible string with ``tr(code, english, **params)``. ``code`` is a
  stable dotted key (``"ui.main.roster.title"``); ``english`` is the English
  text, which is also the fallback when a catalogue lacks the code. Serbian
  Latin goes into ``domain/locale/ui_<area>.sr-Latn.json``; Serbian Cyrillic
  is derived by transliteration (``domain.i18n``), so nobody keeps two Serbian
  catalogues in step.
* Put all ``tr()`` calls that set widget text in a ``retranslate()`` method,
  call it once at construction and connect it to ``language_changed``:
  ``language_changed.connect(self.retranslate)`` (the slot receives the new
  language tag; accept and ignore it if you do not need it). Switching language
  then re-labels every open window live, without QTranslator or .qm files.
* ``translate_error(err)`` gives a ``DomainError``'s message in the current
  language.

The current language is process-wide state owned by this module: the site
client shows one language at a time and every window follows it.
"""

from __future__ import annotations

from typing import Any, Final

from PySide6.QtCore import QObject, Signal

from domain.errors import DomainError
from domain.i18n import LANGUAGES, Language, message, translate

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Language",
    "LanguageSignals",
    "current_language",
    "language_changed",
    "language_name",
    "set_language",
    "tr",
    "translate_error",
]

DEFAULT_LANGUAGE: Final[Language] = "sr-Latn"

# How each language names itself in the switcher: always in its own script so a
# nurse who cannot read the current one still finds hers.
_NATIVE_NAMES: Final[dict[Language, str]] = {
    "sr-Latn": "Srpski (latinica)",
    "sr-Cyrl": "Српски (ћирилица)",
    "en": "English",
}


class LanguageSignals(QObject):
    """Carries ``changed(str)`` — the new language tag — to every widget."""

    changed = Signal(str)


_state: dict[str, Language] = {"language": DEFAULT_LANGUAGE}

# One process-wide emitter. A plain QObject may exist before QApplication; it
# lives in the importing (main) thread, so connected widgets run on that thread.
_signals: Final = LanguageSignals()

language_changed: Final = _signals.changed
"""Signal(str) emitted with the new language tag; connect widgets' ``retranslate``."""


def current_language() -> Language:
    """The language the client is showing now."""
    return _state["language"]


def set_language(language: Language) -> None:
    """Show `language` from now on; emits ``language_changed`` when it changes.

    Raises ValueError for a tag outside ``LANGUAGES`` (a programming error,
    never a nurse's).
    """
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {LANGUAGES}")
    if language == _state["language"]:
        return
    _state["language"] = language
    _signals.changed.emit(language)


def tr(code: str, english: str, /, **params: Any) -> str:
    """`code`'s text in the current language, formatted with `params`."""
    return translate(code, _state["language"], english, **params)


def translate_error(error: DomainError) -> str:
    """`error`'s message in the current language."""
    return message(error, _state["language"])


def language_name(language: Language) -> str:
    """The language's own name for itself, for the switcher."""
    return _NATIVE_NAMES[language]
