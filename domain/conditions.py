"""Health conditions that bear on vaccination, as codes defined by a rule set.

A condition is a stable code (``"pregnancy"``, ``"peg-allergy"``) recorded for a
citizen. What a condition *does* is data in the versioned rule set: a product
lists the codes that contraindicate it or call for a precaution, a condition may
defer every vaccination for a while (``acute-febrile-illness``), and chronic
conditions qualify a person for the chronic-conditions priority group.

Codes unknown to a rule set are refused (`UnknownCondition`) rather than
ignored: silently dropping an unrecognised allergy could let a contraindicated
vaccine through.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import ClassVar

from domain.errors import DomainError
from domain.i18n import Language, latin_to_cyrillic


class UnknownCondition(DomainError):
    """A condition code that the rule set in use does not define."""

    code: ClassVar[str] = "conditions.unknown_condition"
    template: ClassVar[str] = (
        "The health condition code '{condition}' is not known to the vaccination rules "
        "{version}. Choose the condition from the list; if it is missing, call the central "
        "help desk before vaccinating."
    )


@dataclass(frozen=True)
class LocalizedName:
    """A name in English and Serbian Latin; Serbian Cyrillic is transliterated.

    Text inside ``⟦…⟧`` is kept as written in Cyrillic (codes, brand names).
    """

    en: str
    sr_latn: str

    def in_language(self, language: Language) -> str:
        """The name as a person reading `language` should see it."""
        if language == "en":
            text = self.en
        elif language == "sr-Cyrl":
            text = latin_to_cyrillic(self.sr_latn)
        else:
            text = self.sr_latn
        return text.replace("⟦", "").replace("⟧", "")


@dataclass(frozen=True)
class Condition:
    """One health condition code and what the rule set says it means.

    `defers_vaccination`: while present, no dose of any product is given (the
    person is booked again after recovery). `qualifies_for_priority`: counts as a
    chronic condition for the chronic-conditions priority group.
    """

    code: str
    name: LocalizedName
    defers_vaccination: bool
    qualifies_for_priority: bool


@dataclass(frozen=True, eq=False)
class Conditions:
    """The conditions of one rule set, in the order the rule file lists them."""

    version: str
    all: tuple[Condition, ...]
    _by_code: Mapping[str, Condition] = field(init=False, repr=False)
    codes: frozenset[str] = field(init=False, repr=False)
    deferring: frozenset[str] = field(init=False, repr=False)
    qualifying_for_priority: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_code = {c.code: c for c in self.all}
        if len(by_code) != len(self.all):
            raise ValueError("condition codes must be unique")
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "codes", frozenset(by_code))
        object.__setattr__(
            self, "deferring", frozenset(c.code for c in self.all if c.defers_vaccination)
        )
        object.__setattr__(
            self,
            "qualifying_for_priority",
            frozenset(c.code for c in self.all if c.qualifies_for_priority),
        )

    def by_code(self, code: str) -> Condition:
        """The condition with this code.

        Raises `UnknownCondition` if the rule set does not define it.
        """
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownCondition(condition=code, version=self.version) from None

    def require_known(self, codes: Set[str]) -> None:
        """Raise `UnknownCondition` for the first (alphabetically) unknown code."""
        if not codes <= self.codes:
            raise UnknownCondition(condition=min(codes - self.codes), version=self.version)
