"""Online backup of the site store while nurses keep recording.

Uses SQLite's online backup API (`sqlite3.Connection.backup`) in a single
step: the whole database is copied inside one read transaction, so under WAL
the copy is a consistent snapshot of one moment, writers are not blocked, and
the step is never restarted by their commits (a page-by-page backup would
restart on every write from another connection and might never finish on a
busy day).

The copy is written to a hidden temporary file beside `dest`, switched to a
rollback journal (one self-contained file to carry away), checked with
``PRAGMA integrity_check`` and fsynced; only then does it take its name, so a
file under the backup's name is always a complete, verified database.
Sealed secrets stay sealed in the copy; the key file is not part of it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from app.local_db.engine import BUSY_TIMEOUT_MS, create_private_file, database_path
from app.local_db.errors import BackupFailed, BackupTargetExists, StoreNotFound


@dataclass(frozen=True)
class BackupReport:
    """A finished, verified backup."""

    path: Path
    size_bytes: int
    #: Schema revision of the copy (None for a store never migrated).
    revision: str | None


def backup(
    source: Engine | Path | str, dest: Path | str, *, overwrite: bool = False
) -> BackupReport:
    """Copy the store behind `source` (an engine or a file path) to `dest`, online.

    Raises `BackupTargetExists` when `dest` exists and `overwrite` is not
    set, `StoreNotFound` for a missing source file, and `BackupFailed` when
    the copy cannot be written or does not verify; the store is never changed.
    """
    dest = Path(dest)
    source_path = database_path(source) if isinstance(source, Engine) else Path(source)
    if not source_path.exists():
        raise StoreNotFound(path=str(source_path))
    if dest.exists() and not overwrite:
        raise BackupTargetExists(dest=str(dest))
    if dest.exists() and dest.resolve() == source_path.resolve():
        raise BackupFailed(dest=str(dest), reason="that file is the database itself")
    partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    try:
        partial.unlink(missing_ok=True)
        create_private_file(partial)
        with _source_connection(source, source_path) as src:
            target = sqlite3.connect(partial)
            try:
                src.backup(target)
                revision = _verify(target, dest)
            finally:
                target.close()
        _fsync(partial)
        _publish(partial, dest, overwrite=overwrite)
    except sqlite3.Error as exc:
        raise BackupFailed(dest=str(dest), reason=str(exc)) from exc
    except OSError as exc:
        if isinstance(exc, FileExistsError):
            raise BackupTargetExists(dest=str(dest)) from exc
        raise BackupFailed(dest=str(dest), reason=exc.strerror or str(exc)) from exc
    finally:
        # The folder may not exist at all; the failure above is the one to report.
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return BackupReport(dest, dest.stat().st_size, revision)


@contextlib.contextmanager
def _source_connection(source: Engine | Path | str, path: Path) -> Iterator[sqlite3.Connection]:
    if isinstance(source, Engine):
        # A pooled connection of the running client, with its pragmas.
        pooled = source.raw_connection()
        try:
            raw = pooled.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            yield raw
        finally:
            pooled.close()
    else:
        raw = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
        )
        try:
            yield raw
        finally:
            raw.close()


def _verify(copy: sqlite3.Connection, dest: Path) -> str | None:
    copy.execute("PRAGMA journal_mode=DELETE")
    problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise BackupFailed(dest=str(dest), reason="integrity check: " + "; ".join(problems[:5]))
    has_version = copy.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if has_version is None:
        return None
    row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(partial: Path, dest: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(partial, dest)
    else:
        # link() fails if dest appeared meanwhile; replace() would clobber it.
        os.link(partial, dest)
    if os.name == "posix":
        # Make the new directory entry itself durable.
        fd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
