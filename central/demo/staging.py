"""Writing the citizens and their registrations from several processes.

`central.db.insert_rows` turns every value into what the driver sends (UTC
datetimes, UUIDs, JSON) in Python, and a million citizens with their
registrations are some thirty million values: one process needs well over a
minute. For large populations the rows are therefore written by worker
processes, each into a staging area of its own, and then moved into the real
tables with one ``INSERT ... SELECT`` per table and worker, inside the demo
load's single transaction:

- SQLite: each worker fills a temporary SQLite file with tables of the same
  names and columns but no index, constraint or journal (it is thrown away);
  the target connection ATTACHes the files before its transaction begins.
- PostgreSQL: each worker COPYs into UNLOGGED tables made ``LIKE`` the real
  ones, in a schema of its own that its ``search_path`` points at; the schemas
  are dropped afterwards, whatever happened.

Workers write through `insert_rows` too, so staged values are exactly what a
single-process load would have sent, and the ``INSERT ... SELECT`` runs under
every constraint, index and trigger of the real tables: the resulting rows
are the same, only sooner.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from central.db import Citizen, Registration, insert_rows, make_engine
from central.demo.people import Population
from central.demo.rows import people_rows
from central.demo.seeded import IdColumn

STAGED_TABLES: Final[tuple[Table, ...]] = (Citizen.__table__, Registration.__table__)  # type: ignore[assignment]


@dataclass(frozen=True)
class _Shard:
    """One worker's share: people `start` to `stop - 1` and where they go."""

    population: Population
    citizens: IdColumn
    registrations: IdColumn
    target: str  # SQLite file path, or PostgreSQL URL
    schema: str | None  # PostgreSQL staging schema


class StagedPeople:
    """Rows staged by workers, ready to be moved into the real tables."""

    def __init__(self, dialect: str, sources: list[str]) -> None:
        self._dialect = dialect
        self._sources = sources

    def prepare(self, connection: Connection) -> None:
        """Make the staged rows visible to `connection`; call before it begins a transaction."""
        if self._dialect == "sqlite":
            driver = connection.connection.driver_connection
            assert isinstance(driver, sqlite3.Connection)
            for index, path in enumerate(self._sources):
                driver.execute(f"ATTACH DATABASE ? AS stage{index}", (path,))

    def release(self, connection: Connection) -> None:
        """Undo `prepare` once the transaction is over.

        A connection that cannot detach (broken by the error that ended the
        transaction) is discarded rather than returned to the pool.
        """
        if self._dialect != "sqlite":
            return
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        try:
            for index in range(len(self._sources)):
                driver.execute(f"DETACH DATABASE stage{index}")
        except sqlite3.Error:
            connection.invalidate()

    def move_into(self, session: Session) -> dict[str, int]:
        """Insert every staged row into the real tables, in the session's transaction."""
        connection = session.connection()
        preparer = connection.dialect.identifier_preparer
        moved: dict[str, int] = {}
        for table in STAGED_TABLES:
            columns = ", ".join(preparer.format_column(c) for c in table.c)
            target = preparer.format_table(table)
            for index, source in enumerate(self._sources):
                if self._dialect == "sqlite":
                    staged = f"stage{index}.{preparer.quote(table.name)}"
                    order = " ORDER BY rowid"
                else:
                    staged = f"{preparer.quote(source)}.{preparer.quote(table.name)}"
                    order = ""
                result = connection.exec_driver_sql(
                    f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {staged}{order}"
                )
                moved[table.name] = moved.get(table.name, 0) + result.rowcount
        return moved


@contextmanager
def staged_people(
    engine: Engine,
    population: Population,
    citizens: IdColumn,
    registrations: IdColumn,
    workers: int,
    *,
    scratch: Path | None = None,
) -> Iterator[StagedPeople]:
    """Stage the people's rows with `workers` processes; clean the staging up on exit.

    Worker tasks (and SQLite staging files) go in a temporary folder inside
    `scratch` (default: the system's temporary folder), removed on exit.
    Raises `StagingFailed` when a worker fails.
    """
    dialect = engine.dialect.name
    bounds = [len(population) * k // workers for k in range(workers + 1)]
    with ExitStack() as cleanup:
        folder = Path(
            cleanup.enter_context(tempfile.TemporaryDirectory(prefix="imuno-demo-", dir=scratch))
        )
        if dialect == "sqlite":
            targets = [str(folder / f"stage{k}.sqlite") for k in range(workers)]
            schemas: list[str | None] = [None] * workers
            sources = targets
        elif dialect == "postgresql":
            url = engine.url.render_as_string(hide_password=False)
            token = uuid.uuid4().hex[:12]
            names = [f"imuno_demo_stage_{token}_{k}" for k in range(workers)]
            _create_pg_staging(engine, names)
            cleanup.callback(_drop_pg_staging, engine, names)
            targets = [url] * workers
            schemas = list(names)
            sources = names
        else:
            raise ValueError(f"no staging for the {dialect} dialect")
        shards = [
            _Shard(
                population=population.slice(bounds[k], bounds[k + 1]),
                citizens=citizens.window(bounds[k], bounds[k + 1]),
                registrations=registrations.window(bounds[k], bounds[k + 1]),
                target=targets[k],
                schema=schemas[k],
            )
            for k in range(workers)
        ]
        _run_workers(folder, shards)
        yield StagedPeople(dialect, sources)


def _run_workers(folder: Path, shards: list[_Shard]) -> None:
    """Run one worker process per shard (``python -m central.demo.staging``); wait for all.

    Plain subprocesses rather than `multiprocessing`: spawn would re-run the
    caller's main module, whatever it is, and fork would copy open database
    connections into the children.
    """
    root = str(Path(__file__).resolve().parents[2])  # the folder holding `central`
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([root, *sys.path])}
    running: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for index, shard in enumerate(shards):
            task = folder / f"shard{index}.pickle"
            with task.open("wb") as out:
                pickle.dump(shard, out, protocol=pickle.HIGHEST_PROTOCOL)
            log = folder / f"shard{index}.log"
            with log.open("wb") as errors:
                process = subprocess.Popen(  # noqa: S603 - our interpreter, our own task file
                    [sys.executable, "-m", "central.demo.staging", str(task)],
                    stdin=subprocess.DEVNULL,
                    stdout=errors,
                    stderr=errors,
                    env=environment,
                )
            running.append((process, log))
        for process, log in running:
            if process.wait() != 0:
                detail = log.read_text("utf-8", errors="replace").strip().splitlines()[-20:]
                raise StagingFailed("\n".join(detail) or f"exit status {process.returncode}")
    finally:
        for process, _ in running:
            if process.poll() is None:
                process.kill()
                process.wait()


class StagingFailed(RuntimeError):
    """A worker process could not write its share of the rows (its last log lines)."""


def _fill_shard(shard: _Shard) -> int:
    """In a worker: write the shard's rows into its staging area."""
    if shard.schema is None:
        engine = _sqlite_staging_engine(shard.target)
    else:
        options = f"-c timezone=UTC -c search_path={shard.schema}"
        engine = make_engine(shard.target, poolclass=NullPool, connect_args={"options": options})
    try:
        written = 0
        with Session(engine) as session, session.begin():
            for citizen_rows, registration_rows in people_rows(
                shard.population, shard.citizens, shard.registrations
            ):
                written += insert_rows(session, Citizen, citizen_rows)
                insert_rows(session, Registration, registration_rows)
        return written
    finally:
        engine.dispose()


def _sqlite_staging_engine(path: str) -> Engine:
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _throwaway(dbapi_connection: Any, _record: Any) -> None:
        # A staging file is deleted after the load: no journal, no fsync.
        dbapi_connection.execute("PRAGMA journal_mode = OFF")
        dbapi_connection.execute("PRAGMA synchronous = OFF")

    preparer = engine.dialect.identifier_preparer
    with engine.begin() as connection:
        for table in STAGED_TABLES:
            columns = ", ".join(preparer.format_column(c) for c in table.c)
            connection.exec_driver_sql(f"CREATE TABLE {preparer.format_table(table)} ({columns})")
    return engine


def _create_pg_staging(engine: Engine, schemas: list[str]) -> None:
    preparer = engine.dialect.identifier_preparer
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for schema in schemas:
            connection.exec_driver_sql(f"CREATE SCHEMA {preparer.quote(schema)}")
            for table in STAGED_TABLES:
                real = preparer.format_table(table)
                staged = f"{preparer.quote(schema)}.{preparer.quote(table.name)}"
                connection.exec_driver_sql(
                    f"CREATE UNLOGGED TABLE {staged} (LIKE {real} INCLUDING DEFAULTS)"
                )


def _drop_pg_staging(engine: Engine, schemas: list[str]) -> None:
    preparer = engine.dialect.identifier_preparer
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for schema in schemas:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {preparer.quote(schema)} CASCADE")


def _main(task: str) -> None:
    # The task file was written by the parent into its own private temporary
    # folder a moment ago: unpickling it trusts nothing from outside.
    with open(task, "rb") as source:
        shard = pickle.load(source)  # noqa: S301
    _fill_shard(shard)


if __name__ == "__main__":
    _main(sys.argv[1])
