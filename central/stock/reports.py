"""Wastage and stock reports for central staff.

- `usage`: per site, product and local day: vials opened, doses they held,
  doses drawn, and dose records (administered, not voided).
- `wastage`: per site, product and reason: vials discarded and the doses
  lost with them (an opened vial loses the doses not drawn from it; a vial
  broken on the road, all of them).
- `cover`: per site and product: usable vials and doses on hand, doses
  booked over the coming days, and how many days the stock lasts at that
  rate.
- `near_expiry`: lots with vials anywhere (warehouse, sites, on the road)
  that expire within a number of days.

Days are the site's local calendar days (its ``timezone``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from central.db import (
    DoseRecord,
    DoseRecordKind,
    Lot,
    MovementKind,
    Site,
    StockMovement,
    Vial,
    VialEvent,
)
from central.db.models.voids import DoseVoid
from central.stock.availability import usable_lots
from central.stock.catalogue import stock_catalogue
from central.stock.demand import booked_doses
from central.stock.locations import SITE_PREFIX, WASTE, site_of
from central.stock.lots import recalls_in_force
from central.stock.positions import positions

DAMAGED_ON_THE_ROAD = "damaged on the road"


@dataclass(frozen=True)
class UsageRow:
    """Doses used against vials opened at one site, for one product, on one day."""

    site_code: str
    product_id: str
    day: date
    vials_opened: int
    doses_in_opened_vials: int
    doses_drawn: int
    doses_recorded: int


@dataclass(frozen=True)
class WastageRow:
    """Vials discarded for one reason at one site, of one product."""

    site_code: str
    product_id: str
    reason: str
    vials: int
    doses_lost: int


@dataclass(frozen=True)
class CoverRow:
    """Usable stock of a product at a site and how long it lasts."""

    site_code: str
    product_id: str
    vials: int
    doses: int
    doses_booked: int
    days_of_cover: float | None  # None: nothing booked


@dataclass(frozen=True)
class ExpiryRow:
    """Vials of a lot at one location that expire soon."""

    location: str
    site_code: str | None
    product_id: str
    gtin: str
    lot_number: str
    expiry: date
    days_left: int
    vials: int
    recalled: bool


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    # A day wider on both sides: local days of any site's timezone fit inside.
    first = max(start, date.min + timedelta(days=1)) - timedelta(days=1)
    last = min(end, date.max - timedelta(days=2)) + timedelta(days=2)
    return datetime.combine(first, time(0), UTC), datetime.combine(last, time(0), UTC)


def _sites(session: Session) -> dict[uuid.UUID, Site]:
    return {site.id: site for site in session.scalars(select(Site))}


def usage(session: Session, start: date, end: date) -> list[UsageRow]:
    """Doses used vs vials opened per site, product and local day, `start`..`end`."""
    sites = _sites(session)
    per_vial = {p.id: p.doses_per_vial for p in stock_catalogue().products}
    since, until = _window(start, end)
    counts: dict[tuple[uuid.UUID, str, date], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    events = session.execute(
        select(VialEvent.site_id, Lot.product_id, VialEvent.kind, VialEvent.occurred_at)
        .join(Vial, Vial.id == VialEvent.vial_id)
        .join(Lot, Lot.id == Vial.lot_id)
        .where(
            VialEvent.kind.in_(["opened", "dose_drawn"]),
            VialEvent.occurred_at >= since,
            VialEvent.occurred_at < until,
        )
    )
    for site_id, product, kind, at in events:
        day = at.astimezone(ZoneInfo(sites[site_id].timezone)).date()
        if start <= day <= end:
            row = counts[(site_id, product, day)]
            if kind == "opened":
                row[0] += 1
                row[1] += per_vial.get(product, 0)
            else:
                row[2] += 1
    voided = exists().where(DoseVoid.dose_id == DoseRecord.id)
    replaced = aliased(DoseRecord)
    corrected = exists().where(replaced.voids_dose_id == DoseRecord.id)
    doses = session.execute(
        select(DoseRecord.site_id, DoseRecord.product_id, DoseRecord.administered_at).where(
            DoseRecord.kind != DoseRecordKind.RETRACTION.value,
            DoseRecord.administered_at >= since,
            DoseRecord.administered_at < until,
            ~voided,
            ~corrected,
        )
    )
    for site_id, product, at in doses:
        day = at.astimezone(ZoneInfo(sites[site_id].timezone)).date()
        if start <= day <= end:
            counts[(site_id, product, day)][3] += 1
    return sorted(
        (UsageRow(sites[s].code, p, d, *values) for (s, p, d), values in counts.items()),
        key=lambda r: (r.site_code, r.product_id, r.day),
    )


def wastage(session: Session, start: date, end: date) -> list[WastageRow]:
    """Vials discarded and doses lost per site, product and reason, `start`..`end`."""
    sites = _sites(session)
    per_vial = {p.id: p.doses_per_vial for p in stock_catalogue().products}
    since, until = _window(start, end)
    drawn = {
        vial_id: int(count)
        for vial_id, count in session.execute(
            select(VialEvent.vial_id, func.count())
            .where(VialEvent.kind == "dose_drawn")
            .group_by(VialEvent.vial_id)
        )
    }
    totals: dict[tuple[uuid.UUID, str, str], list[int]] = defaultdict(lambda: [0, 0])
    discards = session.execute(
        select(
            VialEvent.site_id,
            VialEvent.vial_id,
            VialEvent.reason,
            VialEvent.occurred_at,
            Lot.product_id,
        )
        .join(Vial, Vial.id == VialEvent.vial_id)
        .join(Lot, Lot.id == Vial.lot_id)
        .where(
            VialEvent.kind == "discarded",
            VialEvent.occurred_at >= since,
            VialEvent.occurred_at < until,
        )
    )
    for site_id, vial_id, reason, at, product in discards:
        day = at.astimezone(ZoneInfo(sites[site_id].timezone)).date()
        if start <= day <= end:
            row = totals[(site_id, product, reason or "")]
            row[0] += 1
            row[1] += max(per_vial.get(product, 0) - int(drawn.get(vial_id, 0)), 0)
    broken = session.execute(
        select(
            StockMovement.from_location,
            Lot.product_id,
            StockMovement.quantity_vials,
            StockMovement.occurred_at,
        )
        .join(Lot, Lot.id == StockMovement.lot_id)
        .where(
            StockMovement.kind == MovementKind.DISCARD.value,
            StockMovement.to_location == WASTE,
            StockMovement.reference_table == "receipt_discrepancies",
            StockMovement.occurred_at >= since,
            StockMovement.occurred_at < until,
        )
    )
    for location, product, vials, at in broken:
        where = site_of(location)
        if where is None or where not in sites:
            continue
        day = at.astimezone(ZoneInfo(sites[where].timezone)).date()
        if start <= day <= end:
            row = totals[(where, product, DAMAGED_ON_THE_ROAD)]
            row[0] += vials
            row[1] += vials * per_vial.get(product, 0)
    return sorted(
        (WastageRow(sites[s].code, p, r, v[0], v[1]) for (s, p, r), v in totals.items()),
        key=lambda w: (w.site_code, w.product_id, w.reason),
    )


def cover(session: Session, at: datetime, days: int = 7) -> list[CoverRow]:
    """Usable stock and days of cover per site and product, against `days` days of bookings."""
    sites = _sites(session)
    per_vial = {p.id: p.doses_per_vial for p in stock_catalogue().products}
    lots = usable_lots(session, at)
    vials: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    for (location, lot_id), n in positions(session, prefix=SITE_PREFIX).items():
        site_id = site_of(location)
        if site_id in sites and lot_id in lots and n > 0:
            assert site_id is not None
            vials[(site_id, lots[lot_id].product_id)] += n
    booked: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    for b in booked_doses(session, at.date(), days):
        booked[(b.site_id, b.product_id)] += b.doses
    rows = []
    for site_id, product in set(vials) | set(booked):
        if site_id not in sites:
            continue
        doses = vials[(site_id, product)] * per_vial.get(product, 0)
        daily = booked[(site_id, product)] / days
        rows.append(
            CoverRow(
                sites[site_id].code,
                product,
                vials[(site_id, product)],
                doses,
                booked[(site_id, product)],
                round(doses / daily, 1) if daily > 0 else None,
            )
        )
    return sorted(rows, key=lambda r: (r.site_code, r.product_id))


def near_expiry(session: Session, at: datetime, within_days: int = 30) -> list[ExpiryRow]:
    """Lots with vials at a stock location that expire within `within_days` days of `at`."""
    today = at.date()
    limit = today + timedelta(days=min(within_days, (date.max - today).days))
    lots = {lot.id: lot for lot in session.scalars(select(Lot).where(Lot.expiry <= limit))}
    if not lots:
        return []
    sites = _sites(session)
    recalled = recalls_in_force(session, at)
    rows = []
    for (location, lot_id), vials in positions(session, lot_ids=list(lots)).items():
        if vials <= 0 or location in ("supplier", "administered", "waste", "unaccounted"):
            continue
        lot = lots[lot_id]
        site_id = site_of(location)
        rows.append(
            ExpiryRow(
                location,
                sites[site_id].code if site_id in sites and site_id is not None else None,
                lot.product_id,
                lot.gtin,
                lot.lot_number,
                lot.expiry,
                (lot.expiry - today).days,
                vials,
                lot_id in recalled,
            )
        )
    return sorted(rows, key=lambda r: (r.expiry, r.location, r.lot_number))
