"""Stock facts and voids pushed by sites, on both engines: applied, duplicate, quarantined.

Sites record facts in their stores with their outbox rows (the payload
builders of `app.sync.wire_forms`) and sync to a real hub in process; the
hub's tables, its quarantine and the replicas are checked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.local_db.models.doses import DoseVoid as LocalVoid
from app.local_db.models.logistics import DiscrepancyKind
from app.local_db.models.logistics import Shipment as LocalShipment
from app.local_db.models.logistics import ShipmentLine as LocalShipmentLine
from app.local_db.models.stock import Lot as LocalLot
from app.local_db.models.stock import Recall as LocalRecall
from app.local_db.models.stock import VialEventKind
from app.local_db.models.sync import OutboxEntry
from app.local_db.unit_of_work import session_scope
from app.sync.outbox import record_change
from central.certificates.doses import doses_in_effect
from central.db import (
    DoseVoid,
    Quarantine,
    Recall,
    Receipt,
    ReceiptDiscrepancy,
    Shipment,
    StockCount,
    Vial,
    VialEvent,
)
from central.scheduling.demand import effective_doses
from central.services.sync.publish import publish
from tests.app.sync.facts import (
    CountLine,
    count_stock,
    discrepancy,
    hub_lot,
    hub_recall,
    hub_shipment,
    new_vial,
    receive,
    vial_event,
    void_dose,
    world_lot_id,
)
from tests.app.sync.world import GTIN, LOT, SiteClient, World


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    yield w
    w.close()


def _reasons(world: World, table: str) -> list[str]:
    with world.hub.read_sessions() as session:
        return list(
            session.scalars(
                sa.select(Quarantine.reason_code)
                .where(Quarantine.table_name == table)
                .order_by(Quarantine.received_at, Quarantine.id)
            )
        )


def _resend(site: SiteClient, kind: str, record_id: uuid.UUID, /, **changes: Any) -> None:
    """Queue the record's last pushed payload again, with `changes` (a buggy or restored site)."""
    payload = dict(_last_pushed[(site.site_id, record_id)])
    payload.update(changes)
    with session_scope(site.store) as session:
        record_change(session, kind, record_id, payload)


_last_pushed: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]] = {}


def _remember_outbox(site: SiteClient) -> None:
    with session_scope(site.store, write=False) as session:
        for entry in session.scalars(sa.select(OutboxEntry)):
            _last_pushed[(site.site_id, entry.record_id)] = dict(entry.payload)


def _sync(site: SiteClient) -> Any:
    _remember_outbox(site)
    return site.sync()


# --- vial events ---------------------------------------------------------------------------


def test_vial_events_register_the_vial_and_keep_every_event(world: World) -> None:
    site = world.add_site("VE-01")
    vial_id = new_vial(site, "SER001")
    events = [
        vial_event(site, vial_id, VialEventKind.RECEIVED),
        vial_event(site, vial_id, VialEventKind.OPENED),
        vial_event(site, vial_id, VialEventKind.DOSE_DRAWN),
        vial_event(site, vial_id, VialEventKind.DISCARDED, reason="open too long"),
    ]
    report = _sync(site)
    assert report.applied_at_hub == 4
    assert not report.quarantined
    with world.hub.read_sessions() as session:
        vial = session.get(Vial, vial_id)
        assert vial is not None
        assert (vial.serial, vial.site_id, vial.lot_id) == (
            "SER001",
            site.site_id,
            world_lot_id(world),
        )
        stored = session.scalars(sa.select(VialEvent).order_by(VialEvent.occurred_at, VialEvent.id))
        assert [(e.id, e.kind, e.reason) for e in stored] == [
            (events[0], "received", None),
            (events[1], "opened", None),
            (events[2], "dose_drawn", None),
            (events[3], "discarded", "open too long"),
        ]


def test_a_re_sent_vial_event_is_a_duplicate_and_a_changed_one_quarantined(world: World) -> None:
    site = world.add_site("VE-02")
    vial_id = new_vial(site, "SER002")
    event_id = vial_event(site, vial_id, VialEventKind.OPENED)
    _sync(site)
    _resend(site, "vial_event", event_id)
    assert _sync(site).duplicates == 1
    _resend(site, "vial_event", event_id, kind="discarded", reason="broken")
    report = _sync(site)
    assert len(report.quarantined) == 1
    assert _reasons(world, "vial_events") == ["conflicting_payload"]
    assert world.hub_count(VialEvent, id=event_id) == 1
    with world.hub.read_sessions() as session:
        assert session.get_one(VialEvent, event_id).kind == "opened"


def test_a_vial_event_of_a_lot_unknown_at_the_hub_is_quarantined(world: World) -> None:
    site = world.add_site("VE-03")
    vial_id = new_vial(site, "SER003", lot="NOSUCHLOT")
    vial_event(site, vial_id, VialEventKind.RECEIVED)
    report = _sync(site)
    assert report.applied_at_hub == 0
    assert _reasons(world, "vial_events") == ["unknown_lot"]
    assert world.hub_count(Vial) == 0


def test_a_serial_another_vial_holds_at_the_hub_is_quarantined(world: World) -> None:
    a, b = world.add_site("VE-04"), world.add_site("VE-05")
    vial_event(a, new_vial(a, "SER004"), VialEventKind.RECEIVED)
    _sync(a)
    vial_event(b, new_vial(b, "SER004"), VialEventKind.RECEIVED)
    _sync(b)
    assert _reasons(world, "vial_events") == ["vial_serial_taken"]
    assert world.hub_count(Vial) == 1


# --- dose voids ----------------------------------------------------------------------------


def test_a_void_stops_the_dose_counting_and_reaches_every_site_holding_the_citizen(
    world: World,
) -> None:
    a, b = world.add_site("DV-01"), world.add_site("DV-02")
    citizen = world.hub_citizen()
    world.book(citizen.id, a)
    world.book(citizen.id, b)
    a.sync()
    b.sync()
    dose_id = a.record_dose(citizen.id)
    a.sync()
    with world.hub.read_sessions() as session:
        assert [d.id for d in doses_in_effect(session, citizen.id)] == [dose_id]
    void_id = void_dose(a, dose_id)
    report = _sync(a)
    assert report.applied_at_hub == 1
    with world.hub.read_sessions() as session:
        void = session.get(DoseVoid, void_id)
        assert void is not None
        assert (void.dose_id, void.site_id, void.reason) == (dose_id, a.site_id, "wrong citizen")
        assert doses_in_effect(session, citizen.id) == []
        assert effective_doses(session, citizen.id) == {}
    b.sync()
    assert b.local_ids(LocalVoid) == {void_id}
    _resend(a, "dose_void", void_id)
    assert _sync(a).duplicates == 1


def test_a_second_void_of_a_dose_and_a_void_of_an_unknown_dose_are_quarantined(
    world: World,
) -> None:
    a, b = world.add_site("DV-03"), world.add_site("DV-04")
    citizen = world.hub_citizen()
    world.book(citizen.id, a)
    world.book(citizen.id, b)
    a.sync()
    b.sync()
    dose_id = a.record_dose(citizen.id)
    a.sync()
    b.sync()  # b now holds the dose too
    void_dose(b, dose_id, reason="recorded twice")  # b finds the mistake first
    _sync(b)
    void_dose(a, dose_id)  # a, offline, voids it too
    _sync(a)
    assert _reasons(world, "dose_voids") == ["already_voided"]
    assert world.hub_count(DoseVoid) == 1
    lone = a.record_dose(citizen.id, dose_number=2)  # never pushed: the outbox row goes
    with session_scope(a.store) as session:
        session.execute(sa.delete(OutboxEntry).where(OutboxEntry.record_id == lone))
    void_dose(a, lone)
    _sync(a)
    assert _reasons(world, "dose_voids") == ["already_voided", "unknown_dose"]


# --- receipts, discrepancies -----------------------------------------------------------


def test_a_shipment_reaches_its_site_and_its_receipt_the_hub(world: World) -> None:
    a, b = world.add_site("RC-01"), world.add_site("RC-02")
    shipment_id = hub_shipment(world, a, [(world_lot_id(world), 20)], reference="DN-0001")
    a.sync()
    b.sync()
    assert b.local_ids(LocalShipment) == set()
    with session_scope(a.store, write=False) as session:
        shipment = session.get_one(LocalShipment, shipment_id)
        assert (shipment.reference, shipment.site_id) == ("DN-0001", a.site_id)
        lines = session.scalars(sa.select(LocalShipmentLine)).all()
        assert [(x.gtin, x.lot_number, x.vial_count) for x in lines] == [(GTIN, LOT, 20)]
    receipt_id = receive(a, shipment_id, "DN-0001")
    short = discrepancy(a, receipt_id, DiscrepancyKind.MISSING, expected=20, received=18)
    report = _sync(a)
    assert report.applied_at_hub == 2, report.quarantined
    with world.hub.read_sessions() as session:
        receipt = session.get_one(Receipt, receipt_id)
        assert (receipt.shipment_id, receipt.site_id) == (shipment_id, a.site_id)
        found = session.get_one(ReceiptDiscrepancy, short)
        assert (found.kind, found.expected_vials, found.received_vials) == ("short", 20, 18)
        assert found.lot_id == world_lot_id(world)
    _resend(a, "receipt_discrepancy", short)
    _resend(a, "receipt", receipt_id)
    assert _sync(a).duplicates == 2
    _resend(a, "receipt_discrepancy", short, received_vials=17)
    _sync(a)
    assert _reasons(world, "receipt_discrepancies") == ["conflicting_payload"]


def test_a_receipt_names_its_shipment_by_reference_when_received_offline(world: World) -> None:
    site = world.add_site("RC-03")
    shipment_id = hub_shipment(world, site, [(world_lot_id(world), 5)], reference="DN-0002")
    receipt_id = receive(site, None, "DN-0002")  # the notice was never pulled
    site.sync()
    with world.hub.read_sessions() as session:
        assert session.get_one(Receipt, receipt_id).shipment_id == shipment_id


def test_a_receipt_of_another_sites_shipment_is_quarantined(world: World) -> None:
    a, b = world.add_site("RC-04"), world.add_site("RC-05")
    shipment_id = hub_shipment(world, a, [(world_lot_id(world), 5)], reference="DN-0003")
    receive(b, shipment_id, "DN-0003")
    receive(b, None, "DN-9999")
    report = _sync(b)
    assert report.applied_at_hub == 0
    assert _reasons(world, "receipts") == ["other_site_shipment", "unknown_shipment"]
    assert world.hub_count(Receipt) == 0


def test_a_cancelled_shipment_leaves_the_site(world: World) -> None:
    site = world.add_site("RC-06")
    shipment_id = hub_shipment(world, site, [(world_lot_id(world), 5)], reference="DN-0004")
    site.sync()
    assert site.local_ids(LocalShipment) == {shipment_id}
    with world.hub.sessions() as session, session.begin():
        shipment = session.get_one(Shipment, shipment_id)
        shipment.cancelled_at = world.clock.now()
        publish(session, [shipment], world.clock.now())
    site.sync()
    assert site.local_ids(LocalShipment) == set()
    assert site.local_ids(LocalShipmentLine) == set()


# --- stock counts --------------------------------------------------------------------------


def test_a_stock_count_is_stored_a_row_per_lot(world: World) -> None:
    site = world.add_site("SC-01")
    hub_lot(world, "LOT77B")
    count_id, line_ids = count_stock(
        site, [CountLine(GTIN, LOT, counted=12, expected=13), CountLine(GTIN, "LOT77B", 0)]
    )
    assert _sync(site).applied_at_hub == 1
    with world.hub.read_sessions() as session:
        rows = {r.id: r for r in session.scalars(sa.select(StockCount))}
    assert set(rows) == set(line_ids)
    assert [(rows[i].counted_vials, rows[i].expected_vials) for i in line_ids] == [
        (12, 13),
        (0, None),
    ]
    assert {r.site_id for r in rows.values()} == {site.site_id}
    _resend(site, "stock_count", count_id)
    assert _sync(site).duplicates == 1
    _resend(site, "stock_count", count_id, note="recounted")
    _sync(site)
    assert _reasons(world, "stock_counts") == ["conflicting_payload"]
    assert world.hub_count(StockCount) == 2


def test_a_count_with_a_lot_unknown_at_the_hub_is_quarantined_whole(world: World) -> None:
    site = world.add_site("SC-02")
    count_stock(site, [CountLine(GTIN, LOT, 3), CountLine(GTIN, "NOSUCHLOT", 1)])
    _sync(site)
    assert _reasons(world, "stock_counts") == ["unknown_lot"]
    assert world.hub_count(StockCount) == 0


# --- lots and recalls ----------------------------------------------------------------------


def test_lots_and_recalls_reach_every_site_and_a_lifted_recall_follows(world: World) -> None:
    a, b = world.add_site("LR-01"), world.add_site("LR-02")
    lot_id = hub_lot(world, "LOT88C")
    recall_id = hub_recall(world, lot_id)
    for site in (a, b):
        site.sync()
        with session_scope(site.store, write=False) as session:
            lot = session.get_one(LocalLot, lot_id)
            assert (lot.gtin, lot.lot_number, lot.product_code) == (GTIN, "LOT88C", "comirnaty")
            assert lot.manufacturer  # from the catalogue
            recall = session.get_one(LocalRecall, recall_id)
            assert (recall.lot_number, recall.lifted_at) == ("LOT88C", None)
    with world.hub.sessions() as session, session.begin():
        row = session.get_one(Recall, recall_id)
        row.lifted_at, row.lifted_by = world.clock.now(), "test"
        publish(session, [row], world.clock.now())
    a.sync()
    with session_scope(a.store, write=False) as session:
        assert session.get_one(LocalRecall, recall_id).lifted_at == world.clock.now()
