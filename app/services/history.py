"""A person's vaccination history as this site knows it, and the facts eligibility needs.

"Live" doses are the dose records not voided: the ones given here and the
ones pulled from the hub (given at other sites). A voided record is a mistake
and counts for nothing; its replacement, if any, is live.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.local_db.models.citizens import Citizen
from app.local_db.models.doses import DoseRecord, DoseVoid
from domain.eligibility import CitizenFacts, DoseFact


@dataclass(frozen=True)
class PastDose:
    """A live dose record of the person."""

    dose_id: uuid.UUID
    dose_number: int
    product_code: str
    lot_number: str
    administered_at: datetime
    given_here: bool

    def given_on(self, zone: ZoneInfo) -> date:
        """The calendar day of the dose at `zone` (intervals count days, not hours)."""
        return self.administered_at.astimezone(zone).date()


# Built once, with a bound parameter: it runs on every check-in and scan, and
# building a statement and its cache key costs more than SQLite takes to answer.
# Served by the (citizen_id, dose_number) index and dose_voids' unique dose_id.
_LIVE_DOSES = (
    sa.select(
        DoseRecord.id,
        DoseRecord.dose_number,
        DoseRecord.product_code,
        DoseRecord.lot_number,
        DoseRecord.administered_at,
        DoseRecord.origin_site_id,
    )
    .where(
        DoseRecord.citizen_id == sa.bindparam("citizen_id"),
        ~sa.select(DoseVoid.dose_id).where(DoseVoid.dose_id == DoseRecord.id).exists(),
    )
    .order_by(DoseRecord.dose_number, DoseRecord.administered_at)
)


def live_doses(
    session: Session, citizen_id: uuid.UUID, site_id: uuid.UUID | None = None
) -> tuple[PastDose, ...]:
    """The person's unvoided dose records, by dose number then time."""
    rows = session.execute(_LIVE_DOSES, {"citizen_id": citizen_id})
    return tuple(
        PastDose(dose_id, number, product, lot, at, site_id is not None and origin == site_id)
        for dose_id, number, product, lot, at, origin in rows
    )


def citizen_facts(citizen: Citizen, doses: tuple[PastDose, ...], zone: ZoneInfo) -> CitizenFacts:
    """What `domain.eligibility` needs to know about `citizen`.

    Raises `domain.eligibility.InvalidDoseHistory` when the live records cannot
    be a history (two doses 1, a gap): the records must be corrected first.
    """
    return facts_of(citizen.birth_date, citizen.priority_group, citizen.conditions, doses, zone)


def facts_of(
    birth_date: date,
    priority_group: str,
    conditions: Iterable[str] | None,
    doses: tuple[PastDose, ...],
    zone: ZoneInfo,
) -> CitizenFacts:
    """`citizen_facts` from the citizen's columns, for callers that read only those."""
    return CitizenFacts(
        birth_date=birth_date,
        priority_group=priority_group,
        conditions=frozenset(conditions or ()),
        doses=tuple(DoseFact(d.product_code, d.dose_number, d.given_on(zone)) for d in doses),
    )
