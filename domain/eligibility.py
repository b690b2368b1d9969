"""Who may get which vaccine dose on which day, and why not.

`check_eligibility` answers for one citizen, product and day with *every*
reason that applies, not only the first, so a nurse sees at once that a person
is both too young and deferred. Reasons come in two severities, kept apart in
the result type:

- blocking (`Eligibility.blocking`): the dose must not be given that day;
- warnings (`Eligibility.warnings`): the dose may be given, and the person
  giving it must know (a precaution; a dose 2 later than the series' latest
  day).

A late dose is still given and the series is not restarted, as EU and WHO
guidance for the COVID-19 vaccines said ("interval passed" is a warning).

Decisions that the rule files do not express, so they are stated here:

- the product of dose 1 decides the series: how many doses, the intervals and
  which products each later dose may be;
- a series once started is completed: the priority group's opening and the
  product's upper age limit are checked for dose 1 only (a later dose may have
  a minimum age of its own, e.g. boosters for adults);
- ages are completed years on the day (`domain.priority.age_on`; born on 29
  February, a year older on 1 March in common years).

Each reason has a stable code (``eligibility.too_young``), typed params, an
English template and a Serbian translation in
``domain/locale/eligibility.sr-Latn.json``; `Reason.text` renders it.

Everything here is a pure function of its arguments, cheap enough to call for
every citizen in a scheduling run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from itertools import pairwise
from typing import ClassVar, Final

from domain.catalogue import DoseRule, Product, Series
from domain.conditions import LocalizedName
from domain.data import RuleSet, load_rules, rules_in_force
from domain.errors import DomainError
from domain.i18n import Language, translate
from domain.priority import age_on

__all__ = [
    "REASON_KINDS",
    "CitizenFacts",
    "DoseFact",
    "DoseHistoryBadFirstProduct",
    "DoseHistoryOutOfOrder",
    "Eligibility",
    "InvalidDoseHistory",
    "NextDose",
    "Reason",
    "ReasonKind",
    "RuleSet",
    "Severity",
    "check_eligibility",
    "eligible_products",
    "load_rules",
    "next_dose",
    "rules_in_force",
]


# -- errors in the facts themselves (not reasons: the facts must be corrected) --


class InvalidDoseHistory(DomainError):
    """Recorded doses that cannot be a vaccination history."""

    code: ClassVar[str] = "eligibility.invalid_dose_history"
    template: ClassVar[str] = (
        "The recorded doses are numbered {numbers}; they must be numbered 1, 2, 3 and so on "
        "in the order given. Correct the dose records before vaccinating."
    )


class DoseHistoryOutOfOrder(InvalidDoseHistory):
    code: ClassVar[str] = "eligibility.dose_history_out_of_order"
    template: ClassVar[str] = (
        "Dose {dose_number} is recorded on {given_on}, before the previous dose on {previous_on}. "
        "Correct the dose records before vaccinating."
    )


class DoseHistoryBadFirstProduct(InvalidDoseHistory):
    code: ClassVar[str] = "eligibility.dose_history_bad_first_product"
    template: ClassVar[str] = (
        "Dose 1 is recorded as {product}, which is only ever given as a later dose. "
        "Correct the dose records before vaccinating."
    )


# -- facts in ---------------------------------------------------------------------


@dataclass(frozen=True)
class DoseFact:
    """A dose the person has received: which product, which dose, on which day."""

    product_id: str
    dose_number: int
    given_on: date


@dataclass(frozen=True)
class CitizenFacts:
    """What eligibility needs to know about a person.

    `priority_group` is a group code, normally the one resolved by
    `domain.priority.priority_group_for`. `doses` are the doses received, in
    order; numbering and dates are checked here and `InvalidDoseHistory`
    raised if they cannot be right.
    """

    birth_date: date
    priority_group: str
    conditions: frozenset[str] = frozenset()
    doses: tuple[DoseFact, ...] = ()

    def __post_init__(self) -> None:
        # Accept any iterable from callers but keep the value hashable and immutable.
        object.__setattr__(self, "conditions", frozenset(self.conditions))
        object.__setattr__(self, "doses", tuple(self.doses))
        numbers = [d.dose_number for d in self.doses]
        if numbers != list(range(1, len(numbers) + 1)):
            raise InvalidDoseHistory(numbers=", ".join(map(str, numbers)))
        for previous, dose in pairwise(self.doses):
            if dose.given_on < previous.given_on:
                raise DoseHistoryOutOfOrder(
                    dose_number=dose.dose_number,
                    given_on=dose.given_on.isoformat(),
                    previous_on=previous.given_on.isoformat(),
                )


# -- reasons ------------------------------------------------------------------------


class Severity(Enum):
    BLOCKING = "blocking"
    WARNING = "warning"


@dataclass(frozen=True)
class ReasonKind:
    """A kind of reason: stable code, severity and English template."""

    code: str
    severity: Severity
    template: str


_B, _W = Severity.BLOCKING, Severity.WARNING

UNKNOWN_PRODUCT: Final = ReasonKind(
    "eligibility.unknown_product",
    _B,
    "'{product_id}' is not a vaccine in the vaccination rules {version}. "
    "Check the vial and choose a vaccine from the list.",
)
TOO_YOUNG: Final = ReasonKind(
    "eligibility.too_young",
    _B,
    "{product} is for people aged {min_age} and over; this person is {age}. "
    "Choose a vaccine for this age, or book on or after the birthday.",
)
TOO_OLD: Final = ReasonKind(
    "eligibility.too_old",
    _B,
    "{product} is for people up to age {max_age}; this person is {age}. Choose another vaccine.",
)
CONTRAINDICATED: Final = ReasonKind(
    "eligibility.contraindicated",
    _B,
    "{product} must not be given: {condition}. "
    "Choose another vaccine or refer the person to the physician.",
)
TEMPORARILY_DEFERRED: Final = ReasonKind(
    "eligibility.temporarily_deferred",
    _B,
    "Vaccination is put off: {condition}. Book again once the person has recovered.",
)
PRECAUTION: Final = ReasonKind(
    "eligibility.precaution",
    _W,
    "Precaution for {product}: {condition}. "
    "The physician assesses the person before the dose is given.",
)
INTERVAL_NOT_REACHED: Final = ReasonKind(
    "eligibility.interval_not_reached",
    _B,
    "Too early for dose {dose_number}: at least {min_days} days must pass after the previous "
    "dose. The earliest day is {earliest}.",
)
INTERVAL_PASSED: Final = ReasonKind(
    "eligibility.interval_passed",
    _W,
    "Dose {dose_number} is late: it was due by {latest} ({max_days} days after the previous "
    "dose). Give it now; the series is not started again.",
)
WRONG_PRODUCT_FOR_DOSE: Final = ReasonKind(
    "eligibility.wrong_product_for_dose",
    _B,
    "{product} cannot be dose {dose_number} of this person's series. Allowed: {allowed}.",
)
TOO_YOUNG_FOR_DOSE: Final = ReasonKind(
    "eligibility.too_young_for_dose",
    _B,
    "Dose {dose_number} is for people aged {min_age} and over; this person is {age}. "
    "Book it on or after the birthday.",
)
SERIES_COMPLETE: Final = ReasonKind(
    "eligibility.series_complete",
    _B,
    "This person has had all {doses} doses of the series; these rules foresee no further dose.",
)
GROUP_NOT_OPEN: Final = ReasonKind(
    "eligibility.group_not_open",
    _B,
    'Vaccination of the group "{group}" starts on {opens_on}. Book on or after that day.',
)
GROUP_NOT_SCHEDULED: Final = ReasonKind(
    "eligibility.group_not_scheduled",
    _B,
    'Vaccination of the group "{group}" has no start date yet. Keep the person on the '
    "waiting list.",
)

#: Every kind of reason, for translation checks and documentation.
REASON_KINDS: Final[tuple[ReasonKind, ...]] = (
    UNKNOWN_PRODUCT,
    TOO_YOUNG,
    TOO_OLD,
    CONTRAINDICATED,
    TEMPORARILY_DEFERRED,
    PRECAUTION,
    INTERVAL_NOT_REACHED,
    INTERVAL_PASSED,
    WRONG_PRODUCT_FOR_DOSE,
    TOO_YOUNG_FOR_DOSE,
    SERIES_COMPLETE,
    GROUP_NOT_OPEN,
    GROUP_NOT_SCHEDULED,
)

Param = str | int | date | LocalizedName

_MONTHS: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _render(value: Param, language: Language) -> str:
    if isinstance(value, LocalizedName):
        return value.in_language(language)
    if isinstance(value, date):
        if language == "en":
            return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
        return f"{value.day:02d}.{value.month:02d}.{value.year}."
    return str(value)


@dataclass(frozen=True)
class Reason:
    """One reason a dose cannot, or may only with care, be given.

    `params` hold typed values (dates, localized names) so a UI can use them
    directly (e.g. ``params["earliest"]``) and `text` formats them per language.
    """

    kind: ReasonKind
    params: Mapping[str, Param] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.kind.code

    @property
    def blocking(self) -> bool:
        return self.kind.severity is Severity.BLOCKING

    def __hash__(self) -> int:
        # The generated hash would fail on the params dict; results are values.
        return hash((self.kind, tuple(sorted(self.params.items(), key=lambda kv: kv[0]))))

    def text(self, language: Language = "en") -> str:
        """The message for a nurse in `language`."""
        rendered = {key: _render(value, language) for key, value in self.params.items()}
        return translate(self.kind.code, language, self.kind.template, **rendered)


# -- results -----------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    """The answer for one person, product and day.

    `eligible` is true exactly when nothing blocks; `warnings` may still be
    present and must be shown before the dose is given.
    """

    product_id: str
    dose_number: int
    blocking: tuple[Reason, ...]
    warnings: tuple[Reason, ...]

    @property
    def eligible(self) -> bool:
        return not self.blocking

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return self.blocking + self.warnings


@dataclass(frozen=True)
class NextDose:
    """The dose a person is due next under a rule set.

    `product_ids`: products the series allows for this dose, less those the
    person's conditions contraindicate (possibly empty). `earliest`/`latest`:
    the series' window after the previous dose, both inclusive; None where the
    series sets no bound (dose 1 has none, and some series no latest day).
    Age limits and group opening depend on the day: use `eligible_products`
    for a given day.
    """

    dose_number: int
    product_ids: tuple[str, ...]
    earliest: date | None
    latest: date | None

    @property
    def is_first(self) -> bool:
        return self.dose_number == 1


# -- the rules -----------------------------------------------------------------------


def _series(citizen: CitizenFacts, rules: RuleSet) -> Series | None:
    """The series of the product of the person's dose 1; None before any dose."""
    if not citizen.doses:
        return None
    first = rules.catalogue.by_id(citizen.doses[0].product_id)
    if first.series is None:
        raise DoseHistoryBadFirstProduct(product=first.name)
    return first.series


@dataclass(frozen=True)
class _Situation:
    """What holds for a person on a day whatever the product: computed once
    per person and day, then combined with each product's own checks."""

    dose_number: int
    age: int
    first_dose: bool
    rule: DoseRule | None
    blocking: tuple[Reason, ...]
    warnings: tuple[Reason, ...]


def _situation(citizen: CitizenFacts, on: date, rules: RuleSet) -> _Situation:
    rules.conditions.require_known(citizen.conditions)
    groups = rules.priority_groups
    group = groups.by_code(citizen.priority_group)
    series = _series(citizen, rules)
    dose_number = len(citizen.doses) + 1
    age = age_on(citizen.birth_date, on)
    blocking: list[Reason] = []
    warnings: list[Reason] = []

    if series is None and not groups.open_for(group, on):
        opens_on = groups.opening_for(group)
        if opens_on is None:
            blocking.append(Reason(GROUP_NOT_SCHEDULED, {"group": group.name}))
        else:
            blocking.append(Reason(GROUP_NOT_OPEN, {"group": group.name, "opens_on": opens_on}))

    for code in sorted(citizen.conditions & rules.conditions.deferring):
        condition = rules.conditions.by_code(code)
        blocking.append(Reason(TEMPORARILY_DEFERRED, {"condition": condition.name}))

    rule = None if series is None else series.rule_for(dose_number)
    if series is not None and rule is None:
        blocking.append(Reason(SERIES_COMPLETE, {"doses": series.total_doses}))
    if rule is not None:
        if rule.min_age is not None and age < rule.min_age:
            blocking.append(
                Reason(
                    TOO_YOUNG_FOR_DOSE,
                    {"dose_number": dose_number, "min_age": rule.min_age, "age": age},
                )
            )
        previous = citizen.doses[-1].given_on
        earliest = previous + timedelta(days=rule.min_days_after_previous)
        if on < earliest:
            blocking.append(
                Reason(
                    INTERVAL_NOT_REACHED,
                    {
                        "dose_number": dose_number,
                        "min_days": rule.min_days_after_previous,
                        "earliest": earliest,
                    },
                )
            )
        if rule.max_days_after_previous is not None:
            latest = previous + timedelta(days=rule.max_days_after_previous)
            if on > latest:
                warnings.append(
                    Reason(
                        INTERVAL_PASSED,
                        {
                            "dose_number": dose_number,
                            "max_days": rule.max_days_after_previous,
                            "latest": latest,
                        },
                    )
                )
    return _Situation(dose_number, age, series is None, rule, tuple(blocking), tuple(warnings))


def _for_product(
    situation: _Situation, citizen: CitizenFacts, product_id: str, rules: RuleSet
) -> Eligibility:
    """The situation's reasons plus those of one product, in a fixed order."""
    catalogue = rules.catalogue
    product = catalogue.get(product_id)
    if product is None:
        unknown = Reason(UNKNOWN_PRODUCT, {"product_id": product_id, "version": rules.version})
        return Eligibility(
            product_id, situation.dose_number, (*situation.blocking, unknown), situation.warnings
        )
    blocking = list(situation.blocking)
    warnings = list(situation.warnings)
    dose_number, age, rule = situation.dose_number, situation.age, situation.rule

    if situation.first_dose and product.series is None:
        allowed = ", ".join(p.name for p in catalogue.first_dose_products)
        blocking.append(_wrong_product(product, dose_number, allowed))
    elif rule is not None and product.id not in rule.product_ids:
        allowed = ", ".join(catalogue.by_id(i).name for i in rule.product_ids)
        blocking.append(_wrong_product(product, dose_number, allowed))

    limits = product.age
    if limits.min_years is not None and age < limits.min_years:
        blocking.append(
            Reason(TOO_YOUNG, {"product": product.name, "min_age": limits.min_years, "age": age})
        )
    if situation.first_dose and limits.max_years is not None and age > limits.max_years:
        blocking.append(
            Reason(TOO_OLD, {"product": product.name, "max_age": limits.max_years, "age": age})
        )
    conditions = citizen.conditions
    if conditions:
        for code in sorted(conditions & product.contraindications):
            name = rules.conditions.by_code(code).name
            blocking.append(Reason(CONTRAINDICATED, {"product": product.name, "condition": name}))
        for code in sorted(conditions & product.precautions):
            name = rules.conditions.by_code(code).name
            warnings.append(Reason(PRECAUTION, {"product": product.name, "condition": name}))
    return Eligibility(product_id, dose_number, tuple(blocking), tuple(warnings))


def check_eligibility(
    citizen: CitizenFacts, product_id: str, on: date, rules: RuleSet
) -> Eligibility:
    """Whether `citizen` may get `product_id` on `on` under `rules`, with every reason.

    Reasons come in a fixed order: those about the person and day (group not
    open, deferral, series complete, dose age, interval), then those about the
    product (unknown, wrong for this dose, age limits, contraindications); the
    warnings likewise (late dose, then precautions).

    Raises `domain.conditions.UnknownCondition`,
    `domain.priority.UnknownPriorityGroup` or
    `domain.catalogue.UnknownProduct` when the *facts* use codes the rules do
    not know (those are data errors to fix, not reasons); an unknown
    `product_id` to check is a reason (`eligibility.unknown_product`).
    """
    return _for_product(_situation(citizen, on, rules), citizen, product_id, rules)


def _wrong_product(product: Product, dose_number: int, allowed: str) -> Reason:
    return Reason(
        WRONG_PRODUCT_FOR_DOSE,
        {"product": product.name, "dose_number": dose_number, "allowed": allowed},
    )


def eligible_products(citizen: CitizenFacts, on: date, rules: RuleSet) -> tuple[str, ...]:
    """Ids of the products `citizen` may get on `on` (no blocking reason), in
    catalogue order. Empty when none may be given that day.

    Same answers as `check_eligibility` product by product, computing what
    does not depend on the product once.
    """
    situation = _situation(citizen, on, rules)
    if situation.blocking:
        return ()
    return tuple(
        p.id
        for p in rules.catalogue.products
        if _for_product(situation, citizen, p.id, rules).eligible
    )


def next_dose(citizen: CitizenFacts, rules: RuleSet) -> NextDose | None:
    """The next dose of the person's series, or None when the series is complete.

    See `NextDose` for what the window and product list mean.
    """
    rules.conditions.require_known(citizen.conditions)
    catalogue = rules.catalogue
    started = _series(citizen, rules)
    if started is None:
        candidates: tuple[str, ...] = tuple(p.id for p in catalogue.first_dose_products)
        earliest: date | None = None
        latest: date | None = None
        dose_number = 1
    else:
        series = started
        dose_number = len(citizen.doses) + 1
        rule = series.rule_for(dose_number)
        if rule is None:
            return None
        candidates = rule.product_ids
        previous = citizen.doses[-1].given_on
        earliest = previous + timedelta(days=rule.min_days_after_previous)
        latest = (
            None
            if rule.max_days_after_previous is None
            else previous + timedelta(days=rule.max_days_after_previous)
        )
    allowed = tuple(
        i for i in candidates if citizen.conditions.isdisjoint(catalogue.by_id(i).contraindications)
    )
    return NextDose(dose_number, allowed, earliest, latest)
