from __future__ import annotations

import sqlite3
import stat
import threading
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.local_db import models as m
from app.local_db.engine import open_site_store, read_only
from app.local_db.errors import StoreNotFound, StoreUnreadable
from app.local_db.unit_of_work import session_scope
from tests.app.local_db import factories as f


def _locked_out(path: Path) -> bool:
    """True when another connection holds the write lock right now."""
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return True
    else:
        other.execute("ROLLBACK")
        return False
    finally:
        other.close()


def test_every_connection_has_the_durability_pragmas(engine: Engine) -> None:
    # Several connections at once (read-only, or each would wait for the
    # previous one's write lock), so a pooled connection that escaped the
    # connect hook, or kept a migration's settings, would show.
    connections = [read_only(engine).connect() for _ in range(3)]
    try:
        for connection in connections:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 15_000
    finally:
        for connection in connections:
            connection.close()


def test_a_write_scope_holds_the_write_lock_from_its_first_statement(
    engine: Engine, store_path: Path
) -> None:
    with session_scope(engine) as session:
        session.execute(sa.select(1))  # a read, yet BEGIN IMMEDIATE took the lock
        assert _locked_out(store_path)
    assert not _locked_out(store_path)


def test_a_read_scope_never_takes_the_write_lock(engine: Engine, store_path: Path) -> None:
    with session_scope(engine, write=False) as session:
        session.execute(sa.select(sa.func.count()).select_from(m.Citizen))
        assert not _locked_out(store_path)


def test_a_read_scope_refuses_to_write(engine: Engine) -> None:
    with (
        pytest.raises(sa.exc.OperationalError, match="readonly"),
        session_scope(engine, write=False) as session,
    ):
        f.citizen(session)
    # and the connection it used writes normally again afterwards
    with session_scope(engine) as session:
        f.citizen(session)


def test_readers_are_not_blocked_by_an_open_write(engine: Engine, store_path: Path) -> None:
    with session_scope(engine) as session:
        f.citizen(session, given_name_latin="Committed")
    writer = sqlite3.connect(store_path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE citizens SET given_name_latin = 'Uncommitted'")
        with session_scope(engine, write=False) as session:
            names = session.scalars(sa.select(m.Citizen.given_name_latin)).all()
        assert names == ["Committed"]
        writer.execute("ROLLBACK")
    finally:
        writer.close()


def test_a_second_writer_waits_for_the_first_instead_of_failing(engine: Engine) -> None:
    first_has_lock = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def first() -> None:
        with session_scope(engine) as session:
            f.citizen(session, given_name_latin="First")
            first_has_lock.set()
            release.wait(5)
            order.append("first about to commit")

    thread = threading.Thread(target=first)
    thread.start()
    assert first_has_lock.wait(5)
    threading.Timer(0.2, release.set).start()
    with session_scope(engine) as session:
        f.citizen(session, given_name_latin="Second")  # BEGIN IMMEDIATE waits here
        order.append("second wrote")
    thread.join(5)
    assert order == ["first about to commit", "second wrote"]


def test_a_naive_datetime_is_refused(engine: Engine) -> None:
    with (
        pytest.raises(sa.exc.StatementError, match="naive datetime"),
        session_scope(engine) as session,
    ):
        f.citizen(session, created_at=datetime(2021, 3, 1, 8, 0))


def test_times_come_back_in_utc(engine: Engine) -> None:
    with session_scope(engine) as session:
        row_id = f.citizen(session).id
    with session_scope(engine, write=False) as session:
        created = session.get_one(m.Citizen, row_id).created_at
    assert created == f.NOW
    assert created.utcoffset() is not None


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with (
        pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"),
        session_scope(engine) as session,
    ):
        f.dose(session, citizen_id=f.ELSEWHERE)


def test_the_store_and_its_folder_are_private(store_path: Path) -> None:
    engine = open_site_store(store_path)
    try:
        with session_scope(engine) as session:
            f.citizen(session)
        for path in (store_path, Path(f"{store_path}-wal")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(store_path.parent.stat().st_mode) == 0o700
    finally:
        engine.dispose()


def test_a_missing_store_is_not_created_when_asked_not_to(store_path: Path) -> None:
    with pytest.raises(StoreNotFound):
        open_site_store(store_path, create=False)
    assert not store_path.exists()


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"shopping list: syringes, gloves\n" * 100)
    with pytest.raises(StoreUnreadable, match="cannot be opened"):
        open_site_store(path)
    assert path.read_bytes() == b"shopping list: syringes, gloves\n" * 100
