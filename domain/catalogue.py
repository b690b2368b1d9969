"""The vaccine catalogue: products, their vials, series and certificate codes.

Products are data from a versioned rule set (`domain.data.load_rules`); this
module only defines their shape and the look-ups the rest of the system needs.

A series belongs to the product given as dose 1: that product decides how many
doses follow, how far apart, and which products each later dose may be. Sputnik
V is two different components, so ``sputnik-v-1`` has a series whose dose 2 is
``sputnik-v-2``, and ``sputnik-v-2`` has no series of its own (it never starts
one). Where a rule set allows mixing (an mRNA dose 2 after Vaxzevria), the
series of Vaxzevria lists those products for dose 2.

GTINs in the packaged rule files are fictional: they use GS1 prefix 952, which
GS1 reserves for demonstrations and examples, with valid check digits. A
deployment loads the manufacturers' real GTINs as a new rule-set version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Final

from domain.errors import DomainError
from domain.gtin import is_valid_gtin

#: Codes of the EU DCC value set "vaccine or prophylaxis" (sct-vaccines-covid-19).
#: J07BX03 (ATC "covid-19 vaccines") was the code for every non-mRNA vaccine in
#: 2021; the value set of 2023-01-25 marks it deprecated in favour of the
#: SNOMED CT platform codes, which a later rule version may switch to.
DCC_VACCINE_PROPHYLAXIS_CODES: Final = frozenset(
    {
        "1119305005",  # SARS-CoV-2 antigen vaccine
        "1119349007",  # SARS-CoV-2 mRNA vaccine
        "J07BX03",  # covid-19 vaccines (ATC)
        "1162643001",  # SARS-CoV-2 recombinant spike protein antigen vaccine
        "1157024006",  # Inactivated whole SARS-CoV-2 antigen vaccine
        "29061000087103",  # COVID-19 non-replicating viral vector vaccine
        "28531000087107",  # COVID-19 vaccine
        "30141000087107",  # SARS-CoV-2 virus-like particle antigen vaccine
        "1187593009",  # SARS-CoV-2 DNA plasmid encoding spike protein vaccine
    }
)


class UnknownProduct(DomainError):
    """A product id that the catalogue in use does not list."""

    code: ClassVar[str] = "catalogue.unknown_product"
    template: ClassVar[str] = (
        "There is no vaccine '{product_id}' in the catalogue of the vaccination rules "
        "{version}. Choose a vaccine from the list; if it is missing, call the central help desk."
    )


class UnknownGtin(UnknownProduct):
    """A well-formed GTIN that belongs to no product in the catalogue."""

    code: ClassVar[str] = "catalogue.unknown_gtin"
    template: ClassVar[str] = (
        "The barcode on this vial (GTIN {gtin}) is not a vaccine in the catalogue of the "
        "vaccination rules {version}. Do not use the vial: set it aside and tell the site manager."
    )


class InvalidGtin(DomainError):
    """A scanned or typed GTIN whose length or check digit is wrong."""

    code: ClassVar[str] = "catalogue.invalid_gtin"
    template: ClassVar[str] = (
        "'{gtin}' is not a valid GTIN: the number is incomplete or its check digit is wrong. "
        "Scan the barcode again or type the number printed under it."
    )


class NotAFirstDose(DomainError):
    """A product that is only given as a later dose was asked to start a series."""

    code: ClassVar[str] = "catalogue.not_a_first_dose"
    template: ClassVar[str] = (
        "{product} is only given as a later dose of a series and cannot be dose 1. "
        "Choose a vaccine for the first dose."
    )


class DoseNotInSeries(DomainError):
    """A dose number outside the series of the product that started it."""

    code: ClassVar[str] = "catalogue.dose_not_in_series"
    template: ClassVar[str] = (
        "A series started with {product} has {doses} doses; there is no dose {dose_number}."
    )


@dataclass(frozen=True)
class AgeLimits:
    """Ages, in completed years, for which a product is authorised.

    Both limits are inclusive: ``min_years=12`` admits a person from their 12th
    birthday on; ``max_years=60`` admits them until the day before their 61st
    birthday. None means no limit.
    """

    min_years: int | None
    max_years: int | None

    def too_young(self, age: int) -> bool:
        return self.min_years is not None and age < self.min_years

    def too_old(self, age: int) -> bool:
        return self.max_years is not None and age > self.max_years


@dataclass(frozen=True)
class DoseRule:
    """When and with what dose `dose_number` (2 or later) of a series is given.

    Days are counted from the date of the previous dose: with
    ``min_days_after_previous=21`` a dose 1 on 1 March allows dose 2 from 22
    March. ``max_days_after_previous`` is the last recommended day; a later
    dose is still given (the series is not restarted), see
    `domain.eligibility`. `min_age` (completed years, inclusive) restricts this
    dose beyond the product's own limits, e.g. boosters for adults only.
    """

    dose_number: int
    min_days_after_previous: int
    max_days_after_previous: int | None
    product_ids: tuple[str, ...]
    min_age: int | None = None


@dataclass(frozen=True)
class Series:
    """The doses that follow dose 1 of the product that starts the series.

    `primary_doses` is how many doses make the primary course; doses after it
    (when `later_doses` lists them) are boosters.
    """

    primary_doses: int
    later_doses: tuple[DoseRule, ...]

    @property
    def total_doses(self) -> int:
        return 1 + len(self.later_doses)

    def rule_for(self, dose_number: int) -> DoseRule | None:
        """The rule for dose `dose_number` (2 or later); None past the series' end."""
        index = dose_number - 2
        if 0 <= index < len(self.later_doses):
            return self.later_doses[index]
        return None


@dataclass(frozen=True)
class DccCodes:
    """EU Digital COVID Certificate codes for a product (value sets of 2021/2022).

    vp: vaccine or prophylaxis, mp: medicinal product, ma: marketing
    authorisation holder or manufacturer.
    """

    vp: str
    mp: str
    ma: str


@dataclass(frozen=True)
class Product:
    """One vaccine product as it arrives in vials.

    `marketing_authorisation` is the EU number; None for products authorised
    only nationally (in Serbia by ALIMS, e.g. Sputnik V and BBIBP-CorV).
    `series` is None for a product that is only ever a later dose of another
    product's series (Sputnik V component II).
    `contraindications` and `precautions` are condition codes
    (`domain.conditions`).
    """

    id: str
    name: str
    manufacturer: str
    marketing_authorisation: str | None
    gtins: tuple[str, ...]
    doses_per_vial: int
    minutes_usable_after_opening: int
    age: AgeLimits
    contraindications: frozenset[str]
    precautions: frozenset[str]
    dcc: DccCodes
    series: Series | None
    note: str = ""

    @property
    def starts_series(self) -> bool:
        return self.series is not None


@dataclass(frozen=True, eq=False)
class Catalogue:
    """The products of one rule set, in the order the rule file lists them."""

    version: str
    products: tuple[Product, ...]
    _by_id: Mapping[str, Product] = field(init=False, repr=False)
    _by_gtin: Mapping[str, Product] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_id = {p.id: p for p in self.products}
        if len(by_id) != len(self.products):
            raise ValueError("product ids must be unique")
        by_gtin: dict[str, Product] = {}
        for product in self.products:
            for gtin in product.gtins:
                if not (len(gtin) == 14 and is_valid_gtin(gtin)):
                    raise ValueError(f"{product.id}: {gtin!r} is not a valid GTIN-14")
                if gtin in by_gtin:
                    raise ValueError(f"GTIN {gtin} belongs to {by_gtin[gtin].id} and {product.id}")
                by_gtin[gtin] = product
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_by_gtin", by_gtin)

    def get(self, product_id: str) -> Product | None:
        """The product with this id, or None."""
        return self._by_id.get(product_id)

    def by_id(self, product_id: str) -> Product:
        """The product with this id.

        Raises `UnknownProduct` if the catalogue does not list it.
        """
        product = self._by_id.get(product_id)
        if product is None:
            raise UnknownProduct(product_id=product_id, version=self.version)
        return product

    def by_gtin(self, gtin: str) -> Product:
        """The product whose vials carry this GTIN (8, 12, 13 or 14 digits).

        Shorter GTINs are compared as GTIN-14 (left-padded with zeros), as GS1
        prescribes. Raises `InvalidGtin` for a malformed number and
        `UnknownGtin` (an `UnknownProduct`) for one that no product carries.
        """
        if not is_valid_gtin(gtin):
            raise InvalidGtin(gtin=gtin)
        product = self._by_gtin.get(gtin.zfill(14))
        if product is None:
            raise UnknownGtin(gtin=gtin.zfill(14), version=self.version)
        return product

    @property
    def first_dose_products(self) -> tuple[Product, ...]:
        """Products that can be dose 1 (that start a series), in catalogue order."""
        return tuple(p for p in self.products if p.series is not None)

    def series_product_for_dose(self, first_product_id: str, dose_number: int) -> tuple[str, ...]:
        """Ids of the products allowed as dose `dose_number` of a series.

        The series is the one of the product given as dose 1: after
        ``sputnik-v-1`` dose 2 is ``sputnik-v-2``. The first id is the series'
        own product (the default choice), others are allowed alternatives.

        Raises `UnknownProduct`, `NotAFirstDose` (the product never starts a
        series) or `DoseNotInSeries` (dose number below 1 or past the end).
        """
        first = self.by_id(first_product_id)
        if first.series is None:
            raise NotAFirstDose(product=first.name)
        if dose_number == 1:
            return (first.id,)
        rule = first.series.rule_for(dose_number)
        if rule is None:
            raise DoseNotInSeries(
                product=first.name, doses=first.series.total_doses, dose_number=dose_number
            )
        return rule.product_ids
