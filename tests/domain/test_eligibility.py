"""Eligibility: every reason on its own, together, at its edges, and across versions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.catalogue import UnknownProduct
from domain.conditions import UnknownCondition
from domain.eligibility import (
    CitizenFacts,
    DoseFact,
    DoseHistoryBadFirstProduct,
    DoseHistoryOutOfOrder,
    Eligibility,
    InvalidDoseHistory,
    NextDose,
    RuleSet,
    Severity,
    check_eligibility,
    eligible_products,
    load_rules,
    next_dose,
)
from domain.priority import UnknownPriorityGroup

OLD = load_rules("2021.03")
NEW = load_rules("2021.06")
BOOSTERS = load_rules("2021.08")
ON = date(2021, 7, 1)


def adult(
    group: str = "general",
    conditions: frozenset[str] = frozenset(),
    doses: tuple[DoseFact, ...] = (),
    years: int = 40,
    on: date = ON,
) -> CitizenFacts:
    return CitizenFacts(on.replace(year=on.year - years), group, conditions, doses)


def after(product_id: str, dose_1_on: date, years: int = 40) -> CitizenFacts:
    return adult(doses=(DoseFact(product_id, 1, dose_1_on),), years=years, on=dose_1_on)


def codes(result: Eligibility) -> list[str]:
    return [r.code for r in result.reasons]


def test_an_adult_in_an_open_group_is_eligible_without_reasons() -> None:
    result = check_eligibility(adult(), "comirnaty", ON, NEW)
    assert result.eligible
    assert result.reasons == ()
    assert result.dose_number == 1
    assert result.product_id == "comirnaty"


# -- age limits --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "product_id", "min_age"),
    [(NEW, "comirnaty", 12), (OLD, "comirnaty", 16), (NEW, "spikevax", 18), (NEW, "bbibp", 18)],
)
def test_minimum_age_from_the_birthday_on(rules: RuleSet, product_id: str, min_age: int) -> None:
    birthday = date(2021, 7, 10)
    citizen = CitizenFacts(birthday.replace(year=2021 - min_age), "health-workers")
    before = check_eligibility(citizen, product_id, birthday - timedelta(days=1), rules)
    assert codes(before) == ["eligibility.too_young"]
    assert before.blocking[0].params["min_age"] == min_age
    assert before.blocking[0].params["age"] == min_age - 1
    assert check_eligibility(citizen, product_id, birthday, rules).eligible
    assert check_eligibility(citizen, product_id, birthday + timedelta(days=1), rules).eligible


def test_maximum_age_is_inclusive_and_only_for_dose_1() -> None:
    birthday_61 = date(2021, 5, 10)
    birth = birthday_61.replace(year=1960)
    citizen = CitizenFacts(birth, "health-workers")
    day_before = birthday_61 - timedelta(days=1)
    assert check_eligibility(citizen, "sputnik-v-1", day_before, OLD).eligible
    too_old = check_eligibility(citizen, "sputnik-v-1", birthday_61, OLD)
    assert codes(too_old) == ["eligibility.too_old"]
    assert too_old.blocking[0].params == {"product": "Sputnik V (I)", "max_age": 60, "age": 61}
    # The later version dropped the upper limit.
    assert check_eligibility(citizen, "sputnik-v-1", birthday_61, NEW).eligible
    # A series started at 60 is completed at 61.
    started = CitizenFacts(birth, "health-workers", doses=(DoseFact("sputnik-v-1", 1, day_before),))
    dose_2_day = day_before + timedelta(days=21)
    assert check_eligibility(started, "sputnik-v-2", dose_2_day, OLD).eligible


def test_leapling_turns_18_on_1_march_in_a_common_year() -> None:
    leapling = CitizenFacts(date(2004, 2, 29), "general")
    assert codes(check_eligibility(leapling, "spikevax", date(2022, 2, 28), NEW)) == [
        "eligibility.too_young"
    ]
    assert check_eligibility(leapling, "spikevax", date(2022, 3, 1), NEW).eligible


def test_leapling_turns_12_on_29_february_in_a_leap_year() -> None:
    leapling = CitizenFacts(date(2012, 2, 29), "general")
    assert codes(check_eligibility(leapling, "comirnaty", date(2024, 2, 28), NEW)) == [
        "eligibility.too_young"
    ]
    assert check_eligibility(leapling, "comirnaty", date(2024, 2, 29), NEW).eligible


# -- conditions --------------------------------------------------------------------


def test_contraindication_names_the_condition() -> None:
    result = check_eligibility(adult(conditions=frozenset({"peg-allergy"})), "comirnaty", ON, NEW)
    assert codes(result) == ["eligibility.contraindicated"]
    text = result.blocking[0].text("en")
    assert "Comirnaty must not be given" in text
    assert "polyethylene glycol" in text
    assert "polietilen-glikol" in result.blocking[0].text("sr-Latn")


def test_vaxzevria_tts_contraindication_arrives_with_the_later_version() -> None:
    citizen = adult(group="health-workers", conditions=frozenset({"tts-history"}))
    assert check_eligibility(citizen, "vaxzevria", ON, OLD).eligible
    assert codes(check_eligibility(citizen, "vaxzevria", ON, NEW)) == [
        "eligibility.contraindicated"
    ]
    assert check_eligibility(citizen, "comirnaty", ON, NEW).eligible


def test_acute_illness_defers_every_product() -> None:
    citizen = adult(conditions=frozenset({"acute-febrile-illness"}))
    for product in NEW.catalogue.first_dose_products:
        result = check_eligibility(citizen, product.id, ON, NEW)
        assert codes(result) == ["eligibility.temporarily_deferred"]
    assert eligible_products(citizen, ON, NEW) == ()


def test_results_are_hashable_values() -> None:
    citizen = adult(conditions=frozenset({"pregnancy", "peg-allergy"}))
    first = check_eligibility(citizen, "comirnaty", ON, NEW)
    again = check_eligibility(citizen, "comirnaty", ON, NEW)
    assert first == again
    assert len({first, again}) == 1
    assert len(set(first.reasons)) == 2


def test_precaution_is_a_warning_not_a_block() -> None:
    result = check_eligibility(adult(conditions=frozenset({"pregnancy"})), "comirnaty", ON, NEW)
    assert result.eligible
    assert codes(result) == ["eligibility.precaution"]
    assert result.warnings[0].kind.severity is Severity.WARNING
    assert not result.warnings[0].blocking


# -- series and intervals ----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "blocking", "warnings"),
    [
        (20, ["eligibility.interval_not_reached"], []),
        (21, [], []),
        (42, [], []),
        (43, [], ["eligibility.interval_passed"]),
        (200, [], ["eligibility.interval_passed"]),
    ],
)
def test_comirnaty_dose_2_interval_edges(
    day: int, blocking: list[str], warnings: list[str]
) -> None:
    dose_1 = date(2021, 3, 1)
    result = check_eligibility(
        after("comirnaty", dose_1), "comirnaty", dose_1 + timedelta(days=day), NEW
    )
    assert result.dose_number == 2
    assert [r.code for r in result.blocking] == blocking
    assert [r.code for r in result.warnings] == warnings
    assert result.eligible is (not blocking)


def test_interval_reasons_carry_the_dates() -> None:
    dose_1 = date(2021, 3, 1)
    early = check_eligibility(after("comirnaty", dose_1), "comirnaty", date(2021, 3, 21), NEW)
    assert early.blocking[0].params == {
        "dose_number": 2,
        "min_days": 21,
        "earliest": date(2021, 3, 22),
    }
    assert "22 March 2021" in early.blocking[0].text("en")
    assert "22.03.2021." in early.blocking[0].text("sr-Latn")
    late = check_eligibility(after("comirnaty", dose_1), "comirnaty", date(2021, 4, 13), NEW)
    assert late.warnings[0].params == {
        "dose_number": 2,
        "max_days": 42,
        "latest": date(2021, 4, 12),
    }
    assert "series is not started again" in late.warnings[0].text("en")


def test_sputnik_dose_2_is_component_two() -> None:
    dose_1 = date(2021, 3, 1)
    citizen = after("sputnik-v-1", dose_1)
    day_21 = dose_1 + timedelta(days=21)
    assert check_eligibility(citizen, "sputnik-v-2", day_21, NEW).eligible
    wrong = check_eligibility(citizen, "sputnik-v-1", day_21, NEW)
    assert codes(wrong) == ["eligibility.wrong_product_for_dose"]
    assert wrong.blocking[0].params == {
        "product": "Sputnik V (I)",
        "dose_number": 2,
        "allowed": "Sputnik V (II)",
    }
    assert eligible_products(citizen, day_21, NEW) == ("sputnik-v-2",)


def test_component_two_cannot_start_a_series() -> None:
    result = check_eligibility(adult(), "sputnik-v-2", ON, NEW)
    assert codes(result) == ["eligibility.wrong_product_for_dose"]
    assert result.blocking[0].params["dose_number"] == 1
    assert "Sputnik V (I)" in str(result.blocking[0].params["allowed"])
    assert "Sputnik V (II)" not in str(result.blocking[0].params["allowed"])


def test_mixing_after_vaxzevria_depends_on_the_rule_version() -> None:
    dose_1 = date(2021, 4, 1)
    citizen = after("vaxzevria", dose_1)
    day = dose_1 + timedelta(days=60)
    assert codes(check_eligibility(citizen, "comirnaty", day, OLD)) == [
        "eligibility.wrong_product_for_dose"
    ]
    assert check_eligibility(citizen, "comirnaty", day, NEW).eligible
    assert eligible_products(citizen, day, NEW) == ("comirnaty", "spikevax", "vaxzevria")
    assert eligible_products(citizen, day, OLD) == ("vaxzevria",)


def test_series_complete_after_two_doses() -> None:
    doses = (
        DoseFact("bbibp", 1, date(2021, 2, 1)),
        DoseFact("bbibp", 2, date(2021, 2, 22)),
    )
    result = check_eligibility(adult(doses=doses), "bbibp", ON, NEW)
    assert codes(result) == ["eligibility.series_complete"]
    assert result.dose_number == 3
    assert result.blocking[0].params == {"doses": 2}
    assert next_dose(adult(doses=doses), NEW) is None
    assert eligible_products(adult(doses=doses), ON, NEW) == ()


# -- boosters (2021.08) ------------------------------------------------------------


def two_doses(product_id: str, dose_2_on: date, birth: date = date(1970, 5, 5)) -> CitizenFacts:
    dose_1_on = dose_2_on - timedelta(days=21)
    second = "sputnik-v-2" if product_id == "sputnik-v-1" else product_id
    return CitizenFacts(
        birth,
        "general",
        doses=(DoseFact(product_id, 1, dose_1_on), DoseFact(second, 2, dose_2_on)),
    )


@pytest.mark.parametrize(("day", "eligible"), [(179, False), (180, True), (500, True)])
def test_booster_180_days_after_dose_2(day: int, eligible: bool) -> None:
    dose_2 = date(2021, 3, 22)
    citizen = two_doses("comirnaty", dose_2)
    result = check_eligibility(citizen, "comirnaty", dose_2 + timedelta(days=day), BOOSTERS)
    assert result.dose_number == 3
    assert result.eligible is eligible
    assert result.warnings == ()  # no latest day for a booster
    if not eligible:
        assert codes(result) == ["eligibility.interval_not_reached"]
        assert result.blocking[0].params["earliest"] == date(2021, 9, 18)


def test_sputnik_booster_is_component_one_or_another_allowed_product() -> None:
    dose_2 = date(2021, 2, 1)
    citizen = two_doses("sputnik-v-1", dose_2)
    day = dose_2 + timedelta(days=200)
    assert eligible_products(citizen, day, BOOSTERS) == ("comirnaty", "sputnik-v-1", "bbibp")
    assert codes(check_eligibility(citizen, "sputnik-v-2", day, BOOSTERS)) == [
        "eligibility.wrong_product_for_dose"
    ]
    assert next_dose(citizen, BOOSTERS) == NextDose(
        3, ("sputnik-v-1", "comirnaty", "bbibp"), dose_2 + timedelta(days=180), None
    )


def test_booster_is_for_adults_even_with_a_product_authorised_from_12() -> None:
    dose_2 = date(2021, 7, 1)
    day = dose_2 + timedelta(days=190)  # 2022-01-07
    teenager = two_doses("comirnaty", dose_2, birth=date(2004, 1, 8))
    result = check_eligibility(teenager, "comirnaty", day, BOOSTERS)
    assert codes(result) == ["eligibility.too_young_for_dose"]
    assert result.blocking[0].params == {"dose_number": 3, "min_age": 18, "age": 17}
    assert "Dose 3 is for people aged 18 and over" in result.blocking[0].text("en")
    assert check_eligibility(teenager, "comirnaty", day + timedelta(days=1), BOOSTERS).eligible


def test_the_same_history_is_complete_before_boosters_and_due_after() -> None:
    citizen = two_doses("bbibp", date(2021, 2, 22))
    assert next_dose(citizen, NEW) is None
    assert codes(check_eligibility(citizen, "bbibp", ON, NEW)) == ["eligibility.series_complete"]
    due = next_dose(citizen, BOOSTERS)
    assert due is not None
    assert due.dose_number == 3
    assert check_eligibility(citizen, "bbibp", date(2021, 9, 1), BOOSTERS).eligible
    boosted = CitizenFacts(
        citizen.birth_date,
        "general",
        doses=(*citizen.doses, DoseFact("comirnaty", 3, date(2021, 9, 1))),
    )
    assert next_dose(boosted, BOOSTERS) is None
    assert codes(check_eligibility(boosted, "comirnaty", date(2022, 6, 1), BOOSTERS)) == [
        "eligibility.series_complete"
    ]


# -- priority group opening --------------------------------------------------------


def test_group_not_open_gives_the_opening_day() -> None:
    citizen = adult(group="age-65-74", years=70)
    result = check_eligibility(citizen, "comirnaty", date(2021, 1, 25), OLD)
    assert codes(result) == ["eligibility.group_not_open"]
    assert result.blocking[0].params["opens_on"] == date(2021, 1, 26)
    assert "„Osobe od 65 do 74 godine” počinje 26.01.2021." in result.blocking[0].text("sr-Latn")
    assert check_eligibility(citizen, "comirnaty", date(2021, 1, 26), OLD).eligible


def test_general_population_not_scheduled_in_the_first_version() -> None:
    result = check_eligibility(adult(), "comirnaty", ON, OLD)
    assert codes(result) == ["eligibility.group_not_scheduled"]
    assert "Општа популација" in result.blocking[0].text("sr-Cyrl")


def test_group_opening_does_not_stop_a_started_series() -> None:
    dose_1 = date(2021, 6, 1)
    # Vaccinated early (e.g. at an open day); dose 2 is due whatever the group.
    citizen = after("comirnaty", dose_1)
    assert check_eligibility(citizen, "comirnaty", dose_1 + timedelta(days=21), OLD).eligible


# -- several at once, and versions -------------------------------------------------


def test_every_reason_is_reported_not_only_the_first() -> None:
    citizen = CitizenFacts(
        date(2009, 8, 1),
        "general",
        frozenset({"acute-febrile-illness", "peg-allergy", "pregnancy", "immunocompromised"}),
    )
    result = check_eligibility(citizen, "comirnaty", date(2021, 7, 1), OLD)
    assert [r.code for r in result.blocking] == [
        "eligibility.group_not_scheduled",
        "eligibility.temporarily_deferred",
        "eligibility.too_young",
        "eligibility.contraindicated",
    ]
    assert [r.code for r in result.warnings] == ["eligibility.precaution"] * 2
    assert all(r.blocking for r in result.blocking)
    assert not any(r.blocking for r in result.warnings)


def test_early_wrong_product_in_a_complete_picture() -> None:
    dose_1 = date(2021, 6, 1)
    citizen = CitizenFacts(
        date(1961, 6, 5),
        "general",
        frozenset({"polysorbate-allergy"}),
        (DoseFact("sputnik-v-1", 1, dose_1),),
    )
    result = check_eligibility(citizen, "sputnik-v-1", dose_1 + timedelta(days=10), OLD)
    assert [r.code for r in result.blocking] == [
        "eligibility.interval_not_reached",
        "eligibility.wrong_product_for_dose",
        "eligibility.contraindicated",
    ]


def test_two_versions_answer_differently_for_the_same_13_year_old() -> None:
    citizen = CitizenFacts(date(2008, 1, 15), "general")
    old = check_eligibility(citizen, "comirnaty", ON, OLD)
    new = check_eligibility(citizen, "comirnaty", ON, NEW)
    assert codes(old) == ["eligibility.group_not_scheduled", "eligibility.too_young"]
    assert new.eligible
    assert eligible_products(citizen, ON, OLD) == ()
    assert eligible_products(citizen, ON, NEW) == ("comirnaty",)


def test_unknown_product_is_a_reason_beside_the_others() -> None:
    citizen = adult(conditions=frozenset({"acute-febrile-illness"}))
    result = check_eligibility(citizen, "jcovden", ON, NEW)
    assert codes(result) == ["eligibility.temporarily_deferred", "eligibility.unknown_product"]
    assert result.blocking[1].params == {"product_id": "jcovden", "version": "2021.06"}


# -- next dose ---------------------------------------------------------------------


def test_next_dose_before_any_dose_lists_first_dose_products_not_contraindicated() -> None:
    citizen = adult(conditions=frozenset({"polysorbate-allergy"}))
    assert next_dose(citizen, NEW) == NextDose(1, ("comirnaty", "spikevax", "bbibp"), None, None)
    nothing_ruled_out = next_dose(adult(), NEW)
    assert nothing_ruled_out is not None
    assert nothing_ruled_out.is_first
    assert nothing_ruled_out.product_ids == (
        "comirnaty",
        "spikevax",
        "vaxzevria",
        "sputnik-v-1",
        "bbibp",
    )


def test_next_dose_window_for_dose_2() -> None:
    assert next_dose(after("comirnaty", date(2021, 3, 1)), NEW) == NextDose(
        2, ("comirnaty",), date(2021, 3, 22), date(2021, 4, 12)
    )
    assert next_dose(after("sputnik-v-1", date(2021, 3, 1)), NEW) == NextDose(
        2, ("sputnik-v-2",), date(2021, 3, 22), date(2021, 5, 30)
    )
    with_tts = CitizenFacts(
        date(1970, 1, 1), "general", frozenset({"tts-history"}), (DoseFact("vaxzevria", 1, ON),)
    )
    assert next_dose(with_tts, NEW) == NextDose(
        2, ("comirnaty", "spikevax"), ON + timedelta(days=28), ON + timedelta(days=84)
    )


# -- bad facts are errors, not reasons ---------------------------------------------


def test_unknown_codes_in_the_facts_raise() -> None:
    with pytest.raises(UnknownCondition):
        check_eligibility(adult(conditions=frozenset({"gout"})), "comirnaty", ON, NEW)
    with pytest.raises(UnknownCondition):
        next_dose(adult(conditions=frozenset({"gout"})), NEW)
    with pytest.raises(UnknownPriorityGroup):
        check_eligibility(adult(group="astronauts"), "comirnaty", ON, NEW)
    with pytest.raises(UnknownProduct):
        check_eligibility(after("jcovden", date(2021, 3, 1)), "comirnaty", ON, NEW)


def test_dose_history_must_be_numbered_and_dated_in_order() -> None:
    with pytest.raises(InvalidDoseHistory) as numbering:
        CitizenFacts(date(1970, 1, 1), "general", doses=(DoseFact("comirnaty", 2, ON),))
    assert numbering.value.params == {"numbers": "2"}
    with pytest.raises(DoseHistoryOutOfOrder):
        CitizenFacts(
            date(1970, 1, 1),
            "general",
            doses=(DoseFact("comirnaty", 1, ON), DoseFact("comirnaty", 2, ON - timedelta(days=1))),
        )
    with pytest.raises(DoseHistoryBadFirstProduct):
        check_eligibility(after("sputnik-v-2", date(2021, 3, 1)), "sputnik-v-2", ON, NEW)


def test_facts_accept_plain_sets_and_lists_but_stay_immutable() -> None:
    citizen = CitizenFacts(date(1970, 1, 1), "general", {"diabetes"}, [])  # type: ignore[arg-type]
    assert citizen.conditions == frozenset({"diabetes"})
    assert citizen.doses == ()
    assert hash(citizen) == hash(CitizenFacts(date(1970, 1, 1), "general", frozenset({"diabetes"})))
