"""A broken rule file is refused with where and what is wrong."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest

from domain.data import InvalidRules, load_rules
from domain.data.rule_file import parse_rule_file
from domain.gtin import with_check_digit
from domain.i18n import message

PACKAGED: dict[str, Any] = json.loads(
    (resources.files("domain.data") / "rules-2021.06.json").read_text(encoding="utf-8")
)


def product(raw: dict[str, Any], product_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in raw["products"] if p["id"] == product_id)
    return found


def parse(raw: dict[str, Any], version: str = "2021.06") -> None:
    parse_rule_file(json.dumps(raw), f"rules-{version}.json", version)


def test_the_packaged_file_parses_to_the_same_rules_as_the_loader() -> None:
    loaded = load_rules("2021.06")
    parsed = parse_rule_file(json.dumps(PACKAGED), "rules-2021.06.json", "2021.06")
    assert parsed.catalogue.products == loaded.catalogue.products
    assert parsed.priority_groups.groups == loaded.priority_groups.groups
    assert parsed.conditions.all == loaded.conditions.all


def _set(path: list[str | int], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        target: Any = raw
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _comirnaty(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        product(raw, "comirnaty")[key] = value

    return change


def _drop_group(raw: dict[str, Any]) -> None:
    del raw["priority_groups"][3]


def _duplicate_gtin(raw: dict[str, Any]) -> None:
    product(raw, "spikevax")["gtins"] = list(product(raw, "comirnaty")["gtins"][:1])


def _orphan(raw: dict[str, Any]) -> None:
    product(raw, "sputnik-v-1")["series"]["later_doses"][0]["products"] = ["sputnik-v-1"]


def _interval(min_days: int, max_days: int) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        dose = product(raw, "comirnaty")["series"]["later_doses"][0]
        dose["min_days_after_previous"] = min_days
        dose["max_days_after_previous"] = max_days

    return change


def _second_everyone(raw: dict[str, Any]) -> None:
    raw["priority_groups"][5]["membership"] = "everyone"


def _duplicate_condition(raw: dict[str, Any]) -> None:
    raw["conditions"].append(copy.deepcopy(raw["conditions"][0]))


BROKEN = [
    (_set(["version"], "2021.07"), "version", "differs from the file name"),
    (_set(["effective_from"], "15.06.2021."), "effective_from", "YYYY-MM-DD"),
    (_set(["typo"], 1), "the top level", "unexpected key(s) typo"),
    (_comirnaty("max_age ", 60), "products[0]", "unexpected key(s) max_age "),
    (_comirnaty("min_age", "12"), "products[0].min_age", "whole number"),
    (_comirnaty("min_age", True), "products[0].min_age", "whole number"),
    (_comirnaty("max_age", 10), "products[0].max_age", "below min_age"),
    (_comirnaty("gtins", ["09520000100019"]), "products[0].gtins", "valid check digit"),
    (_comirnaty("gtins", [with_check_digit("952000010001")]), "products[0].gtins", "GTIN-14"),
    (_duplicate_gtin, "products[1].gtins", "also listed for comirnaty"),
    (_comirnaty("contraindications", ["gout"]), "contraindications", "'gout' is not a condition"),
    (_comirnaty("precautions", ["peg-allergy"]), "precautions", "also a contraindication"),
    (_comirnaty("doses_per_vial", 0), "doses_per_vial", "at least 1"),
    (_comirnaty("dcc", {"vp": "X", "mp": "EU/1/20/1528", "ma": "Y"}), "dcc.vp", "value set"),
    (_comirnaty("dcc", {"vp": "J07BX03", "mp": "Comirnaty", "ma": "Y"}), "dcc.mp", "EU number"),
    (_comirnaty("id", "Comirnaty"), "products[0].id", "lower-case"),
    (_comirnaty("id", "spikevax"), "products[0].id", "listed twice"),
    (_interval(42, 21), "max_days_after_previous", "below min_days_after_previous"),
    (_interval(0, 21), "min_days_after_previous", "at least 1"),
    (
        _set(["products", 0, "series", "later_doses", 0, "products"], ["pfizer"]),
        "series.later_doses[0].products",
        "'pfizer' is not a product",
    ),
    (_set(["products", 0, "series", "later_doses", 0, "dose"], 3), "dose", "expected 2"),
    (_set(["products", 0, "series", "primary_doses"], 3), "primary_doses", "only 2 doses"),
    (_orphan, "products[4].series", "neither starts a series nor is a later dose"),
    (_drop_group, "priority_groups[3].rank", "expected 4"),
    (_set(["priority_groups", 0, "membership"], "vip"), "membership", "'vip' is not one of"),
    (_set(["priority_groups", 0, "min_age"], 18), "membership", "takes no age limits"),
    (_second_everyone, "priority_groups", "exactly one group"),
    (_set(["priority_groups", 2, "min_age"], None), "membership", "needs min_age"),
    (_duplicate_condition, "conditions[14].code", "listed twice"),
    (_set(["conditions", 0, "name"], {"en": "Pregnancy"}), "conditions[0].name.sr-Latn", "missing"),
]


@pytest.mark.parametrize(("change", "where", "problem"), BROKEN)
def test_a_broken_file_is_refused_with_where_and_what(
    change: Callable[[dict[str, Any]], None], where: str, problem: str
) -> None:
    raw = copy.deepcopy(PACKAGED)
    change(raw)
    with pytest.raises(InvalidRules) as caught:
        parse(raw)
    assert where in caught.value.params["where"]
    assert problem in caught.value.params["problem"]
    assert caught.value.params["file"] == "rules-2021.06.json"
    assert "rules-2021.06.json" in message(caught.value, "sr-Latn")


def test_malformed_json_reports_line_and_column() -> None:
    with pytest.raises(InvalidRules) as caught:
        parse_rule_file('{"version": "2021.06",\n  oops}', "rules-2021.06.json", "2021.06")
    assert caught.value.params["where"] == "line 2 column 3"


def test_not_an_object_at_the_top() -> None:
    with pytest.raises(InvalidRules) as caught:
        parse_rule_file("[]", "rules-2021.06.json", "2021.06")
    assert caught.value.params["where"] == "the top level"
