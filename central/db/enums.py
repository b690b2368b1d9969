"""Closed sets of values stored in text columns, each guarded by a CHECK.

Text plus CHECK rather than native enum types: the same DDL on both engines,
and adding a value is an ordinary (batch) migration instead of an
``ALTER TYPE``. Each set is a `StrEnum`, so ``Kind.DONE == "done"``.

Policy data that changes with the rules (priority groups, product codes,
conditions) is deliberately not here: it lives in versioned rule sets in
`domain`, and the database stores its codes without a CHECK.
"""

from __future__ import annotations

from enum import StrEnum

# One definition of sex, the JMBG's own encoding, re-exported for the models.
from domain.jmbg import Sex as Sex


class StaffRole(StrEnum):
    """Roles of central staff at the hub."""

    CENTRAL_ADMIN = "central_admin"
    CENTRAL_VIEWER = "central_viewer"


class SiteRole(StrEnum):
    """Roles of people who log in to a site client."""

    NURSE = "nurse"
    SITE_MANAGER = "site_manager"


class AppointmentEventKind(StrEnum):
    """What can happen to an appointment; its status is the fold of these."""

    SCHEDULED = "scheduled"
    CHECKED_IN = "checked_in"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    REBOOK_REQUESTED = "rebook_requested"


class DoseRecordKind(StrEnum):
    """An original dose record, or a later record that voids an earlier one."""

    ADMINISTERED = "administered"  # a dose was given
    CORRECTION = "correction"  # replaces the voided record with these facts
    RETRACTION = "retraction"  # the voided record was wrong: no dose was given


class InjectionSite(StrEnum):
    """Where on the body a dose was injected."""

    LEFT_ARM = "left_arm"
    RIGHT_ARM = "right_arm"
    LEFT_THIGH = "left_thigh"
    RIGHT_THIGH = "right_thigh"
    OTHER = "other"


class VialEventKind(StrEnum):
    """What can happen to a vial; its state is the fold of these."""

    RECEIVED = "received"
    OPENED = "opened"
    DOSE_DRAWN = "dose_drawn"
    DISCARDED = "discarded"


class MovementKind(StrEnum):
    """Why vials moved from one stock location to another."""

    DELIVERY = "delivery"  # supplier -> central warehouse
    DISPATCH = "dispatch"  # warehouse -> in transit (a shipment leaves)
    RECEIPT = "receipt"  # in transit -> site (a shipment arrives)
    TRANSFER = "transfer"  # site -> site, or site -> warehouse
    DISCARD = "discard"  # any -> waste (expired, broken, recalled)
    ADMINISTERED = "administered"  # site -> administered (a vial fully used)
    COUNT_ADJUSTMENT = "count_adjustment"  # a stock count corrected the position


class PurchaseOrderStatus(StrEnum):
    """Life of a purchase order."""

    DRAFT = "draft"
    PLACED = "placed"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class AllocationStatus(StrEnum):
    """Life of a stock allocation to sites."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    CANCELLED = "cancelled"


class ShipmentKind(StrEnum):
    """Where a shipment's vials come from and go to (``site_id`` is the site concerned)."""

    ALLOCATION = "allocation"  # central warehouse -> site_id, from an approved allocation
    TRANSFER = "transfer"  # from_site_id -> site_id
    RETURN = "return"  # site_id -> central warehouse


class DiscrepancyKind(StrEnum):
    """How a received shipment differed from what was sent."""

    SHORT = "short"
    OVER = "over"
    DAMAGED = "damaged"
    WRONG_LOT = "wrong_lot"
    TEMPERATURE = "temperature"


class SchedulerRunStatus(StrEnum):
    """Outcome of one scheduler run."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ChangeOp(StrEnum):
    """What a change-log entry tells a pulling site to do with the record."""

    UPSERT = "upsert"
    DELETE = "delete"


class NotificationChannel(StrEnum):
    """How a message reaches a citizen."""

    SMS = "sms"
    EMAIL = "email"


class NotificationStatus(StrEnum):
    """Delivery state of an outbound message."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
