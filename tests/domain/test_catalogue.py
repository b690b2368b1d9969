"""The packaged catalogue: it loads, validates, and answers look-ups."""

from __future__ import annotations

from datetime import date

import pytest

from domain.catalogue import (
    DCC_VACCINE_PROPHYLAXIS_CODES,
    DoseNotInSeries,
    InvalidGtin,
    NotAFirstDose,
    UnknownGtin,
    UnknownProduct,
)
from domain.data import (
    NoRulesInForce,
    RuleSet,
    UnknownRulesVersion,
    available_versions,
    load_rules,
    rules_in_force,
)
from domain.gtin import is_valid_gtin, with_check_digit
from domain.i18n import message

ALL = [load_rules(v) for v in available_versions()]
OLD = load_rules("2021.03")
NEW = load_rules("2021.06")
BOOSTERS = load_rules("2021.08")


def test_packaged_versions_oldest_first_and_latest_is_default() -> None:
    assert available_versions() == ("2021.03", "2021.06", "2021.08")
    assert load_rules() is BOOSTERS
    assert load_rules(None).version == "2021.08"
    assert OLD.effective_from == date(2021, 3, 1)
    assert NEW.effective_from == date(2021, 6, 15)
    assert BOOSTERS.effective_from == date(2021, 8, 17)


def test_loading_is_cached_one_object_per_version() -> None:
    assert load_rules("2021.03") is OLD
    assert load_rules("2021.03").catalogue is OLD.catalogue


def test_unknown_version_names_the_known_ones() -> None:
    with pytest.raises(UnknownRulesVersion) as caught:
        load_rules("2019.01")
    assert "2021.03, 2021.06, 2021.08" in str(caught.value)
    assert caught.value.code == "rules.unknown_version"


@pytest.mark.parametrize(
    ("day", "version"),
    [
        (date(2021, 3, 1), "2021.03"),
        (date(2021, 6, 14), "2021.03"),
        (date(2021, 6, 15), "2021.06"),
        (date(2021, 8, 16), "2021.06"),
        (date(2021, 8, 17), "2021.08"),
        (date(2030, 1, 1), "2021.08"),
    ],
)
def test_rules_in_force_on_a_day(day: date, version: str) -> None:
    assert rules_in_force(day).version == version


def test_no_rules_before_the_first_version() -> None:
    with pytest.raises(NoRulesInForce) as caught:
        rules_in_force(date(2021, 2, 28))
    assert caught.value.params == {"on": "2021-02-28", "earliest": "2021-03-01"}


@pytest.mark.parametrize("rules", ALL, ids=lambda r: r.version)
def test_every_gtin_is_a_valid_fictional_gtin14_and_finds_its_product(rules: RuleSet) -> None:
    seen: set[str] = set()
    for product in rules.catalogue.products:
        assert product.gtins, product.id
        for gtin in product.gtins:
            assert len(gtin) == 14
            assert is_valid_gtin(gtin)
            # GS1 prefix 952 is reserved for demonstrations: never a real product.
            assert gtin[1:4] == "952"
            assert gtin not in seen
            seen.add(gtin)
            assert rules.catalogue.by_gtin(gtin) is product


def test_by_gtin_accepts_the_gtin13_form_of_a_gtin14_with_leading_zero() -> None:
    gtin14 = NEW.catalogue.by_id("bbibp").gtins[0]
    assert gtin14.startswith("0")
    assert NEW.catalogue.by_gtin(gtin14[1:]).id == "bbibp"


def test_unknown_gtin_is_an_unknown_product_a_nurse_can_act_on() -> None:
    valid_but_unlisted = with_check_digit("0952000099999")
    assert is_valid_gtin(valid_but_unlisted)
    with pytest.raises(UnknownGtin) as caught:
        NEW.catalogue.by_gtin(valid_but_unlisted)
    error = caught.value
    assert isinstance(error, UnknownProduct)
    assert error.code == "catalogue.unknown_gtin"
    assert "Do not use the vial" in str(error)
    assert "Ne koristite bočicu" in message(error, "sr-Latn")
    assert f"GTIN {valid_but_unlisted}" in message(error, "sr-Cyrl")


@pytest.mark.parametrize("bad", ["09520000100019", "12345", "0952000010001X", ""])
def test_malformed_gtin_is_refused(bad: str) -> None:
    with pytest.raises(InvalidGtin):
        NEW.catalogue.by_gtin(bad)


def test_by_id_and_get() -> None:
    assert NEW.catalogue.by_id("comirnaty").name == "Comirnaty"
    assert NEW.catalogue.get("nope") is None
    with pytest.raises(UnknownProduct) as caught:
        NEW.catalogue.by_id("nope")
    assert caught.value.params == {"product_id": "nope", "version": "2021.06"}


@pytest.mark.parametrize("rules", ALL, ids=lambda r: r.version)
def test_every_series_refers_to_existing_products_and_every_product_is_reachable(
    rules: RuleSet,
) -> None:
    catalogue = rules.catalogue
    reachable = set()
    for product in catalogue.first_dose_products:
        reachable.add(product.id)
        assert product.series is not None
        assert 1 <= product.series.primary_doses <= product.series.total_doses
        for dose_number, rule in enumerate(product.series.later_doses, start=2):
            assert rule.dose_number == dose_number
            assert rule.product_ids
            for product_id in rule.product_ids:
                assert catalogue.get(product_id) is not None
                reachable.add(product_id)
    assert reachable == {p.id for p in catalogue.products}


# Verified against the EU DCC value sets (ehn-dcc-development/eu-dcc-valuesets:
# vaccine-medicinal-product.json, vaccine-mah-manf.json, vaccine-prophylaxis.json
# and vaccine-encoding-instructions.json).
EXPECTED_DCC = {
    "comirnaty": ("1119349007", "EU/1/20/1528", "ORG-100030215"),
    "spikevax": ("1119349007", "EU/1/20/1507", "ORG-100031184"),
    "vaxzevria": ("J07BX03", "EU/1/21/1529", "ORG-100001699"),
    "sputnik-v-1": ("J07BX03", "Sputnik-V", "Gamaleya-Research-Institute"),
    "sputnik-v-2": ("J07BX03", "Sputnik-V", "Gamaleya-Research-Institute"),
    "bbibp": ("J07BX03", "BBIBP-CorV", "ORG-100020693"),
}


@pytest.mark.parametrize("rules", ALL, ids=lambda r: r.version)
def test_every_product_has_its_dcc_codes(rules: RuleSet) -> None:
    assert {p.id for p in rules.catalogue.products} == set(EXPECTED_DCC)
    for product in rules.catalogue.products:
        assert (product.dcc.vp, product.dcc.mp, product.dcc.ma) == EXPECTED_DCC[product.id]
        assert product.dcc.vp in DCC_VACCINE_PROPHYLAXIS_CODES
        if product.marketing_authorisation is not None:
            assert product.dcc.mp == product.marketing_authorisation


def test_product_facts() -> None:
    catalogue = NEW.catalogue
    expected = {
        # id: (EU authorisation, doses per vial)
        "comirnaty": ("EU/1/20/1528", 6),
        "spikevax": ("EU/1/20/1507", 10),
        "vaxzevria": ("EU/1/21/1529", 10),
        "sputnik-v-1": (None, 5),
        "sputnik-v-2": (None, 5),
        "bbibp": (None, 1),
    }
    for product_id, (authorisation, doses) in expected.items():
        product = catalogue.by_id(product_id)
        assert product.marketing_authorisation == authorisation
        assert product.doses_per_vial == doses
        assert product.minutes_usable_after_opening > 0
    assert catalogue.by_id("comirnaty").minutes_usable_after_opening == 360


@pytest.mark.parametrize(
    ("product_id", "min_days", "max_days"),
    [
        ("comirnaty", 21, 42),
        ("spikevax", 28, 42),
        ("vaxzevria", 28, 84),
        ("sputnik-v-1", 21, 90),
        ("bbibp", 21, 28),
    ],
)
def test_dose_2_intervals(product_id: str, min_days: int, max_days: int) -> None:
    for rules in ALL:
        series = rules.catalogue.by_id(product_id).series
        assert series is not None
        assert series.primary_doses == 2
        rule = series.rule_for(2)
        assert rule is not None
        assert (rule.min_days_after_previous, rule.max_days_after_previous) == (min_days, max_days)
        assert rule.min_age is None
        assert series.rule_for(1) is None
    for rules in (OLD, NEW):
        series = rules.catalogue.by_id(product_id).series
        assert series is not None
        assert series.total_doses == 2
        assert series.rule_for(3) is None


def test_boosters_from_august_2021() -> None:
    for product in BOOSTERS.catalogue.first_dose_products:
        assert product.series is not None
        assert product.series.total_doses == 3
        assert product.series.primary_doses == 2
        booster = product.series.rule_for(3)
        assert booster is not None
        assert booster.min_days_after_previous == 180
        assert booster.max_days_after_previous is None
        assert booster.min_age == 18
        assert "comirnaty" in booster.product_ids
        assert "sputnik-v-2" not in booster.product_ids
    assert BOOSTERS.catalogue.series_product_for_dose("sputnik-v-1", 3) == (
        "sputnik-v-1",
        "comirnaty",
        "bbibp",
    )


def test_comirnaty_age_limit_lowered_from_16_to_12() -> None:
    assert OLD.catalogue.by_id("comirnaty").age.min_years == 16
    assert NEW.catalogue.by_id("comirnaty").age.min_years == 12


def test_sputnik_component_two_follows_component_one() -> None:
    catalogue = NEW.catalogue
    assert catalogue.series_product_for_dose("sputnik-v-1", 1) == ("sputnik-v-1",)
    assert catalogue.series_product_for_dose("sputnik-v-1", 2) == ("sputnik-v-2",)
    assert not catalogue.by_id("sputnik-v-2").starts_series
    with pytest.raises(NotAFirstDose) as caught:
        catalogue.series_product_for_dose("sputnik-v-2", 2)
    assert "Sputnik V (II)" in str(caught.value)


def test_series_product_for_dose_outside_the_series() -> None:
    with pytest.raises(DoseNotInSeries) as caught:
        NEW.catalogue.series_product_for_dose("comirnaty", 3)
    assert caught.value.params == {"product": "Comirnaty", "doses": 2, "dose_number": 3}
    with pytest.raises(DoseNotInSeries):
        NEW.catalogue.series_product_for_dose("comirnaty", 0)
    with pytest.raises(UnknownProduct):
        NEW.catalogue.series_product_for_dose("nope", 2)


def test_mixing_after_vaxzevria_only_in_the_later_version() -> None:
    assert OLD.catalogue.series_product_for_dose("vaxzevria", 2) == ("vaxzevria",)
    assert NEW.catalogue.series_product_for_dose("vaxzevria", 2) == (
        "vaxzevria",
        "comirnaty",
        "spikevax",
    )
