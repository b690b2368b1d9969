"""The language switcher: Serbian Latin, Serbian Cyrillic, English, changed live.

Picking a language calls `app.ui.text.set_language`, and every widget
connected to ``language_changed`` re-labels itself at once; nothing restarts.
Each language is named in its own script, so a nurse finds hers whatever the
screen shows now.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QWidget

from app.ui.text import LANGUAGES, current_language, language_changed, language_name, set_language


class LanguageSwitcher(QComboBox):
    """A combo box of the client's languages, kept in step with the current one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("languageSwitcher")
        for language in LANGUAGES:
            self.addItem(language_name(language), language)
        self._follow(current_language())
        self.currentIndexChanged.connect(self._picked)
        language_changed.connect(self._follow)

    def _picked(self, index: int) -> None:
        language = self.itemData(index)
        if language in LANGUAGES:
            set_language(language)

    def _follow(self, language: str) -> None:
        index = self.findData(language)
        if index >= 0 and index != self.currentIndex():
            self.blockSignals(True)
            self.setCurrentIndex(index)
            self.blockSignals(False)
