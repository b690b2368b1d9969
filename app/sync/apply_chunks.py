"""Applying pulled entries in chunks: the appliers of `app.sync.apply`, for less.

`apply_changes` gives each entry a savepoint and a flush, and the appliers
look each record (and what it refers to) up with ``Session.get``: in a
bootstrap or a day's roster nearly every lookup misses, and each miss is a
query after flushing what is pending. `apply_in_chunks` runs the same
appliers over chunks of entries: one savepoint per chunk, one flush per
table, and lookups answered from the chunk where it knows the answer
(`_ChunkSession`). A chunk holding an entry the store refuses (a `Skip`, a
constraint) is rolled back and applied again by `apply_changes`, entry by
entry, which reports that entry and keeps the rest: the outcome is the
same, only cheaper.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from itertools import groupby
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.local_db.models.base import Base
from app.sync.apply import APPLIERS, ApplyContext, ApplyReport, Skip, apply_changes
from app.sync.apply_bulk import BULK_TABLES, insert_new
from domain.sync_wire import PulledChange

log = logging.getLogger("imuno.site.sync")

CHUNK: Final = 500
"""Entries applied under one savepoint."""


def apply_in_chunks(
    session: Session, site_id: uuid.UUID, changes: list[PulledChange], now: datetime
) -> ApplyReport:
    """Apply pulled or snapshot entries in `session`'s transaction, a chunk per savepoint.

    The same outcome as `app.sync.apply.apply_changes` (which a chunk falls
    back to when the store refuses one of its entries), for less: see the
    module docstring. The caller stores the cursor in the same transaction.
    """
    report = ApplyReport()
    for start in range(0, len(changes), CHUNK):
        chunk = changes[start : start + CHUNK]
        chunk_session = _ChunkSession(
            bind=session.connection(),
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            absent=_absent(session, chunk),
        )
        try:
            applied, unchanged = _apply_chunk(chunk_session, site_id, chunk, now)
            chunk_session.commit()  # releases the chunk's savepoint
        except (Skip, sa.exc.SQLAlchemyError, ValueError, KeyError) as exc:
            log.info("snapshot chunk applied entry by entry: %s", exc)
            # Some entry this store refuses: entry by entry, so it alone is
            # reported and skipped (the verification after the round sees it).
            chunk_session.rollback()
            one_by_one = apply_changes(session, site_id, chunk, now)
            report.applied += one_by_one.applied
            report.unchanged += one_by_one.unchanged
            report.skipped.extend(one_by_one.skipped)
            continue
        finally:
            chunk_session.close()
        report.applied += applied
        report.unchanged += unchanged
    return report


def _apply_chunk(
    session: _ChunkSession, site_id: uuid.UUID, changes: list[PulledChange], now: datetime
) -> tuple[int, int]:
    """Apply the chunk table by table, parents first, one flush per table.

    The store's rows refer to each other by plain foreign keys, which the
    ORM does not order its inserts by, so each table is flushed before the
    tables referring to it. A snapshot holds each record once, and a record
    only refers to records that appeared before it; taking a chunk's parents
    first therefore changes nothing but the number of flushes. Entries of
    tables this store does not keep as rows (``sites`` sets the settings
    appointments read) come first.
    """
    ctx = ApplyContext(session, site_id, now)
    rank = _table_ranks()
    applied = unchanged = 0
    ordered = sorted(changes, key=lambda change: rank.get(change.table, -1))
    for table, group in groupby(ordered, key=lambda change: change.table):
        entries = list(group)
        if table in BULK_TABLES:
            inserted, entries = insert_new(ctx, table, entries, session.is_absent, session.inserted)
            session.now_held(BULK_TABLES[table].model, inserted)
            applied += len(inserted)
        for change in entries:
            applier = APPLIERS.get(change.table)
            if applier is None or change.op != "upsert" or change.payload is None:
                unchanged += 1
                continue
            if applier(ctx, change, change.payload):
                applied += 1
            else:
                unchanged += 1
        session.flush()
    return applied, unchanged


def _table_ranks() -> dict[str, int]:
    return {table.name: rank for rank, table in enumerate(Base.metadata.sorted_tables)}


_Key = tuple[type[Any], tuple[Any, ...]]


def _models_by_table() -> dict[str, type[Any]]:
    models: dict[str, type[Any]] = {}
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if isinstance(table, sa.Table) and len(mapper.primary_key) == 1:
            models[table.name] = mapper.class_
    return models


def _absent(session: Session, changes: list[PulledChange]) -> set[_Key]:
    """The chunk's records this store does not hold, found with one query per table."""
    models = _models_by_table()
    wanted: dict[str, set[uuid.UUID]] = {}
    for change in changes:
        if change.table in models:
            wanted.setdefault(change.table, set()).add(change.record_id)
    absent: set[_Key] = set()
    for table, ids in wanted.items():
        model = models[table]
        key = sa.inspect(model).primary_key[0]
        held = set(session.scalars(sa.select(key).where(key.in_(ids))))
        absent.update((model, (record_id,)) for record_id in ids - held)
    return absent


class _ChunkSession(Session):
    """A session for one chunk whose `get` needs no query for what the chunk knows.

    The appliers look up each record (and what it refers to) with `get`. In a
    bootstrap nearly every lookup misses, and each miss is a query (after
    flushing everything pending). Here `get` answers from the chunk: a row
    added in this chunk is returned as it was added, a record found absent
    by `_absent` (one query per table) or by an earlier `get` is None;
    anything else is an ordinary `get`, without the autoflush (what is
    pending was added here). Rows go to the store in one flush at the
    chunk's end.
    """

    def __init__(self, *args: Any, absent: set[_Key], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._absent = absent
        self._added: dict[_Key, object] = {}
        self.inserted: dict[type[Any], set[uuid.UUID]] = {}
        """Records inserted behind the ORM's back in this chunk, by model."""

    def add(self, instance: object, _warn: bool = True) -> None:
        super().add(instance, _warn=_warn)
        mapper = sa.inspect(type(instance))
        key = tuple(mapper.primary_key_from_instance(instance))
        if all(part is not None for part in key):
            self._added[(mapper.class_, key)] = instance

    def is_absent(self, entity: type[Any], record_id: uuid.UUID) -> bool:
        """Whether the chunk found the store not to hold this record (nor added it)."""
        key = (entity, (record_id,))
        return key in self._absent and key not in self._added

    def now_held(self, entity: type[Any], record_ids: list[uuid.UUID]) -> None:
        """Records inserted behind the ORM's back: `get` must ask the store for them."""
        for record_id in record_ids:
            self._absent.discard((entity, (record_id,)))
        self.inserted.setdefault(entity, set()).update(record_ids)

    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        key = (entity, ident if isinstance(ident, tuple) else (ident,))
        added = self._added.get(key)
        if added is not None:
            state = sa.inspect(added)
            if not (state.deleted or state.detached or added in self.deleted):
                return added
            del self._added[key]  # deleted in this chunk: ask the store
        elif key in self._absent:
            return None
        with self.no_autoflush:  # whatever is pending was added here: it is in `_added`
            found = super().get(entity, ident, **kwargs)
        if found is None:
            self._absent.add(key)
        else:
            self._added[key] = found  # held: the identity map alone would let it go
        return found
