"""Allocations: proposed from the booked appointments, adjusted and approved by staff.

Life: ``proposed`` (computed by `propose_allocation`, shown with
`allocation_view`, changed line by line with `adjust_allocation`) ->
``approved`` (`approve_allocation`: its lines are now promised and no other
allocation may count on those vials) -> shipped (`central.stock.shipments.
ship_allocation` makes its shipments). A proposed or approved allocation not
yet shipped may be ``cancelled``. Every step is in the audit trail, with the
line's quantity before and after an adjustment.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from central.db import (
    Allocation,
    AllocationLine,
    AllocationStatus,
    Lot,
    Shipment,
    Site,
    insert_rows,
)
from central.services.context import Hub
from central.services.records import audit
from central.stock.allocation_plan import AllocationPlan, LotStock, Need, plan_allocation
from central.stock.availability import as_lot_stock, free_in_warehouse, held_by_sites, usable_lots
from central.stock.catalogue import stock_catalogue
from central.stock.demand import booked_doses
from central.stock.errors import (
    AllocationAlreadyShipped,
    AllocationExceedsWarehouse,
    AllocationNotProposed,
    HorizonInvalid,
    LotExpiresBeforeUse,
    MarginInvalid,
    ProductNotStocked,
    QuantityNotPositive,
    StockNotFound,
)
from central.stock.lots import find_lot, refuse_recalled
from central.stock.movements import lock_stock
from central.stock.sites import find_site

MAX_DAYS: Final = 28
DEFAULT_MARGIN_PERCENT: Final = 10


@dataclass(frozen=True)
class AllocationLineView:
    """One planned line: vials of a lot for a site."""

    id: uuid.UUID
    site_id: uuid.UUID
    site_code: str
    product_id: str
    lot_id: uuid.UUID | None
    lot_number: str | None
    expiry: date | None
    vials: int
    proposed_vials: int | None
    first_day: date | None


@dataclass(frozen=True)
class NeedView:
    """What one site needs of one product over the horizon."""

    site_id: uuid.UUID
    site_code: str
    product_id: str
    doses: int
    vials_needed: int
    vials_held: int
    vials_planned: int
    vials_short: int
    first_day: date
    last_day: date


@dataclass(frozen=True)
class AllocationView:
    """An allocation as central staff review it."""

    id: uuid.UUID
    status: str
    shipped: bool
    horizon_start: date | None
    horizon_days: int | None
    safety_margin_percent: int | None
    approved_at: datetime | None
    approved_by: str | None
    lines: tuple[AllocationLineView, ...]
    needs: tuple[NeedView, ...]

    @property
    def vials(self) -> int:
        return sum(line.vials for line in self.lines)

    @property
    def vials_short(self) -> int:
        return sum(need.vials_short for need in self.needs)


def compute_plan(
    session: Session, start: date, days: int, margin_percent: int, at: datetime
) -> AllocationPlan:
    """The allocation rule over the database's appointments and stock now."""
    catalogue = stock_catalogue()
    lots = usable_lots(session, at)
    booked = booked_doses(session, start, days)
    needs = [Need(b.site_id, b.product_id, b.day, b.doses) for b in booked]
    per_vial = {p.id: p.doses_per_vial for p in catalogue.products}
    needs = [n for n in needs if n.product_id in per_vial]
    held: dict[tuple[uuid.UUID, str], list[LotStock]] = defaultdict(list)
    for site_id, by_lot in held_by_sites(session, at).items():
        for stock in as_lot_stock(lots, by_lot):
            held[(site_id, stock.product_id)].append(stock)
    warehouse = as_lot_stock(lots, free_in_warehouse(session, at))
    return plan_allocation(needs, per_vial, warehouse, held, margin_percent)


def propose_allocation(
    hub: Hub,
    start: date,
    days: int,
    *,
    actor: str,
    margin_percent: int = DEFAULT_MARGIN_PERCENT,
) -> AllocationView:
    """Compute and store a proposed allocation for the appointments of `days` days from `start`.

    Raises `HorizonInvalid` or `MarginInvalid`.
    """
    if not 1 <= days <= MAX_DAYS or start > date.max - timedelta(days=days):
        raise HorizonInvalid(days=days, max_days=MAX_DAYS)
    if not 0 <= margin_percent <= 100:
        raise MarginInvalid(margin=margin_percent)
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        plan = compute_plan(session, start, days, margin_percent, now)
        allocation = Allocation(
            status=AllocationStatus.PROPOSED.value,
            for_day=start,
            horizon_start=start,
            horizon_days=days,
            safety_margin_percent=margin_percent,
            summary=_summary(plan),
            updated_at=now,
            created_at=now,
            created_by=actor,
        )
        session.add(allocation)
        session.flush()
        # Thousands of lines for a national plan: one bulk insert (COPY on PostgreSQL).
        insert_rows(
            session,
            AllocationLine,
            (
                {
                    "allocation_id": allocation.id,
                    "site_id": line.site_id,
                    "product_id": line.product_id,
                    "lot_id": line.lot_id,
                    "quantity_vials": line.vials,
                    "proposed_vials": line.vials,
                    "first_day": line.first_day,
                    "created_at": now,
                    "created_by": actor,
                }
                for line in plan.lines
            ),
        )
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="stock.allocation_proposed",
            entity=allocation,
            after={"lines": len(plan.lines), "vials_short": plan.vials_short},
        )
        session.flush()
        return _view(session, allocation)


def _summary(plan: AllocationPlan) -> dict[str, Any]:
    return {
        "vials_short": plan.vials_short,
        "needs": [
            {
                "site_id": str(n.site_id),
                "product_id": n.product_id,
                "doses": n.doses,
                "vials_needed": n.vials_needed,
                "vials_held": n.vials_held,
                "vials_planned": n.vials_planned,
                "vials_short": n.vials_short,
                "first_day": n.first_day.isoformat(),
                "last_day": n.last_day.isoformat(),
            }
            for n in plan.needs
        ],
    }


def _find(session: Session, allocation_id: uuid.UUID) -> Allocation:
    allocation = session.get(Allocation, allocation_id)
    if allocation is None:
        raise StockNotFound(thing="allocation", key=str(allocation_id))
    return allocation


def is_shipped(session: Session, allocation_id: uuid.UUID) -> bool:
    """Whether shipments were made from the allocation."""
    return bool(session.scalar(select(exists().where(Shipment.allocation_id == allocation_id))))


def _view(session: Session, allocation: Allocation) -> AllocationView:
    codes = dict(session.execute(select(Site.id, Site.code)).all())
    # Plain columns, not ORM objects: a national allocation has thousands of lines.
    rows = session.execute(
        select(
            AllocationLine.id,
            AllocationLine.site_id,
            AllocationLine.product_id,
            AllocationLine.lot_id,
            Lot.lot_number,
            Lot.expiry,
            AllocationLine.quantity_vials,
            AllocationLine.proposed_vials,
            AllocationLine.first_day,
        )
        .outerjoin(Lot, Lot.id == AllocationLine.lot_id)
        .where(AllocationLine.allocation_id == allocation.id)
    ).all()
    lines = sorted(
        (
            AllocationLineView(
                line_id, site_id, codes.get(site_id, "?"), product_id, lot_id, lot_number,
                expiry, vials, proposed, first_day,
            )
            for line_id, site_id, product_id, lot_id, lot_number, expiry, vials, proposed, first_day
            in rows
        ),
        key=lambda v: (v.site_code, v.product_id, v.expiry or date.max, v.lot_number or ""),
    )  # fmt: skip
    needs = []
    for n in (allocation.summary or {}).get("needs", []):
        site_id = uuid.UUID(n["site_id"])
        needs.append(
            NeedView(
                site_id,
                codes.get(site_id, "?"),
                n["product_id"],
                n["doses"],
                n["vials_needed"],
                n["vials_held"],
                n["vials_planned"],
                n["vials_short"],
                date.fromisoformat(n["first_day"]),
                date.fromisoformat(n["last_day"]),
            )
        )
    needs.sort(key=lambda v: (v.site_code, v.product_id))
    return AllocationView(
        allocation.id,
        allocation.status,
        is_shipped(session, allocation.id),
        allocation.horizon_start,
        allocation.horizon_days,
        allocation.safety_margin_percent,
        allocation.approved_at,
        allocation.approved_by,
        tuple(lines),
        tuple(needs),
    )


def allocation_view(hub: Hub, allocation_id: uuid.UUID) -> AllocationView:
    """The allocation with its lines and needs. Raises `StockNotFound`."""
    with hub.read_sessions() as session:
        return _view(session, _find(session, allocation_id))


def list_allocations(hub: Hub, *, limit: int = 50) -> list[AllocationView]:
    """The latest allocations, newest first."""
    with hub.read_sessions() as session:
        rows = session.scalars(
            select(Allocation).order_by(Allocation.created_at.desc()).limit(limit)
        ).all()
        return [_view(session, a) for a in rows]


def _require_proposed(allocation: Allocation) -> None:
    if allocation.status != AllocationStatus.PROPOSED:
        raise AllocationNotProposed(allocation=str(allocation.id), status=allocation.status)


def _check_lot_totals(session: Session, allocation: Allocation, at: datetime) -> None:
    """Refuse an allocation promising more of a lot than the warehouse has free."""
    free = free_in_warehouse(session, at)
    totals: dict[uuid.UUID, int] = defaultdict(int)
    for lot_id, vials in session.execute(
        select(AllocationLine.lot_id, AllocationLine.quantity_vials).where(
            AllocationLine.allocation_id == allocation.id
        )
    ):
        if lot_id is not None:
            totals[lot_id] += vials
    for lot_id, vials in totals.items():
        lot = session.get(Lot, lot_id)
        assert lot is not None
        refuse_recalled(session, lot, at)
        if vials > free.get(lot_id, 0):
            raise AllocationExceedsWarehouse(
                lot_number=lot.lot_number, requested=vials, available=free.get(lot_id, 0)
            )


def adjust_allocation(
    hub: Hub,
    allocation_id: uuid.UUID,
    *,
    site_code: str,
    lot_number: str,
    vials: int,
    actor: str,
    gtin: str | None = None,
) -> AllocationView:
    """Set how many vials of a lot a proposed allocation sends a site (0 removes the line).

    Raises `StockNotFound`, `AllocationNotProposed`, `QuantityNotPositive`
    (negative), `ProductNotStocked`, `LotRecalled`, `LotExpired`-like
    `LotExpiresBeforeUse`, or `AllocationExceedsWarehouse`.
    """
    if vials < 0:
        raise QuantityNotPositive(quantity=vials)
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        allocation = _find(session, allocation_id)
        _require_proposed(allocation)
        site = find_site(session, site_code)
        lot = find_lot(session, lot_number, gtin)
        if lot.product_id not in site.products:
            raise ProductNotStocked(site=site.code, product=lot.product_id)
        refuse_recalled(session, lot, now)
        line = session.scalar(
            select(AllocationLine).where(
                AllocationLine.allocation_id == allocation.id,
                AllocationLine.site_id == site.id,
                AllocationLine.lot_id == lot.id,
            )
        )
        first_day = line.first_day if line is not None else None
        if first_day is None:
            first_day = _first_day(allocation, site.id, lot.product_id)
        if lot.expiry < first_day:
            raise LotExpiresBeforeUse(
                lot_number=lot.lot_number, expiry=lot.expiry.isoformat(), day=first_day.isoformat()
            )
        before = line.quantity_vials if line is not None else 0
        if line is not None and vials == 0:
            session.delete(line)
        elif line is not None:
            line.quantity_vials = vials
        elif vials > 0:
            session.add(
                AllocationLine(
                    allocation_id=allocation.id,
                    site_id=site.id,
                    product_id=lot.product_id,
                    lot_id=lot.id,
                    quantity_vials=vials,
                    proposed_vials=None,
                    first_day=first_day,
                    created_at=now,
                    created_by=actor,
                )
            )
        session.flush()
        _check_lot_totals(session, allocation, now)
        allocation.updated_at = now
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="stock.allocation_adjusted",
            entity=allocation,
            site_id=site.id,
            before={"lot": lot.lot_number, "vials": before},
            after={"lot": lot.lot_number, "vials": vials},
        )
        session.flush()
        return _view(session, allocation)


def _first_day(allocation: Allocation, site_id: uuid.UUID, product_id: str) -> date:
    for need in (allocation.summary or {}).get("needs", []):
        if need["site_id"] == str(site_id) and need["product_id"] == product_id:
            return date.fromisoformat(need["first_day"])
    return allocation.horizon_start or allocation.for_day or allocation.created_at.date()


def approve_allocation(hub: Hub, allocation_id: uuid.UUID, *, actor: str) -> AllocationView:
    """Approve a proposed allocation: its lines become promised stock.

    Checks again that the warehouse still has every lot's vials free (stock
    may have moved since the proposal). Raises `StockNotFound`,
    `AllocationNotProposed`, `LotRecalled` or `AllocationExceedsWarehouse`.
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        lock_stock(session)
        allocation = _find(session, allocation_id)
        _require_proposed(allocation)
        _check_lot_totals(session, allocation, now)
        allocation.status = AllocationStatus.APPROVED.value
        allocation.approved_at = now
        allocation.approved_by = actor
        allocation.updated_at = now
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="stock.allocation_approved",
            entity=allocation,
        )
        session.flush()
        return _view(session, allocation)


def cancel_allocation(hub: Hub, allocation_id: uuid.UUID, *, actor: str) -> AllocationView:
    """Cancel an allocation not shipped yet; its promised vials are free again.

    Raises `StockNotFound`, `AllocationAlreadyShipped` or
    `AllocationNotProposed` (already cancelled).
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        allocation = _find(session, allocation_id)
        if is_shipped(session, allocation.id):
            raise AllocationAlreadyShipped(allocation=str(allocation.id))
        if allocation.status == AllocationStatus.CANCELLED:
            raise AllocationNotProposed(allocation=str(allocation.id), status=allocation.status)
        allocation.status = AllocationStatus.CANCELLED.value
        allocation.updated_at = now
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="stock.allocation_cancelled",
            entity=allocation,
        )
        session.flush()
        return _view(session, allocation)
