"""What is free to allocate, and what each site already holds or has coming.

- Free in the warehouse: the warehouse position of each usable lot, less
  what approved allocations that are not shipped yet have promised.
- Held by a site: its own position, vials on the road to it (shipments not
  yet received) and what approved, unshipped allocations promise it.

Usable means not recalled and not expired on the day of the question; the
allocation rule then checks each lot's expiry against the day it serves.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from central.db import Allocation, AllocationLine, AllocationStatus, Lot, Shipment
from central.stock.allocation_plan import LotStock
from central.stock.locations import SITE_PREFIX, TRANSIT_PREFIX, WAREHOUSE, site_of
from central.stock.lots import recalls_in_force
from central.stock.positions import positions


def usable_lots(session: Session, at: datetime) -> dict[uuid.UUID, Lot]:
    """Lots neither recalled nor expired on `at`'s day, by id."""
    recalled = recalls_in_force(session, at)
    lots = session.scalars(select(Lot).where(Lot.expiry >= at.date()))
    return {lot.id: lot for lot in lots if lot.id not in recalled}


def promised(session: Session) -> list[tuple[uuid.UUID, uuid.UUID, int]]:
    """(site, lot, vials) promised by approved allocations not shipped yet."""
    shipped = exists().where(Shipment.allocation_id == Allocation.id)
    rows = session.execute(
        select(
            AllocationLine.site_id, AllocationLine.lot_id, func.sum(AllocationLine.quantity_vials)
        )
        .join(Allocation, Allocation.id == AllocationLine.allocation_id)
        .where(
            Allocation.status == AllocationStatus.APPROVED.value,
            ~shipped,
            AllocationLine.lot_id.is_not(None),
        )
        .group_by(AllocationLine.site_id, AllocationLine.lot_id)
    )
    return [(site, lot, int(vials)) for site, lot, vials in rows if lot is not None]


def free_in_warehouse(session: Session, at: datetime) -> dict[uuid.UUID, int]:
    """Vials of each usable lot in the warehouse not promised to a site."""
    usable = usable_lots(session, at)
    free: dict[uuid.UUID, int] = defaultdict(int)
    for (_, lot_id), vials in positions(session, location=WAREHOUSE).items():
        if lot_id in usable:
            free[lot_id] += vials
    for _, lot_id, vials in promised(session):
        if lot_id in free:
            free[lot_id] -= vials
    return {lot: vials for lot, vials in free.items() if vials > 0}


def held_by_sites(session: Session, at: datetime) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
    """Site -> lot -> usable vials it holds, has on the road, or was promised."""
    usable = usable_lots(session, at)
    held: dict[uuid.UUID, dict[uuid.UUID, int]] = defaultdict(lambda: defaultdict(int))
    for (location, lot_id), vials in positions(session, prefix=SITE_PREFIX).items():
        site_id = site_of(location)
        if site_id is not None and lot_id in usable and vials > 0:
            held[site_id][lot_id] += vials
    on_road = positions(session, prefix=TRANSIT_PREFIX)
    if on_road:
        destination = dict(
            session.execute(
                select(Shipment.id, Shipment.site_id).where(Shipment.kind != "return")
            ).all()
        )
        for (location, lot_id), vials in on_road.items():
            site_id = destination.get(uuid.UUID(location.removeprefix(TRANSIT_PREFIX)))
            if site_id is not None and lot_id in usable and vials > 0:
                held[site_id][lot_id] += vials
    for site_id, lot_id, vials in promised(session):
        if lot_id in usable:
            held[site_id][lot_id] += vials
    return held


def as_lot_stock(lots: dict[uuid.UUID, Lot], vials: dict[uuid.UUID, int]) -> list[LotStock]:
    """`vials` by lot as `LotStock` values (lots missing from `lots` are left out)."""
    return [
        LotStock(lot_id, lots[lot_id].product_id, lots[lot_id].expiry, n)
        for lot_id, n in vials.items()
        if lot_id in lots and n > 0
    ]
