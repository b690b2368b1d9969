"""Column types that behave the same on SQLite and PostgreSQL.

- `UTCDateTime`: an instant. Always returned timezone-aware in UTC; a naive
  datetime is refused on write, because nobody can tell later which clock it
  meant (a site laptop in local time? the hub in UTC?). PostgreSQL stores
  ``timestamp with time zone``; SQLite stores the UTC wall time as fixed-width
  ISO text (``2021-03-01 08:00:00.000000``), which sorts chronologically.
- `UUID`: SQLAlchemy's `Uuid`: native ``uuid`` on PostgreSQL, 32 hex characters
  on SQLite. UUIDv7 text sorts by creation time on both.
- `JSONDocument`: ``jsonb`` on PostgreSQL (indexable, compact), JSON text on
  SQLite. Python ``None`` is stored as SQL NULL, not the JSON literal ``null``.
- `HLCString`: a hybrid logical clock timestamp in the sortable text form of
  `domain.hlc.Timestamp.encode` (``"0177ba3c5f10.0000.site-042"``: 12 hex digits
  of wall milliseconds, 4 of counter, then the node). Compared as text, so on
  PostgreSQL the column uses the "C" collation: a linguistic collation such as
  en_US.UTF-8 ignores punctuation at the first level and would order
  ``.`` and ``-`` differently from Python.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import JSON, DateTime, Dialect, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

HLC_LENGTH: Final = 64
"""Room for 18 characters of wall time and counter plus a node name of up to 46."""


class NaiveDateTimeError(TypeError):
    """A datetime without a timezone was given where an instant is stored.

    A programming error, never a user's: convert to an aware datetime (the
    injected `domain.clock.Clock` already returns aware UTC times).
    """


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, stored in UTC and always read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise NaiveDateTimeError(f"expected a timezone-aware datetime, got {value!r}")
        if value.tzinfo is UTC:
            utc = value  # the common case, kept cheap for bulk loads
        elif value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDateTimeError(
                f"refusing naive datetime {value.isoformat()}: give it a timezone (UTC)"
            )
        else:
            utc = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite has no timezone type: keep the UTC wall time, so text order
            # is time order.
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


UUID: Final = Uuid(as_uuid=True)
"""Primary and foreign keys: native ``uuid`` on PostgreSQL, CHAR(32) on SQLite."""


def json_document() -> TypeEngine[Any]:
    """A JSON column type: ``jsonb`` on PostgreSQL, JSON text on SQLite."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def hlc_string() -> TypeEngine[str]:
    """A column type for `domain.hlc.Timestamp` text, byte-ordered on both engines."""
    return String(HLC_LENGTH).with_variant(String(HLC_LENGTH, collation="C"), "postgresql")
