"""The declarative base, column types and the columns every synced record carries.

Conventions that sync relies on (DESIGN.md, "Sync: rules that keep every dose"):

* ``id`` is a UUIDv7 made where the record is born, here or at the hub; a
  replica row keeps the id it was born with.
* ``origin_site_id`` is the site where the record was born. For records a site
  makes it is never NULL; for records the hub can make (citizens, appointments)
  NULL means "born at the hub".
* ``created_at`` is when the row was recorded, on the recording machine's clock;
  ``created_by`` is the local user who recorded it (a user of another site for
  replicated rows, so it is not a foreign key). Clinical time is a separate
  column on each clinical fact (``administered_at``, ``occurred_at``, ...),
  because clocks are wrong and the two must never be confused.
* Rows with several writers carry a hybrid-logical-clock string (see
  `domain.hlc`), which sorts as text.

Times are stored as UTC text (`UtcDateTime`) and come back timezone-aware, so
a naive datetime cannot slip in and be read as local time.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from domain.ids import uuid7

NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Mixin columns: the id first, the recording columns last, whatever the class declares.
_LAST: Final = 1000

#: Column ``info`` flag for values that must never leave the store in clear
#: (exports skip them; see `app.local_db.export`).
SECRET: Final = "secret"  # noqa: S105 (a flag name, not a password)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware datetime stored as naive UTC.

    Refuses naive datetimes on the way in: "08:00" without a zone is
    ambiguous between Belgrade and UTC, and a dose time must not be.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused by the site store: {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every table in the site store."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)
        uuid.UUID: sa.Uuid(),
        datetime: UtcDateTime(),
        date: sa.Date(),
        dict[str, Any]: sa.JSON(),
        dict[str, str]: sa.JSON(),
        list[str]: sa.JSON(),
    }


def enum_type(enum_class: type[enum.StrEnum], name: str) -> sa.Enum:
    """A text column restricted to the enum's values by a CHECK constraint.

    Values (not member names) are stored, so the database reads as the wire
    format does.
    """
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class BornAtSite:
    """Columns of a record that only a site makes (clinical and stock facts)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7, sort_order=-2)
    origin_site_id: Mapped[uuid.UUID] = mapped_column(sort_order=-1)
    created_at: Mapped[datetime] = mapped_column(sort_order=_LAST)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sort_order=_LAST)


class BornAnywhere:
    """Columns of a record that the hub or a site may make; NULL origin is the hub."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7, sort_order=-2)
    origin_site_id: Mapped[uuid.UUID | None] = mapped_column(sort_order=-1)
    created_at: Mapped[datetime] = mapped_column(sort_order=_LAST)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sort_order=_LAST)


class ReplicaOfHub:
    """Columns of a record the hub owns and a site only mirrors (lots, recalls, ...)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, sort_order=-2)
    created_at: Mapped[datetime] = mapped_column(sort_order=_LAST)
