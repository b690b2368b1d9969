"""Bulk loading: fast enough for a million-citizen demo, and just as strict."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from central.db import Citizen, NaiveDateTimeError, Site, insert_rows
from tests.central.conftest import Rows, citizen_row


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Citizen)) or 0


def test_bulk_rows_read_back_like_ordinary_rows(db_sessions: sessionmaker[Session]) -> None:
    source = [
        citizen_row(n) | {"conditions": ["copd"], "last_name_cyrillic": "Ђурић"}
        for n in range(1, 2001)
    ]
    with db_sessions.begin() as session:
        assert insert_rows(session, Citizen, iter(source), batch_size=300) == 2000

    assert _count(db_sessions) == 2000
    with db_sessions() as session:
        stored = session.get_one(Citizen, source[1234]["id"])
    assert {key: getattr(stored, key) for key in source[1234]} == source[1234]
    assert stored.registered_at.tzinfo is not None


def test_omitted_columns_get_their_defaults(rows: Rows) -> None:
    site = rows.site()
    row = {c.key: getattr(site, c.key) for c in Site.__table__.c if c.key not in ("id", "active")}

    insert_rows(rows.session, Site, [row | {"code": "BULK1"}, row | {"code": "BULK2"}])

    made = rows.session.scalars(select(Site).where(Site.code.like("BULK%")).order_by(Site.id)).all()
    assert [s.code for s in made] == ["BULK1", "BULK2"]
    assert all(s.active for s in made)
    assert all(s.id.version == 7 for s in made)


def test_bulk_rows_meet_every_constraint(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions() as session, pytest.raises(IntegrityError):
        insert_rows(
            session, Citizen, [citizen_row(1), citizen_row(2) | {"jmbg": citizen_row(1)["jmbg"]}]
        )

    with db_sessions() as session, pytest.raises(IntegrityError):
        insert_rows(session, Citizen, [citizen_row(1) | {"sex": "X"}])


def test_bulk_rows_refuse_naive_datetimes(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions() as session, pytest.raises(NaiveDateTimeError):
        insert_rows(session, Citizen, [citizen_row(1) | {"registered_at": datetime(2021, 3, 1, 8)}])


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        pytest.param([citizen_row(1) | {"shoe_size": 44}], "no column", id="unknown-column"),
        pytest.param(
            [citizen_row(1), {**citizen_row(2), "email": None, "extra": 1}],
            "exactly",
            id="extra-key",
        ),
        pytest.param(
            [citizen_row(1), {k: v for k, v in citizen_row(2).items() if k != "phone"} | {"x": 1}],
            "missing",
            id="missing-key",
        ),
    ],
)
def test_rows_must_share_known_keys(
    db_sessions: sessionmaker[Session], batch: list[dict[str, Any]], message: str
) -> None:
    with db_sessions() as session, pytest.raises(ValueError, match=message):
        insert_rows(session, Citizen, batch)
    assert _count(db_sessions) == 0


def _timed(load: Callable[[], object]) -> float:
    started = time.perf_counter()
    load()
    return time.perf_counter() - started


@pytest.mark.slow
def test_a_hundred_thousand_citizens_load_quickly(
    db_sessions: sessionmaker[Session], record_property: Callable[[str, object], None]
) -> None:
    # Reports rows/s (no timed assertion: the machine is shared). The demo needs
    # a million citizens in well under a minute.
    n = 100_000
    with db_sessions.begin() as session:
        seconds = _timed(lambda: insert_rows(session, Citizen, (citizen_row(i) for i in range(n))))
    # The plain ORM bulk insert, for comparison.
    plain = [citizen_row(i) for i in range(n, n + n // 4)]
    with db_sessions.begin() as session:
        plain_seconds = _timed(lambda: session.execute(insert(Citizen), plain))

    assert _count(db_sessions) == n + n // 4
    record_property("insert_rows_per_second", round(n / seconds))
    record_property("orm_insert_rows_per_second", round(len(plain) / plain_seconds))
    fast, orm = n / seconds, len(plain) / plain_seconds
    print(f"\ninsert_rows: {fast:,.0f} rows/s; ORM insert: {orm:,.0f} rows/s")
