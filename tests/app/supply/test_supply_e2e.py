"""The supply chain end to end with a real hub and a real site store, through sync:
order -> delivery -> allocation -> shipment -> pulled notice -> receipt by scanning ->
vial opened and discarded -> pushed -> booked at the hub -> positions and wastage report;
then a recall reaching the site and enforced there. Both central engines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.local_db import models as m
from app.local_db.unit_of_work import session_scope
from app.services import errors
from app.services.recalls import recalled_lots
from app.services.receiving import CartonScan, pending_shipments, receive_shipment
from app.services.stock_count import CountedLot, record_count
from app.services.vials import discard_vial, open_vial
from central.db import Receipt, ReceiptDiscrepancy, StockMovement, VialEvent
from central.stock.allocations import adjust_allocation, approve_allocation, propose_allocation
from central.stock.deliveries import Carton, receive_delivery
from central.stock.locations import (
    ADMINISTERED,
    UNACCOUNTED,
    WAREHOUSE,
    WASTE,
    site_location,
    transit_location,
)
from central.stock.positions import positions
from central.stock.purchase_orders import OrderLine, create_purchase_order
from central.stock.recalls import recall_lot
from central.stock.reports import wastage
from central.stock.shipments import ship_allocation
from central.stock.site_facts import settle
from domain.gs1 import encode_gs1, parse_gs1
from domain.ids import uuid7
from tests.app.sync.world import NOW, SiteClient, World

GTIN = "09520000100018"  # Comirnaty, 6 doses a vial
EXPIRY = date(2021, 12, 31)
ACTOR = "staff:test"


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    yield w
    w.close()


def _staffed(site: SiteClient) -> None:
    """The site's own identity and a manager, as enrolment and log-in leave them."""
    with session_scope(site.store) as session:
        session.add(
            m.SiteIdentity(
                site_id=site.site_id, site_code=site.code, site_name=f"Dom zdravlja {site.code}",
                municipality_code="80438", hub_url="https://hub.example.test",
                credential_id="cred", credential_secret_sealed=b"\x01sealed", enrolled_at=NOW,
            )
        )  # fmt: skip
        session.add(
            m.LocalUser(
                id=site.nurse_id, username="ana", full_name="Ana Petrović", role=m.Role.MANAGER,
                password_hash="$argon2id$v=19$m=65536,t=3,p=4$x$y", active=True,
                failed_logins=0, created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip


def _vial(lot: str, serial: str) -> object:
    return parse_gs1(encode_gs1(GTIN, EXPIRY, lot, serial))


def _positions(world: World) -> dict[tuple[str, object], int]:
    with world.hub.sessions() as session:
        return dict(positions(session))


def _sums(world: World) -> dict[tuple[str, object], int]:
    totals: dict[tuple[str, object], int] = defaultdict(int)
    with world.hub.sessions() as session:
        for row in session.scalars(select(StockMovement)):
            totals[(row.to_location, row.lot_id)] += row.quantity_vials
            totals[(row.from_location, row.lot_id)] -= row.quantity_vials
    return {k: v for k, v in totals.items() if v}


def test_procurement_to_syringe_and_a_recall(world: World) -> None:
    site = world.add_site("NS-01")
    _staffed(site)
    hub = world.hub
    create_purchase_order(hub, number="PO-1", lines=[OrderLine("comirnaty", 100)], actor=ACTOR)
    delivered = receive_delivery(
        hub, [Carton(GTIN, "E2E1", EXPIRY, 100)], purchase_order="PO-1", actor=ACTOR
    )
    lot_id = delivered.lots[0].lot_id
    allocation = propose_allocation(hub, NOW.date() + timedelta(days=1), 3, actor=ACTOR)
    adjust_allocation(
        hub, allocation.id, site_code="NS-01", lot_number="E2E1", vials=20, actor=ACTOR
    )
    approve_allocation(hub, allocation.id, actor=ACTOR)
    (shipment,) = ship_allocation(hub, allocation.id, actor=ACTOR)
    assert shipment.reference is not None

    site.sync()  # the notice comes down with its lines
    (notice,) = pending_shipments(site.store)
    assert [(x.lot_number, x.vials) for x in notice.lines] == [("E2E1", 20)]
    carton = parse_gs1(f"(01){GTIN}(17){EXPIRY:%y%m%d}(10)E2E1")
    result = receive_shipment(
        site.store, site.clock, site.nurse_id, shipment.reference,
        [CartonScan(carton, 12), CartonScan(carton, 7, damaged_vials=1)],
    )  # fmt: skip
    assert {(d.kind.value, d.expected_vials, d.received_vials) for d in result.differences} == {
        ("missing", 20, 19),
        ("damaged", 19, 18),
    }
    opened = open_vial(site.store, site.clock, site.nurse_id, _vial("E2E1", "V1"))  # type: ignore[arg-type]
    site.clock.advance(timedelta(hours=7))
    discard_vial(site.store, site.clock, site.nurse_id, _vial("E2E1", "V1"), "open too long")  # type: ignore[arg-type]
    report = site.sync()
    assert report.applied_at_hub >= 5  # receipt, 2 discrepancies, 2 vial events

    with hub.sessions() as session, session.begin():
        assert session.scalars(select(Receipt.id)).one() == result.receipt_id
        assert len(session.scalars(select(ReceiptDiscrepancy)).all()) == 2
        assert len(session.scalars(select(VialEvent)).all()) == 2
    # The push itself booked the movements: no settle needed for positions to be right.
    found = _positions(world)
    assert found == _sums(world)
    assert found[(WAREHOUSE, lot_id)] == 80
    assert found[(transit_location(shipment.id), lot_id)] == 1  # missing: still on the road
    assert found[(WASTE, lot_id)] == 1  # broken on arrival
    assert found[(ADMINISTERED, lot_id)] == 1  # the opened vial
    assert found[(site_location(site.site_id), lot_id)] == 20 - 1 - 1 - 1
    with hub.sessions() as session, session.begin():
        assert settle(session, at=hub.clock.now()).vial_events == 0  # booked once
    with hub.read_sessions() as session:
        waste = wastage(session, NOW.date(), NOW.date() + timedelta(days=1))
    assert {(w.reason, w.vials, w.doses_lost) for w in waste} == {
        ("open too long", 1, 6),
        ("damaged on the road", 1, 6),
    }
    assert opened.vial_id is not None

    # A count finds one vial fewer than the books: the difference reaches the hub.
    counted = record_count(site.store, site.clock, site.nurse_id, [CountedLot(GTIN, "E2E1", 16)])
    assert [(d.expected_vials, d.counted_vials) for d in counted.differences] == [(17, 16)]
    site.sync()
    with hub.sessions() as session, session.begin():
        assert settle(session, at=hub.clock.now()).stock_counts == 0  # booked when pushed
    found = _positions(world)
    assert found == _sums(world)
    assert found[(site_location(site.site_id), lot_id)] == 16
    assert found[(UNACCOUNTED, lot_id)] == 1

    recall_lot(hub, "E2E1", reason="particles seen in vials", actor=ACTOR)
    site.sync()

    (recalled,) = recalled_lots(site.store)
    assert (recalled.lot_number, recalled.vials_in_fridge) == ("E2E1", 16)
    with pytest.raises(errors.LotRecalled):
        open_vial(site.store, site.clock, site.nurse_id, _vial("E2E1", str(uuid7())[:8]))  # type: ignore[arg-type]
