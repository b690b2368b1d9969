"""Dose voids: the statement, made at a site, that a dose record was wrong.

A void names the dose and why. It is append-only, and a dose is voided at
most once (``dose_id`` is unique). The voided dose stops counting (see
`central.certificates.doses` and `central.scheduling.demand`); when the dose
was in fact given with other details, the site also sends the replacement
as a ``correction`` dose record naming the voided one.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import PAYLOAD_HASH_LENGTH, Base, SyncedRecord
from central.db.types import UUID, UTCDateTime


class DoseVoid(SyncedRecord, Base):
    """One voided dose record. Append-only.

    ``voided_at`` is when the mistake was established (clinical time);
    ``site_id`` is the site that voided it (not always the one that gave it).
    """

    __tablename__ = "dose_voids"
    __append_only__ = True

    dose_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("dose_records.id"), unique=True)
    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"))
    reason: Mapped[str] = mapped_column(Text)
    voided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voided_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    payload_hash: Mapped[str] = mapped_column(String(PAYLOAD_HASH_LENGTH))
