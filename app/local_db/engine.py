"""Opening the site store: SQLite tuned so a recorded dose survives a power cut.

Every connection runs with

* ``journal_mode=WAL``: readers see a snapshot and never block the writer, nor
  the writer them (the roster stays readable while a dose is written);
* ``synchronous=FULL``: a commit returns only after the WAL is on the disk, so a
  dose the nurse saw saved is still there after the power goes;
* ``foreign_keys=ON`` and a ``busy_timeout``, so a second writer waits its turn
  instead of failing at once.

pysqlite's own transaction handling is switched off and every transaction is
opened by the ``begin`` event (SQLAlchemy's documented pysqlite recipe): write
transactions with ``BEGIN IMMEDIATE``, taking the write lock at the start, so
there is one writer at a time and no transaction can fail half-way on a lock
upgrade; read transactions (`read_only`) with plain ``BEGIN`` under
``PRAGMA query_only``, so they never take the lock and cannot write by mistake.

Writing is the default: a plain ``engine.connect()`` that executes anything
holds the write lock until it commits or rolls back. Read through
`read_only(engine)` or ``session_scope(engine, write=False)``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import ConnectionPoolEntry

from app.local_db.errors import StoreNotFound, StoreUnreadable, WalUnavailable

#: How long a writer waits for another writer's transaction before giving up.
BUSY_TIMEOUT_MS: Final = 15_000

#: Execution option choosing how a transaction begins.
BEGIN_OPTION: Final = "imuno_begin"


def open_site_store(path: Path | str, *, create: bool = True, migrate: bool = True) -> Engine:
    """An engine on the site store at `path`, migrated to the code's schema.

    With `create`, a missing file (and its folder) is created and migrated
    from empty; without it, a missing file raises `StoreNotFound`. With
    `migrate`, pending migrations run now, each upgrade after a backup of the
    old store (see `app.local_db.migrate.upgrade_to_head`). A store whose
    revision is newer than this code raises `StoreNewerThanCode` whether or
    not `migrate` is set: this client must not write to it.

    Raises `StoreUnreadable` for a file that is not a SQLite database and
    `WalUnavailable` where SQLite cannot keep a write-ahead log.
    """
    # Imported here: migrate imports this module for the engine helpers.
    from app.local_db import migrate as migrations

    path = Path(path)
    if not path.exists():
        if not create:
            raise StoreNotFound(path=str(path))
        try:
            create_private_file(path)
        except OSError as exc:
            raise StoreUnreadable(path=str(path), reason=exc.strerror or str(exc)) from exc
    engine = create_site_engine(path)
    try:
        _check_opens(engine, path)
        if migrate:
            migrations.upgrade_to_head(engine, path)
        else:
            migrations.ensure_not_newer(engine, path)
    except BaseException:
        engine.dispose()
        raise
    return engine


def create_site_engine(path: Path) -> Engine:
    """An engine with the store's pragmas and BEGIN handling, without migrating."""
    url = sa.URL.create("sqlite+pysqlite", database=str(path))
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def create_private_file(path: Path) -> None:
    """Create an empty file (and missing folders) that only its owner can read.

    The store holds personal health data: SQLite gives its WAL and shared
    memory files the database file's permissions, so setting them here, before
    SQLite first opens the file, covers all three. Does nothing if `path` exists.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def read_only(engine: Engine) -> Engine:
    """The same engine, whose transactions only read and never take the write lock."""
    return engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})


def database_path(engine: Engine) -> Path:
    """The file behind a site-store engine."""
    database = engine.url.database
    if not database or database == ":memory:":
        raise ValueError("the site store is always a file")
    return Path(database)


def _enter_wal(cursor: sqlite3.Cursor) -> None:
    """Switch to WAL, waiting out another client that is switching at the same time.

    SQLite answers SQLITE_BUSY to a journal-mode change without calling the
    busy handler when another connection holds the lock it needs (deadlock
    avoidance), so two clients starting together must retry here for as
    long as the busy timeout allows.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    # Hand transaction control to the begin event below; pysqlite would
    # otherwise open its own deferred transactions and commit before DDL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _enter_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _on_begin(connection: Connection) -> None:
    mode: Any = connection.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
    if mode == "IMMEDIATE":
        connection.exec_driver_sql("PRAGMA query_only=OFF")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif mode == "DEFERRED":
        connection.exec_driver_sql("PRAGMA query_only=ON")
        connection.exec_driver_sql("BEGIN")
    else:
        raise ValueError(f"{BEGIN_OPTION} must be IMMEDIATE or DEFERRED, not {mode!r}")


def _check_opens(engine: Engine, path: Path) -> None:
    """Connect once, turning SQLite's low-level failures into errors a person can act on."""
    try:
        with read_only(engine).connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
            # Reading the schema proves the file is a database, not just any file.
            connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one()
            connection.rollback()
    except sa.exc.DBAPIError as exc:
        raise StoreUnreadable(path=str(path), reason=str(exc.orig)) from exc
    if str(mode).lower() != "wal":
        raise WalUnavailable(path=str(path), mode=mode)
