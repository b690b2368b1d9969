"""Engines and sessions for the central database, on SQLite or PostgreSQL.

SQLite (the embedded default) is configured per connection:

- ``journal_mode=WAL``: readers never block the writer and vice versa;
- ``foreign_keys=ON``: SQLite ignores foreign keys unless asked, per connection;
- ``busy_timeout``: a connection waiting for the write lock waits this long
  (default 30 s) instead of failing at once with "database is locked";
- ``synchronous=FULL``: every commit is on disk before it returns. The hub
  acknowledges a pushed batch after its commit and the site then deletes its
  outbox copy, so a commit lost to a power cut (possible with NORMAL in WAL
  mode) would lose the only copy of a dose record. Bulk loads commit in large
  transactions, so the extra fsync per commit costs them little.
- Transactions start with ``BEGIN IMMEDIATE``: the write lock is taken at the
  start, so two writers queue on ``busy_timeout``. With a deferred BEGIN, a
  transaction that read first and then writes cannot be granted the lock
  when another wrote meanwhile, and fails with SQLITE_BUSY no matter the
  timeout. Read-only work may opt out with `read_only` (plain deferred BEGIN,
  concurrent with the writer under WAL). This is SQLAlchemy's documented
  recipe: the sqlite3 module's own BEGIN handling is switched off and the
  engine's "begin" event emits the BEGIN.

PostgreSQL is reached through psycopg 3 with a bounded pool (the hub runs
several worker processes over one server, so each keeps a small pool),
pre-ping to survive server restarts and failovers, sessions in UTC, and a
limit on sessions idle inside a transaction (`IDLE_IN_TRANSACTION_MS`).
"""

from __future__ import annotations

import sqlite3
from typing import Any, Final

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

READ_ONLY_OPTION: Final = "imuno_read_only"
"""Execution option: on SQLite, begin with a deferred (shared) BEGIN."""

DEFAULT_BUSY_TIMEOUT_MS: Final = 30_000

IDLE_IN_TRANSACTION_MS: Final = 300_000
"""PostgreSQL ends a session left idle inside a transaction for this long.

A transaction holding the change-log counter (`central.db.change_log`) blocks
every other change-writing transaction; a handler that hangs mid-transaction
must not stall every site's push for longer than this. Do not keep a
transaction open while computing (e.g. during a scheduler solve).
"""

_PG_POOL_DEFAULTS: Final[dict[str, Any]] = {
    "pool_recycle": 1800,
    "pool_pre_ping": True,
}
_PG_QUEUE_POOL_DEFAULTS: Final[dict[str, Any]] = {
    "pool_size": 10,
    "max_overflow": 10,
    "pool_timeout": 30,
    # Most recently used first: idle surplus connections age out of the pool.
    "pool_use_lifo": True,
}


def make_engine(
    url: str | URL,
    *,
    sqlite_busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    application_name: str = "imuno-hub",
    **kw: Any,
) -> Engine:
    """An engine for the central database at `url`, configured for its backend.

    ``postgresql://`` URLs without a driver use psycopg 3. Extra keyword
    arguments go to `sqlalchemy.create_engine` and override the defaults here
    (e.g. ``pool_size``, ``echo``, ``poolclass``).

    Raises ``ValueError`` for a backend other than SQLite or PostgreSQL.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(parsed, **kw)
        _configure_sqlite(engine, sqlite_busy_timeout_ms)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        connect_args: dict[str, Any] = {
            "connect_timeout": 10,
            "application_name": application_name,
            "options": (
                f"-c timezone=UTC -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
            ),
        }
        connect_args.update(kw.pop("connect_args", {}))
        poolclass = kw.get("poolclass")
        queue_pool = poolclass is None or issubclass(poolclass, QueuePool)
        options = {
            **_PG_POOL_DEFAULTS,
            **(_PG_QUEUE_POOL_DEFAULTS if queue_pool else {}),
            **kw,
        }
        return create_engine(parsed, connect_args=connect_args, **options)
    raise ValueError(f"unsupported database backend {backend!r}: use sqlite or postgresql")


def read_only(engine: Engine) -> Engine:
    """The same engine, with transactions that only read.

    On SQLite they begin with a deferred BEGIN and so run beside a writer
    (WAL) instead of queueing for the write lock; a write attempted in them
    may fail with "database is locked". On PostgreSQL this changes nothing.
    """
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine`.

    Objects stay readable after commit (``expire_on_commit=False``): the hub
    commits, then serialises the rows it wrote into its answer. On SQLite
    every transaction of these sessions takes the write lock at its start;
    for pages and reports that only read, use
    ``session_factory(read_only(engine))`` so they do not queue behind writers.
    """
    return sessionmaker(engine, expire_on_commit=False)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        assert isinstance(dbapi_connection, sqlite3.Connection)
        # Hand transaction control to the "begin" listener below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        engine_level = getattr(connection.dialect, "isolation_level", None)
        if options.get("isolation_level", engine_level) == "AUTOCOMMIT":
            return
        if options.get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
