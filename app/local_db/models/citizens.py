"""Citizens this site knows: those booked here (replicated) and walk-ins registered here.

Demographics have several writers (the hub's intake, any site that edits a
phone number), so they merge field by field (DESIGN.md, sync rule 3):
``field_hlc`` maps each field name to the hybrid-logical-clock timestamp of its
last write, and ``hlc`` is the greatest of them, for cheap "did anything change".
Whoever writes a field must also write its timestamp in the same transaction.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.local_db.models.base import Base, BornAnywhere, enum_type
from domain.jmbg import Sex as Sex


class Citizen(BornAnywhere, Base):
    """A person who may be vaccinated here."""

    __tablename__ = "citizens"
    __table_args__ = (
        sa.Index(None, "family_name_latin", "given_name_latin"),
        sa.CheckConstraint("jmbg IS NULL OR length(jmbg) = 13", name="jmbg_length"),
        sa.CheckConstraint(
            "jmbg IS NOT NULL OR foreign_document IS NOT NULL", name="has_identifier"
        ),
    )

    #: Serbian personal number; NULL only for a foreigner identified by a document.
    jmbg: Mapped[str | None] = mapped_column(sa.String(13), unique=True)
    #: Passport or residence document ("<type>:<country>:<number>") for foreigners.
    foreign_document: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    given_name_latin: Mapped[str] = mapped_column(sa.String(100))
    family_name_latin: Mapped[str] = mapped_column(sa.String(100))
    given_name_cyrillic: Mapped[str] = mapped_column(sa.String(100))
    family_name_cyrillic: Mapped[str] = mapped_column(sa.String(100))
    birth_date: Mapped[date]
    sex: Mapped[Sex] = mapped_column(enum_type(Sex, "sex"))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    email: Mapped[str | None] = mapped_column(sa.String(200))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    municipality_code: Mapped[str] = mapped_column(sa.String(16))
    #: Code of the priority group (health worker, care home, 65+, ...), from domain rules.
    priority_group: Mapped[str] = mapped_column(sa.String(32))
    #: Codes of declared health conditions (domain rules say what they imply).
    conditions: Mapped[list[str]] = mapped_column(default=list)
    #: Product codes in order of preference; ``["any"]`` for no preference.
    preferences: Mapped[list[str]] = mapped_column(default=list)
    #: Field name -> HLC timestamp text of the field's last write.
    field_hlc: Mapped[dict[str, str]] = mapped_column(default=dict)
    #: Greatest timestamp in ``field_hlc``.
    hlc: Mapped[str] = mapped_column(sa.String(64))
    #: True for a walk-in registered at this site rather than booked by the hub.
    walk_in: Mapped[bool] = mapped_column(default=False)
