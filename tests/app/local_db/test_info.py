from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.local_db.engine import open_site_store
from app.local_db.errors import StoreNotFound, StoreUnreadable
from app.local_db.info import SchemaState, store_info
from app.local_db.migrate import head_revision
from app.local_db.models import Base
from app.local_db.unit_of_work import session_scope
from tests.app.local_db import factories as f


def test_a_current_store_is_described(engine: Engine, store_path: Path) -> None:
    with session_scope(engine) as session:
        citizen = f.citizen(session)
        f.dose(session, citizen.id)
        f.dose(session, citizen.id, 2)
    info = store_info(store_path)
    assert info.path == store_path
    assert info.state is SchemaState.CURRENT
    assert info.revision == info.head == head_revision()
    assert info.journal_mode == "wal"
    assert info.size_bytes == store_path.stat().st_size
    assert set(info.row_counts) == set(Base.metadata.tables) | {"alembic_version"}
    assert info.row_counts["dose_records"] == 2
    assert info.row_counts["citizens"] == 1
    assert list(info.row_counts) == sorted(info.row_counts)


def test_a_newer_store_is_described_not_refused(store_path: Path) -> None:
    open_site_store(store_path).dispose()
    raw = sqlite3.connect(store_path)
    with raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999_future'")
    raw.close()
    info = store_info(store_path)
    assert (info.state, info.revision) == (SchemaState.NEWER, "9999_future")


def test_an_empty_database_is_described(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    sqlite3.connect(path).close()
    info = store_info(path)
    assert (info.state, info.revision, info.row_counts) == (SchemaState.EMPTY, None, {})


def test_missing_and_unreadable_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFound):
        store_info(tmp_path / "missing.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"\x00junk" * 1000)
    with pytest.raises(StoreUnreadable):
        store_info(junk)
