"""Refusals of the stock use cases, each telling central staff what to do.

All are `central.services.errors.HubError`s, so the API maps them to status
codes (404 for unknown things, 409 for a state conflict, 422 for bad values)
and the CLI prints the message. Serbian: ``domain/locale/stock.sr-Latn.json``.
"""

from __future__ import annotations

from typing import ClassVar

from central.services.errors import Conflict, HubError, NotFound


class StockError(HubError):
    """Root of the stock refusals."""

    code: ClassVar[str] = "stock.error"
    template: ClassVar[str] = "The stock operation was refused."


class QuantityNotPositive(StockError):
    code: ClassVar[str] = "stock.quantity_not_positive"
    template: ClassVar[str] = (
        "The quantity must be a whole number of vials above zero, not {quantity}. "
        "Correct the number and try again."
    )


class QuantityTooLarge(StockError):
    code: ClassVar[str] = "stock.quantity_too_large"
    template: ClassVar[str] = (
        "{quantity} vials of lot {lot_number} in one delivery is more than can be true "
        "(at most {maximum}). Check the counts."
    )


class LotExpired(StockError):
    code: ClassVar[str] = "stock.lot_expired"
    template: ClassVar[str] = (
        "Lot {lot_number} expired on {expiry}. Expired vials cannot enter or move through "
        "stock: set the cartons aside for destruction and record them as waste."
    )


class LotExpiryMismatch(StockError):
    code: ClassVar[str] = "stock.lot_expiry_mismatch"
    template: ClassVar[str] = (
        "Lot {lot_number} is already known with expiry {known}, but this carton says "
        "{given}. Check the carton label; if it is right, call the manufacturer before "
        "taking the lot in."
    )


class LabelIncomplete(StockError):
    code: ClassVar[str] = "stock.label_incomplete"
    template: ClassVar[str] = (
        "The carton label has no {missing}. Scan the carton's square DataMatrix code "
        "(it carries GTIN, lot and expiry) or type the values from the printed label."
    )


class ProductNotOrdered(StockError):
    code: ClassVar[str] = "stock.product_not_ordered"
    template: ClassVar[str] = (
        "Purchase order {order} does not order {product}. Receive these cartons against "
        "the right purchase order, or without one."
    )


class DeliveryExceedsOrder(StockError):
    code: ClassVar[str] = "stock.delivery_exceeds_order"
    template: ClassVar[str] = (
        "Purchase order {order} ordered {ordered} vials of {product} and {delivered} have "
        "already been delivered, so {arriving} more do not add up. Count the cartons again "
        "or receive the surplus against another order."
    )


class OrderNotOpen(Conflict):
    code: ClassVar[str] = "stock.order_not_open"
    template: ClassVar[str] = (
        "Purchase order {order} is {status}: it can no longer take deliveries or changes."
    )


class DuplicateOrderNumber(Conflict):
    code: ClassVar[str] = "stock.duplicate_order_number"
    template: ClassVar[str] = (
        "A purchase order numbered {order} already exists. Use another number."
    )


class ProductNotStocked(StockError):
    code: ClassVar[str] = "stock.product_not_stocked"
    template: ClassVar[str] = (
        "Site {site} cannot store {product}. Choose a site that stores it, or change the "
        "site's products first."
    )


class NotEnoughStock(Conflict):
    code: ClassVar[str] = "stock.not_enough"
    template: ClassVar[str] = (
        "Only {available} vials of lot {lot_number} are at {location}, so {requested} "
        "cannot leave it. Lower the quantity or choose another lot."
    )


class LotRecalled(Conflict):
    code: ClassVar[str] = "stock.lot_recalled"
    template: ClassVar[str] = (
        "Lot {lot_number} is recalled ({reason}). Its vials must not be shipped or used: "
        "keep them in quarantine."
    )


class LotExpiresBeforeUse(StockError):
    code: ClassVar[str] = "stock.lot_expires_before_use"
    template: ClassVar[str] = (
        "Lot {lot_number} expires on {expiry}, before the first appointment it would serve "
        "on {day}. Choose a lot with a later expiry."
    )


class AllocationNotProposed(Conflict):
    code: ClassVar[str] = "stock.allocation_not_proposed"
    template: ClassVar[str] = (
        "Allocation {allocation} is {status}: only a proposed allocation can be adjusted, "
        "approved or cancelled. Propose a new one if the plan must change."
    )


class AllocationNotApproved(Conflict):
    code: ClassVar[str] = "stock.allocation_not_approved"
    template: ClassVar[str] = (
        "Allocation {allocation} is {status}: shipments are made only from an approved "
        "allocation. Review and approve it first."
    )


class AllocationAlreadyShipped(Conflict):
    code: ClassVar[str] = "stock.allocation_already_shipped"
    template: ClassVar[str] = "The shipments of allocation {allocation} were already made."


class AllocationExceedsWarehouse(Conflict):
    code: ClassVar[str] = "stock.allocation_exceeds_warehouse"
    template: ClassVar[str] = (
        "The allocation would send {requested} vials of lot {lot_number}, but the "
        "warehouse has {available} not promised elsewhere. Lower the quantity or choose "
        "another lot."
    )


class ShipmentLinesEmpty(StockError):
    code: ClassVar[str] = "stock.shipment_empty"
    template: ClassVar[str] = "A shipment needs at least one lot with a quantity."


class SameSite(StockError):
    code: ClassVar[str] = "stock.same_site"
    template: ClassVar[str] = "A transfer must go to another site than the one it leaves."


class LotNotShipped(StockError):
    code: ClassVar[str] = "stock.lot_not_shipped"
    template: ClassVar[str] = (
        "Lot {lot_number} was not in shipment {shipment}. Record it as a discrepancy "
        "(wrong lot or extra), not as received."
    )


class ReceiptQuantityMismatch(StockError):
    code: ClassVar[str] = "stock.receipt_quantity_mismatch"
    template: ClassVar[str] = (
        "For lot {lot_number} the shipment sent {sent} vials; received {received} plus "
        "discrepancies {accounted} do not add up to it. Count again and record the "
        "difference as missing, extra or damaged."
    )


class ShipmentNotInTransit(Conflict):
    code: ClassVar[str] = "stock.shipment_not_in_transit"
    template: ClassVar[str] = (
        "Shipment {shipment} has nothing left on the road to take in here. Check the "
        "reference on the delivery note."
    )


class ShipmentReceivedAlready(Conflict):
    code: ClassVar[str] = "stock.shipment_received_already"
    template: ClassVar[str] = (
        "Shipment {shipment} was already received. Do not receive it twice: record anything "
        "found later in a stock count."
    )


class ShipmentForOtherSite(Conflict):
    code: ClassVar[str] = "stock.shipment_other_site"
    template: ClassVar[str] = (
        "Shipment {shipment} is addressed to another site. Do not open it: call the "
        "central warehouse."
    )


class AlreadyRecalled(Conflict):
    code: ClassVar[str] = "stock.already_recalled"
    template: ClassVar[str] = "Lot {lot_number} is already recalled (since {since})."


class NotRecalled(Conflict):
    code: ClassVar[str] = "stock.not_recalled"
    template: ClassVar[str] = "Lot {lot_number} has no recall in force to lift."


class StockNotFound(NotFound):
    code: ClassVar[str] = "stock.not_found"
    template: ClassVar[str] = "There is no {thing} '{key}'. Check it and try again."


class HorizonInvalid(StockError):
    code: ClassVar[str] = "stock.horizon_invalid"
    template: ClassVar[str] = "Allocation covers 1 to {max_days} days of appointments, not {days}."


class MarginInvalid(StockError):
    code: ClassVar[str] = "stock.margin_invalid"
    template: ClassVar[str] = "The safety margin must be 0 to 100 per cent, not {margin}."


class LotAmbiguous(StockError):
    code: ClassVar[str] = "stock.lot_ambiguous"
    template: ClassVar[str] = (
        "Lot number {lot_number} exists for several products ({gtins}). Give the GTIN too."
    )
