"""Engine set-up: SQLite pragmas and write locking, PostgreSQL connection settings."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from central.db import (
    AuditLog,
    ChangeLogCounter,
    make_engine,
    read_only,
    session_factory,
    upgrade_to_head,
)
from tests.central.conftest import T0


@pytest.fixture
def sqlite_migrated(sqlite_url: str) -> str:
    upgrade_to_head(sqlite_url)
    return sqlite_url


def test_sqlite_connections_are_configured(sqlite_migrated: str) -> None:
    engine = make_engine(sqlite_migrated, sqlite_busy_timeout_ms=1234)
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
            }
    finally:
        engine.dispose()

    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 2,
        "busy_timeout": 1234,
    }


def test_sqlite_writers_queue_instead_of_failing(sqlite_migrated: str) -> None:
    # Read-modify-write from two threads: with a deferred BEGIN the second
    # writer's snapshot goes stale and it fails at once with "database is
    # locked"; BEGIN IMMEDIATE makes it wait its turn, and no update is lost.
    engine = make_engine(sqlite_migrated)
    sessions = session_factory(engine)
    errors: list[BaseException] = []
    rounds = 25

    def increment() -> None:
        try:
            for _ in range(rounds):
                with sessions.begin() as session:
                    current = session.scalars(select(ChangeLogCounter.last_seq)).one()
                    session.execute(update(ChangeLogCounter).values(last_seq=current + 1))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    try:
        workers = [threading.Thread(target=increment) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        with sessions() as session:
            final = session.scalars(select(ChangeLogCounter.last_seq)).one()
    finally:
        engine.dispose()

    assert errors == []
    assert final == 2 * rounds


def test_sqlite_read_only_work_runs_beside_a_writer(sqlite_migrated: str) -> None:
    engine = make_engine(sqlite_migrated, sqlite_busy_timeout_ms=50)
    try:
        with engine.connect() as writer:
            writer.execute(update(ChangeLogCounter).values(last_seq=7))  # holds the write lock

            with read_only(engine).connect() as reader:
                seen = reader.execute(select(ChangeLogCounter.last_seq)).scalar_one()
            with engine.connect() as second_writer, pytest.raises(OperationalError, match="locked"):
                second_writer.execute(select(ChangeLogCounter.last_seq))
            writer.commit()
    finally:
        engine.dispose()

    assert seen == 0  # the committed value, not the writer's pending one


def test_sqlite_autocommit_connections_run_outside_a_transaction(sqlite_migrated: str) -> None:
    engine = make_engine(sqlite_migrated)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM")  # refused inside a transaction
    finally:
        engine.dispose()


def test_unsupported_backends_are_refused() -> None:
    with pytest.raises(ValueError, match="mysql"):
        make_engine("mysql://user@localhost/imuno")


@pytest.mark.postgres
def test_postgresql_urls_use_psycopg_3_in_utc(pg_url: str) -> None:
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    engine = make_engine(plain, application_name="imuno-test")
    try:
        with engine.connect() as connection:
            timezone = connection.execute(text("SHOW timezone")).scalar()
            application = connection.execute(text("SHOW application_name")).scalar()
            idle_limit = connection.execute(
                text("SHOW idle_in_transaction_session_timeout")
            ).scalar()
    finally:
        engine.dispose()

    assert engine.dialect.driver == "psycopg"
    assert timezone == "UTC"
    assert application == "imuno-test"
    assert idle_limit == "5min"
    assert engine.pool.size() == 10  # type: ignore[attr-defined]


def test_rows_stay_readable_after_commit(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions.begin() as session:
        row = AuditLog(
            occurred_at=T0, actor="staff:test", action="login", entity_table="staff_users"
        )
        session.add(row)

    # Expired on commit, the closed session could not reload it: DetachedInstanceError.
    assert row.action == "login"
    assert row.occurred_at == T0
