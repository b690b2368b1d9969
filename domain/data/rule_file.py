"""Reading one rule file (JSON) into a validated `RuleSet`.

The file is written and reviewed by a policy officer, so every mistake is
reported with where it is (``products[2].series.later_doses[0].products``) and
what is wrong, and unexpected keys are refused: a misspelt ``"max_age "`` must
not silently drop an age limit. The layout is shown by the packaged files
``rules-*.json`` beside this module.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, ClassVar, Final

from domain.catalogue import (
    DCC_VACCINE_PROPHYLAXIS_CODES,
    AgeLimits,
    Catalogue,
    DccCodes,
    DoseRule,
    Product,
    Series,
)
from domain.conditions import Condition, Conditions, LocalizedName
from domain.data.ruleset import RuleSet
from domain.errors import DomainError
from domain.gtin import is_valid_gtin
from domain.priority import Membership, PriorityGroup, PriorityGroups

_SLUG: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_VERSION: Final = re.compile(r"\d{4}\.\d{2}(?:\.\d+)?")


class InvalidRules(DomainError):
    """A rule file that is malformed or contradicts itself."""

    code: ClassVar[str] = "rules.invalid"
    template: ClassVar[str] = (
        "The vaccination rules file {file} is invalid at {where}: {problem}. "
        "The file must be corrected before these rules are used."
    )


class _Object:
    """A JSON object being read, with its path for error messages.

    Reading a key marks it used; `finish` refuses keys nobody read.
    """

    def __init__(self, raw: object, where: str, file: str) -> None:
        if not isinstance(raw, dict):
            raise InvalidRules(
                file=file, where=where or "the top level", problem="expected an object {...}"
            )
        self._raw: dict[str, Any] = raw
        self._where = where
        self._file = file
        self._used: set[str] = set()

    def fail(self, key: str | None, problem: str) -> InvalidRules:
        return InvalidRules(file=self._file, where=self._path(key), problem=problem)

    def _path(self, key: str | None) -> str:
        if key is None:
            return self._where or "the top level"
        return f"{self._where}.{key}" if self._where else key

    def _get(self, key: str, *, required: bool) -> Any:
        self._used.add(key)
        if key not in self._raw:
            if required:
                raise self.fail(key, "this key is missing")
            return None
        return self._raw[key]

    def text(self, key: str) -> str:
        value = self._get(key, required=True)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "expected a non-empty text")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self._get(key, required=False)
        return None if value is None else self.text(key)

    def slug(self, key: str) -> str:
        value = self.text(key)
        if not _SLUG.fullmatch(value):
            raise self.fail(key, f"'{value}' must be lower-case letters, digits and hyphens")
        return value

    def integer(self, key: str, minimum: int) -> int:
        value = self._get(key, required=True)
        # bool is an int in Python; true/false is never a count of days.
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.fail(key, f"expected a whole number of at least {minimum}")
        return value

    def optional_integer(self, key: str, minimum: int) -> int | None:
        return None if self._get(key, required=False) is None else self.integer(key, minimum)

    def boolean(self, key: str) -> bool:
        value = self._get(key, required=True)
        if not isinstance(value, bool):
            raise self.fail(key, "expected true or false")
        return value

    def day(self, key: str) -> date:
        value = self.text(key)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.fail(key, f"'{value}' is not a date written YYYY-MM-DD") from None

    def optional_day(self, key: str) -> date | None:
        return None if self._get(key, required=False) is None else self.day(key)

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._get(key, required=True)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "expected a list of texts")
        if len(set(value)) != len(value):
            raise self.fail(key, "the list repeats an entry")
        return tuple(value)

    def child(self, key: str) -> _Object:
        return _Object(self._get(key, required=True), self._path(key), self._file)

    def optional_child(self, key: str) -> _Object | None:
        value = self._get(key, required=False)
        return None if value is None else self.child(key)

    def children(self, key: str) -> list[_Object]:
        value = self._get(key, required=True)
        if not isinstance(value, list):
            raise self.fail(key, "expected a list")
        prefix = self._path(key)
        return [_Object(item, f"{prefix}[{i}]", self._file) for i, item in enumerate(value)]

    def name(self) -> LocalizedName:
        names = self.child("name")
        result = LocalizedName(en=names.text("en"), sr_latn=names.text("sr-Latn"))
        names.finish()
        return result

    def finish(self) -> None:
        unexpected = sorted(set(self._raw) - self._used)
        if unexpected:
            raise self.fail(None, f"unexpected key(s) {', '.join(unexpected)}")


def parse_rule_file(text: str, file: str, expected_version: str) -> RuleSet:
    """Parse and validate the rule file `file` whose name says `expected_version`.

    Raises `InvalidRules` naming the first problem found.
    """
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRules(
            file=file, where=f"line {exc.lineno} column {exc.colno}", problem=exc.msg
        ) from None
    top = _Object(raw, "", file)
    version = top.text("version")
    if not _VERSION.fullmatch(version):
        raise top.fail("version", f"'{version}' must look like 2021.06")
    if version != expected_version:
        raise top.fail("version", f"'{version}' differs from the file name's '{expected_version}'")
    effective_from = top.day("effective_from")
    title = top.text("title")
    top.texts("notes")  # for the people reading the file; not used by the code
    conditions = _conditions(top, version)
    groups = _priority_groups(top, version)
    catalogue = _catalogue(top, version, conditions)
    top.finish()
    return RuleSet(
        version=version,
        effective_from=effective_from,
        title=title,
        catalogue=catalogue,
        priority_groups=groups,
        conditions=conditions,
    )


def _conditions(top: _Object, version: str) -> Conditions:
    found: list[Condition] = []
    for item in top.children("conditions"):
        code = item.slug("code")
        if any(c.code == code for c in found):
            raise item.fail("code", f"condition '{code}' is listed twice")
        found.append(
            Condition(
                code=code,
                name=item.name(),
                defers_vaccination=item.boolean("defers_vaccination"),
                qualifies_for_priority=item.boolean("qualifies_for_priority"),
            )
        )
        item.finish()
    return Conditions(version=version, all=tuple(found))


def _priority_groups(top: _Object, version: str) -> PriorityGroups:
    found: list[PriorityGroup] = []
    items = top.children("priority_groups")
    for expected_rank, item in enumerate(items, start=1):
        code = item.slug("code")
        if any(g.code == code for g in found):
            raise item.fail("code", f"priority group '{code}' is listed twice")
        rank = item.integer("rank", minimum=1)
        if rank != expected_rank:
            raise item.fail("rank", f"groups must be listed by rank; expected {expected_rank}")
        raw_membership = item.text("membership")
        try:
            membership = Membership(raw_membership)
        except ValueError:
            choices = ", ".join(m.value for m in Membership)
            raise item.fail("membership", f"'{raw_membership}' is not one of {choices}") from None
        min_age = item.optional_integer("min_age", minimum=0)
        max_age = item.optional_integer("max_age", minimum=0)
        if membership in (Membership.CLAIMED, Membership.EVERYONE) and (
            min_age is not None or max_age is not None
        ):
            raise item.fail("membership", f"a '{membership.value}' group takes no age limits")
        if membership is Membership.AGE and min_age is None and max_age is None:
            raise item.fail("membership", "an 'age' group needs min_age, max_age or both")
        if min_age is not None and max_age is not None and min_age > max_age:
            raise item.fail("max_age", "max_age is below min_age")
        found.append(
            PriorityGroup(
                code=code,
                rank=rank,
                name=item.name(),
                membership=membership,
                opens_on=item.optional_day("opens_on"),
                min_age=min_age,
                max_age=max_age,
            )
        )
        item.finish()
    if sum(g.membership is Membership.EVERYONE for g in found) != 1:
        raise top.fail("priority_groups", "exactly one group must have membership 'everyone'")
    return PriorityGroups(version=version, groups=tuple(found))


def _catalogue(top: _Object, version: str, conditions: Conditions) -> Catalogue:
    items = top.children("products")
    products = [_product(item, conditions) for item in items]
    ids = [p.id for p in products]
    owner_of_gtin: dict[str, str] = {}
    for item, product in zip(items, products, strict=True):
        if ids.count(product.id) > 1:
            raise item.fail("id", f"product '{product.id}' is listed twice")
        for gtin in product.gtins:
            if gtin in owner_of_gtin:
                raise item.fail("gtins", f"GTIN {gtin} is also listed for {owner_of_gtin[gtin]}")
            owner_of_gtin[gtin] = product.id
    later_dose_products: set[str] = set()
    for item, product in zip(items, products, strict=True):
        if product.series is None:
            continue
        for index, rule in enumerate(product.series.later_doses):
            for product_id in rule.product_ids:
                if product_id not in ids:
                    raise item.fail(
                        f"series.later_doses[{index}].products",
                        f"'{product_id}' is not a product in this file",
                    )
                later_dose_products.add(product_id)
    for item, product in zip(items, products, strict=True):
        if product.series is None and product.id not in later_dose_products:
            raise item.fail("series", "the product neither starts a series nor is a later dose")
    return Catalogue(version=version, products=tuple(products))


def _product(item: _Object, conditions: Conditions) -> Product:
    product_id = item.slug("id")
    gtins = item.texts("gtins")
    for gtin in gtins:
        if len(gtin) != 14 or not is_valid_gtin(gtin):
            raise item.fail("gtins", f"'{gtin}' is not a GTIN-14 with a valid check digit")
    min_age = item.optional_integer("min_age", minimum=0)
    max_age = item.optional_integer("max_age", minimum=0)
    if min_age is not None and max_age is not None and min_age > max_age:
        raise item.fail("max_age", "max_age is below min_age")
    contraindications = _condition_codes(item, "contraindications", conditions)
    precautions = _condition_codes(item, "precautions", conditions)
    both = contraindications & precautions
    if both:
        raise item.fail("precautions", f"{', '.join(sorted(both))} is also a contraindication")
    authorisation = item.optional_text("marketing_authorisation")
    dcc = _dcc(item.child("dcc"))
    if authorisation is not None and dcc.mp != authorisation:
        raise item.fail("dcc.mp", "an EU-authorised product uses its EU number as the DCC 'mp'")
    series_item = item.optional_child("series")
    product = Product(
        id=product_id,
        name=item.text("name"),
        manufacturer=item.text("manufacturer"),
        marketing_authorisation=authorisation,
        gtins=gtins,
        doses_per_vial=item.integer("doses_per_vial", minimum=1),
        minutes_usable_after_opening=item.integer("minutes_usable_after_opening", minimum=1),
        age=AgeLimits(min_years=min_age, max_years=max_age),
        contraindications=contraindications,
        precautions=precautions,
        dcc=dcc,
        series=None if series_item is None else _series(series_item),
        note=item.optional_text("note") or "",
    )
    item.finish()
    return product


def _condition_codes(item: _Object, key: str, conditions: Conditions) -> frozenset[str]:
    codes = item.texts(key)
    for code in codes:
        if code not in conditions.codes:
            raise item.fail(key, f"'{code}' is not a condition listed in this file")
    return frozenset(codes)


def _dcc(item: _Object) -> DccCodes:
    codes = DccCodes(vp=item.text("vp"), mp=item.text("mp"), ma=item.text("ma"))
    if codes.vp not in DCC_VACCINE_PROPHYLAXIS_CODES:
        raise item.fail("vp", f"'{codes.vp}' is not in the EU DCC vaccine-prophylaxis value set")
    item.finish()
    return codes


def _series(item: _Object) -> Series:
    rules: list[DoseRule] = []
    for expected_dose, dose in enumerate(item.children("later_doses"), start=2):
        number = dose.integer("dose", minimum=2)
        if number != expected_dose:
            raise dose.fail("dose", f"number later doses 2, 3, ...; expected {expected_dose}")
        min_days = dose.integer("min_days_after_previous", minimum=1)
        max_days = dose.optional_integer("max_days_after_previous", minimum=1)
        if max_days is not None and max_days < min_days:
            raise dose.fail("max_days_after_previous", "is below min_days_after_previous")
        product_ids = dose.texts("products")
        if not product_ids:
            raise dose.fail("products", "list at least one product")
        min_age = dose.optional_integer("min_age", minimum=0)
        rules.append(DoseRule(number, min_days, max_days, product_ids, min_age))
        dose.finish()
    primary = item.integer("primary_doses", minimum=1)
    if primary > 1 + len(rules):
        raise item.fail("primary_doses", f"the series has only {1 + len(rules)} doses")
    item.finish()
    return Series(primary_doses=primary, later_doses=tuple(rules))
