"""The declarative base, the constraint naming convention and the row mixins.

Naming convention: every index and constraint gets a deterministic name, so a
migration can drop or alter it by name on both engines (SQLite's batch mode
recreates tables and needs the names; PostgreSQL's would otherwise be chosen by
the server). Names stay under PostgreSQL's 63-character limit (a test checks).

Row kinds:

- `CentralRecord`: born at the hub (sites, lots, staff, allocations): ``id``,
  ``created_at``, ``created_by``.
- `SyncedRecord`: may be born at a site and pushed to the hub, or born at the
  hub and pulled by sites. Adds ``origin_site_id`` (the site where the row was
  born, taken from the pushing site's credential; NULL for rows born at the
  hub) and ``stored_at`` (hub clock when the row was stored; equal to
  ``created_at`` for rows born at the hub). ``created_at`` is the clock of the
  place of birth and may be wrong (sync rule 6); ``stored_at`` is the hub's.

Ids are UUIDv7 made where the record is born (`domain.ids.uuid7`). The column
default only serves rows born at the hub; a pushed row always brings its id.

``created_by`` names the actor as ``<kind>:<id>``, e.g. ``site-user:<uuid>``,
``staff:<uuid>``, ``scheduler:<run uuid>``, ``portal`` or ``system``: actors
live in different tables, so this is text, not a foreign key. Clinical tables
also carry a real foreign key to the nurse.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Final

from sqlalchemy import CheckConstraint, ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from central.db.types import UUID, UTCDateTime
from domain.ids import uuid7

NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

ACTOR_LENGTH: Final = 80
"""Width of ``created_by``/actor columns: ``site-user:`` plus a UUID fits easily."""

PRODUCT_ID_LENGTH: Final = 64
"""Width of product codes from the rule set's catalogue (``comirnaty``, ``sputnik-v-1``)."""

PAYLOAD_HASH_LENGTH: Final = 64
"""Hex SHA-256 of a record's canonical wire form."""


class Base(DeclarativeBase):
    """Declarative base of every central table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    #: True for tables whose rows are facts that are never updated or deleted.
    #: The initial migration installs database triggers rejecting UPDATE,
    #: DELETE (and TRUNCATE on PostgreSQL) on exactly these tables.
    __append_only__: ClassVar[bool] = False


class CentralRecord:
    """Columns of a row born at the hub."""

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid7, sort_order=-1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))


class SyncedRecord(CentralRecord):
    """Columns of a row that travels between sites and the hub."""

    origin_site_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("sites.id"), default=None
    )
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)


def one_of(column: str, values: type[StrEnum], name: str | None = None) -> CheckConstraint:
    """A CHECK that `column` holds one of the enum's values (or is NULL).

    Named ``ck_<table>_<name or column>`` by the naming convention.
    """
    allowed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name or column)
