"""Priority groups: ages, membership and opening dates."""

from __future__ import annotations

import json
from datetime import date, timedelta
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.conditions import UnknownCondition
from domain.data import load_rules
from domain.data.rule_file import parse_rule_file
from domain.priority import (
    Membership,
    UnknownPriorityGroup,
    age_on,
    priority_group_for,
)

OLD = load_rules("2021.03")
NEW = load_rules("2021.06")
ON = date(2021, 7, 1)
CLAIMABLE = [g.code for g in NEW.priority_groups.groups if g.membership is Membership.CLAIMED]


def born_years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)


# -- age ---------------------------------------------------------------------------


@pytest.mark.parametrize("years", [12, 16, 18, 60, 65, 75])
def test_age_changes_on_the_birthday_itself(years: int) -> None:
    birth = date(1990, 6, 15)
    birthday = birth.replace(year=birth.year + years)
    assert age_on(birth, birthday - timedelta(days=1)) == years - 1
    assert age_on(birth, birthday) == years
    assert age_on(birth, birthday + timedelta(days=1)) == years


def test_born_on_29_february_is_a_year_older_on_1_march_in_common_years() -> None:
    leapling = date(2004, 2, 29)
    assert age_on(leapling, date(2021, 2, 28)) == 16
    assert age_on(leapling, date(2021, 3, 1)) == 17
    assert age_on(leapling, date(2024, 2, 28)) == 19
    assert age_on(leapling, date(2024, 2, 29)) == 20


def test_age_before_birth_is_negative() -> None:
    assert age_on(date(2021, 5, 1), date(2021, 4, 30)) == -1
    assert age_on(date(2021, 5, 1), date(2021, 5, 1)) == 0


@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    first=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    later_by=st.integers(min_value=0, max_value=40_000),
)
def test_age_is_monotone_and_grows_by_at_most_one_per_day(
    birth: date, first: date, later_by: int
) -> None:
    later = first + timedelta(days=later_by)
    assert age_on(birth, first) <= age_on(birth, later)
    assert age_on(birth, later) - age_on(birth, later - timedelta(days=1)) in (0, 1)
    # Never older than the plain year difference, never more than a year less.
    assert first.year - birth.year - 1 <= age_on(birth, first) <= first.year - birth.year


# -- membership --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("years_old_tomorrow", "expected_today", "expected_tomorrow"),
    [(75, "age-65-74", "age-75-plus"), (65, "general", "age-65-74")],
)
def test_age_groups_start_on_the_birthday(
    years_old_tomorrow: int, expected_today: str, expected_tomorrow: str
) -> None:
    tomorrow = ON + timedelta(days=1)
    birth = born_years_before(tomorrow, years_old_tomorrow)
    assert priority_group_for(birth, None, frozenset(), ON, NEW).code == expected_today
    assert priority_group_for(birth, None, frozenset(), tomorrow, NEW).code == expected_tomorrow


def test_chronic_conditions_group_is_for_under_65s_with_a_qualifying_condition() -> None:
    birth = born_years_before(ON + timedelta(days=1), 65)  # 64 today, 65 tomorrow
    diabetes = frozenset({"diabetes"})
    assert priority_group_for(birth, None, diabetes, ON, NEW).code == "chronic-conditions"
    # From the 65th birthday the age group ranks higher.
    assert priority_group_for(birth, None, diabetes, ON + timedelta(days=1), NEW).code == (
        "age-65-74"
    )
    # Pregnancy and allergies are not chronic conditions.
    not_chronic = frozenset({"pregnancy", "peg-allergy"})
    assert priority_group_for(birth, None, not_chronic, ON, NEW).code == "general"


def test_age_group_wins_over_a_lower_ranked_claim() -> None:
    teacher_aged_78 = born_years_before(ON, 78)
    group = priority_group_for(teacher_aged_78, "education-workers", frozenset(), ON, NEW)
    assert group.code == "age-75-plus"


def test_higher_ranked_claim_wins_over_age() -> None:
    nurse_aged_78 = born_years_before(ON, 78)
    group = priority_group_for(nurse_aged_78, "health-workers", frozenset(), ON, NEW)
    assert group.code == "health-workers"


def test_claim_of_a_derived_group_is_not_trusted() -> None:
    forty = born_years_before(ON, 40)
    assert priority_group_for(forty, "age-75-plus", frozenset(), ON, NEW).code == "general"
    assert priority_group_for(forty, "chronic-conditions", frozenset(), ON, NEW).code == "general"


def test_unknown_claim_or_condition_is_refused() -> None:
    forty = born_years_before(ON, 40)
    with pytest.raises(UnknownPriorityGroup) as group_error:
        priority_group_for(forty, "astronauts", frozenset(), ON, NEW)
    assert group_error.value.params == {"group": "astronauts", "version": "2021.06"}
    with pytest.raises(UnknownCondition) as condition_error:
        priority_group_for(forty, None, frozenset({"diabetes", "gout"}), ON, NEW)
    assert condition_error.value.params == {"condition": "gout", "version": "2021.06"}


@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2021, 7, 1)),
    claim=st.sampled_from([None, *CLAIMABLE]),
    conditions=st.frozensets(st.sampled_from(sorted(NEW.conditions.codes))),
)
def test_the_group_is_one_the_person_belongs_to_and_never_below_the_claim(
    birth: date, claim: str | None, conditions: frozenset[str]
) -> None:
    group = priority_group_for(birth, claim, conditions, ON, NEW)
    if claim is not None:
        assert group.rank <= NEW.priority_groups.by_code(claim).rank
    if group.membership is Membership.AGE:
        assert group.admits_age(age_on(birth, ON))
    if group.membership is Membership.CONDITIONS:
        assert conditions & NEW.conditions.qualifying_for_priority
        assert group.admits_age(age_on(birth, ON))
    if group.membership is Membership.CLAIMED:
        assert group.code == claim
    # No higher-ranked age group applies.
    for higher in NEW.priority_groups.groups[: group.rank - 1]:
        if higher.membership is Membership.AGE:
            assert not higher.admits_age(age_on(birth, ON))


# -- opening -----------------------------------------------------------------------


def test_groups_are_ranked_and_opening_dates_come_from_the_rules() -> None:
    groups = OLD.priority_groups
    assert [g.code for g in groups.groups] == [
        "health-workers",
        "care-homes",
        "age-75-plus",
        "age-65-74",
        "chronic-conditions",
        "education-workers",
        "essential-workers",
        "general",
    ]
    assert [g.rank for g in groups.groups] == list(range(1, 9))
    assert groups.by_code("health-workers").opens_on == date(2020, 12, 24)
    assert groups.everyone.code == "general"
    assert groups.everyone.opens_on is None
    assert NEW.priority_groups.everyone.opens_on == date(2021, 6, 15)


def test_a_group_is_open_from_its_own_or_the_general_opening_whichever_is_first() -> None:
    old_groups, new_groups = OLD.priority_groups, NEW.priority_groups
    seniors = old_groups.by_code("age-65-74")
    assert not old_groups.open_for(seniors, date(2021, 1, 25))
    assert old_groups.open_for(seniors, date(2021, 1, 26))
    assert old_groups.opening_for(seniors) == date(2021, 1, 26)
    general = old_groups.by_code("general")
    assert old_groups.opening_for(general) is None
    assert not old_groups.open_for(general, date(2030, 1, 1))
    assert new_groups.open_for(new_groups.by_code("general"), date(2021, 6, 15))


def test_a_member_of_a_late_group_may_come_once_the_general_population_is_open() -> None:
    raw = json.loads(
        (resources.files("domain.data") / "rules-2021.06.json").read_text(encoding="utf-8")
    )
    teachers = next(g for g in raw["priority_groups"] if g["code"] == "education-workers")
    teachers["opens_on"] = "2021-09-01"
    rules = parse_rule_file(json.dumps(raw), "rules-2021.06.json", "2021.06")
    groups = rules.priority_groups
    group = groups.by_code("education-workers")
    assert groups.opening_for(group) == date(2021, 6, 15)
    assert not groups.open_for(group, date(2021, 6, 14))
    assert groups.open_for(group, date(2021, 6, 15))
    assert not group.is_open_on(date(2021, 6, 15))
