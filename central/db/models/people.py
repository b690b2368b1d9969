"""Citizens and their registrations of interest."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import Base, SyncedRecord, one_of
from central.db.enums import Sex
from central.db.types import UUID, UTCDateTime, hlc_string, json_document


class Citizen(SyncedRecord, Base):
    """A person who may be vaccinated. Several writers: merged field by field.

    The hub (portal, staff) and any site (walk-in, corrected phone number) may
    change demographics. ``field_hlc`` maps each field name to the
    `domain.hlc.Timestamp` text of its last write; a merge keeps, per field, the
    write with the greater timestamp. ``hlc`` is the greatest timestamp in
    ``field_hlc`` (the row's version, handy for "changed since").

    ``conditions`` is a list of condition codes from the rule set;
    ``vaccine_preferences`` an ordered list of product codes, or ``["any"]``.
    ``priority_group`` is a group code of the rule set; groups change with
    policy, so there is no CHECK on it.
    """

    __tablename__ = "citizens"
    __table_args__ = (
        one_of("sex", Sex),
        Index("ix_citizens_priority_waiting", "priority_group", "registered_at"),
    )

    jmbg: Mapped[str] = mapped_column(String(13), unique=True)
    first_name_latin: Mapped[str] = mapped_column(String(100))
    last_name_latin: Mapped[str] = mapped_column(String(100))
    first_name_cyrillic: Mapped[str] = mapped_column(String(100))
    last_name_cyrillic: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    municipality: Mapped[str] = mapped_column(String(100), index=True)
    priority_group: Mapped[str] = mapped_column(String(40))
    conditions: Mapped[list[str]] = mapped_column(json_document())
    vaccine_preferences: Mapped[list[str]] = mapped_column(json_document())
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    field_hlc: Mapped[dict[str, str]] = mapped_column(json_document())
    hlc: Mapped[str] = mapped_column(hlc_string())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Registration(SyncedRecord, Base):
    """One expression of interest, as submitted (portal form, site walk-in).

    ``payload`` keeps the submission as received, so the citizen row can be
    audited against what the person actually asked for.
    """

    __tablename__ = "registrations"

    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("citizens.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(json_document())
    hlc: Mapped[str] = mapped_column(hlc_string())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CitizenAlias(Base):
    """Another id a site gave a citizen the hub already knew: one person, two ids.

    A site registering a walk-in offline gives the person a new id; when the
    hub already holds that JMBG, the person is one citizen. The hub merges the
    site's write into the citizen it holds (identity differences go to the
    conflict log) and records the site's id here, so every record the site
    sends under it (the dose, the walk-in appointment, a certificate) lands on
    the one citizen. ``field_hlc`` holds, per field, the latest timestamp the
    site wrote under the alias: the version of the person as that site holds
    them, which the hub's replica check compares (`central.services.sync.verify`).
    Rows are never deleted.
    """

    __tablename__ = "citizen_aliases"

    alias_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("citizens.id"), index=True)
    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"), index=True)
    field_hlc: Mapped[dict[str, str]] = mapped_column(json_document())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
