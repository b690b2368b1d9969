"""The upgrade procedure, against a copy of the migrations with a test revision added on top."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.local_db import models as m
from app.local_db.engine import open_site_store, read_only
from app.local_db.errors import MigrationFailed, StoreNewerThanCode
from app.local_db.migrate import MIGRATIONS_DIR, head_revision, upgrade_to_head
from app.local_db.unit_of_work import session_scope
from domain.clock import FixedClock
from tests.app.local_db import factories as f

# The revision the shipped migrations end at, and a new one chained after it.
HEAD = head_revision()
NEXT = "9999"

HEADER = f"""
from alembic import op
import sqlalchemy as sa

revision = "{NEXT}"
down_revision = "{HEAD}"
branch_labels = None
depends_on = None


def downgrade() -> None:
    pass

"""

ADD_TABLE = (
    HEADER
    + """
def upgrade() -> None:
    op.create_table("clinic_notes", sa.Column("id", sa.Integer, primary_key=True))
    with op.batch_alter_table("citizens") as batch:
        batch.add_column(sa.Column("nickname", sa.String(50)))
"""
)

FAILS_HALF_WAY = (
    HEADER
    + """
def upgrade() -> None:
    op.create_table("clinic_notes", sa.Column("id", sa.Integer, primary_key=True))
    raise RuntimeError("bug in the new migration")
"""
)

BREAKS_REFERENCES = (
    HEADER
    + """
def upgrade() -> None:
    op.execute("DROP TRIGGER dose_records_no_double_dose")
    op.execute(
        "INSERT INTO dose_records (id, origin_site_id, citizen_id, product_code, gtin, "
        "lot_number, dose_number, administered_at, injection_site, vaccinator_name, created_at) "
        "VALUES ('d0', 'o', 'no-such-citizen', 'p', 'g', 'l', 1, '2021-03-01', "
        "'left_deltoid', 'n', '2021-03-01')"
    )
"""
)


def _scripts(tmp_path: Path, source: str) -> Path:
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / f"{NEXT}_test.py").write_text(source)
    return scripts


@pytest.fixture
def populated(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        f.dose(session, f.citizen(session).id)
    return engine


def _tables(path: Path) -> set[str]:
    raw = sqlite3.connect(path)
    try:
        return {n for (n,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        raw.close()


def _revision(path: Path) -> str:
    raw = sqlite3.connect(path)
    try:
        return str(raw.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        raw.close()


def test_an_upgrade_backs_up_the_old_store_first(
    populated: Engine, store_path: Path, tmp_path: Path
) -> None:
    scripts = _scripts(tmp_path, ADD_TABLE)
    result = upgrade_to_head(populated, store_path, clock=FixedClock(), scripts=scripts)
    assert (result.from_revision, result.to_revision, result.upgraded) == (HEAD, NEXT, True)
    backup_name = f"site.sqlite.before-{NEXT}-20210301T080000Z"
    assert result.backup == store_path.parent / "backups" / backup_name
    assert _revision(result.backup) == HEAD
    assert "clinic_notes" not in _tables(result.backup)
    assert _revision(store_path) == NEXT
    assert "clinic_notes" in _tables(store_path)
    with session_scope(populated, write=False) as session:
        assert session.query(m.DoseRecord).count() == 1  # rebuilt citizens kept its doses
    assert _foreign_keys_on_every_pooled_connection(populated)


def _foreign_keys_on_every_pooled_connection(engine: Engine) -> bool:
    # As many connections at once as the pool keeps, so the one the upgrade
    # used is among them.
    connections = [read_only(engine).connect() for _ in range(5)]
    try:
        return all(c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1 for c in connections)
    finally:
        for connection in connections:
            connection.close()


def test_a_downgraded_client_refuses_the_upgraded_store(
    populated: Engine, store_path: Path, tmp_path: Path
) -> None:
    upgrade_to_head(
        populated, store_path, clock=FixedClock(), scripts=_scripts(tmp_path, ADD_TABLE)
    )
    populated.dispose()
    with pytest.raises(StoreNewerThanCode, match=f"schema {NEXT}"):
        open_site_store(store_path)


@pytest.mark.parametrize(
    ("source", "reason"),
    [(FAILS_HALF_WAY, "bug in the new migration"), (BREAKS_REFERENCES, "broken references")],
)
def test_a_failed_upgrade_changes_nothing(
    populated: Engine, store_path: Path, tmp_path: Path, source: str, reason: str
) -> None:
    scripts = _scripts(tmp_path, source)
    tables_before = _tables(store_path)
    with pytest.raises(MigrationFailed, match=reason):
        upgrade_to_head(populated, store_path, clock=FixedClock(), scripts=scripts)
    assert _revision(store_path) == HEAD
    assert _tables(store_path) == tables_before
    with session_scope(populated, write=False) as session:
        assert session.query(m.DoseRecord).count() == 1
    assert _foreign_keys_on_every_pooled_connection(populated)
    with read_only(populated).connect() as connection:
        triggers = connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'dose_records_no_double_dose'"
        ).scalar()
        assert triggers == 1
