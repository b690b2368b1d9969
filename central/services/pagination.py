"""Keyset pagination: opaque cursors and page-size limits for every list.

A cursor is the sort key of the last item of a page, as URL-safe base64 of
a small JSON list. Keyset pages stay correct while rows are added (no item
skipped or repeated, unlike offsets) and cost the same on page 1 and 1,000.
Cursors are not secret and not signed: a forged cursor only moves where
the caller's own, already-authorised listing starts.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any, ClassVar, Final, TypeVarTuple

from sqlalchemy import Row, Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from central.services.errors import FieldProblem, HubError, InvalidRequest

DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 1000
# Bounds what a client may send; generous enough for any sort key the hub
# gives out (keys come from bounded text columns, UTF-8 up to 4 bytes a char).
_MAX_CURSOR_LENGTH: Final = 4096


class BadCursor(HubError):
    code: ClassVar[str] = "pagination.bad_cursor"
    template: ClassVar[str] = (
        "The cursor is not one this hub gave out. Start again from the first page."
    )


def encode_cursor(key: list[Any]) -> str:
    """The cursor for a page ending at the item with sort key `key` (JSON values)."""
    raw = json.dumps(key, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The sort key in `cursor`; raises `InvalidRequest` on field ``cursor`` if broken."""
    try:
        if len(cursor) > _MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidRequest([FieldProblem("cursor", BadCursor())]) from None
    if not isinstance(key, list) or len(key) != arity or not all(isinstance(k, str) for k in key):
        raise InvalidRequest([FieldProblem("cursor", BadCursor())])
    return key


_Ts = TypeVarTuple("_Ts")


def newest_first(
    session: Session,
    query: Select[*_Ts],
    id_column: InstrumentedAttribute[uuid.UUID],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Row[*_Ts]], str | None]:
    """One page of `query`'s rows by `id_column` descending, and the next page's cursor.

    Ids are UUIDv7, so this is newest first. The first item of each row must
    be the entity whose id is `id_column`.
    """
    if cursor is not None:
        (last,) = decode_cursor(cursor, 1)
        try:
            last_id = uuid.UUID(last)
        except ValueError:
            raise InvalidRequest([FieldProblem("cursor", BadCursor())]) from None
        query = query.where(id_column < last_id)
    rows = list(session.execute(query.order_by(id_column.desc()).limit(limit + 1)).all())
    page = rows[:limit]
    if len(rows) <= limit:
        return page, None
    last_row: tuple[Any, ...] = tuple(page[-1])
    return page, encode_cursor([str(last_row[0].id)])
