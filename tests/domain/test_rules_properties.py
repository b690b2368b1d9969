"""Properties of eligibility over random citizens, days, products and rule versions."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from domain.data import RuleSet, available_versions, load_rules
from domain.eligibility import (
    REASON_KINDS,
    CitizenFacts,
    DoseFact,
    Severity,
    check_eligibility,
    eligible_products,
    next_dose,
)
from domain.priority import age_on

RULES = [load_rules(v) for v in available_versions()]
PRODUCT_IDS = [*sorted({p.id for r in RULES for p in r.catalogue.products}), "not-a-vaccine"]
KINDS = {kind.code: kind for kind in REASON_KINDS}


@st.composite
def histories(draw: st.DrawFn, rules: RuleSet) -> tuple[DoseFact, ...]:
    """Doses of one series, none up to all, possibly too close together or late."""
    if draw(st.booleans()):
        return ()
    first = draw(st.sampled_from(rules.catalogue.first_dose_products))
    assert first.series is not None
    day = draw(st.dates(min_value=date(2020, 12, 24), max_value=date(2021, 12, 31)))
    doses = [DoseFact(first.id, 1, day)]
    count = draw(st.integers(min_value=1, max_value=first.series.total_doses))
    for dose_number in range(2, count + 1):
        rule = first.series.rule_for(dose_number)
        assert rule is not None
        day += timedelta(days=draw(st.integers(0, 250)))
        doses.append(DoseFact(draw(st.sampled_from(rule.product_ids)), dose_number, day))
    return tuple(doses)


@st.composite
def cases(draw: st.DrawFn) -> tuple[RuleSet, CitizenFacts, str, date]:
    rules = draw(st.sampled_from(RULES))
    citizen = CitizenFacts(
        birth_date=draw(st.dates(min_value=date(1915, 1, 1), max_value=date(2015, 12, 31))),
        priority_group=draw(st.sampled_from([g.code for g in rules.priority_groups.groups])),
        conditions=draw(st.frozensets(st.sampled_from(sorted(rules.conditions.codes)))),
        doses=draw(histories(rules)),
    )
    on = draw(st.dates(min_value=date(2020, 12, 1), max_value=date(2022, 12, 31)))
    return rules, citizen, draw(st.sampled_from(PRODUCT_IDS)), on


@st.composite
def plausible_cases(draw: st.DrawFn) -> tuple[RuleSet, CitizenFacts, str, date]:
    """Cases that are often eligible, so the rules an eligible answer obeys get tested."""
    rules = draw(st.sampled_from(RULES))
    doses = draw(histories(rules))
    citizen = CitizenFacts(
        birth_date=draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31))),
        priority_group=draw(st.sampled_from([g.code for g in rules.priority_groups.groups])),
        conditions=draw(st.frozensets(st.sampled_from(sorted(rules.conditions.codes)), max_size=1)),
        doses=doses,
    )
    if doses:
        on = doses[-1].given_on + timedelta(days=draw(st.integers(0, 150)))
        first = rules.catalogue.by_id(doses[0].product_id)
        assert first.series is not None
        rule = first.series.rule_for(len(doses) + 1)
        choices = rule.product_ids if rule is not None else (first.id,)
    else:
        on = draw(st.dates(min_value=date(2021, 6, 15), max_value=date(2022, 12, 31)))
        choices = tuple(p.id for p in rules.catalogue.first_dose_products)
    return rules, citizen, draw(st.sampled_from(choices)), on


@given(cases())
def test_eligible_exactly_when_nothing_blocks_and_severities_match(
    case: tuple[RuleSet, CitizenFacts, str, date],
) -> None:
    rules, citizen, product_id, on = case
    result = check_eligibility(citizen, product_id, on, rules)
    assert result.eligible is (len(result.blocking) == 0)
    assert all(r.kind.severity is Severity.BLOCKING and r.blocking for r in result.blocking)
    assert all(r.kind.severity is Severity.WARNING and not r.blocking for r in result.warnings)
    assert all(KINDS[r.code] is r.kind for r in result.reasons)
    assert result.dose_number == len(citizen.doses) + 1


@settings(max_examples=300)
@given(plausible_cases())
def test_an_eligible_answer_respects_every_rule(
    case: tuple[RuleSet, CitizenFacts, str, date],
) -> None:
    rules, citizen, product_id, on = case
    result = check_eligibility(citizen, product_id, on, rules)
    event("eligible" if result.eligible else "not eligible")
    if not result.eligible:
        return
    product = rules.catalogue.by_id(product_id)
    age = age_on(citizen.birth_date, on)
    assert product.age.min_years is None or age >= product.age.min_years
    assert citizen.conditions.isdisjoint(product.contraindications)
    assert citizen.conditions.isdisjoint(rules.conditions.deferring)
    due = next_dose(citizen, rules)
    assert due is not None
    assert due.dose_number == result.dose_number
    assert product_id in due.product_ids
    assert due.earliest is None or due.earliest <= on
    if citizen.doses:
        series = rules.catalogue.by_id(citizen.doses[0].product_id).series
        assert series is not None
        rule = series.rule_for(result.dose_number)
        assert rule is not None
        assert product_id in rule.product_ids
        assert rule.min_age is None or age >= rule.min_age
        late = due.latest is not None and on > due.latest
        assert late is ("eligibility.interval_passed" in [r.code for r in result.warnings])
    else:
        assert product.starts_series
        assert product.age.max_years is None or age <= product.age.max_years
        group = rules.priority_groups.by_code(citizen.priority_group)
        assert rules.priority_groups.open_for(group, on)


@given(cases())
def test_eligible_products_are_exactly_those_without_blocking_reasons(
    case: tuple[RuleSet, CitizenFacts, str, date],
) -> None:
    rules, citizen, _, on = case
    expected = tuple(
        p.id
        for p in rules.catalogue.products
        if check_eligibility(citizen, p.id, on, rules).eligible
    )
    assert eligible_products(citizen, on, rules) == expected


@given(cases(), st.data())
def test_adding_a_condition_never_removes_a_blocking_reason(
    case: tuple[RuleSet, CitizenFacts, str, date], data: st.DataObject
) -> None:
    rules, citizen, product_id, on = case
    extra = data.draw(st.sampled_from(sorted(rules.conditions.codes)))
    worse = CitizenFacts(
        citizen.birth_date, citizen.priority_group, citizen.conditions | {extra}, citizen.doses
    )
    before = {r.code for r in check_eligibility(citizen, product_id, on, rules).blocking}
    after = {r.code for r in check_eligibility(worse, product_id, on, rules).blocking}
    assert before <= after


@given(cases(), st.integers(min_value=1, max_value=3000))
def test_too_young_on_a_day_means_too_young_on_every_earlier_day(
    case: tuple[RuleSet, CitizenFacts, str, date], days_earlier: int
) -> None:
    rules, citizen, product_id, on = case

    def too_young(day: date) -> bool:
        result = check_eligibility(citizen, product_id, day, rules)
        return "eligibility.too_young" in {r.code for r in result.blocking}

    if too_young(on):
        assert too_young(on - timedelta(days=days_earlier))


@given(cases())
def test_every_reason_renders_in_every_language(
    case: tuple[RuleSet, CitizenFacts, str, date],
) -> None:
    rules, citizen, product_id, on = case
    for reason in check_eligibility(citizen, product_id, on, rules).reasons:
        for language in ("en", "sr-Latn", "sr-Cyrl"):
            text = reason.text(language)
            assert text
            assert "{" not in text
            assert "⟦" not in text
