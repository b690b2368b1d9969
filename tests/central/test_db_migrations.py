"""The migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from central.db import (
    APPEND_ONLY_TABLES,
    Base,
    MigrationError,
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    schema_differences,
    upgrade_to_head,
)
from central.db.migrate import SCRIPT_LOCATION, _check_sqlite_foreign_keys

POSTGRES_NAME_LIMIT = 63


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_to_head(central_db_url: str) -> None:
    assert current_revision(central_db_url) is None

    assert upgrade_to_head(central_db_url) == head_revision()

    assert current_revision(central_db_url) == head_revision()
    assert _tables(central_db_url) == set(Base.metadata.tables) | {"alembic_version"}


def test_migrated_schema_matches_the_models_exactly(migrated_url: str) -> None:
    assert schema_differences(migrated_url) == []


def test_schema_comparison_notices_a_missing_index(migrated_url: str) -> None:
    # Guards the test above: an empty diff must mean agreement, not blindness.
    engine = make_engine(migrated_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_appointments_roster"))
    finally:
        engine.dispose()

    diffs = schema_differences(migrated_url)

    assert [(d[0], d[1].name) for d in diffs] == [("add_index", "ix_appointments_roster")]


def test_upgrade_twice_is_a_no_op(migrated_url: str) -> None:
    assert upgrade_to_head(migrated_url) == head_revision()
    assert schema_differences(migrated_url) == []


def test_downgrade_to_base_then_upgrade_again(migrated_url: str) -> None:
    downgrade(migrated_url, "base")

    assert current_revision(migrated_url) is None
    assert _tables(migrated_url) == {"alembic_version"}

    upgrade_to_head(migrated_url)

    assert current_revision(migrated_url) == head_revision()
    assert schema_differences(migrated_url) == []


def test_a_rate_limit_table_made_at_start_up_by_an_older_hub_is_adopted(migrated_url: str) -> None:
    # Hubs before revision 0006 created the counter table themselves at start-up.
    downgrade(migrated_url, "0005")
    engine = make_engine(migrated_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE rate_limit_counters (key VARCHAR(100) NOT NULL, "
                    "window_no BIGINT NOT NULL, hits INTEGER NOT NULL, "
                    "CONSTRAINT pk_rate_limit_counters PRIMARY KEY (key))"
                )
            )
            connection.execute(text("INSERT INTO rate_limit_counters VALUES ('site:x', 7, 3)"))
    finally:
        engine.dispose()

    upgrade_to_head(migrated_url)

    assert current_revision(migrated_url) == head_revision()
    assert schema_differences(migrated_url) == []
    engine = make_engine(migrated_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT key, window_no, hits FROM rate_limit_counters"))
            assert [tuple(r) for r in rows] == [("site:x", 7, 3)]
    finally:
        engine.dispose()


def test_concurrent_start_up_migrates_once(central_db_url: str) -> None:
    # Several hub workers start together: all succeed, the schema is built once.
    errors: list[BaseException] = []

    def start() -> None:
        try:
            upgrade_to_head(central_db_url)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=start) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert current_revision(central_db_url) == head_revision()
    assert schema_differences(central_db_url) == []


def test_migrations_do_not_depend_on_the_working_directory(
    central_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    upgrade_to_head(central_db_url)

    assert current_revision(central_db_url) == head_revision()
    assert not list(tmp_path.glob("*.ini"))
    config_location = alembic_config().get_main_option("script_location")
    assert config_location is not None
    assert Path(config_location) == SCRIPT_LOCATION
    assert os.path.isabs(config_location)


def test_change_log_counter_is_seeded(db_url_counter: tuple[int, int]) -> None:
    assert db_url_counter == (1, 0)


@pytest.fixture
def db_url_counter(migrated_url: str) -> tuple[int, int]:
    engine = make_engine(migrated_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT id, last_seq FROM change_log_counter")).one()
            return (row.id, row.last_seq)
    finally:
        engine.dispose()


def test_every_append_only_table_has_its_guard_triggers(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                found = connection.execute(
                    text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
                ).all()
                expected = {
                    (table, f"{table}_no_{action}")
                    for table in APPEND_ONLY_TABLES
                    for action in ("update", "delete")
                }
            else:
                found = connection.execute(
                    text(
                        "SELECT c.relname, t.tgname FROM pg_trigger t "
                        "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
                    )
                ).all()
                expected = {
                    (table, f"{table}_{suffix}")
                    for table in APPEND_ONLY_TABLES
                    for suffix in ("append_only", "no_truncate")
                }
    finally:
        engine.dispose()

    assert {(row[0], row[1]) for row in found} == expected


def test_append_only_tables_are_the_facts() -> None:
    facts = {
        "appointment_events",
        "audit_log",
        "change_log",
        "dose_records",
        "dose_voids",
        "receipt_discrepancies",
        "receipts",
        "stock_counts",
        "stock_movements",
        "vial_events",
    }
    assert facts == APPEND_ONLY_TABLES


def test_constraint_and_index_names_fit_postgresql() -> None:
    # Longer names are silently truncated by PostgreSQL and would then differ
    # between the engines, breaking migrations that refer to them by name.
    tables = Base.metadata.tables.values()
    names = [str(c.name) for table in tables for c in table.constraints]
    names += [str(index.name) for table in tables for index in table.indexes]
    too_long = [name for name in names if len(name) > POSTGRES_NAME_LIMIT]
    assert too_long == []
    assert len(names) == len(set(names))


def test_sqlite_foreign_key_check_reports_broken_references(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'broken.sqlite'}")
    try:
        with engine.connect() as connection:
            dbapi = connection.connection.driver_connection
            assert dbapi is not None
            # What a faulty batch migration could leave behind with checks off.
            dbapi.execute("PRAGMA foreign_keys = OFF")
            dbapi.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            dbapi.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))")
            dbapi.execute("INSERT INTO child VALUES (42)")
            with connection.begin(), pytest.raises(MigrationError, match="1 foreign key"):
                _check_sqlite_foreign_keys(connection)
    finally:
        engine.dispose()


def test_migrating_through_an_engine_leaves_its_connections_enforcing_foreign_keys(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url, pool_size=1, max_overflow=0)
    try:
        upgrade_to_head(engine)

        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
