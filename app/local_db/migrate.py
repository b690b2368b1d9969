"""Schema migrations of the site store, run programmatically at start-up.

Alembic finds its scripts through this package (``migrations/`` beside this
file), so no ``alembic.ini`` ships with the client. Migrations run in
batch mode (``render_as_batch``), the way SQLite can alter tables.

How an upgrade runs, and why:

1. If the store already holds a schema older than the code, it is first
   copied with the online backup API to ``backups/<name>.before-<head>-<time>``
   beside it: a migration bug must never cost a dose record.
2. Foreign-key enforcement is switched off for the upgrade (batch mode
   rebuilds tables; with enforcement on, dropping the old copy of a table
   would cascade or fail), and ``PRAGMA foreign_key_check`` must come back
   clean before the commit.
3. The revision check and every migration run in one ``BEGIN IMMEDIATE``
   transaction, so two processes starting together upgrade once, and a failed
   migration leaves the store exactly as it was.

A store whose revision this code does not know was upgraded by a newer client;
it is refused (`StoreNewerThanCode`) before anything is written.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from app.local_db.engine import read_only
from app.local_db.errors import (
    BackupTargetExists,
    MigrationFailed,
    SiteStoreError,
    StoreNewerThanCode,
)
from domain.clock import Clock, SystemClock

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class UpgradeResult:
    """What `upgrade_to_head` did."""

    from_revision: str | None
    to_revision: str
    backup: Path | None

    @property
    def upgraded(self) -> bool:
        return self.from_revision != self.to_revision


def alembic_config(
    connection: Connection | None = None,
    url: str | None = None,
    scripts: Path = MIGRATIONS_DIR,
) -> Config:
    """An Alembic config for the site store's scripts, without any ini file.

    Pass the `connection` to migrate on, or (for developer commands such as
    ``command.revision(alembic_config(url=...), autogenerate=True)``) a `url`.
    `scripts` is the migrations folder: this package's, except in tests of
    the upgrade procedure itself.
    """
    config = Config()
    config.set_main_option("script_location", str(scripts))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts(scripts: Path) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(scripts=scripts))


def head_revision(scripts: Path = MIGRATIONS_DIR) -> str:
    """The newest revision this code knows."""
    head = _scripts(scripts).get_current_head()
    if head is None:
        raise RuntimeError("the site store has no migrations")
    return head


def known_revisions(scripts: Path = MIGRATIONS_DIR) -> frozenset[str]:
    """Every revision this code knows."""
    return frozenset(script.revision for script in _scripts(scripts).walk_revisions())


def current_revision(connection: Connection) -> str | None:
    """The revision the store is at, or None for a store never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def ensure_not_newer(engine: Engine, path: Path, scripts: Path = MIGRATIONS_DIR) -> str | None:
    """The store's revision; `StoreNewerThanCode` if this code does not know it."""
    with read_only(engine).connect() as connection:
        revision = current_revision(connection)
        connection.rollback()
    _refuse_unknown(revision, path, scripts)
    return revision


def upgrade_to_head(
    engine: Engine,
    path: Path,
    *,
    clock: Clock | None = None,
    scripts: Path = MIGRATIONS_DIR,
) -> UpgradeResult:
    """Migrate the store to `head_revision`, as the module docstring describes.

    Raises `StoreNewerThanCode` for a store this code does not know, and
    `MigrationFailed` (with the store unchanged) when a migration fails or
    leaves broken references.
    """
    head = head_revision(scripts)
    before = ensure_not_newer(engine, path, scripts)
    if before == head:
        return UpgradeResult(before, head, None)
    backup_path = None
    if before is not None:
        backup_path = _backup_before_upgrade(engine, path, head, clock or SystemClock())
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        # Only effective outside a transaction, so it comes before BEGIN.
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                # Read again under the write lock: another process may have
                # upgraded between the check above and this transaction.
                before = current_revision(connection)
                _refuse_unknown(before, path, scripts)
                command.upgrade(alembic_config(connection, scripts=scripts), "head")
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise MigrationFailed(
                        path=str(path), reason=f"{len(broken)} broken references, e.g. {broken[0]}"
                    )
        except SiteStoreError:
            raise
        except Exception as exc:
            # Whatever a migration script raised, the transaction is rolled
            # back: say so plainly, keeping the cause chained for support.
            raise MigrationFailed(path=str(path), reason=f"{type(exc).__name__}: {exc}") from exc
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
    return UpgradeResult(before, head, backup_path)


def _refuse_unknown(revision: str | None, path: Path, scripts: Path) -> None:
    if revision is not None and revision not in known_revisions(scripts):
        raise StoreNewerThanCode(path=str(path), revision=revision)


def _backup_before_upgrade(engine: Engine, path: Path, head: str, clock: Clock) -> Path:
    # Imported here: backup imports the engine helpers, which import this module lazily.
    from app.local_db.backup import backup

    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    dest = path.parent / "backups" / f"{path.name}.before-{head}-{stamp}"
    try:
        return backup(engine, dest).path
    except BackupTargetExists:
        # Another process starting in the same second made this very backup
        # (backups appear under their name only once complete).
        return dest
