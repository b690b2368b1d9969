"""Exporting one table of the site store as CSV or JSON, for support and reports.

Reads through sqlite-utils on a read-only connection, so an export can run
beside the client and never changes the store. Only the store's own tables
can be exported (the models' tables), and columns marked secret (sealed
credential, signer key, password hashes) are left out whatever is asked.

Values are written as stored: times are UTC (``2021-03-01 08:00:00.000000``),
ids are 32 hex digits, JSON columns are JSON text. Binary values (DER
certificates) become base64: a plain string in CSV, and in JSON the object
``{"$base64": true, "encoded": "..."}`` as sqlite-utils itself writes them.
Rows come in primary-key order, streamed, so a large table needs no memory.
"""

from __future__ import annotations

import base64
import csv
import enum
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import sqlite_utils
from sqlite_utils.db import quote_identifier

from app.local_db.engine import BUSY_TIMEOUT_MS
from app.local_db.errors import StoreNotFound, StoreUnreadable, UnknownTable, UnsupportedFormat
from app.local_db.models import Base, secret_columns


class ExportFormat(enum.StrEnum):
    """The formats `export_table` writes."""

    CSV = "csv"
    JSON = "json"


def exportable_tables() -> tuple[str, ...]:
    """The tables an export may name, sorted."""
    return tuple(sorted(Base.metadata.tables))


def export_table(path: Path | str, table: str, fmt: ExportFormat | str, out: TextIO) -> int:
    """Write every row of `table` in the store at `path` to `out`; return the row count.

    Raises `UnknownTable` for a table that is not one of the store's,
    `UnsupportedFormat` for a format other than csv or json, `StoreNotFound`
    for a missing store and `StoreUnreadable` when SQLite cannot read it.
    Secret columns are never written.
    """
    try:
        fmt = ExportFormat(fmt)
    except ValueError:
        raise UnsupportedFormat(fmt=str(fmt)) from None
    known = exportable_tables()
    if table not in known:
        raise UnknownTable(table=table, known=", ".join(known))
    path = Path(path)
    if not path.exists():
        raise StoreNotFound(path=str(path))
    connection = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
    )
    try:
        return _export(connection, path, table, fmt, out)
    except sqlite3.Error as exc:
        raise StoreUnreadable(path=str(path), reason=str(exc)) from exc
    finally:
        connection.close()


def _export(
    connection: sqlite3.Connection, path: Path, table: str, fmt: ExportFormat, out: TextIO
) -> int:
    db = sqlite_utils.Database(connection, execute_plugins=False)
    source = db.table(table)
    if not source.exists():
        # A store older than this code, not migrated yet.
        raise UnknownTable(table=table, known=", ".join(sorted(db.table_names())))
    hidden = secret_columns(table)
    columns = [column.name for column in source.columns if column.name not in hidden]
    order = ", ".join(quote_identifier(pk) for pk in source.pks)
    rows = source.rows_where(
        select=", ".join(quote_identifier(name) for name in columns), order_by=order
    )
    if fmt is ExportFormat.CSV:
        return _write_csv(columns, rows, out)
    return _write_json(rows, out)


def _write_csv(columns: list[str], rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(
            base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
            for value in row.values()
        )
        count += 1
    return count


def _write_json(rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    out.write("[")
    count = 0
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(
            json.dumps({key: _json_value(value) for key, value in row.items()}, ensure_ascii=False)
        )
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    return value
