"""The doses a citizen has actually received, after corrections and retractions.

Dose records are append-only: a ``correction`` voids an earlier record and
states the right facts, a ``retraction`` voids one and says no dose was
given (`central.db.DoseRecord`); a site may also void a record outright
(`central.db.DoseVoid`). The doses in effect are the ``administered`` and
``correction`` records that no later record and no void voids.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import DoseRecord, DoseRecordKind, DoseVoid


def doses_in_effect(session: Session, citizen_id: uuid.UUID) -> list[DoseRecord]:
    """The citizen's doses in effect, by dose number, then time given."""
    records = session.scalars(select(DoseRecord).where(DoseRecord.citizen_id == citizen_id)).all()
    voids = session.scalars(
        select(DoseVoid.dose_id).where(DoseVoid.dose_id.in_([r.id for r in records]))
    ).all()
    return effective(records, voids)


def effective(
    records: Sequence[DoseRecord], voided_ids: Iterable[uuid.UUID] = ()
) -> list[DoseRecord]:
    """The records of `records` that state a dose and are voided by none of them
    (nor named in `voided_ids`, the doses voided outright)."""
    voided = {record.voids_dose_id for record in records if record.voids_dose_id is not None}
    voided.update(voided_ids)
    given = [
        record
        for record in records
        if record.kind != DoseRecordKind.RETRACTION and record.id not in voided
    ]
    return sorted(given, key=lambda record: (record.dose_number, record.administered_at))
