"""What a site store is: its file, schema revision, journal mode and row counts.

Read over a read-only connection without migrating, so support can inspect
any store, including one upgraded by a newer client or not yet migrated.
"""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils.db import quote_identifier

from app.local_db.engine import BUSY_TIMEOUT_MS
from app.local_db.errors import StoreNotFound, StoreUnreadable
from app.local_db.migrate import head_revision, known_revisions


class SchemaState(enum.StrEnum):
    """How the store's schema stands against this code."""

    CURRENT = "current"
    #: Older than the code: the next start-up migrates it.
    BEHIND = "behind"
    #: Upgraded by a newer client: this code refuses to open it.
    NEWER = "newer"
    #: Never migrated.
    EMPTY = "empty"


@dataclass(frozen=True)
class StoreInfo:
    """A description of one store file."""

    path: Path
    size_bytes: int
    revision: str | None
    head: str
    state: SchemaState
    journal_mode: str
    #: Table name -> number of rows, for every table in the file, sorted by name.
    row_counts: dict[str, int]


def store_info(path: Path | str) -> StoreInfo:
    """Describe the store at `path` without changing it.

    Raises `StoreNotFound` for a missing file, `StoreUnreadable` for one
    SQLite cannot read.
    """
    path = Path(path)
    if not path.exists():
        raise StoreNotFound(path=str(path))
    connection = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
    )
    try:
        journal_mode = str(connection.execute("PRAGMA journal_mode").fetchone()[0])
        tables = [
            str(name)
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        counts = {
            table: int(
                connection.execute(f"SELECT count(*) FROM {quote_identifier(table)}").fetchone()[0]
            )
            for table in tables
        }
        revision = None
        if "alembic_version" in counts:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = None if row is None else str(row[0])
    except sqlite3.Error as exc:
        raise StoreUnreadable(path=str(path), reason=str(exc)) from exc
    finally:
        connection.close()
    head = head_revision()
    if revision is None:
        state = SchemaState.EMPTY
    elif revision == head:
        state = SchemaState.CURRENT
    elif revision in known_revisions():
        state = SchemaState.BEHIND
    else:
        state = SchemaState.NEWER
    return StoreInfo(path, path.stat().st_size, revision, head, state, journal_mode, counts)
