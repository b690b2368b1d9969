"""Every table of the central database, importable from one place.

Importing this package registers all tables on `central.db.base.Base.metadata`,
which Alembic compares the migrations against.
"""

from __future__ import annotations

from typing import Final

from central.db.base import Base
from central.db.models.audit import AuditLog
from central.db.models.certificates import Csca, IssuedCertificate, SignerCertificate
from central.db.models.clinical import Appointment, AppointmentEvent, DoseRecord, SchedulerRun
from central.db.models.lots import Lot, Recall, Vial, VialEvent
from central.db.models.messaging import NotificationOutbox
from central.db.models.people import Citizen, CitizenAlias, Registration
from central.db.models.scheduling import SecondDosePlan, StandbyEntry
from central.db.models.security import (
    EnrolmentCode,
    RateLimitCounter,
    SiteCredential,
    SiteUser,
    StaffToken,
    StaffUser,
)
from central.db.models.sites import Site
from central.db.models.stock import (
    Allocation,
    AllocationLine,
    Delivery,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptDiscrepancy,
    Shipment,
    ShipmentLine,
    StockCount,
    StockMovement,
)
from central.db.models.sync import (
    ChangeLog,
    ChangeLogCounter,
    ConflictLog,
    Quarantine,
    SiteSyncStatus,
    SyncBatch,
)
from central.db.models.voids import DoseVoid

APPEND_ONLY_TABLES: Final[frozenset[str]] = frozenset(
    mapper.class_.__tablename__ for mapper in Base.registry.mappers if mapper.class_.__append_only__
)
"""Tables whose rows the database refuses to UPDATE or DELETE (see the migration)."""

__all__ = [
    "APPEND_ONLY_TABLES",
    "Allocation",
    "AllocationLine",
    "Appointment",
    "AppointmentEvent",
    "AuditLog",
    "Base",
    "ChangeLog",
    "ChangeLogCounter",
    "Citizen",
    "CitizenAlias",
    "ConflictLog",
    "Csca",
    "Delivery",
    "DoseRecord",
    "DoseVoid",
    "EnrolmentCode",
    "IssuedCertificate",
    "Lot",
    "NotificationOutbox",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Quarantine",
    "RateLimitCounter",
    "Recall",
    "Receipt",
    "ReceiptDiscrepancy",
    "Registration",
    "SchedulerRun",
    "SecondDosePlan",
    "Shipment",
    "ShipmentLine",
    "SignerCertificate",
    "Site",
    "SiteCredential",
    "SiteSyncStatus",
    "SiteUser",
    "StaffToken",
    "StaffUser",
    "StandbyEntry",
    "StockCount",
    "StockMovement",
    "SyncBatch",
    "Vial",
    "VialEvent",
]
