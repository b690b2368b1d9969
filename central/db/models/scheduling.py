"""What a scheduling run planned besides appointments.

- ``second_dose_plans``: for a citizen booked for a dose of a series whose
  next dose falls after the run's horizon, the next dose's product, its
  earliest and latest day and the site it should be given at. A later run
  books it; the plan tells the hub's staff (and the citizen, through the
  site) what is coming.
- ``standby_entries``: per site, day and multi-dose product, citizens in call
  order (``position`` 1 first) who were not booked and may be called in when
  the session's last opened vial has doses left. Sites receive the lists of
  their own sessions in their pull.

Both are written once by the run that decided them and name it; a newer run
supersedes them (readers take the latest run's rows).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import PRODUCT_ID_LENGTH, Base, CentralRecord
from central.db.types import UUID


class SecondDosePlan(CentralRecord, Base):
    """The next dose of a series, due after the horizon of the run that planned it."""

    __tablename__ = "second_dose_plans"
    __table_args__ = (
        CheckConstraint("dose_number >= 2", name="dose_number_later"),
        CheckConstraint("latest >= earliest", name="window_order"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("scheduler_runs.id"), index=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("citizens.id"), index=True)
    dose_number: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(String(PRODUCT_ID_LENGTH))
    earliest: Mapped[date] = mapped_column(Date)
    latest: Mapped[date] = mapped_column(Date)
    site_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("sites.id"))


class StandbyEntry(CentralRecord, Base):
    """One citizen on the standby list of one site-day-product session."""

    __tablename__ = "standby_entries"
    __table_args__ = (
        CheckConstraint("position >= 1", name="position_positive"),
        Index("ix_standby_entries_session", "run_id", "site_id", "day", "product_id", "position"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("scheduler_runs.id"))
    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"))
    day: Mapped[date] = mapped_column(Date)
    product_id: Mapped[str] = mapped_column(String(PRODUCT_ID_LENGTH))
    position: Mapped[int] = mapped_column(Integer)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("citizens.id"))
