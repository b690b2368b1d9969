"""The supply chain end to end on both engines: order -> delivery -> allocation from a
real schedule -> shipment -> receipt, with positions always equal to the movements."""

from __future__ import annotations

import math
from collections import defaultdict

from sqlalchemy import select

from central.db import Appointment, ChangeLog, Lot, PurchaseOrder
from central.scheduling.run import run_schedule
from central.stock.allocations import adjust_allocation, approve_allocation, propose_allocation
from central.stock.locations import WAREHOUSE, WASTE, site_location, transit_location
from central.stock.positions import positions
from central.stock.receipts import ReceivedLot, record_receipt
from central.stock.shipments import ship_allocation
from tests.central.api.conftest import Api
from tests.central.stock.world import (
    ACTOR,
    COMIRNATY_GTIN,
    START,
    all_positions,
    movement_sums,
    sites,
    stocked_warehouse,
)

DAYS = 3


def _seed_sites(api: Api) -> None:
    """A first allocation by hand (nothing is booked yet), shipped and received in full."""
    empty = propose_allocation(api.hub, START, DAYS, actor=ACTOR)
    assert empty.lines == ()
    assert empty.needs == ()
    adjust_allocation(
        api.hub, empty.id, site_code="NS-001", lot_number="EARLY1", vials=5, actor=ACTOR
    )
    adjust_allocation(
        api.hub, empty.id, site_code="NS-002", lot_number="LATE1", vials=3, actor=ACTOR
    )
    approve_allocation(api.hub, empty.id, actor=ACTOR)
    for shipment in ship_allocation(api.hub, empty.id, actor=ACTOR):
        record_receipt(
            api.hub,
            shipment.reference or "",
            site_code=shipment.site_code,
            lots=[ReceivedLot(line.gtin, line.lot_number, line.vials) for line in shipment.lines],
            actor=ACTOR,
        )


def test_order_delivery_allocation_shipment_receipt(api: Api) -> None:
    sites(api, "NS-001", "NS-002")
    stocked_warehouse(api.hub)
    with api.hub.sessions() as session:
        order = session.scalars(select(PurchaseOrder)).one()
        lots = {lot.lot_number: lot for lot in session.scalars(select(Lot))}
        announced = session.scalars(
            select(ChangeLog.record_id).where(ChangeLog.table_name == "lots")
        ).all()
    assert order.status == "delivered"
    assert set(announced) == {lot.id for lot in lots.values()}
    _seed_sites(api)
    for n in range(40):
        api.citizen(n + 1, priority_group="health-workers")
    booked = run_schedule(api.hub, START, DAYS, actor=ACTOR)
    assert booked.appointments > 0

    proposal = propose_allocation(api.hub, START, DAYS, actor=ACTOR, margin_percent=100)

    # The need, computed independently from the booked appointments.
    with api.hub.sessions() as session:
        per_day: dict[tuple[object, str], dict[object, int]] = defaultdict(lambda: defaultdict(int))
        for a in session.scalars(select(Appointment)):
            per_day[(a.site_id, a.product_id)][a.day] += 1
        held = {
            lot_id: vials
            for (where, lot_id), vials in positions(session).items()
            if where.startswith("site:")
        }
    assert {(n.site_id, n.product_id) for n in proposal.needs} == set(per_day)
    for need in proposal.needs:
        days = per_day[(need.site_id, need.product_id)]
        vials = sum(math.ceil(d / 6) for d in days.values())
        assert need.doses == sum(days.values())
        assert need.vials_needed == vials + math.ceil(vials * 100 / 100)
        assert need.vials_short == 0
        assert need.vials_held + need.vials_planned == need.vials_needed
    assert sum(n.vials_held for n in proposal.needs) <= sum(held.values())
    # First expiry first out: the early lot is used before the late one.
    early_left = 400 - 5
    planned_early = sum(line.vials for line in proposal.lines if line.lot_number == "EARLY1")
    assert planned_early == min(early_left, proposal.vials)

    approve_allocation(api.hub, proposal.id, actor=ACTOR)
    shipments = ship_allocation(api.hub, proposal.id, actor=ACTOR)
    assert sum(s.vials for s in shipments) == proposal.vials
    first = shipments[0]
    line = first.lines[0]
    assert line.vials >= 2
    record_receipt(
        api.hub,
        first.reference or "",
        site_code=first.site_code,
        lots=[
            ReceivedLot(
                line.gtin, line.lot_number, line.vials - 2, damaged_vials=1, missing_vials=1
            ),
            *[ReceivedLot(x.gtin, x.lot_number, x.vials) for x in first.lines[1:]],
        ],
        actor=ACTOR,
    )

    found = all_positions(api.hub)
    assert found == movement_sums(api.hub)
    with api.hub.sessions() as session:
        site = session.scalars(select(Appointment.site_id)).first()
        assert site is not None
    assert found[(transit_location(first.id), line.lot_id)] == 1
    assert found[(WASTE, line.lot_id)] == 1
    assert found[(WAREHOUSE, lots["EARLY1"].id)] == 400 - 5 - planned_early
    total_at_sites = sum(v for (w, _), v in found.items() if w.startswith("site:"))
    assert total_at_sites == 5 + 3 + proposal.vials - 2 - sum(s.vials for s in shipments[1:])
    assert found.get((site_location(site), lots["EARLY1"].id), 0) >= 0
    assert lots["EARLY1"].gtin == COMIRNATY_GTIN
