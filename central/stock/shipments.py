"""Shipments: vials on the road, with their lots and quantities.

- `ship_allocation`: one shipment per site of an approved allocation,
  warehouse -> ``transit:<shipment>``.
- `create_transfer`: from one site's fridge to another site.
- `create_return`: from a site back to the warehouse (recalled or expired
  vials may be returned; nothing else ships them).

Dispatch moves the vials into the shipment's transit location at once; the
receiving site's receipt moves them on (`central.stock.receipts`), and the
warehouse takes a return in with `receive_return`. Each shipment gets a
``reference`` for its delivery note and is announced to the site
receiving it, with its lines, in the change log (`central.services.sync.publish`;
a return is not announced: no site receives it).

Refused, nothing written: a lot with fewer vials at the sending location
than asked (`NotEnoughStock`), a recalled or expired lot (except on a
return), a product the receiving site does not store, no lines.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import (
    Allocation,
    AllocationLine,
    AllocationStatus,
    Lot,
    MovementKind,
    Shipment,
    ShipmentLine,
    Site,
)
from central.db.enums import ShipmentKind
from central.services.context import Hub
from central.services.records import audit
from central.services.sync.publish import publish
from central.stock.errors import (
    AllocationAlreadyShipped,
    AllocationNotApproved,
    LotExpired,
    NotEnoughStock,
    ProductNotStocked,
    QuantityNotPositive,
    SameSite,
    ShipmentLinesEmpty,
    ShipmentNotInTransit,
    StockNotFound,
)
from central.stock.locations import WAREHOUSE, site_location, transit_location
from central.stock.lots import find_lot, refuse_recalled
from central.stock.movements import Move, lock_stock, record_moves
from central.stock.positions import on_hand, positions
from central.stock.sites import find_site
from domain.ids import uuid7

_PREFIX = {
    ShipmentKind.ALLOCATION: "SH",
    ShipmentKind.TRANSFER: "TR",
    ShipmentKind.RETURN: "RT",
}


@dataclass(frozen=True)
class ShipLine:
    """Vials of one lot to ship (GTIN needed only for an ambiguous lot number)."""

    lot_number: str
    vials: int
    gtin: str | None = None


@dataclass(frozen=True)
class ShipmentLineView:
    """One lot of a shipment."""

    lot_id: uuid.UUID
    product_id: str
    gtin: str
    lot_number: str
    expiry: date
    vials: int


@dataclass(frozen=True)
class ShipmentView:
    """A shipment with its lines and how many vials are still on the road."""

    id: uuid.UUID
    reference: str | None
    kind: str
    site_code: str
    from_site_code: str | None
    allocation_id: uuid.UUID | None
    dispatched_at: datetime | None
    expected_at: datetime | None
    lines: tuple[ShipmentLineView, ...]
    vials_in_transit: int

    @property
    def vials(self) -> int:
        return sum(line.vials for line in self.lines)


def shipment_view(session: Session, shipment: Shipment) -> ShipmentView:
    """A shipment as stored, with what is still in its transit location."""
    codes = dict(session.execute(select(Site.id, Site.code)).all())
    rows = session.execute(
        select(ShipmentLine, Lot)
        .join(Lot, Lot.id == ShipmentLine.lot_id)
        .where(ShipmentLine.shipment_id == shipment.id)
        .order_by(Lot.expiry, Lot.lot_number)
    ).all()
    transit = sum(positions(session, location=transit_location(shipment.id)).values())
    return ShipmentView(
        shipment.id,
        shipment.reference,
        shipment.kind,
        codes.get(shipment.site_id, "?"),
        codes.get(shipment.from_site_id) if shipment.from_site_id else None,
        shipment.allocation_id,
        shipment.dispatched_at,
        shipment.expected_at,
        tuple(
            ShipmentLineView(
                lot.id, lot.product_id, lot.gtin, lot.lot_number, lot.expiry, line.quantity_vials
            )
            for line, lot in rows
        ),
        transit,
    )


def _dispatch(
    session: Session,
    *,
    kind: ShipmentKind,
    site: Site,
    from_site: Site | None,
    lots: dict[uuid.UUID, int],
    allocation_id: uuid.UUID | None,
    now: datetime,
    expected_at: datetime | None,
    actor: str,
) -> Shipment:
    """Write one shipment, its lines and its dispatch movements; announce it."""
    if kind is ShipmentKind.RETURN:
        source = site_location(site.id)
    elif from_site is not None:
        source = site_location(from_site.id)
    else:
        source = WAREHOUSE
    shipment_id = uuid7()
    shipment = Shipment(
        id=shipment_id,
        kind=kind.value,
        reference=f"{_PREFIX[kind]}-{now:%Y%m%d}-{site.code}-{shipment_id.hex[-6:].upper()}",
        site_id=site.id,
        from_site_id=from_site.id if from_site is not None else None,
        allocation_id=allocation_id,
        dispatched_at=now,
        expected_at=expected_at,
        updated_at=now,
        created_at=now,
        created_by=actor,
    )
    session.add(shipment)
    session.flush()
    written: list[tuple[ShipmentLine, Lot]] = []
    moves: list[Move] = []
    for lot_id, vials in sorted(lots.items()):
        lot = session.get(Lot, lot_id)
        assert lot is not None
        if kind is not ShipmentKind.RETURN:
            refuse_recalled(session, lot, now)
            if lot.expiry < now.date():
                raise LotExpired(lot_number=lot.lot_number, expiry=lot.expiry.isoformat())
            if lot.product_id not in site.products:
                raise ProductNotStocked(site=site.code, product=lot.product_id)
        available = on_hand(session, source, lot.id)
        if vials > available:
            raise NotEnoughStock(
                lot_number=lot.lot_number, location=source, available=available, requested=vials
            )
        line = ShipmentLine(
            shipment_id=shipment.id,
            lot_id=lot.id,
            quantity_vials=vials,
            created_at=now,
            created_by=actor,
        )
        session.add(line)
        written.append((line, lot))
        moves.append(
            Move(
                MovementKind.DISPATCH,
                source,
                transit_location(shipment.id),
                lot.id,
                vials,
                "shipments",
                shipment.id,
            )
        )
    session.flush()
    record_moves(session, moves, at=now, actor=actor)
    audit(
        session,
        occurred_at=now,
        actor=actor,
        action=f"stock.{kind.value}_dispatched",
        entity=shipment,
        site_id=site.id,
        after={"lots": {lot.lot_number: line.quantity_vials for line, lot in written}},
    )
    return shipment


def ship_allocation(
    hub: Hub, allocation_id: uuid.UUID, *, actor: str, expected_at: datetime | None = None
) -> list[ShipmentView]:
    """Make the shipments of an approved allocation (one per site) and dispatch them.

    Raises `StockNotFound`, `AllocationNotApproved`, `AllocationAlreadyShipped`,
    `NotEnoughStock`, `LotRecalled` or `LotExpired`.
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        lock_stock(session)
        allocation = session.get(Allocation, allocation_id)
        if allocation is None:
            raise StockNotFound(thing="allocation", key=str(allocation_id))
        if allocation.status != AllocationStatus.APPROVED:
            raise AllocationNotApproved(allocation=str(allocation.id), status=allocation.status)
        if session.scalar(
            select(Shipment.id).where(Shipment.allocation_id == allocation.id).limit(1)
        ):
            raise AllocationAlreadyShipped(allocation=str(allocation.id))
        per_site: dict[uuid.UUID, dict[uuid.UUID, int]] = defaultdict(lambda: defaultdict(int))
        for line in session.scalars(
            select(AllocationLine).where(AllocationLine.allocation_id == allocation.id)
        ):
            if line.lot_id is not None:
                per_site[line.site_id][line.lot_id] += line.quantity_vials
        shipments: list[Shipment] = []
        for site_id in sorted(per_site):
            site = session.get(Site, site_id)
            assert site is not None
            shipments.append(
                _dispatch(
                    session,
                    kind=ShipmentKind.ALLOCATION,
                    site=site,
                    from_site=None,
                    lots=dict(per_site[site_id]),
                    allocation_id=allocation.id,
                    now=now,
                    expected_at=expected_at,
                    actor=actor,
                )
            )
        _announce(session, shipments, now)
        return [shipment_view(session, s) for s in shipments]


def _lots(session: Session, lines: Sequence[ShipLine]) -> dict[uuid.UUID, int]:
    if not lines:
        raise ShipmentLinesEmpty()
    totals: dict[uuid.UUID, int] = defaultdict(int)
    for line in lines:
        if line.vials <= 0:
            raise QuantityNotPositive(quantity=line.vials)
        totals[find_lot(session, line.lot_number, line.gtin).id] += line.vials
    return dict(totals)


def _announce(session: Session, shipments: Sequence[Shipment], now: datetime) -> None:
    """Announce the shipments (with their lines) to the sites receiving them."""
    publish(session, shipments, now)


def create_transfer(
    hub: Hub,
    *,
    from_site_code: str,
    to_site_code: str,
    lines: Sequence[ShipLine],
    actor: str,
    expected_at: datetime | None = None,
) -> ShipmentView:
    """Send vials from one site's fridge to another site.

    Raises `StockNotFound`, `SameSite`, `ShipmentLinesEmpty`,
    `QuantityNotPositive`, `NotEnoughStock`, `LotRecalled`, `LotExpired` or
    `ProductNotStocked`.
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        lock_stock(session)
        source = find_site(session, from_site_code)
        target = find_site(session, to_site_code)
        if source.id == target.id:
            raise SameSite()
        shipment = _dispatch(
            session,
            kind=ShipmentKind.TRANSFER,
            site=target,
            from_site=source,
            lots=_lots(session, lines),
            allocation_id=None,
            now=now,
            expected_at=expected_at,
            actor=actor,
        )
        _announce(session, [shipment], now)
        return shipment_view(session, shipment)


def create_return(
    hub: Hub, *, site_code: str, lines: Sequence[ShipLine], actor: str
) -> ShipmentView:
    """Send vials from a site back to the central warehouse (recalled or expired allowed).

    Raises `StockNotFound`, `ShipmentLinesEmpty`, `QuantityNotPositive` or
    `NotEnoughStock`.
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        lock_stock(session)
        site = find_site(session, site_code)
        shipment = _dispatch(
            session,
            kind=ShipmentKind.RETURN,
            site=site,
            from_site=None,
            lots=_lots(session, lines),
            allocation_id=None,
            now=now,
            expected_at=None,
            actor=actor,
        )
        _announce(session, [shipment], now)
        return shipment_view(session, shipment)


def find_shipment(session: Session, reference: str) -> Shipment:
    """The shipment with this reference (or id). Raises `StockNotFound`."""
    shipment = session.scalar(select(Shipment).where(Shipment.reference == reference))
    if shipment is None:
        try:
            shipment = session.get(Shipment, uuid.UUID(reference))
        except ValueError:
            shipment = None
    if shipment is None:
        raise StockNotFound(thing="shipment", key=reference)
    return shipment


def receive_return(hub: Hub, reference: str, *, actor: str) -> ShipmentView:
    """Take a returned shipment into the warehouse (everything still on its road).

    Raises `StockNotFound` or `ShipmentNotInTransit`.
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        lock_stock(session)
        shipment = find_shipment(session, reference)
        road = positions(session, location=transit_location(shipment.id))
        if shipment.kind != ShipmentKind.RETURN.value or not road:
            raise ShipmentNotInTransit(
                shipment=reference, state=shipment.kind if road else "received"
            )
        moves = [
            Move(MovementKind.RECEIPT, where, WAREHOUSE, lot_id, vials, "shipments", shipment.id)
            for (where, lot_id), vials in sorted(road.items())
            if vials > 0
        ]
        record_moves(session, moves, at=now, actor=actor)
        shipment.updated_at = now
        audit(
            session, occurred_at=now, actor=actor, action="stock.return_received", entity=shipment
        )
        session.flush()
        return shipment_view(session, shipment)


def list_shipments(
    hub: Hub, *, site_code: str | None = None, limit: int = 100
) -> list[ShipmentView]:
    """Shipments, newest first, optionally of one site (as receiver, sender or returner)."""
    with hub.read_sessions() as session:
        query = select(Shipment).order_by(Shipment.created_at.desc()).limit(limit)
        if site_code is not None:
            site = find_site(session, site_code)
            query = query.where((Shipment.site_id == site.id) | (Shipment.from_site_id == site.id))
        return [shipment_view(session, s) for s in session.scalars(query).all()]
