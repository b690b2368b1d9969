"""A rule set: one version of the vaccination policy, as loaded from its file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.catalogue import Catalogue
from domain.conditions import Conditions
from domain.priority import PriorityGroups


@dataclass(frozen=True, eq=False)
class RuleSet:
    """Everything one policy version says: products, priority groups, conditions.

    `version` is the policy's name (``"2021.06"``); `effective_from` the first
    day it governs. Rule sets are immutable and compared by identity: the
    loader returns one object per version.
    """

    version: str
    effective_from: date
    title: str
    catalogue: Catalogue
    priority_groups: PriorityGroups
    conditions: Conditions
