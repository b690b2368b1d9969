from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from app.local_db.engine import (
    create_private_file,
    create_site_engine,
    open_site_store,
    read_only,
)
from app.local_db.errors import StoreNewerThanCode
from app.local_db.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from app.local_db.models import APPEND_ONLY_TABLES, Base, Citizen
from app.local_db.unit_of_work import session_scope
from tests.app.local_db import factories as f


def _diff(connection: sa.Connection, metadata: sa.MetaData) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def test_migrating_from_empty_reaches_head(engine: Engine) -> None:
    with read_only(engine).connect() as connection:
        assert current_revision(connection) == head_revision()
        tables = set(sa.inspect(connection).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_the_migrated_schema_is_exactly_the_models(engine: Engine) -> None:
    with read_only(engine).connect() as connection:
        assert _diff(connection, Base.metadata) == []


def test_the_schema_comparison_would_see_a_difference(engine: Engine) -> None:
    # Guards the test above against comparing nothing.
    changed = sa.MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["dose_records"].append_column(sa.Column("extra", sa.Integer))
    with read_only(engine).connect() as connection:
        diff = _diff(connection, changed)
    assert [entry[0] for entry in diff] == ["add_column"]  # type: ignore[index]


def test_the_guard_triggers_are_installed(engine: Engine) -> None:
    with read_only(engine).connect() as connection:
        names = set(
            connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .scalars()
            .all()
        )
    expected = {f"{t}_no_{action}" for t in APPEND_ONLY_TABLES for action in ("update", "delete")}
    expected |= {"dose_records_no_double_dose", "dose_records_replacement_voided_first"}
    assert names == expected


def test_reopening_a_current_store_keeps_its_records(store_path: Path) -> None:
    engine = open_site_store(store_path)
    with session_scope(engine) as session:
        citizen_id = f.citizen(session).id
    engine.dispose()
    engine = open_site_store(store_path)
    try:
        with session_scope(engine, write=False) as session:
            assert session.get(Citizen, citizen_id) is not None
    finally:
        engine.dispose()
    assert not (store_path.parent / "backups").exists()  # nothing to upgrade, no backup


def test_migrations_go_down_to_empty_and_up_again(engine: Engine) -> None:
    with engine.connect() as connection, connection.begin():
        command.downgrade(alembic_config(connection), "base")
    with read_only(engine).connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) == {"alembic_version"}
        assert current_revision(connection) is None
    with engine.connect() as connection, connection.begin():
        command.upgrade(alembic_config(connection), "head")
    with read_only(engine).connect() as connection:
        assert _diff(connection, Base.metadata) == []


def _set_revision(path: Path, revision: str) -> None:
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    raw.close()


@pytest.mark.parametrize("migrate", [True, False])
def test_a_store_from_a_newer_client_is_refused_untouched(store_path: Path, migrate: bool) -> None:
    open_site_store(store_path).dispose()
    _set_revision(store_path, "9999_from_the_future")
    before = store_path.read_bytes()
    with pytest.raises(StoreNewerThanCode, match="newer version of the site client") as caught:
        open_site_store(store_path, migrate=migrate)
    assert caught.value.params["revision"] == "9999_from_the_future"
    assert store_path.read_bytes() == before


def test_two_clients_starting_together_migrate_once(store_path: Path) -> None:
    errors: list[BaseException] = []
    engines: list[Engine] = []
    start = threading.Barrier(2)

    def start_client() -> None:
        try:
            start.wait()
            engines.append(open_site_store(store_path))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start_client) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert errors == []
        with read_only(engines[0]).connect() as connection:
            assert current_revision(connection) == head_revision()
            assert _diff(connection, Base.metadata) == []
    finally:
        for engine in engines:
            engine.dispose()


def test_foreign_keys_are_back_on_after_an_upgrade(store_path: Path) -> None:
    create_private_file(store_path)
    engine = create_site_engine(store_path)
    try:
        result = upgrade_to_head(engine, store_path)
        assert (result.from_revision, result.to_revision) == (None, head_revision())
        assert result.backup is None  # an empty store has nothing to save
        connections = [read_only(engine).connect() for _ in range(5)]  # the whole pool
        try:
            for connection in connections:
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        finally:
            for connection in connections:
                connection.close()
    finally:
        engine.dispose()
