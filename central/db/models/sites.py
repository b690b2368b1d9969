"""Vaccination sites: where they are, when they open, what they can hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Double, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import Base, CentralRecord
from central.db.types import UTCDateTime, json_document


class Site(CentralRecord, Base):
    """A vaccination site. Born at the hub; every site pulls the list.

    ``opening_hours`` maps ISO weekday names to lists of ``["HH:MM", "HH:MM"]``
    local-time intervals (``{"mon": [["08:00", "20:00"]], ...}``), in the site's
    ``timezone``. ``products`` is the list of product codes (from the rule set)
    the site can store. ``vaccinators`` is how many can vaccinate in parallel,
    so a slot holds that many people. ``address`` is the street address
    printed on invitations (NULL for a site created before it was recorded).
    """

    __tablename__ = "sites"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("slot_minutes BETWEEN 1 AND 240", name="slot_minutes_range"),
        CheckConstraint("vaccinators >= 0", name="vaccinators_not_negative"),
    )

    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str | None] = mapped_column(String(300), default=None)
    latitude: Mapped[float] = mapped_column(Double)
    longitude: Mapped[float] = mapped_column(Double)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Belgrade")
    opening_hours: Mapped[dict[str, Any]] = mapped_column(json_document())
    slot_minutes: Mapped[int] = mapped_column(Integer)
    vaccinators: Mapped[int] = mapped_column(Integer)
    products: Mapped[list[str]] = mapped_column(json_document())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
