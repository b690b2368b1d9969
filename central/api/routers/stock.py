"""Central stock for staff: orders, deliveries, allocations, shipments, recalls, reports.

Reading needs a staff token; changing anything needs the central_admin role.
Each route calls one use case of `central.stock`; its refusals come back as
the hub's usual error answer (404 unknown, 409 state conflict, 422 values).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from central.api.deps import AdminDep, HubDep, StaffDep
from central.api.errors import responses
from central.stock import allocations, deliveries, purchase_orders, recalls, receipts, reports
from central.stock import shipments as shipping
from central.stock.locations import site_location
from central.stock.positions import Position, position_list
from central.stock.sites import find_site
from domain.wire import SITE_CODE_PATTERN, SiteCode, Text

router = APIRouter(prefix="/v1/stock", tags=["stock"])

MAX_VIALS = 10_000_000
"""The most vials one request line may name (far above any real carton or order)."""

READ = responses(400, 401, 403, 404, 426)
WRITE = responses(400, 401, 403, 404, 409, 426)


GTIN_PATTERN = r"^[0-9]{8,14}$"
REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,79}$"

Gtin = Annotated[str, Field(pattern=GTIN_PATTERN, description="GTIN-8, -12, -13 or -14.")]
LotNumber = Annotated[Text, Field(min_length=1, max_length=20, description="GS1 AI (10) lot.")]
Reference = Annotated[
    str, Path(pattern=REFERENCE_PATTERN, description="A shipment's reference or id.")
]
SiteQuery = Annotated[str | None, Query(pattern=SITE_CODE_PATTERN)]


def _scanned(value: str) -> str:
    """A scanned GS1 element string: GS separators are kept, other control characters refused."""
    for position, char in enumerate(value, start=1):
        if char != "\x1d" and (ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0):
            raise ValueError(f"character {position} is a control character; scan the label again")
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderLineBody(_Body):
    product_id: Text = Field(min_length=1, max_length=64)
    vials: int = Field(gt=0, le=MAX_VIALS)


class OrderBody(_Body):
    number: Text = Field(min_length=1, max_length=40)
    supplier: Text | None = Field(default=None, max_length=200)
    place: bool = True
    lines: list[OrderLineBody] = Field(min_length=1, max_length=100)


class CartonBody(_Body):
    """A carton: its scanned label (GS1 element string) and its vials."""

    scan: Annotated[str, AfterValidator(_scanned)] = Field(min_length=1, max_length=200)
    vials: int = Field(gt=0, le=MAX_VIALS)


class DeliveryBody(_Body):
    purchase_order: Text | None = Field(default=None, max_length=40)
    note: Text | None = Field(default=None, max_length=80)
    cartons: list[CartonBody] = Field(min_length=1, max_length=10_000)


class ProposeBody(_Body):
    start: date
    days: int = Field(default=7, ge=1, le=allocations.MAX_DAYS)
    margin_percent: int = Field(default=allocations.DEFAULT_MARGIN_PERCENT, ge=0, le=100)


class AdjustBody(_Body):
    site_code: SiteCode
    lot_number: LotNumber
    gtin: Gtin | None = None
    vials: int = Field(ge=0, le=MAX_VIALS)


class ShipLineBody(_Body):
    lot_number: LotNumber
    gtin: Gtin | None = None
    vials: int = Field(gt=0, le=MAX_VIALS)


class TransferBody(_Body):
    from_site_code: SiteCode
    to_site_code: SiteCode
    lines: list[ShipLineBody] = Field(min_length=1, max_length=1000)


class ReturnBody(_Body):
    site_code: SiteCode
    lines: list[ShipLineBody] = Field(min_length=1, max_length=1000)


class ReceivedLotBody(_Body):
    gtin: Gtin
    lot_number: LotNumber
    received_vials: int = Field(ge=0, le=MAX_VIALS)
    damaged_vials: int = Field(default=0, ge=0, le=MAX_VIALS)
    missing_vials: int = Field(default=0, ge=0, le=MAX_VIALS)
    extra_vials: int = Field(default=0, ge=0, le=MAX_VIALS)


class WrongLotBody(_Body):
    gtin: Gtin
    lot_number: LotNumber
    vials: int = Field(gt=0, le=MAX_VIALS)


class ReceiptBody(_Body):
    """A delivery note keyed in centrally for a site that cannot sync."""

    site_code: SiteCode
    lots: list[ReceivedLotBody] = Field(max_length=1000)
    wrong_lots: list[WrongLotBody] = Field(default_factory=list, max_length=1000)
    cold_chain_ok: bool = True
    note: Text | None = Field(default=None, max_length=1000)


class RecallBody(_Body):
    lot_number: LotNumber
    gtin: Gtin | None = None
    reason: Text = Field(min_length=1, max_length=500)


def _lines(body: list[ShipLineBody]) -> list[shipping.ShipLine]:
    return [shipping.ShipLine(line.lot_number, line.vials, line.gtin) for line in body]


@router.get("/positions", response_model=list[Position], responses=READ, summary="Stock positions")
def get_positions(_principal: StaffDep, hub: HubDep, site_code: SiteQuery = None) -> list[Position]:
    """Vials of each lot at each location (one site's with `site_code`), from the movements."""
    with hub.read_sessions() as session:
        location = site_location(find_site(session, site_code).id) if site_code else None
        return position_list(session, location=location)


@router.get(
    "/purchase-orders",
    response_model=list[purchase_orders.PurchaseOrderView],
    responses=READ,
    summary="Purchase orders",
)
def get_orders(_principal: StaffDep, hub: HubDep) -> list[purchase_orders.PurchaseOrderView]:
    return purchase_orders.list_purchase_orders(hub)


@router.post(
    "/purchase-orders",
    response_model=purchase_orders.PurchaseOrderView,
    responses=WRITE,
    summary="Create a purchase order",
)
def post_order(
    body: OrderBody, principal: AdminDep, hub: HubDep
) -> purchase_orders.PurchaseOrderView:
    return purchase_orders.create_purchase_order(
        hub,
        number=body.number,
        supplier=body.supplier,
        place=body.place,
        lines=[purchase_orders.OrderLine(line.product_id, line.vials) for line in body.lines],
        actor=principal.actor,
    )


@router.post(
    "/deliveries",
    response_model=deliveries.DeliveryView,
    responses=WRITE,
    summary="Take scanned cartons into the central warehouse",
)
def post_delivery(body: DeliveryBody, principal: AdminDep, hub: HubDep) -> deliveries.DeliveryView:
    cartons = [deliveries.carton_from_scan(c.scan, c.vials) for c in body.cartons]
    return deliveries.receive_delivery(
        hub, cartons, purchase_order=body.purchase_order, note=body.note, actor=principal.actor
    )


@router.post(
    "/allocations",
    response_model=allocations.AllocationView,
    responses=WRITE,
    summary="Propose an allocation from the booked appointments",
)
def post_allocation(
    body: ProposeBody, principal: AdminDep, hub: HubDep
) -> allocations.AllocationView:
    return allocations.propose_allocation(
        hub, body.start, body.days, margin_percent=body.margin_percent, actor=principal.actor
    )


@router.get(
    "/allocations",
    response_model=list[allocations.AllocationView],
    responses=READ,
    summary="The latest allocations",
)
def get_allocations(_principal: StaffDep, hub: HubDep) -> list[allocations.AllocationView]:
    return allocations.list_allocations(hub)


@router.get(
    "/allocations/{allocation_id}",
    response_model=allocations.AllocationView,
    responses=READ,
    summary="One allocation with each site's need",
)
def get_allocation(
    allocation_id: uuid.UUID, _principal: StaffDep, hub: HubDep
) -> allocations.AllocationView:
    return allocations.allocation_view(hub, allocation_id)


@router.post(
    "/allocations/{allocation_id}/adjust",
    response_model=allocations.AllocationView,
    responses=WRITE,
    summary="Set the vials of a lot for a site in a proposed allocation",
)
def post_adjust(
    allocation_id: uuid.UUID, body: AdjustBody, principal: AdminDep, hub: HubDep
) -> allocations.AllocationView:
    return allocations.adjust_allocation(
        hub,
        allocation_id,
        site_code=body.site_code,
        lot_number=body.lot_number,
        gtin=body.gtin,
        vials=body.vials,
        actor=principal.actor,
    )


@router.post(
    "/allocations/{allocation_id}/approve",
    response_model=allocations.AllocationView,
    responses=WRITE,
    summary="Approve a proposed allocation",
)
def post_approve(
    allocation_id: uuid.UUID, principal: AdminDep, hub: HubDep
) -> allocations.AllocationView:
    return allocations.approve_allocation(hub, allocation_id, actor=principal.actor)


@router.post(
    "/allocations/{allocation_id}/cancel",
    response_model=allocations.AllocationView,
    responses=WRITE,
    summary="Cancel an allocation not yet shipped",
)
def post_cancel(
    allocation_id: uuid.UUID, principal: AdminDep, hub: HubDep
) -> allocations.AllocationView:
    return allocations.cancel_allocation(hub, allocation_id, actor=principal.actor)


@router.post(
    "/allocations/{allocation_id}/ship",
    response_model=list[shipping.ShipmentView],
    responses=WRITE,
    summary="Make and dispatch the shipments of an approved allocation",
)
def post_ship(
    allocation_id: uuid.UUID, principal: AdminDep, hub: HubDep
) -> list[shipping.ShipmentView]:
    return shipping.ship_allocation(hub, allocation_id, actor=principal.actor)


@router.get(
    "/shipments", response_model=list[shipping.ShipmentView], responses=READ, summary="Shipments"
)
def get_shipments(
    _principal: StaffDep, hub: HubDep, site_code: SiteQuery = None
) -> list[shipping.ShipmentView]:
    return shipping.list_shipments(hub, site_code=site_code)


@router.post(
    "/transfers", response_model=shipping.ShipmentView, responses=WRITE, summary="Site to site"
)
def post_transfer(body: TransferBody, principal: AdminDep, hub: HubDep) -> shipping.ShipmentView:
    return shipping.create_transfer(
        hub,
        from_site_code=body.from_site_code,
        to_site_code=body.to_site_code,
        lines=_lines(body.lines),
        actor=principal.actor,
    )


@router.post(
    "/returns", response_model=shipping.ShipmentView, responses=WRITE, summary="Site to warehouse"
)
def post_return(body: ReturnBody, principal: AdminDep, hub: HubDep) -> shipping.ShipmentView:
    return shipping.create_return(
        hub, site_code=body.site_code, lines=_lines(body.lines), actor=principal.actor
    )


@router.post(
    "/returns/{reference}/receive",
    response_model=shipping.ShipmentView,
    responses=WRITE,
    summary="Take a returned shipment into the warehouse",
)
def post_return_received(
    reference: Reference, principal: AdminDep, hub: HubDep
) -> shipping.ShipmentView:
    return shipping.receive_return(hub, reference, actor=principal.actor)


@router.post(
    "/shipments/{reference}/receipt",
    response_model=receipts.ReceiptView,
    responses=WRITE,
    summary="Record a site's receipt keyed in centrally",
)
def post_receipt(
    reference: Reference, body: ReceiptBody, principal: AdminDep, hub: HubDep
) -> receipts.ReceiptView:
    return receipts.record_receipt(
        hub,
        reference,
        site_code=body.site_code,
        lots=[receipts.ReceivedLot(**lot.model_dump()) for lot in body.lots],
        wrong_lots=[receipts.WrongLot(**w.model_dump()) for w in body.wrong_lots],
        cold_chain_ok=body.cold_chain_ok,
        note=body.note,
        actor=principal.actor,
    )


@router.get("/recalls", response_model=list[recalls.RecallView], responses=READ, summary="Recalls")
def get_recalls(_principal: StaffDep, hub: HubDep) -> list[recalls.RecallView]:
    return recalls.list_recalls(hub)


@router.post("/recalls", response_model=recalls.RecallView, responses=WRITE, summary="Recall a lot")
def post_recall(body: RecallBody, principal: AdminDep, hub: HubDep) -> recalls.RecallView:
    return recalls.recall_lot(
        hub, body.lot_number, gtin=body.gtin, reason=body.reason, actor=principal.actor
    )


@router.post(
    "/recalls/{lot_number}/lift",
    response_model=recalls.RecallView,
    responses=WRITE,
    summary="Lift a mistaken recall",
)
def post_lift(
    lot_number: Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[\x21-\x7e]+$")],
    principal: AdminDep,
    hub: HubDep,
    gtin: Annotated[str | None, Query(pattern=GTIN_PATTERN)] = None,
) -> recalls.RecallView:
    return recalls.lift_recall(hub, lot_number, gtin=gtin, actor=principal.actor)


@router.get(
    "/reports/usage",
    response_model=list[reports.UsageRow],
    responses=READ,
    summary="Doses used vs vials opened per site, product and day",
)
def get_usage(
    _principal: StaffDep,
    hub: HubDep,
    from_day: Annotated[date, Query(alias="from")],
    to_day: Annotated[date, Query(alias="to")],
) -> list[reports.UsageRow]:
    with hub.read_sessions() as session:
        return reports.usage(session, from_day, to_day)


@router.get(
    "/reports/wastage",
    response_model=list[reports.WastageRow],
    responses=READ,
    summary="Wastage by reason",
)
def get_wastage(
    _principal: StaffDep,
    hub: HubDep,
    from_day: Annotated[date, Query(alias="from")],
    to_day: Annotated[date, Query(alias="to")],
) -> list[reports.WastageRow]:
    with hub.read_sessions() as session:
        return reports.wastage(session, from_day, to_day)


@router.get(
    "/reports/cover",
    response_model=list[reports.CoverRow],
    responses=READ,
    summary="Stock and days of cover per site",
)
def get_cover(
    _principal: StaffDep, hub: HubDep, days: Annotated[int, Query(ge=1, le=60)] = 7
) -> list[reports.CoverRow]:
    with hub.read_sessions() as session:
        return reports.cover(session, hub.clock.now(), days)


@router.get(
    "/reports/expiring",
    response_model=list[reports.ExpiryRow],
    responses=READ,
    summary="Lots near expiry",
)
def get_expiring(
    _principal: StaffDep, hub: HubDep, within: Annotated[int, Query(ge=0, le=3650)] = 30
) -> list[reports.ExpiryRow]:
    with hub.read_sessions() as session:
        return reports.near_expiry(session, hub.clock.now(), within)
