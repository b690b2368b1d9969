"""The shape of a demo population, read back from the database (SQLite, 20,000 people)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.db import Citizen, Registration, make_engine, upgrade_to_head
from central.demo.generate import generate_demo
from central.demo.preferences import (
    FIRST_CHOICE_SHARES,
    SECOND_CHOICE_PROBABILITY,
    fit_weights,
)
from central.demo.regions import jmbg_area
from domain.data import rules_in_force
from domain.jmbg import parse_jmbg
from domain.priority import age_on

START = date(2021, 3, 1)
PEOPLE = 20_000


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Citizen, Registration]]:
    path: Path = tmp_path_factory.mktemp("population") / "central.sqlite"
    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        generate_demo(engine, citizens=PEOPLE, sites=40, seed=11, start=START, workers=1)
        with Session(engine) as session:
            rows = session.execute(
                sa.select(Citizen, Registration).join(
                    Registration, Registration.citizen_id == Citizen.id
                )
            ).all()
            return [(c, r) for c, r in rows]
    finally:
        engine.dispose()


def _share(count: int) -> float:
    return count / PEOPLE


def test_first_preferences_have_the_documented_shares(
    people: list[tuple[Citizen, Registration]],
) -> None:
    first = Counter(citizen.vaccine_preferences[0] for citizen, _ in people)
    for option, share in FIRST_CHOICE_SHARES.items():
        assert _share(first[option]) == pytest.approx(share, abs=0.015), option
    assert first["spikevax"] == 0
    # Some name more than one vaccine, which is why the shares overlap.
    several = sum(len(citizen.vaccine_preferences) > 1 for citizen, _ in people)
    named = PEOPLE - first["any"]
    assert several / named == pytest.approx(SECOND_CHOICE_PROBABILITY, abs=0.02)


def test_ages_sexes_and_places_are_plausible(people: list[tuple[Citizen, Registration]]) -> None:
    ages = np.array([age_on(c.birth_date, START) for c, _ in people])
    assert ages.min() >= 16
    assert ages.max() <= 95
    assert _share(int((ages < 18).sum())) < 0.02  # 16-17-year-olds rarely registered
    assert 0.25 < _share(int((ages >= 65).sum())) < 0.40  # the old registered first
    assert 0.48 < _share(sum(c.sex == "F" for c, _ in people)) < 0.56

    municipalities = Counter(c.municipality for c, _ in people)
    assert municipalities.most_common(1)[0][0] == "Beograd"
    assert 0.25 < _share(municipalities["Beograd"]) < 0.40
    home = sum(parse_jmbg(c.jmbg).region_code == jmbg_area(c.municipality) for c, _ in people)
    assert _share(home) == pytest.approx(0.88, abs=0.015)


def test_claims_and_conditions_have_the_documented_shares(
    people: list[tuple[Citizen, Registration]],
) -> None:
    claims = Counter(r.payload["priority_claim"] for _, r in people)
    assert _share(claims["health-workers"]) == pytest.approx(0.03, abs=0.005)
    assert _share(claims["education-workers"]) == pytest.approx(0.04, abs=0.005)
    assert _share(claims["care-homes"]) == pytest.approx(0.01, abs=0.003)

    chronic = rules_in_force(START).conditions.qualifying_for_priority
    ill = np.array([bool(chronic & set(c.conditions)) for c, _ in people])
    ages = np.array([age_on(c.birth_date, START) for c, _ in people])
    assert 0.15 < ill[ages >= 18].mean() < 0.28  # about a fifth of adults
    assert ill[ages >= 65].mean() > 2 * ill[ages < 45].mean()  # more among the old
    pregnant = [c for c, _ in people if "pregnancy" in c.conditions]
    assert pregnant
    assert all(c.sex == "F" and 18 <= age_on(c.birth_date, START) <= 44 for c in pregnant)


def test_contacts(people: list[tuple[Citizen, Registration]]) -> None:
    phones = sum(c.phone is not None for c, _ in people)
    emails = sum(c.email is not None for c, _ in people)
    assert _share(phones) == pytest.approx(0.96, abs=0.01)
    assert 0.3 < _share(emails) < 0.6
    assert len({c.phone for c, _ in people if c.phone}) > 0.99 * phones


def test_fitted_weights_meet_targets_despite_eligibility() -> None:
    # Two classes of 50 people: the second may not choose option 1.
    sizes = np.array([50, 50])
    eligible = np.array([[True, True, True], [True, False, True]])
    targets = np.array([0.3, 0.4, 0.3])

    weights = fit_weights(sizes, eligible, targets)

    within = np.where(eligible, weights, 0)
    shares = (sizes[:, None] * within / within.sum(axis=1, keepdims=True)).sum(axis=0) / 100
    assert shares == pytest.approx(targets, abs=1e-6)


def test_an_unreachable_target_gets_everyone_who_may_choose_it() -> None:
    sizes = np.array([10, 90])
    eligible = np.array([[True, True], [True, False]])  # only 10 % may choose option 1

    weights = fit_weights(sizes, eligible, np.array([0.5, 0.5]))

    assert weights[1] / weights.sum() > 0.99  # the eligible 10 % all take option 1
