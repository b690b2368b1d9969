"""Applying pulled stock entries: lots, recalls, shipments to this site, and the
site's own stock facts coming back after a restore.

Hub-owned rows (lots, recalls, shipments with their lines) are replaced by
the hub's version; a cancelled shipment's notice is dropped. The site's own
append-only facts (vial events, receipts, receipt discrepancies, stock
counts) reach it again only when it pulls its own entries after a restore
from an old backup: an id already held is a no-op, and a missing vial is
registered from the event's label.

Called by `app.sync.apply.apply_changes`, one entry per savepoint; an entry
this replica cannot hold raises `app.sync.apply.Skip` with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.local_db.models.logistics import (
    Receipt,
    ReceiptDiscrepancy,
    Shipment,
    ShipmentLine,
    StockCount,
    StockCountLine,
)
from app.local_db.models.site import Setting
from app.local_db.models.stock import Lot, Recall, Vial, VialEvent, VialEventKind
from app.sync.wire_forms import DISCREPANCY_FROM_WIRE
from domain.sync_wire import (
    LotPayload,
    PulledChange,
    RecallPayload,
    ReceiptDiscrepancyPayload,
    ReceiptPayload,
    ShipmentPayload,
    StockCountPayload,
    VialEventPayload,
)

if TYPE_CHECKING:
    from app.sync.apply import ApplyContext

_TIMEZONE_SETTING = "site.timezone"
_DEFAULT_TIMEZONE = "Europe/Belgrade"


def _skip(reason: str) -> Exception:
    # Imported when raised: app.sync.apply imports this module for its table.
    from app.sync.apply import Skip

    return Skip(reason)


def _origin(change: PulledChange, what: str) -> uuid.UUID:
    if change.origin_site_id is None:
        raise _skip(f"{what} {change.record_id}: the hub did not say which site recorded it")
    return change.origin_site_id


def _update(row: Any, values: Mapping[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def apply_lot(ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]) -> bool:
    """A lot of the catalogue: insert or replace."""
    lot = LotPayload.model_validate(payload)
    values = {
        "product_code": lot.product_code,
        "gtin": lot.gtin,
        "lot_number": lot.lot_number,
        "expiry_date": lot.expiry_date,
        "manufacturer": lot.manufacturer,
    }
    row = ctx.session.get(Lot, lot.id)
    if row is None:
        ctx.session.add(Lot(id=lot.id, created_at=lot.created_at, **values))
        return True
    return _update(row, values)


def apply_recall(ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]) -> bool:
    """A recall (or its lifting): insert or replace."""
    recall = RecallPayload.model_validate(payload)
    values = {
        "gtin": recall.gtin,
        "lot_number": recall.lot_number,
        "product_code": recall.product_code,
        "reason": recall.reason[:500],
        "recalled_at": recall.effective_at,
        "lifted_at": recall.lifted_at,
    }
    row = ctx.session.get(Recall, recall.id)
    if row is None:
        ctx.session.add(Recall(id=recall.id, created_at=recall.created_at, **values))
        return True
    return _update(row, values)


def _local_day(ctx: ApplyContext, moment: datetime) -> Any:
    setting = ctx.session.get(Setting, _TIMEZONE_SETTING)
    zone = ZoneInfo(str(setting.value if setting is not None else _DEFAULT_TIMEZONE))
    return moment.astimezone(zone).date()


def apply_shipment(ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]) -> bool:
    """A shipment to this site with its lines: insert or replace; drop it when cancelled."""
    shipment = ShipmentPayload.model_validate(payload)
    if shipment.site_id != ctx.site_id:
        return False  # not addressed here
    session = ctx.session
    row = session.get(Shipment, shipment.id)
    held = {
        kept.id: kept
        for kept in session.scalars(
            sa.select(ShipmentLine).where(ShipmentLine.shipment_id == shipment.id)
        )
    }
    if shipment.cancelled_at is not None:
        for stale in held.values():
            session.delete(stale)
        if row is not None:
            session.flush()
            session.delete(row)
        return row is not None or bool(held)
    dispatched = shipment.dispatched_at or shipment.created_at
    values = {
        "reference": shipment.reference,
        "site_id": shipment.site_id,
        "dispatched_at": dispatched,
        "expected_on": _local_day(ctx, shipment.expected_at or dispatched),
    }
    changed = False
    if row is None:
        session.add(Shipment(id=shipment.id, created_at=shipment.created_at, **values))
        session.flush()
        changed = True
    else:
        changed = _update(row, values)
    wanted = {line.id for line in shipment.lines}
    for line_id, stale in held.items():
        if line_id not in wanted:
            session.delete(stale)
            changed = True
    for line in shipment.lines:
        line_values = {
            "shipment_id": shipment.id,
            "product_code": line.product_code,
            "gtin": line.gtin,
            "lot_number": line.lot_number,
            "expiry_date": line.expiry_date,
            "vial_count": line.quantity_vials,
        }
        existing = held.get(line.id)
        if existing is None:
            session.add(ShipmentLine(id=line.id, created_at=shipment.created_at, **line_values))
            changed = True
        else:
            changed = _update(existing, line_values) or changed
    return changed


def apply_vial_event(ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]) -> bool:
    """This site's vial event coming back (restore): insert if missing, with its vial."""
    session = ctx.session
    if session.get(VialEvent, change.record_id) is not None:
        return False
    event = VialEventPayload.model_validate(payload)
    origin = _origin(change, "vial event")
    vial = session.get(Vial, event.vial_id)
    if vial is None:
        other = session.scalar(
            sa.select(Vial.id).where(Vial.gtin == event.gtin, Vial.serial == event.serial)
        )
        if other is not None:
            raise _skip(
                f"vial event {event.id}: vial {event.serial} is held here as {other},"
                f" not {event.vial_id}"
            )
        session.add(
            Vial(
                id=event.vial_id,
                origin_site_id=origin,
                created_at=event.created_at,
                created_by=event.recorded_by,
                gtin=event.gtin,
                lot_number=event.lot_number,
                serial=event.serial,
                expiry_date=event.expiry_date,
                product_code=event.product_code,
                doses_per_vial=event.doses_per_vial,
                receipt_id=None,
            )
        )
        session.flush()
    session.add(
        VialEvent(
            id=event.id,
            origin_site_id=origin,
            created_at=event.created_at,
            created_by=event.recorded_by,
            vial_id=event.vial_id,
            kind=VialEventKind(event.kind),
            occurred_at=event.occurred_at,
            dose_record_id=event.dose_record_id,
            reason=event.reason,
        )
    )
    return True


def apply_receipt(ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]) -> bool:
    """This site's receipt coming back (restore): insert if missing."""
    if ctx.session.get(Receipt, change.record_id) is not None:
        return False
    receipt = ReceiptPayload.model_validate(payload)
    ctx.session.add(
        Receipt(
            id=receipt.id,
            origin_site_id=_origin(change, "receipt"),
            created_at=receipt.created_at,
            created_by=receipt.received_by,
            shipment_id=receipt.shipment_id,
            shipment_reference=receipt.shipment_reference,
            received_at=receipt.received_at,
            cold_chain_ok=receipt.cold_chain_ok,
            note=receipt.note,
        )
    )
    return True


def apply_receipt_discrepancy(
    ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]
) -> bool:
    """This site's receipt discrepancy coming back (restore): insert if missing."""
    session = ctx.session
    if session.get(ReceiptDiscrepancy, change.record_id) is not None:
        return False
    found = ReceiptDiscrepancyPayload.model_validate(payload)
    if session.get(Receipt, found.receipt_id) is None:
        raise _skip(f"receipt discrepancy {found.id}: its receipt is not in this replica")
    session.add(
        ReceiptDiscrepancy(
            id=found.id,
            origin_site_id=_origin(change, "receipt discrepancy"),
            created_at=found.created_at,
            created_by=None,
            receipt_id=found.receipt_id,
            kind=DISCREPANCY_FROM_WIRE[found.kind],
            gtin=found.gtin,
            lot_number=found.lot_number,
            expected_vials=found.expected_vials,
            received_vials=found.received_vials,
            note=found.note,
        )
    )
    return True


def apply_stock_count(ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]) -> bool:
    """This site's stock count coming back (restore): insert it and its lines if missing."""
    session = ctx.session
    if session.get(StockCount, change.record_id) is not None:
        return False
    count = StockCountPayload.model_validate(payload)
    origin = _origin(change, "stock count")
    session.add(
        StockCount(
            id=count.id,
            origin_site_id=origin,
            created_at=count.created_at,
            created_by=count.counted_by,
            counted_at=count.counted_at,
            note=count.note,
        )
    )
    session.flush()
    session.add_all(
        StockCountLine(
            id=line.id,
            origin_site_id=origin,
            created_at=count.created_at,
            created_by=count.counted_by,
            stock_count_id=count.id,
            product_code=line.product_code,
            gtin=line.gtin,
            lot_number=line.lot_number,
            expected_vials=line.expected_vials,
            counted_vials=line.counted_vials,
            note=line.note,
        )
        for line in count.lines
    )
    return True
