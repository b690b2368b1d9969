"""UI text: the current language, live switching, and the Serbian catalogue."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from app.ui.text import (
    LANGUAGES,
    current_language,
    language_changed,
    language_name,
    set_language,
    tr,
    translate_error,
)
from domain.jmbg import JmbgCheckDigit


def test_tr_follows_the_current_language(qtbot: Any) -> None:
    assert current_language() == "sr-Latn"
    assert tr("ui.main.tab.today", "Today") == "Danas"
    with qtbot.waitSignal(language_changed) as blocker:
        set_language("sr-Cyrl")
    assert blocker.args == ["sr-Cyrl"]
    assert tr("ui.main.tab.today", "Today") == "Данас"
    set_language("en")
    assert tr("ui.main.tab.today", "Today") == "Today"


def test_unknown_codes_fall_back_to_english_with_params() -> None:
    assert tr("ui.nowhere", "Waiting: {count}", count=3) == "Waiting: 3"


def test_setting_the_same_language_emits_nothing(qtbot: Any) -> None:
    with qtbot.assertNotEmitted(language_changed):
        set_language("sr-Latn")


def test_an_unknown_language_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        set_language("de")  # type: ignore[arg-type]


def test_errors_are_translated() -> None:
    error = JmbgCheckDigit()
    set_language("en")
    assert translate_error(error) == str(error)


def test_every_language_names_itself() -> None:
    assert [language_name(lang) for lang in LANGUAGES] == [
        "Srpski (latinica)",
        "Српски (ћирилица)",
        "English",
    ]


def test_the_main_catalogue_keeps_every_placeholder() -> None:
    """A Serbian template must use exactly the fields its English source fills."""
    import ast
    from pathlib import Path

    english: dict[str, str] = {}
    for path in [*sorted(Path("app/ui").glob("*.py")), Path("app/bootstrap.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "tr"
                and len(node.args) >= 2
                and all(isinstance(a, ast.Constant) for a in node.args[:2])
            ):
                english[node.args[0].value] = node.args[1].value  # type: ignore[attr-defined]
    serbian = json.loads(
        (resources.files("domain") / "locale" / "ui_main.sr-Latn.json").read_text("utf-8")
    )
    import string

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for code, text in serbian.items():
        assert code in english, f"{code} is translated but no longer used"
        assert fields(text) == fields(english[code]), code
    missing = [c for c in english if c.startswith("ui.main.") and c not in serbian]
    assert missing == []
