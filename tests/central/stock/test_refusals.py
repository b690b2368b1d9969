"""Every bad input of the stock chain is refused with its own error, and writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from central.db import ChangeLog, Lot, StockMovement
from central.services.context import Hub
from central.stock.allocations import adjust_allocation, approve_allocation, propose_allocation
from central.stock.deliveries import Carton, carton_from_scan, receive_delivery
from central.stock.errors import (
    AllocationExceedsWarehouse,
    AllocationNotApproved,
    AllocationNotProposed,
    DeliveryExceedsOrder,
    LabelIncomplete,
    LotExpired,
    LotExpiresBeforeUse,
    LotExpiryMismatch,
    LotNotShipped,
    LotRecalled,
    NotEnoughStock,
    ProductNotOrdered,
    QuantityNotPositive,
    ReceiptQuantityMismatch,
    SameSite,
    ShipmentForOtherSite,
    ShipmentReceivedAlready,
)
from central.stock.purchase_orders import OrderLine, create_purchase_order
from central.stock.recalls import lift_recall, recall_lot
from central.stock.receipts import ReceivedLot, WrongLot, record_receipt
from central.stock.shipments import ShipLine, create_transfer, ship_allocation
from domain.catalogue import UnknownGtin
from tests.central.stock.world import (
    ACTOR,
    COMIRNATY_GTIN,
    START,
    all_positions,
    movement_sums,
    scan,
    stocked_warehouse,
)


def _movements(hub: Hub) -> int:
    with hub.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(StockMovement)) or 0)


def _shipped(hub: Hub, site: str = "NS-001", lot: str = "EARLY1", vials: int = 10) -> str:
    allocation = propose_allocation(hub, START, 3, actor=ACTOR)
    adjust_allocation(hub, allocation.id, site_code=site, lot_number=lot, vials=vials, actor=ACTOR)
    approve_allocation(hub, allocation.id, actor=ACTOR)
    (shipment,) = ship_allocation(hub, allocation.id, actor=ACTOR)
    assert shipment.reference is not None
    return shipment.reference


def test_a_carton_of_no_known_product_is_refused(hub: Hub) -> None:
    with pytest.raises(UnknownGtin) as caught:
        receive_delivery(hub, [Carton("09520000999995", "X1", date(2021, 12, 31), 10)], actor=ACTOR)
    assert caught.value.code == "catalogue.unknown_gtin"
    assert _movements(hub) == 0


def test_an_expired_lot_is_refused(hub: Hub) -> None:
    carton = carton_from_scan(scan(COMIRNATY_GTIN, "OLD1", date(2021, 5, 31)), 10)
    with pytest.raises(LotExpired, match="OLD1 expired on 2021-05-31"):
        receive_delivery(hub, [carton], actor=ACTOR)
    assert _movements(hub) == 0


def test_counts_and_labels_that_do_not_add_up_are_refused(hub: Hub) -> None:
    with pytest.raises(QuantityNotPositive):
        receive_delivery(hub, [Carton(COMIRNATY_GTIN, "A1", date(2021, 12, 31), 0)], actor=ACTOR)
    with pytest.raises(LotExpiryMismatch):
        receive_delivery(
            hub,
            [
                Carton(COMIRNATY_GTIN, "A1", date(2021, 12, 31), 5),
                Carton(COMIRNATY_GTIN, "A1", date(2021, 11, 30), 5),
            ],
            actor=ACTOR,
        )
    with pytest.raises(LabelIncomplete, match="lot number"):
        carton_from_scan(f"(01){COMIRNATY_GTIN}(17)211231", 5)
    assert _movements(hub) == 0


def test_a_delivery_must_fit_its_purchase_order(hub: Hub) -> None:
    create_purchase_order(hub, number="PO-9", lines=[OrderLine("comirnaty", 100)], actor=ACTOR)
    too_many = Carton(COMIRNATY_GTIN, "A1", date(2021, 12, 31), 101)
    with pytest.raises(DeliveryExceedsOrder, match="ordered 100 vials"):
        receive_delivery(hub, [too_many], purchase_order="PO-9", actor=ACTOR)
    other = Carton("09520000100117", "S1", date(2021, 12, 31), 10)
    with pytest.raises(ProductNotOrdered):
        receive_delivery(hub, [other], purchase_order="PO-9", actor=ACTOR)
    receive_delivery(
        hub,
        [Carton(COMIRNATY_GTIN, "A1", date(2021, 12, 31), 60)],
        purchase_order="PO-9",
        actor=ACTOR,
    )
    with pytest.raises(DeliveryExceedsOrder, match="60 have already been delivered"):
        receive_delivery(
            hub,
            [Carton(COMIRNATY_GTIN, "A1", date(2021, 12, 31), 41)],
            purchase_order="PO-9",
            actor=ACTOR,
        )


def test_shipping_more_than_on_hand_is_refused(hub: Hub) -> None:
    stocked_warehouse(hub)
    allocation = propose_allocation(hub, START, 3, actor=ACTOR)
    with pytest.raises(AllocationExceedsWarehouse, match="warehouse has 400"):
        adjust_allocation(
            hub, allocation.id, site_code="NS-001", lot_number="EARLY1", vials=401, actor=ACTOR
        )
    with pytest.raises(AllocationNotApproved):
        ship_allocation(hub, allocation.id, actor=ACTOR)
    with pytest.raises(NotEnoughStock, match="Only 0 vials"):
        create_transfer(
            hub,
            from_site_code="NS-001",
            to_site_code="NS-002",
            lines=[ShipLine("EARLY1", 1)],
            actor=ACTOR,
        )
    with pytest.raises(SameSite):
        create_transfer(
            hub,
            from_site_code="NS-001",
            to_site_code="NS-001",
            lines=[ShipLine("EARLY1", 1)],
            actor=ACTOR,
        )


def test_an_approved_allocation_promises_its_vials(hub: Hub) -> None:
    stocked_warehouse(hub)
    first = propose_allocation(hub, START, 3, actor=ACTOR)
    adjust_allocation(
        hub, first.id, site_code="NS-001", lot_number="EARLY1", vials=300, actor=ACTOR
    )
    approve_allocation(hub, first.id, actor=ACTOR)
    second = propose_allocation(hub, START, 3, actor=ACTOR)
    with pytest.raises(AllocationExceedsWarehouse, match="warehouse has 100 not promised"):
        adjust_allocation(
            hub, second.id, site_code="NS-002", lot_number="EARLY1", vials=101, actor=ACTOR
        )
    with pytest.raises(AllocationNotProposed):
        adjust_allocation(
            hub, first.id, site_code="NS-002", lot_number="EARLY1", vials=1, actor=ACTOR
        )


def test_a_lot_expiring_before_the_appointment_day_is_refused(hub: Hub) -> None:
    receive_delivery(hub, [Carton(COMIRNATY_GTIN, "SHORT1", date(2021, 6, 2), 10)], actor=ACTOR)
    allocation = propose_allocation(hub, date(2021, 6, 3), 3, actor=ACTOR)
    with pytest.raises(LotExpiresBeforeUse, match="before the first appointment"):
        adjust_allocation(
            hub, allocation.id, site_code="NS-001", lot_number="SHORT1", vials=1, actor=ACTOR
        )


def test_receiving_must_match_the_shipment(hub: Hub) -> None:
    stocked_warehouse(hub)
    reference = _shipped(hub)
    before = _movements(hub)
    with pytest.raises(LotNotShipped, match="LATE1 was not in shipment"):
        record_receipt(
            hub,
            reference,
            site_code="NS-001",
            lots=[
                ReceivedLot(COMIRNATY_GTIN, "EARLY1", 10),
                ReceivedLot(COMIRNATY_GTIN, "LATE1", 1),
            ],
            actor=ACTOR,
        )
    with pytest.raises(ReceiptQuantityMismatch, match="sent 10 vials"):
        record_receipt(
            hub,
            reference,
            site_code="NS-001",
            lots=[ReceivedLot(COMIRNATY_GTIN, "EARLY1", 9)],
            actor=ACTOR,
        )
    with pytest.raises(ShipmentForOtherSite):
        record_receipt(
            hub,
            reference,
            site_code="NS-002",
            lots=[ReceivedLot(COMIRNATY_GTIN, "EARLY1", 10)],
            actor=ACTOR,
        )
    assert _movements(hub) == before
    # A wrong lot is recorded as a discrepancy, not received as if shipped.
    receipt = record_receipt(
        hub,
        reference,
        site_code="NS-001",
        lots=[ReceivedLot(COMIRNATY_GTIN, "EARLY1", 10)],
        wrong_lots=[WrongLot(COMIRNATY_GTIN, "LATE1", 2)],
        actor=ACTOR,
    )
    assert receipt.discrepancies == (("wrong_lot", "LATE1", 0, 2),)
    with pytest.raises(ShipmentReceivedAlready):
        record_receipt(
            hub,
            reference,
            site_code="NS-001",
            lots=[ReceivedLot(COMIRNATY_GTIN, "EARLY1", 10)],
            actor=ACTOR,
        )
    found = all_positions(hub)
    assert found == movement_sums(hub)
    assert found[("unaccounted", _lot_id(hub, "LATE1"))] == -2


def _lot_id(hub: Hub, number: str) -> object:
    with hub.sessions() as session:
        return session.scalars(select(Lot.id).where(Lot.lot_number == number)).one()


def test_a_recalled_lot_is_announced_to_every_site_and_never_shipped(hub: Hub) -> None:
    stocked_warehouse(hub)
    allocation = propose_allocation(hub, START, 3, actor=ACTOR)
    adjust_allocation(
        hub, allocation.id, site_code="NS-001", lot_number="EARLY1", vials=5, actor=ACTOR
    )

    recall = recall_lot(hub, "EARLY1", reason="particles in vials", actor=ACTOR)

    with hub.sessions() as session:
        change = session.scalars(select(ChangeLog).where(ChangeLog.table_name == "recalls")).one()
    assert change.audience_site_id is None
    assert change.payload is not None
    assert (change.payload["gtin"], change.payload["lot_number"]) == (COMIRNATY_GTIN, "EARLY1")
    with pytest.raises(LotRecalled, match="particles in vials"):
        approve_allocation(hub, allocation.id, actor=ACTOR)
    fresh = propose_allocation(hub, START, 3, actor=ACTOR)
    with pytest.raises(LotRecalled):
        adjust_allocation(
            hub, fresh.id, site_code="NS-001", lot_number="EARLY1", vials=1, actor=ACTOR
        )
    lifted = lift_recall(hub, "EARLY1", actor=ACTOR)
    assert lifted.id == recall.id
    assert lifted.lifted_at is not None
    approve_allocation(hub, allocation.id, actor=ACTOR)
