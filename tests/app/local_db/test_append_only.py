from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.local_db import models as m
from app.local_db.errors import AppendOnlyViolation
from app.local_db.models import APPEND_ONLY_TABLES
from app.local_db.unit_of_work import session_scope
from domain.i18n import message
from tests.app.local_db import factories as f


def _row_id(engine: Engine, table: str) -> object:
    with session_scope(engine) as session:
        row = f.append_only_row(session, table)
        return row.id  # type: ignore[attr-defined]


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_an_append_only_row_cannot_be_updated(engine: Engine, table: str) -> None:
    row_id = _row_id(engine, table)
    target = m.Base.metadata.tables[table]
    with pytest.raises(AppendOnlyViolation) as caught, session_scope(engine) as session:
        session.execute(
            sa.update(target).where(target.c.id == row_id).values(created_by=f.ELSEWHERE)
        )
    assert caught.value.params == {"table": table}
    with session_scope(engine, write=False) as session:
        stored = session.execute(sa.select(target.c.created_by).where(target.c.id == row_id))
        assert stored.scalar_one() != f.ELSEWHERE


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_an_append_only_row_cannot_be_deleted(engine: Engine, table: str) -> None:
    row_id = _row_id(engine, table)
    target = m.Base.metadata.tables[table]
    with pytest.raises(AppendOnlyViolation), session_scope(engine) as session:
        session.execute(sa.delete(target).where(target.c.id == row_id))
    with session_scope(engine, write=False) as session:
        count = session.execute(sa.select(sa.func.count()).select_from(target)).scalar_one()
    assert count >= 1
    with session_scope(engine, write=False) as session:
        still_there = session.execute(sa.select(target.c.id).where(target.c.id == row_id))
        assert still_there.scalar_one() == row_id


def test_the_orm_cannot_change_a_dose_either(engine: Engine) -> None:
    with session_scope(engine) as session:
        dose_id = f.dose(session, f.citizen(session).id).id
    with pytest.raises(AppendOnlyViolation), session_scope(engine) as session:
        session.get_one(m.DoseRecord, dose_id).lot_number = "OTHER"
    with pytest.raises(AppendOnlyViolation), session_scope(engine) as session:
        session.delete(session.get_one(m.DoseRecord, dose_id))
    with session_scope(engine, write=False) as session:
        assert session.get_one(m.DoseRecord, dose_id).lot_number == "EW2239"


def test_raw_sql_outside_the_application_is_refused_too(engine: Engine, store_path: Path) -> None:
    with session_scope(engine) as session:
        f.append_only_row(session, "dose_records")
        f.append_only_row(session, "vial_events")
    raw = sqlite3.connect(store_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="imuno:append_only:dose_records"):
            raw.execute("DELETE FROM dose_records")
        with pytest.raises(sqlite3.IntegrityError, match="imuno:append_only:vial_events"):
            raw.execute("UPDATE vial_events SET reason = 'tampered'")
    finally:
        raw.close()


def test_the_refusal_reads_in_serbian() -> None:
    error = AppendOnlyViolation(table="dose_records")
    assert message(error, "sr-Latn").startswith("Zapisi u tabeli dose_records ne mogu")
    assert message(error, "sr-Cyrl").startswith("Записи у табели dose_records не могу")
