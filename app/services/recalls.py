"""Recalled lots at this site, and warnings about lots and vials running out of time.

A recall comes down from the hub in the site's pull (`app.sync.apply_stock`)
and is in force until the hub lifts it. For each recall in force,
`recalled_lots` lists:

- the registered vials of the lot not yet discarded (to take out of use and
  quarantine), with whether each was opened;
- how many vials of the lot the books still expect in the fridge
  (`app.services.stock_count.expected_vials`), registered or not;
- the citizens who already received a dose from the lot (dose records not
  voided), so they can be contacted.

`quarantine_recalled` discards every such vial with the reason ``recalled``
through the vial fold of `app.services.vials` (so a vial already discarded
is left as it is, never discarded twice). Scans of a recalled lot are refused
by `app.services.vials` itself.

`stock_warnings` lists lots held here that expire soon and opened vials
whose time after opening runs out soon.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.citizens import Citizen
from app.local_db.models.doses import DoseRecord, DoseVoid
from app.local_db.models.stock import Recall, Vial, VialEvent, VialEventKind
from app.local_db.unit_of_work import session_scope
from app.services.stock_count import expected_stock, expected_vials
from app.services.vials import VialState, discard_in, state_of
from app.services.workplace import audit, local_day, site_here, staff_member
from domain.catalogue import Product
from domain.clock import Clock
from domain.data import load_rules

RECALLED: str = "recalled"
"""The discard reason of a vial taken out of use by a recall."""


@dataclass(frozen=True)
class QuarantineVial:
    """A registered vial of a recalled lot, still in use or in the fridge."""

    vial_id: uuid.UUID
    serial: str
    opened: bool
    doses_drawn: int


@dataclass(frozen=True)
class AffectedCitizen:
    """Someone who received a dose from a recalled lot here."""

    citizen_id: uuid.UUID
    jmbg: str | None
    name: str
    phone: str | None
    dose_id: uuid.UUID
    dose_number: int
    administered_at: datetime


@dataclass(frozen=True)
class RecalledLot:
    """A recall in force, and what it means at this site."""

    gtin: str
    lot_number: str
    product_code: str
    reason: str
    recalled_at: datetime
    vials_to_quarantine: tuple[QuarantineVial, ...]
    vials_in_fridge: int
    citizens: tuple[AffectedCitizen, ...]


@dataclass(frozen=True)
class ExpiringLot:
    """A lot held here that expires soon."""

    product_code: str
    gtin: str
    lot_number: str
    expiry_date: date
    days_left: int
    vials: int


@dataclass(frozen=True)
class ExpiringVial:
    """An opened vial whose time after opening runs out soon."""

    vial_id: uuid.UUID
    serial: str
    lot_number: str
    use_by: datetime
    minutes_left: int
    doses_left: int


@dataclass(frozen=True)
class StockWarnings:
    """What a nurse or manager should act on soon."""

    lots: tuple[ExpiringLot, ...]
    vials: tuple[ExpiringVial, ...]


def _product(gtin: str) -> Product:
    return load_rules().catalogue.by_gtin(gtin)


def _live_vials(session: Session, gtin: str, lot: str) -> list[tuple[Vial, VialState]]:
    vials = session.scalars(
        sa.select(Vial).where(Vial.gtin == gtin, Vial.lot_number == lot).order_by(Vial.serial)
    ).all()
    product = _product(gtin)
    states = [(vial, state_of(session, vial, product)) for vial in vials]
    return [(vial, state) for vial, state in states if not state.is_discarded]


def _citizens(session: Session, gtin: str, lot: str) -> tuple[AffectedCitizen, ...]:
    voided = sa.select(DoseVoid.dose_id)
    replaced = sa.select(DoseRecord.voids_dose_id).where(DoseRecord.voids_dose_id.is_not(None))
    rows = session.execute(
        sa.select(DoseRecord, Citizen)
        .join(Citizen, Citizen.id == DoseRecord.citizen_id)
        .where(
            DoseRecord.gtin == gtin,
            DoseRecord.lot_number == lot,
            DoseRecord.id.not_in(voided),
            DoseRecord.id.not_in(replaced),
        )
        .order_by(DoseRecord.administered_at)
    ).all()
    return tuple(
        AffectedCitizen(
            citizen.id,
            citizen.jmbg,
            f"{citizen.given_name_latin} {citizen.family_name_latin}",
            citizen.phone,
            dose.id,
            dose.dose_number,
            dose.administered_at,
        )
        for dose, citizen in rows
    )


def recalled_lots(engine: Engine) -> list[RecalledLot]:
    """Every recall in force, with the vials to quarantine and the citizens affected."""
    with session_scope(engine, write=False) as session:
        recalls = session.scalars(
            sa.select(Recall).where(Recall.lifted_at.is_(None)).order_by(Recall.recalled_at)
        ).all()
        books = expected_vials(session)
        found = []
        for recall in recalls:
            live = _live_vials(session, recall.gtin, recall.lot_number)
            found.append(
                RecalledLot(
                    recall.gtin,
                    recall.lot_number,
                    recall.product_code,
                    recall.reason,
                    recall.recalled_at,
                    tuple(
                        QuarantineVial(v.id, v.serial, s.is_open, s.doses_drawn) for v, s in live
                    ),
                    max(books.get((recall.gtin, recall.lot_number), 0), 0),
                    _citizens(session, recall.gtin, recall.lot_number),
                )
            )
        return found


def quarantine_recalled(
    engine: Engine, clock: Clock, actor: uuid.UUID, gtin: str, lot_number: str
) -> int:
    """Discard (reason ``recalled``) every registered vial of the lot still in use; return how many.

    Unregistered vials in the fridge are set aside by hand; they are refused
    at scan. Raises the workplace's refusals (unknown user).
    """
    with session_scope(engine) as session:
        site = site_here(session)
        staff = staff_member(session, actor)
        now = clock.now()
        live = _live_vials(session, gtin.zfill(14), lot_number)
        for vial, state in live:
            discard_in(session, vial, state, site, actor, now, RECALLED)
        audit(
            session, site, staff, now, "lot.quarantined", "recalls", uuid.UUID(int=0),
            gtin=gtin, lot=lot_number, vials=len(live),
        )  # fmt: skip
        return len(live)


def stock_warnings(
    engine: Engine, clock: Clock, *, expiry_days: int = 14, open_minutes: int = 60
) -> StockWarnings:
    """Lots held here expiring within `expiry_days` days, and opened vials whose use-by
    time is less than `open_minutes` away (or already passed) and not yet discarded."""
    now = clock.now()
    lots = []
    with session_scope(engine, write=False) as session:
        today = local_day(session, clock)
    for line in expected_stock(engine):
        if line.expiry_date is None or line.expected_vials <= 0:
            continue
        days_left = (line.expiry_date - today).days
        if days_left <= expiry_days:
            lots.append(
                ExpiringLot(
                    line.product_code,
                    line.gtin,
                    line.lot_number,
                    line.expiry_date,
                    days_left,
                    line.expected_vials,
                )
            )
    vials = []
    with session_scope(engine, write=False) as session:
        opened = sa.select(VialEvent.vial_id).where(VialEvent.kind == VialEventKind.OPENED)
        gone = sa.select(VialEvent.vial_id).where(VialEvent.kind == VialEventKind.DISCARDED)
        in_use = sa.select(Vial).where(Vial.id.in_(opened), Vial.id.not_in(gone))
        for vial in session.scalars(in_use):
            state = state_of(session, vial, _product(vial.gtin))
            if state.use_by is None or state.is_discarded:
                continue
            left = state.use_by - now
            if left <= timedelta(minutes=open_minutes):
                vials.append(
                    ExpiringVial(
                        vial.id,
                        vial.serial,
                        vial.lot_number,
                        state.use_by,
                        int(left.total_seconds() // 60),
                        state.doses_left,
                    )
                )
    return StockWarnings(
        tuple(sorted(lots, key=lambda x: (x.expiry_date, x.lot_number))),
        tuple(sorted(vials, key=lambda x: x.use_by)),
    )
