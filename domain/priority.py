"""Priority groups: who is vaccinated first, and from which day each group may be.

Groups are data in the versioned rule set, ranked 1 (first served) to n. How a
person belongs to a group differs by group:

- ``claimed``: a profession or residence the person (or their employer)
  declares: health workers, care homes, education, essential workers;
- ``age``: derived from the date of birth on the day in question (75+, 65–74);
- ``conditions``: derived from chronic conditions, within an age band;
- ``everyone``: the general population, the group every person is in.

A person belongs to every group they qualify for and is served by the
highest-ranked one, so a 78-year-old teacher is in the 75+ group rather than
the education workers'. A claim of an age- or condition-derived group is not
trusted: those groups are derived from the facts.

Ages are completed years (`age_on`). Someone born on 29 February turns a year
older on 1 March in common years, the convention of Serbian and most European
practice for legal age (the birthday is deemed not to have come until the day
after 28 February).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

from domain.conditions import LocalizedName
from domain.errors import DomainError

if TYPE_CHECKING:
    from domain.data import RuleSet


class UnknownPriorityGroup(DomainError):
    """A priority-group code that the rule set in use does not define."""

    code: ClassVar[str] = "priority.unknown_group"
    template: ClassVar[str] = (
        "The priority group '{group}' is not known to the vaccination rules {version}. "
        "Choose the group from the list."
    )


class Membership(Enum):
    """How membership of a group is established."""

    CLAIMED = "claimed"
    AGE = "age"
    CONDITIONS = "conditions"
    EVERYONE = "everyone"


@dataclass(frozen=True)
class PriorityGroup:
    """One priority group.

    `opens_on` is the first day its members may be vaccinated; None while the
    Ministry has not yet set a date. `min_age`/`max_age` (inclusive, completed
    years) bound ``age`` and ``conditions`` groups.
    """

    code: str
    rank: int
    name: LocalizedName
    membership: Membership
    opens_on: date | None
    min_age: int | None = None
    max_age: int | None = None

    def is_open_on(self, on: date) -> bool:
        return self.opens_on is not None and self.opens_on <= on

    def admits_age(self, age: int) -> bool:
        return (self.min_age is None or age >= self.min_age) and (
            self.max_age is None or age <= self.max_age
        )


def age_on(birth_date: date, on: date) -> int:
    """Age in completed years on the day `on` (negative before birth).

    A person is a year older from their birthday on; born 29 February, from 1
    March in common years (28 February < 29 February in the comparison below).
    """
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


@dataclass(frozen=True, eq=False)
class PriorityGroups:
    """The groups of one rule set, ordered by rank (1 first)."""

    version: str
    groups: tuple[PriorityGroup, ...]
    _by_code: Mapping[str, PriorityGroup] = field(init=False, repr=False)
    everyone: PriorityGroup = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.groups, key=lambda g: g.rank))
        if [g.rank for g in ordered] != list(range(1, len(ordered) + 1)):
            raise ValueError("priority ranks must be 1, 2, ..., n without gaps or repeats")
        by_code = {g.code: g for g in ordered}
        if len(by_code) != len(ordered):
            raise ValueError("priority group codes must be unique")
        everyone = [g for g in ordered if g.membership is Membership.EVERYONE]
        if len(everyone) != 1:
            raise ValueError("exactly one priority group must have membership 'everyone'")
        object.__setattr__(self, "groups", ordered)
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "everyone", everyone[0])

    def by_code(self, code: str) -> PriorityGroup:
        """The group with this code; raises `UnknownPriorityGroup`."""
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownPriorityGroup(group=code, version=self.version) from None

    def opening_for(self, group: PriorityGroup) -> date | None:
        """The first day a member of `group` may be vaccinated; None if not yet set.

        The earlier of the group's and the general population's opening: a
        person is never worse off for belonging to a priority group.
        """
        days = [d for d in (group.opens_on, self.everyone.opens_on) if d is not None]
        return min(days) if days else None

    def open_for(self, group: PriorityGroup, on: date) -> bool:
        """Whether a member of `group` may be vaccinated on `on` (see `opening_for`)."""
        return group.is_open_on(on) or self.everyone.is_open_on(on)


def priority_group_for(
    birth_date: date,
    claimed_group: str | None,
    conditions: Set[str],
    on: date,
    rules: RuleSet,
) -> PriorityGroup:
    """The highest-ranked group the person belongs to on the day `on`.

    `claimed_group` is the group code the person declared (None for none); it
    counts only for ``claimed`` groups. Age groups use the age on `on`;
    condition groups need one of the conditions that qualify for priority.

    Raises `UnknownPriorityGroup` for an unknown claimed code and
    `domain.conditions.UnknownCondition` for an unknown condition code.
    """
    groups = rules.priority_groups
    rules.conditions.require_known(conditions)
    claimed = groups.by_code(claimed_group) if claimed_group is not None else None
    age = age_on(birth_date, on)
    has_qualifying = not conditions.isdisjoint(rules.conditions.qualifying_for_priority)
    for group in groups.groups:
        membership = group.membership
        if membership is Membership.EVERYONE:
            return group
        if membership is Membership.CLAIMED:
            if group is claimed:
                return group
        elif membership is Membership.AGE:
            if group.admits_age(age):
                return group
        elif has_qualifying and group.admits_age(age):
            return group
    raise AssertionError("unreachable: PriorityGroups guarantees an 'everyone' group")
