"""Versioned vaccination rules: the packaged rule files and their loader.

Policy changes often, so rules are data: each version is one file
``rules-<version>.json`` in this package (``rules-2021.03.json``), complete in
itself and readable by a policy officer. A file is validated when first
loaded and parsed into frozen values (`RuleSet`); each version is parsed once
per process and then shared, so callers may load rules on every call.

- `load_rules(version)`: a named version, or the latest when None;
- `rules_in_force(on)`: the version that governs a given day;
- `available_versions()`: every packaged version, oldest first.

"Latest" means the newest `effective_from`, even if that day is still to
come; to decide what applies on a day, use `rules_in_force`.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import ClassVar, Final

from domain.data.rule_file import InvalidRules, parse_rule_file
from domain.data.ruleset import RuleSet
from domain.errors import DomainError

__all__ = [
    "InvalidRules",
    "NoRulesInForce",
    "RuleSet",
    "UnknownRulesVersion",
    "available_versions",
    "load_rules",
    "rules_in_force",
]

_PREFIX: Final = "rules-"
_SUFFIX: Final = ".json"


class UnknownRulesVersion(DomainError):
    """A rule version that is not packaged with this release."""

    code: ClassVar[str] = "rules.unknown_version"
    template: ClassVar[str] = (
        "There are no vaccination rules with version {version}; this release has {known}. "
        "Update the program or choose one of those versions."
    )


class NoRulesInForce(DomainError):
    """A day before the first packaged rule version takes effect."""

    code: ClassVar[str] = "rules.none_in_force"
    template: ClassVar[str] = (
        "No vaccination rules are in force on {on}: the earliest take effect on {earliest}."
    )


@cache
def _files() -> dict[str, str]:
    """Version -> file name, for every packaged rule file."""
    found: dict[str, str] = {}
    for entry in resources.files(__name__).iterdir():
        name = entry.name
        if name.startswith(_PREFIX) and name.endswith(_SUFFIX):
            found[name[len(_PREFIX) : -len(_SUFFIX)]] = name
    return found


@cache
def _parse(version: str) -> RuleSet:
    name = _files()[version]
    text = (resources.files(__name__) / name).read_text(encoding="utf-8")
    return parse_rule_file(text, name, version)


@cache
def _all() -> tuple[RuleSet, ...]:
    """Every packaged rule set, oldest `effective_from` first."""
    rule_sets = sorted((_parse(v) for v in _files()), key=lambda r: r.effective_from)
    for older, newer in pairwise(rule_sets):
        if older.effective_from == newer.effective_from:
            raise InvalidRules(
                file=f"{_PREFIX}{newer.version}{_SUFFIX}",
                where="effective_from",
                problem=f"version {older.version} takes effect on the same day",
            )
    return tuple(rule_sets)


def available_versions() -> tuple[str, ...]:
    """Versions of every packaged rule set, oldest first (validating them all)."""
    return tuple(r.version for r in _all())


def load_rules(version: str | None = None) -> RuleSet:
    """The rule set `version`, or the latest one when None.

    Raises `UnknownRulesVersion` for a version that is not packaged and
    `InvalidRules` if its file is broken.
    """
    if version is None:
        return _all()[-1]
    if version not in _files():
        raise UnknownRulesVersion(version=version, known=", ".join(available_versions()))
    return _parse(version)


def rules_in_force(on: date) -> RuleSet:
    """The rule set that governs the day `on`: the newest one effective by then.

    Raises `NoRulesInForce` for a day before every packaged version.
    """
    in_force = [r for r in _all() if r.effective_from <= on]
    if not in_force:
        raise NoRulesInForce(on=on.isoformat(), earliest=_all()[0].effective_from.isoformat())
    return in_force[-1]
