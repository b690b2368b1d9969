"""Stock facts and voids recorded at a `SiteClient`, and stock rows made at the hub.

Each site helper writes its rows and their outbox row in one local
transaction, with the payload builders of `app.sync.wire_forms`, the way
the site's services do. Hub helpers add rows and announce them with
`central.services.sync.publish`, the way the hub's stock services do.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.local_db.models.doses import DoseRecord as LocalDose
from app.local_db.models.doses import DoseVoid as LocalVoid
from app.local_db.models.logistics import DiscrepancyKind
from app.local_db.models.logistics import Receipt as LocalReceipt
from app.local_db.models.logistics import ReceiptDiscrepancy as LocalDiscrepancy
from app.local_db.models.logistics import StockCount as LocalCount
from app.local_db.models.logistics import StockCountLine as LocalCountLine
from app.local_db.models.stock import Vial as LocalVial
from app.local_db.models.stock import VialEvent as LocalVialEvent
from app.local_db.models.stock import VialEventKind
from app.local_db.unit_of_work import session_scope
from app.sync.outbox import record_change
from app.sync.wire_forms import (
    dose_void_payload,
    receipt_discrepancy_payload,
    receipt_payload,
    stock_count_payload,
    vial_event_payload,
)
from central.db import Lot, Recall, Shipment, ShipmentLine
from central.services.sync.publish import publish
from domain.ids import uuid7
from tests.app.sync.world import GTIN, LOT, NOW, SiteClient, World


@dataclass(frozen=True)
class CountLine:
    gtin: str
    lot_number: str
    counted: int
    expected: int | None = None


def new_vial(site: SiteClient, serial: str, *, gtin: str = GTIN, lot: str = LOT) -> uuid.UUID:
    """A vial registered at the site (no event yet, nothing queued)."""
    with session_scope(site.store) as session:
        vial = LocalVial(
            id=uuid7(),
            origin_site_id=site.site_id,
            created_at=site.clock.now(),
            created_by=site.nurse_id,
            gtin=gtin,
            lot_number=lot,
            serial=serial,
            expiry_date=date(2022, 1, 1),
            product_code="comirnaty",
            doses_per_vial=6,
            receipt_id=None,
        )
        session.add(vial)
        return vial.id


def vial_event(
    site: SiteClient,
    vial_id: uuid.UUID,
    kind: VialEventKind,
    *,
    reason: str | None = None,
    dose_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A vial event recorded at the site, queued for the hub."""
    with session_scope(site.store) as session:
        vial = session.get(LocalVial, vial_id)
        assert vial is not None
        event = LocalVialEvent(
            id=uuid7(),
            origin_site_id=site.site_id,
            created_at=site.clock.now(),
            created_by=site.nurse_id,
            vial_id=vial_id,
            kind=kind,
            occurred_at=site.clock.now(),
            dose_record_id=dose_id,
            reason=reason,
        )
        session.add(event)
        session.flush()
        record_change(
            session, "vial_event", event.id, vial_event_payload(event, vial), now=site.clock.now()
        )
        return event.id


def void_dose(site: SiteClient, dose_id: uuid.UUID, reason: str = "wrong citizen") -> uuid.UUID:
    """A dose voided at the site, queued for the hub."""
    with session_scope(site.store) as session:
        assert session.get(LocalDose, dose_id) is not None
        void = LocalVoid(
            id=uuid7(),
            origin_site_id=site.site_id,
            created_at=site.clock.now(),
            created_by=site.nurse_id,
            dose_id=dose_id,
            reason=reason,
            voided_at=site.clock.now(),
        )
        session.add(void)
        session.flush()
        record_change(session, "dose_void", void.id, dose_void_payload(void), now=site.clock.now())
        return void.id


def receive(
    site: SiteClient, shipment_id: uuid.UUID | None, reference: str, *, note: str | None = None
) -> uuid.UUID:
    """A shipment taken in at the site, queued for the hub."""
    with session_scope(site.store) as session:
        receipt = LocalReceipt(
            id=uuid7(),
            origin_site_id=site.site_id,
            created_at=site.clock.now(),
            created_by=site.nurse_id,
            shipment_id=shipment_id,
            shipment_reference=reference,
            received_at=site.clock.now(),
            cold_chain_ok=True,
            note=note,
        )
        session.add(receipt)
        session.flush()
        record_change(
            session, "receipt", receipt.id, receipt_payload(receipt), now=site.clock.now()
        )
        return receipt.id


def discrepancy(
    site: SiteClient, receipt_id: uuid.UUID, kind: DiscrepancyKind, expected: int, received: int
) -> uuid.UUID:
    """A receipt discrepancy found at the site, queued for the hub."""
    with session_scope(site.store) as session:
        row = LocalDiscrepancy(
            id=uuid7(),
            origin_site_id=site.site_id,
            created_at=site.clock.now(),
            created_by=site.nurse_id,
            receipt_id=receipt_id,
            kind=kind,
            gtin=GTIN,
            lot_number=LOT,
            expected_vials=expected,
            received_vials=received,
            note=None,
        )
        session.add(row)
        session.flush()
        record_change(
            session,
            "receipt_discrepancy",
            row.id,
            receipt_discrepancy_payload(row),
            now=site.clock.now(),
        )
        return row.id


def count_stock(site: SiteClient, lines: Sequence[CountLine]) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A stock count made at the site, queued for the hub: (count id, line ids)."""
    with session_scope(site.store) as session:
        count = LocalCount(
            id=uuid7(),
            origin_site_id=site.site_id,
            created_at=site.clock.now(),
            created_by=site.nurse_id,
            counted_at=site.clock.now(),
            note="monthly count",
        )
        session.add(count)
        session.flush()
        rows = [
            LocalCountLine(
                id=uuid7(),
                origin_site_id=site.site_id,
                created_at=site.clock.now(),
                created_by=site.nurse_id,
                stock_count_id=count.id,
                product_code="comirnaty",
                gtin=line.gtin,
                lot_number=line.lot_number,
                expected_vials=line.expected,
                counted_vials=line.counted,
                note=None,
            )
            for line in lines
        ]
        session.add_all(rows)
        session.flush()
        record_change(
            session, "stock_count", count.id, stock_count_payload(count, rows), now=site.clock.now()
        )
        return count.id, [row.id for row in rows]


def hub_lot(world: World, lot_number: str, *, gtin: str = GTIN) -> uuid.UUID:
    """A lot delivered at the hub, announced to every site."""
    with world.hub.sessions() as session, session.begin():
        lot = Lot(
            id=uuid7(),
            gtin=gtin,
            lot_number=lot_number,
            product_id="comirnaty",
            expiry=date(2022, 3, 1),
            created_at=NOW,
            created_by="test",
        )
        session.add(lot)
        session.flush()
        publish(session, [lot], world.clock.now())
        return lot.id


def world_lot_id(world: World) -> uuid.UUID:
    """The id of the lot every `World` starts with."""
    with world.hub.read_sessions() as session:
        return session.scalars(select(Lot.id).where(Lot.lot_number == LOT)).one()


def hub_recall(world: World, lot_id: uuid.UUID, reason: str = "cold chain broken") -> uuid.UUID:
    """A recall of `lot_id` made at the hub, announced to every site."""
    with world.hub.sessions() as session, session.begin():
        recall = Recall(
            id=uuid7(),
            lot_id=lot_id,
            reason=reason,
            effective_at=world.clock.now(),
            lifted_at=None,
            lifted_by=None,
            created_at=world.clock.now(),
            created_by="test",
        )
        session.add(recall)
        session.flush()
        publish(session, [recall], world.clock.now())
        return recall.id


def hub_shipment(
    world: World, site: SiteClient, lots: Sequence[tuple[uuid.UUID, int]], reference: str
) -> uuid.UUID:
    """A dispatched shipment to `site`, announced to it."""
    with world.hub.sessions() as session, session.begin():
        shipment = Shipment(
            id=uuid7(),
            kind="allocation",
            reference=reference,
            from_site_id=None,
            site_id=site.site_id,
            allocation_id=None,
            dispatched_at=world.clock.now(),
            expected_at=world.clock.now(),
            cancelled_at=None,
            updated_at=world.clock.now(),
            created_at=world.clock.now(),
            created_by="test",
        )
        session.add(shipment)
        session.flush()
        session.add_all(
            ShipmentLine(
                id=uuid7(),
                shipment_id=shipment.id,
                lot_id=lot_id,
                quantity_vials=vials,
                created_at=world.clock.now(),
                created_by="test",
            )
            for lot_id, vials in lots
        )
        session.flush()
        publish(session, [shipment], world.clock.now())
        return shipment.id
