"""The demo's citizens as numpy columns: who registered interest, and their facts.

Everything is drawn at once, column by column, from named streams
(`central.demo.seeded`); `central.demo.rows` turns slices of these columns
into table rows. The model, with its sources and assumptions:

- **Ages 16-95 on the start day.** Serbia's population by five-year band
  (rounded, after the 2022 census: 0-17 about 17 %, 18-64 about 62 %, 65+
  about 21 %), times how keen each band was to register in early 2021
  (older people registered first; 16-17-year-olds, who could only have
  Comirnaty, rarely). Birth dates are spread evenly within the year of age.
- **Sex** about half and half, with more women among the old (they live
  longer): the share of women rises from 50 % at 60 to 62 % at 85.
- **Residence** in a place of `central.demo.places`, in proportion to its
  population. The JMBG's registration area is the residence's
  (`central.demo.regions`) for 88 %; the rest were registered elsewhere in
  Serbia (born there, or moved) and get another area.
- **Names** from `central.demo.names`, by sex, the more common names (earlier
  in the lists) more often: weight 1/(rank + 4).
- **Claimed priority groups** (professions and care homes), as shares of the
  whole population, drawn only in plausible ages: health workers 3 %
  (ages 20-66), education workers 4 % (23-65), essential workers 2 % (20-64),
  care homes 1 % (70 % residents aged 75+, 30 % staff aged 20-64). A claim
  only decides the group when no higher-ranked group applies.
- **Health conditions.** A chronic condition that qualifies for priority, by
  age: 5 % at 16-29, 9 % at 30-44, 18 % at 45-59, 30 % at 60-74, 40 % from
  75 (about a fifth of adults, more among the old); one condition (70 %), two
  (25 %) or three. Pregnancy for 2.5 % of women aged 18-44; PEG and
  polysorbate allergies for 0.3 % each.
- **Priority group** derived by `domain.priority.priority_group_for` from
  the age on the start day, the claim and the conditions, under the rules in
  force that day.
- **Preferences** by `central.demo.preferences`, among the products each
  person may get by age and conditions.
- **Contact.** A mobile number (+381 6x ...) for 96 %; an e-mail address for
  75 % at 16-29, 60 % at 30-49, 40 % at 50-64, 15 % from 65, and for
  everyone without a phone (the portal needs one of the two).
- **Registration time** in the 45 days before the start, most in the first
  days after registration opened (weight e^(-day/12) + 0.15), between 07:00
  and 23:00 Belgrade time. 30 % typed their names in Cyrillic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from central.demo.jmbgs import issue_jmbgs
from central.demo.names import FEMALE_NAMES, MALE_NAMES, SURNAMES
from central.demo.places import Place, load_places
from central.demo.preferences import Preferences, choose_preferences
from central.demo.regions import SERBIAN_AREAS, jmbg_area
from central.demo.seeded import stream
from domain.data import RuleSet
from domain.priority import Membership, priority_group_for
from domain.wire import ANY_VACCINE

CAMPAIGN_TIMEZONE: Final = ZoneInfo("Europe/Belgrade")
MIN_AGE: Final = 16
MAX_AGE: Final = 95

# Serbia by five-year age band from 15-19 to 95-99, thousands (rounded).
_POPULATION_BY_BAND: Final = (
    330,
    350,
    390,
    440,
    470,
    480,
    460,
    440,
    460,
    500,
    520,
    400,
    270,
    210,
    110,
    30,
    5,
)
# How keen each age was to register in early 2021: (first age, last age, factor).
_PROPENSITY: Final = (
    (16, 17, 0.25),
    (18, 29, 0.45),
    (30, 44, 0.6),
    (45, 59, 0.8),
    (60, 74, 1.0),
    (75, 84, 0.9),
    (85, 95, 0.6),
)
_HOME_AREA_SHARE: Final = 0.88

# Claimed group -> (share of all people, ((first age, last age, part of the share), ...)).
CLAIM_SHARES: Final[dict[str, tuple[float, tuple[tuple[int, int, float], ...]]]] = {
    "health-workers": (0.03, ((20, 66, 1.0),)),
    "care-homes": (0.01, ((75, 95, 0.7), (20, 64, 0.3))),
    "education-workers": (0.04, ((23, 65, 1.0),)),
    "essential-workers": (0.02, ((20, 64, 1.0),)),
}
_CHRONIC_BY_AGE: Final = (
    (16, 29, 0.05),
    (30, 44, 0.09),
    (45, 59, 0.18),
    (60, 74, 0.30),
    (75, 95, 0.40),
)
_CHRONIC_WEIGHTS: Final = {
    "chronic-heart-disease": 0.30,
    "diabetes": 0.25,
    "chronic-lung-disease": 0.15,
    "cancer": 0.10,
    "immunocompromised": 0.08,
    "chronic-kidney-disease": 0.07,
    "chronic-liver-disease": 0.05,
}
_CHRONIC_COUNT: Final = (0.70, 0.25, 0.05)  # one, two, three conditions
_PREGNANCY: Final = ("pregnancy", 18, 44, 0.025)
_ALLERGIES: Final = {"peg-allergy": 0.003, "polysorbate-allergy": 0.003}

PHONE_SHARE: Final = 0.96
_EMAIL_BY_AGE: Final = ((16, 29, 0.75), (30, 49, 0.60), (50, 64, 0.40), (65, 95, 0.15))
# Mobile operators' prefixes 06x and their weights.
_MOBILE_PREFIX: Final = (4, 3, 5, 0, 1, 2, 6, 9)
_MOBILE_WEIGHT: Final = (0.30, 0.20, 0.15, 0.10, 0.08, 0.07, 0.05, 0.05)
EMAIL_DOMAINS: Final = (
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "eunet.rs",
    "mts.rs",
    "sbb.rs",
    "open.telekom.rs",
)
_EMAIL_DOMAIN_WEIGHT: Final = (0.55, 0.12, 0.10, 0.05, 0.05, 0.04, 0.05, 0.04)
EMAIL_STYLES: Final = 3  # first.last, first.lastYY (birth year), firstlastNN
CYRILLIC_SHARE: Final = 0.30

REGISTRATION_DAYS: Final = 45
_REGISTRATION_HOURS: Final = (7, 23)


@dataclass(frozen=True, eq=False)
class Population:
    """The citizens, one array entry per person, in order of registration.

    Index columns point into the tuples beside them: `first_name` into
    `MALE_NAMES` or `FEMALE_NAMES` by `female`, `last_name` into `SURNAMES`,
    `place` into `places`, `claim` into `claim_codes` (-1: none),
    `priority` into `priority_codes`; `conditions` is a bit mask over
    `condition_codes`. `phone` is the national number after +381 (0: none);
    `email_domain` indexes `EMAIL_DOMAINS` (-1: none). `same_ms_rank` is 0,
    1, 2, ... among people registered in the same millisecond: the counter of
    their hybrid-logical-clock stamps.
    """

    start: date
    rules_version: str
    registered_ms: npt.NDArray[np.int64]
    same_ms_rank: npt.NDArray[np.int64]
    birth: npt.NDArray[np.datetime64]
    age: npt.NDArray[np.int64]
    female: npt.NDArray[np.bool_]
    place: npt.NDArray[np.int64]
    area: npt.NDArray[np.int64]
    jmbg: npt.NDArray[np.bytes_]
    first_name: npt.NDArray[np.int64]
    last_name: npt.NDArray[np.int64]
    claim: npt.NDArray[np.int64]
    conditions: npt.NDArray[np.int64]
    priority: npt.NDArray[np.int64]
    preferences: Preferences
    phone: npt.NDArray[np.int64]
    email_domain: npt.NDArray[np.int64]
    email_style: npt.NDArray[np.int64]
    email_number: npt.NDArray[np.int64]
    writes_cyrillic: npt.NDArray[np.bool_]
    places: tuple[Place, ...]
    claim_codes: tuple[str, ...]
    condition_codes: tuple[str, ...]
    priority_codes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.age)

    def slice(self, start: int, stop: int) -> Population:
        """People `start` to `stop - 1`, with the same look-up tuples."""
        columns = {
            f.name: getattr(self, f.name)[start:stop]
            for f in fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        }
        return replace(self, preferences=self.preferences.slice(start, stop), **columns)

    def condition_lists(self) -> tuple[list[str], ...]:
        """Condition codes for every bit mask value in use: ``condition_lists()[mask]``."""
        return tuple(
            [code for bit, code in enumerate(self.condition_codes) if mask >> bit & 1]
            for mask in range(int(self.conditions.max(initial=0)) + 1)
        )


def make_population(count: int, seed: int, start: date, rules: RuleSet) -> Population:
    """`count` citizens registered before `start`, under `rules` (those in force on `start`).

    Deterministic for (`count`, `seed`, `start`, `rules`).
    """
    if count < 0:
        raise ValueError(f"the number of citizens must not be negative, got {count}")
    places = load_places()
    registered_ms = _registration_times(stream(seed, "citizens.registered"), count, start)
    age, birth = _ages(stream(seed, "citizens.ages"), count, start)
    female = _sexes(stream(seed, "citizens.sex"), age)
    place, area = _residences(stream(seed, "citizens.places"), count, places)
    names = stream(seed, "citizens.names")
    first_name = np.where(
        female,
        _zipf_choice(names, len(FEMALE_NAMES), count),
        _zipf_choice(names, len(MALE_NAMES), count),
    )
    last_name = _zipf_choice(names, len(SURNAMES), count)
    claim_codes = tuple(
        g.code
        for g in rules.priority_groups.groups
        if g.membership is Membership.CLAIMED and g.code in CLAIM_SHARES
    )
    claim = _claims(stream(seed, "citizens.claims"), age, claim_codes)
    condition_codes = tuple(c.code for c in rules.conditions.all)
    conditions = _conditions(stream(seed, "citizens.conditions"), age, female, rules)
    priority_codes = tuple(g.code for g in rules.priority_groups.groups)
    priority = _priority_groups(age, claim, conditions, claim_codes, condition_codes, start, rules)
    preferences = _preferences(stream(seed, "citizens.preferences"), age, conditions, rules)
    contacts = stream(seed, "citizens.contacts")
    phone, email_domain, email_style, email_number = _contacts(contacts, age, birth)
    writes_cyrillic = contacts.random(count) < CYRILLIC_SHARE
    return Population(
        start=start,
        rules_version=rules.version,
        registered_ms=registered_ms,
        same_ms_rank=_rank_within_runs(registered_ms),
        birth=birth,
        age=age,
        female=female,
        place=place,
        area=area,
        jmbg=issue_jmbgs(birth, area, female),
        first_name=first_name,
        last_name=last_name,
        claim=claim,
        conditions=conditions,
        priority=priority,
        preferences=preferences,
        phone=phone,
        email_domain=email_domain,
        email_style=email_style,
        email_number=email_number,
        writes_cyrillic=writes_cyrillic,
        places=places,
        claim_codes=claim_codes,
        condition_codes=condition_codes,
        priority_codes=priority_codes,
    )


def _by_age(
    age: npt.NDArray[np.int64], bands: Sequence[tuple[int, int, float]]
) -> npt.NDArray[np.float64]:
    """A per-person value from (first age, last age, value) bands; 0 outside them."""
    value = np.zeros(len(age))
    for first, last, band_value in bands:
        value[(age >= first) & (age <= last)] = band_value
    return value


def _registration_times(rng: np.random.Generator, count: int, start: date) -> npt.NDArray[np.int64]:
    days = np.arange(REGISTRATION_DAYS)
    weights = np.exp(-days / 12) + 0.15
    day = rng.choice(REGISTRATION_DAYS, size=count, p=weights / weights.sum())
    first_day = start - timedelta(days=REGISTRATION_DAYS)
    # Local midnight of each registration day in UTC milliseconds (the offset
    # changes with summer time; nobody registers in the night of the change).
    midnight_ms = np.array(
        [
            int(
                datetime.combine(first_day + timedelta(days=int(d)), time(12), CAMPAIGN_TIMEZONE)
                .replace(hour=0)
                .astimezone(UTC)
                .timestamp()
                * 1000
            )
            for d in days
        ],
        dtype=np.int64,
    )
    opens, closes = _REGISTRATION_HOURS
    within_day = rng.integers(opens * 3_600_000, closes * 3_600_000, size=count)
    return np.sort(midnight_ms[day] + within_day)


def _rank_within_runs(sorted_values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0, 1, 2, ... within each run of equal values of a sorted array."""
    count = len(sorted_values)
    run_start = np.r_[True, sorted_values[1:] != sorted_values[:-1]] if count else np.zeros(0, bool)
    first = np.maximum.accumulate(np.where(run_start, np.arange(count), 0))
    return (np.arange(count) - first).astype(np.int64)


def _age_weights() -> npt.NDArray[np.float64]:
    ages = np.arange(MIN_AGE, MAX_AGE + 1)
    population = np.array(_POPULATION_BY_BAND, dtype=np.float64)[(ages - 15) // 5] / 5
    weights: npt.NDArray[np.float64] = population * _by_age(ages, _PROPENSITY)
    return weights / float(weights.sum())


def _ages(
    rng: np.random.Generator, count: int, start: date
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.datetime64]]:
    """Completed years on `start` and birth dates, evenly spread within each year of age."""
    age = MIN_AGE + rng.choice(MAX_AGE - MIN_AGE + 1, size=count, p=_age_weights())
    # The last birthday: `age` years before start (29 February -> 28 February).
    years = np.arange(MIN_AGE, MAX_AGE + 2)
    birthday = np.array([_years_before(start, int(y)) for y in years], dtype="datetime64[D]")
    latest = birthday[age - MIN_AGE]  # born on this day: exactly `age` on start
    earliest = birthday[age - MIN_AGE + 1] + np.timedelta64(1, "D")
    span = (latest - earliest).astype(np.int64) + 1
    birth = earliest + (rng.random(count) * span).astype(np.int64).astype("timedelta64[D]")
    return age.astype(np.int64), birth


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return date(day.year - years, 2, 28)


def _sexes(rng: np.random.Generator, age: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    share_of_women = 0.5 + 0.12 * np.clip((age - 60) / 25, 0.0, 1.0)
    return rng.random(len(age)) < share_of_women


def _residences(
    rng: np.random.Generator, count: int, places: Sequence[Place]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    population = np.array([p.population for p in places], dtype=np.float64)
    place = rng.choice(len(places), size=count, p=population / population.sum())
    home = np.array([jmbg_area(p.municipality) for p in places], dtype=np.int64)[place]
    # Another area than home, uniformly: draw among the others and step over home.
    areas = np.array(SERBIAN_AREAS, dtype=np.int64)
    pick = rng.integers(0, len(areas) - 1, size=count)
    pick += pick >= np.searchsorted(areas, home)
    other = areas[pick]
    elsewhere = rng.random(count) >= _HOME_AREA_SHARE
    return place.astype(np.int64), np.where(elsewhere, other, home)


def _zipf_choice(rng: np.random.Generator, size: int, count: int) -> npt.NDArray[np.int64]:
    weights = 1 / (np.arange(size) + 4)
    return rng.choice(size, size=count, p=weights / weights.sum()).astype(np.int64)


def _claims(
    rng: np.random.Generator, age: npt.NDArray[np.int64], claim_codes: Sequence[str]
) -> npt.NDArray[np.int64]:
    count = len(age)
    cumulative = np.zeros(count)
    thresholds = []
    for code in claim_codes:
        share, bands = CLAIM_SHARES[code]
        probability = np.zeros(count)
        for first, last, part in bands:
            in_band = (age >= first) & (age <= last)
            people = int(in_band.sum())
            if people:
                probability[in_band] += share * part * count / people
        cumulative = cumulative + probability
        thresholds.append(cumulative)
    draw = rng.random(count)
    claim = np.full(count, -1, dtype=np.int64)
    for index in reversed(range(len(claim_codes))):
        claim[draw < thresholds[index]] = index
    return claim


def _conditions(
    rng: np.random.Generator,
    age: npt.NDArray[np.int64],
    female: npt.NDArray[np.bool_],
    rules: RuleSet,
) -> npt.NDArray[np.int64]:
    count = len(age)
    codes = [c.code for c in rules.conditions.all]
    bit = {code: 1 << index for index, code in enumerate(codes)}
    mask = np.zeros(count, dtype=np.int64)

    chronic_codes = [c for c in _CHRONIC_WEIGHTS if c in rules.conditions.qualifying_for_priority]
    weights = np.array([_CHRONIC_WEIGHTS[c] for c in chronic_codes])
    chronic = rng.random(count) < _by_age(age, _CHRONIC_BY_AGE)
    how_many = 1 + rng.choice(len(_CHRONIC_COUNT), size=count, p=_CHRONIC_COUNT)
    # A weighted sample without replacement for each person: the top keys of
    # log(weight) + Gumbel noise.
    keys = np.log(weights / weights.sum()) + rng.gumbel(size=(count, len(chronic_codes)))
    ranked = np.argsort(-keys, axis=1)
    for position in range(min(len(_CHRONIC_COUNT), len(chronic_codes))):
        has = chronic & (how_many > position)
        chosen = np.array([bit[c] for c in chronic_codes], dtype=np.int64)[ranked[:, position]]
        mask |= np.where(has, chosen, 0)

    code, first, last, share = _PREGNANCY
    if code in bit:
        pregnant = female & (age >= first) & (age <= last) & (rng.random(count) < share)
        mask |= np.where(pregnant, bit[code], 0)
    for code, share in _ALLERGIES.items():
        if code in bit:
            mask |= np.where(rng.random(count) < share, bit[code], 0)
    return mask


def _priority_groups(
    age: npt.NDArray[np.int64],
    claim: npt.NDArray[np.int64],
    conditions: npt.NDArray[np.int64],
    claim_codes: Sequence[str],
    condition_codes: Sequence[str],
    start: date,
    rules: RuleSet,
) -> npt.NDArray[np.int64]:
    """The domain's own `priority_group_for`, called once per distinct (age, claim, conditions)."""
    group_index = {g.code: i for i, g in enumerate(rules.priority_groups.groups)}
    key = (age * (len(claim_codes) + 1) + claim + 1) * (int(conditions.max(initial=0)) + 1)
    key += conditions
    unique_keys, first_of, inverse = np.unique(key, return_index=True, return_inverse=True)
    groups = np.empty(len(unique_keys), dtype=np.int64)
    for u, person in enumerate(first_of.tolist()):
        person_conditions = {
            code for bit, code in enumerate(condition_codes) if int(conditions[person]) >> bit & 1
        }
        claimed = claim_codes[int(claim[person])] if claim[person] >= 0 else None
        group = priority_group_for(
            _years_before(start, int(age[person])), claimed, person_conditions, start, rules
        )
        groups[u] = group_index[group.code]
    return groups[inverse].astype(np.int64)


def _preferences(
    rng: np.random.Generator,
    age: npt.NDArray[np.int64],
    conditions: npt.NDArray[np.int64],
    rules: RuleSet,
) -> Preferences:
    products = rules.catalogue.first_dose_products
    options = (ANY_VACCINE, *(p.id for p in products))
    condition_codes = [c.code for c in rules.conditions.all]
    relevant = 0
    for product in products:
        for code in product.contraindications:
            if code in condition_codes:
                relevant |= 1 << condition_codes.index(code)
    key = age * (relevant + 1) + (conditions & relevant)
    unique_keys, person_class = np.unique(key, return_inverse=True)
    eligible = np.zeros((len(unique_keys), len(options)), dtype=np.bool_)
    eligible[:, 0] = True
    for c, k in enumerate(unique_keys.tolist()):
        class_age, mask = divmod(k, relevant + 1)
        present = {code for bit, code in enumerate(condition_codes) if mask >> bit & 1}
        for o, product in enumerate(products, start=1):
            eligible[c, o] = (
                not product.age.too_young(class_age)
                and not product.age.too_old(class_age)
                and not (product.contraindications & present)
            )
    return choose_preferences(rng, person_class.astype(np.int64), eligible, options)


def _contacts(
    rng: np.random.Generator, age: npt.NDArray[np.int64], birth: npt.NDArray[np.datetime64]
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]
]:
    count = len(age)
    has_phone = rng.random(count) < PHONE_SHARE
    prefix = np.array(_MOBILE_PREFIX)[rng.choice(len(_MOBILE_PREFIX), size=count, p=_MOBILE_WEIGHT)]
    subscriber = rng.integers(1_000_000, 10_000_000, size=count)
    phone = np.where(has_phone, (60 + prefix) * 10_000_000 + subscriber, 0)
    has_email = (rng.random(count) < _by_age(age, _EMAIL_BY_AGE)) | ~has_phone
    domain = rng.choice(len(EMAIL_DOMAINS), size=count, p=_EMAIL_DOMAIN_WEIGHT)
    style = rng.integers(0, EMAIL_STYLES, size=count)
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    number = np.where(style == 1, birth_year % 100, rng.integers(1, 100, size=count))
    return (
        phone.astype(np.int64),
        np.where(has_email, domain, -1).astype(np.int64),
        style.astype(np.int64),
        number.astype(np.int64),
    )
