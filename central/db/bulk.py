"""Inserting many rows fast (demo populations, imports, scheduling runs).

The plain way, ``session.execute(insert(Model), rows)``, spends most of its
time in per-row ORM and statement bookkeeping: about 27,000 citizens/s on
SQLite and 13,000/s on PostgreSQL on the development machine, too slow for a
demo population of a million. `insert_rows` and `insert_columns` keep
SQLAlchemy's own type conversions (the column types' bind processors: UTC
datetimes, UUIDs, JSON) but apply them a column at a time, and hand the
converted tuples straight to the driver: one ``executemany`` per batch on
SQLite, ``COPY ... FROM STDIN`` on PostgreSQL. Both run inside the session's
transaction and are checked by every constraint and trigger, exactly like
ordinary INSERTs.

Column at a time: a column's converter runs over the whole column, and for
the types whose conversion depends on the value alone (instants, dates,
times) each distinct value is converted once: a run stamps a hundred
thousand rows with the same ``created_at``. Naive datetimes are still
refused, because a naive value never equals an aware one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final

from sqlalchemy import JSON, Column, Date, Dialect, Table, Time, Uuid
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from central.db.base import Base
from central.db.bulk_ids import HexUuids, UuidBlock
from central.db.types import UTCDateTime

DEFAULT_BATCH_SIZE = 10_000
BULK_PAGE_CACHE_KIB: Final = 262_144
"""SQLite page cache for large loads (256 MiB): the index pages stay in memory."""

_Processor = Callable[[Any], Any] | None
_Converter = Callable[[Sequence[Any]], list[Any]]
_MISSING: Final = object()
_HEX_DIGITS: Final = frozenset("0123456789abcdef")
_BY_VALUE: Final = (UTCDateTime, Date, Time)
"""Types whose stored form depends on the value alone (see the module docstring)."""


def insert_rows(
    session: Session,
    model: type[Base],
    rows: Iterable[Mapping[str, Any]],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Insert `rows` (mappings of column name to value) into `model`'s table.

    Every row must have the same keys as the first. Columns left out get their
    Python-side default (UUIDv7 ids, ``active=True``); values are converted as
    for any insert (naive datetimes are refused). `rows` may be a generator:
    at most `batch_size` rows are held at once. Runs in the session's
    transaction and does not commit. Returns the number of rows inserted.

    Raises ``ValueError`` for unknown columns or rows with differing keys.
    """
    _check_batch_size(batch_size)
    table = _table_of(model)
    session.flush()  # pending ORM objects first: the rows may refer to them
    connection = session.connection()
    plan: _InsertPlan | None = None
    total = 0
    iterator = iter(rows)
    while batch := list(islice(iterator, batch_size)):
        if plan is None:
            plan = _InsertPlan.for_columns(table, connection.dialect, tuple(batch[0].keys()), ())
        _write(connection, plan, plan.convert(_transpose(plan.given, batch), len(batch)))
        total += len(batch)
    return total


def insert_columns(
    session: Session,
    model: type[Base],
    columns: Mapping[str, Sequence[Any] | UuidBlock],
    *,
    json_text: Collection[str] = (),
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Insert rows given column by column into `model`'s table.

    `columns` maps column names to their values, row i of the table being the
    i-th value of every column; all must be equally long. As in `insert_rows`,
    columns left out get their Python-side default and values are converted
    as for any insert. Two shortcuts for values prepared in bulk: a UUID
    column may be given as a `UuidBlock` or as `HexUuids`, and the JSON columns named in
    `json_text` take documents already serialised by ``json.dumps`` (text, or
    None for SQL NULL), stored unchanged. Runs in the session's transaction
    and does not commit. Returns the number of rows inserted.

    Raises ``ValueError`` for unknown columns, columns of differing lengths,
    ids in bulk for a column that holds no UUIDs, `HexUuids` that are not 32
    lowercase hex digits each, or a `json_text` name that is not a JSON
    column given.
    """
    _check_batch_size(batch_size)
    table = _table_of(model)
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of {table.name} differ in length: {sorted(lengths)}")
    count = lengths.pop() if lengths else 0
    session.flush()
    connection = session.connection()
    plan = _InsertPlan.for_columns(table, connection.dialect, tuple(columns), tuple(json_text))
    given: list[Sequence[Any]] = []
    for key in plan.given:
        values = columns[key]
        if isinstance(values, UuidBlock | HexUuids):
            if not isinstance(table.c[key].type, Uuid):
                raise ValueError(f"{table.name}.{key} holds no UUIDs: ids in bulk do not fit")
            values = _checked_hex(table, key, values)
            plan = plan.stored_as_given(key)
        given.append(values)
    for start in range(0, count, batch_size):
        end = min(start + batch_size, count)
        _write(connection, plan, plan.convert([v[start:end] for v in given], end - start))
    return count


def _checked_hex(table: Table, key: str, values: UuidBlock | HexUuids) -> HexUuids:
    """The ids as 32 hex digits each: the stored form on SQLite, and PostgreSQL's
    ``uuid`` reads it too."""
    if isinstance(values, UuidBlock):
        return values.hex  # made as such
    if not set(map(len, values)) <= {32} or not set("".join(values)) <= _HEX_DIGITS:
        raise ValueError(f"{table.name}.{key}: HexUuids must be 32 lowercase hex digits each")
    return values


@contextmanager
def bulk_page_cache(session: Session, kib: int = BULK_PAGE_CACHE_KIB) -> Iterator[None]:
    """On SQLite, give the session's connection a page cache of `kib` KiB while the
    block runs, then the size it had: inserting hundreds of thousands of rows into
    indexed tables otherwise reads the same index pages from disk again and again.
    Does nothing on other engines (PostgreSQL's buffers are the server's)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")


def _table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _transpose(keys: tuple[str, ...], batch: list[Mapping[str, Any]]) -> list[list[Any]]:
    """The batch's columns, in the order of `keys`; every row must have exactly them."""
    width = len(keys)
    if any(len(row) != width for row in batch):
        odd = next(row for row in batch if len(row) != width)
        raise ValueError(f"every row needs exactly the keys {list(keys)}; got {list(odd)}")
    try:
        return [[row[key] for row in batch] for key in keys]
    except KeyError as missing:
        raise ValueError(
            f"every row needs exactly the keys {list(keys)}; missing {missing}"
        ) from None


@dataclass(frozen=True)
class _InsertPlan:
    """How to turn columns of values into driver-ready rows, and where they go."""

    given: tuple[str, ...]
    converters: tuple[_Converter, ...]
    defaults: tuple[tuple[Callable[[], Any], _Processor], ...]
    insert_sql: str
    copy_sql: str

    @classmethod
    def for_columns(
        cls, table: Table, dialect: Dialect, keys: tuple[str, ...], json_text: tuple[str, ...]
    ) -> _InsertPlan:
        unknown = [key for key in keys if key not in table.c]
        if unknown:
            raise ValueError(f"{table.name} has no column(s) {unknown}")
        not_json = [k for k in json_text if k not in keys or not _is_json(table.c[k])]
        if not_json:
            raise ValueError(f"{table.name}: {not_json} name no JSON column given")
        defaulted = [c for c in table.c if c.key not in keys and c.default is not None]
        columns = [table.c[key] for key in keys] + defaulted
        preparer = dialect.identifier_preparer
        target = preparer.format_table(table)
        names = ", ".join(preparer.format_column(column) for column in columns)
        placeholders = ", ".join("?" for _ in columns)
        return cls(
            given=keys,
            converters=tuple(
                list if key in json_text else _converter(table.c[key], dialect) for key in keys
            ),
            defaults=tuple((_default_maker(c), _processor(c, dialect)) for c in defaulted),
            insert_sql=f"INSERT INTO {target} ({names}) VALUES ({placeholders})",
            copy_sql=f"COPY {target} ({names}) FROM STDIN",
        )

    def stored_as_given(self, key: str) -> _InsertPlan:
        """The same plan, taking `key`'s values as they come (already in stored form)."""
        index = self.given.index(key)
        converters = list(self.converters)
        converters[index] = list
        return _InsertPlan(
            self.given, tuple(converters), self.defaults, self.insert_sql, self.copy_sql
        )

    def convert(self, columns: Sequence[Sequence[Any]], count: int) -> list[tuple[Any, ...]]:
        """Driver-ready rows from `count` values of every given column."""
        converted = [
            convert(values) for convert, values in zip(self.converters, columns, strict=True)
        ]
        for make, process in self.defaults:
            made = [make() for _ in range(count)]
            converted.append(made if process is None else [process(v) for v in made])
        return list(zip(*converted, strict=True))


def _processor(column: Column[Any], dialect: Dialect) -> _Processor:
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _is_json(column: Column[Any]) -> bool:
    return isinstance(column.type, JSON)


def _converter(column: Column[Any], dialect: Dialect) -> _Converter:
    """Converts a whole column's values as the column type's bind processor does."""
    process = _processor(column, dialect)
    if process is None:
        return list
    if isinstance(column.type, Uuid) and not dialect.supports_native_uuid:
        # What `Uuid.bind_processor` does for text storage, without a call per value.
        return lambda values: [v if v is None else v.hex for v in values]
    if isinstance(column.type, _BY_VALUE):
        return _memoised(process)
    bound = process
    return lambda values: [bound(v) for v in values]


def _memoised(process: Callable[[Any], Any]) -> _Converter:
    """`process` applied to each value, computed once per distinct value of the column."""

    def convert(values: Sequence[Any]) -> list[Any]:
        memo: dict[Any, Any] = {}
        out: list[Any] = []
        append = out.append
        for value in values:
            stored = memo.get(value, _MISSING)
            if stored is _MISSING:
                stored = memo[value] = process(value)
            append(stored)
        return out

    return convert


def _write(connection: Any, plan: _InsertPlan, values: list[tuple[Any, ...]]) -> None:
    if connection.dialect.name == "postgresql":
        _copy(connection.connection.driver_connection, connection.dialect, plan, values)
    else:
        connection.exec_driver_sql(plan.insert_sql, values)


def _copy(driver: Any, dialect: Dialect, plan: _InsertPlan, values: list[tuple[Any, ...]]) -> None:
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        with driver.cursor() as cursor, cursor.copy(plan.copy_sql) as copy:
            for row in values:
                copy.write_row(row)
    except dbapi_error as error:
        # Raise what an INSERT would have: SQLAlchemy's IntegrityError etc.
        raise DBAPIError.instance(plan.copy_sql, None, error, dbapi_error) from error


def _default_maker(column: Column[Any]) -> Callable[[], Any]:
    default = column.default
    arg: Any = getattr(default, "arg", None)
    if getattr(default, "is_callable", False):
        # SQLAlchemy wraps zero-argument callables to take an execution context.
        return lambda: arg(None)
    if getattr(default, "is_scalar", False):
        return lambda: arg
    raise ValueError(f"column {column.key}: only scalar and callable defaults are supported")
