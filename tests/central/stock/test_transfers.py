"""Transfers between sites and returns to the warehouse, with their positions."""

from __future__ import annotations

from sqlalchemy import select

from central.db import ChangeLog, Lot
from central.services.context import Hub
from central.stock.allocations import adjust_allocation, approve_allocation, propose_allocation
from central.stock.locations import WAREHOUSE, site_location, transit_location
from central.stock.recalls import recall_lot
from central.stock.receipts import ReceivedLot, record_receipt
from central.stock.shipments import (
    ShipLine,
    create_return,
    create_transfer,
    receive_return,
    ship_allocation,
)
from central.stock.sites import find_site
from tests.central.stock.world import (
    ACTOR,
    COMIRNATY_GTIN,
    START,
    all_positions,
    movement_sums,
    stocked_warehouse,
)


def test_vials_move_site_to_site_and_back_to_the_warehouse(hub: Hub) -> None:
    stocked_warehouse(hub)
    allocation = propose_allocation(hub, START, 3, actor=ACTOR)
    adjust_allocation(
        hub, allocation.id, site_code="NS-001", lot_number="LATE1", vials=10, actor=ACTOR
    )
    approve_allocation(hub, allocation.id, actor=ACTOR)
    (first,) = ship_allocation(hub, allocation.id, actor=ACTOR)
    record_receipt(
        hub, first.reference or "", site_code="NS-001",
        lots=[ReceivedLot(COMIRNATY_GTIN, "LATE1", 10)], actor=ACTOR,
    )  # fmt: skip

    transfer = create_transfer(
        hub,
        from_site_code="NS-001",
        to_site_code="NS-002",
        lines=[ShipLine("LATE1", 4)],
        actor=ACTOR,
    )
    record_receipt(
        hub, transfer.reference or "", site_code="NS-002",
        lots=[ReceivedLot(COMIRNATY_GTIN, "LATE1", 4)], actor=ACTOR,
    )  # fmt: skip
    recall_lot(hub, "LATE1", reason="cold chain breach at the depot", actor=ACTOR)
    back = create_return(hub, site_code="NS-001", lines=[ShipLine("LATE1", 6)], actor=ACTOR)
    on_road = all_positions(hub)
    received = receive_return(hub, back.reference or "", actor=ACTOR)

    with hub.sessions() as session:
        lot = session.scalars(select(Lot).where(Lot.lot_number == "LATE1")).one()
        one, two = find_site(session, "NS-001"), find_site(session, "NS-002")
        announced = session.scalars(
            select(ChangeLog.audience_site_id).where(ChangeLog.table_name == "shipments")
        ).all()
    assert (transfer.kind, transfer.from_site_code, transfer.site_code) == (
        "transfer",
        "NS-001",
        "NS-002",
    )
    assert on_road[(transit_location(back.id), lot.id)] == 6
    assert received.vials_in_transit == 0
    found = all_positions(hub)
    assert found == movement_sums(hub)
    assert found.get((site_location(one.id), lot.id), 0) == 0
    assert found[(site_location(two.id), lot.id)] == 4
    assert found[(WAREHOUSE, lot.id)] == 600 - 10 + 6
    # The allocation shipment and the transfer are announced to their receiving sites;
    # the return to the warehouse is not (no site receives it).
    assert sorted(map(str, announced)) == sorted([str(one.id), str(two.id)])
