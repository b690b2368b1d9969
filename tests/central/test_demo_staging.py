"""Staged loading: a failure leaves neither rows nor staging behind."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.db import Citizen, Registration, make_engine, upgrade_to_head
from central.demo.people import make_population
from central.demo.rows import citizen_ids, registration_ids
from central.demo.staging import staged_people
from domain.data import rules_in_force

START = date(2021, 3, 1)


def _staging_schemas(engine: sa.Engine) -> list[str]:
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        return list(
            connection.scalars(
                sa.text(
                    "SELECT schema_name FROM information_schema.schemata"
                    " WHERE schema_name LIKE 'imuno_demo_stage%'"
                )
            )
        )


def test_a_failed_move_rolls_back_and_cleans_up(central_db_url: str, tmp_path: Path) -> None:
    upgrade_to_head(central_db_url)
    engine = make_engine(central_db_url)
    population = make_population(40, 2, START, rules_in_force(START))
    twins = population.jmbg.copy()
    twins[7] = twins[3]  # two people with one JMBG: the real table refuses the second
    population = dataclasses.replace(population, jmbg=twins)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    try:
        with (
            staged_people(
                engine, population, citizen_ids(population, 2), registration_ids(population, 2), 1
            ) as staged,
            engine.connect() as connection,
        ):
            staged.prepare(connection)
            try:
                with (
                    pytest.raises(IntegrityError),
                    Session(bind=connection) as session,
                    session.begin(),
                ):
                    staged.move_into(session)
            finally:
                staged.release(connection)
        with Session(engine) as session:
            for model in (Citizen, Registration):
                assert session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
        assert not list(scratch.iterdir())
        assert not _staging_schemas(engine)
    finally:
        engine.dispose()
