"""The central (hub) database: engines, schema, migrations.

Runs the same on SQLite (the embedded default) and PostgreSQL (production).
Typical start-up::

    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    Session = session_factory(engine)
    with Session.begin() as session:
        session.add(Site(...))

Every table is a model here; `APPEND_ONLY_TABLES` are enforced by the
database. Times are aware UTC datetimes (naive ones are refused), ids UUIDv7.
"""

from __future__ import annotations

from central.db.base import (
    ACTOR_LENGTH,
    NAMING_CONVENTION,
    PAYLOAD_HASH_LENGTH,
    PRODUCT_ID_LENGTH,
    Base,
    CentralRecord,
    SyncedRecord,
)
from central.db.bulk import DEFAULT_BATCH_SIZE, insert_rows
from central.db.change_log import NewChange, allocate_change_seqs, append_changes
from central.db.engine import (
    DEFAULT_BUSY_TIMEOUT_MS,
    IDLE_IN_TRANSACTION_MS,
    READ_ONLY_OPTION,
    make_engine,
    read_only,
    session_factory,
)
from central.db.enums import (
    AllocationStatus,
    AppointmentEventKind,
    ChangeOp,
    DiscrepancyKind,
    DoseRecordKind,
    InjectionSite,
    MovementKind,
    NotificationChannel,
    NotificationStatus,
    PurchaseOrderStatus,
    SchedulerRunStatus,
    Sex,
    SiteRole,
    StaffRole,
    VialEventKind,
)
from central.db.migrate import (
    MigrationError,
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    make_revision,
    schema_differences,
    upgrade_to_head,
)
from central.db.models import (
    APPEND_ONLY_TABLES,
    Allocation,
    AllocationLine,
    Appointment,
    AppointmentEvent,
    AuditLog,
    ChangeLog,
    ChangeLogCounter,
    Citizen,
    ConflictLog,
    Csca,
    Delivery,
    DoseRecord,
    EnrolmentCode,
    IssuedCertificate,
    Lot,
    NotificationOutbox,
    PurchaseOrder,
    PurchaseOrderLine,
    Quarantine,
    Recall,
    Receipt,
    ReceiptDiscrepancy,
    Registration,
    SchedulerRun,
    Shipment,
    ShipmentLine,
    SignerCertificate,
    Site,
    SiteCredential,
    SiteSyncStatus,
    SiteUser,
    StaffToken,
    StaffUser,
    StockCount,
    StockMovement,
    SyncBatch,
    Vial,
    VialEvent,
)
from central.db.types import (
    HLC_LENGTH,
    UUID,
    NaiveDateTimeError,
    UTCDateTime,
    hlc_string,
    json_document,
)

__all__ = [  # noqa: RUF022 - grouped by topic for the reader, sorted within each group
    # engines and sessions
    "DEFAULT_BUSY_TIMEOUT_MS",
    "IDLE_IN_TRANSACTION_MS",
    "READ_ONLY_OPTION",
    "make_engine",
    "read_only",
    "session_factory",
    # migrations
    "MigrationError",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_revision",
    "schema_differences",
    "upgrade_to_head",
    # column types
    "HLC_LENGTH",
    "UUID",
    "NaiveDateTimeError",
    "UTCDateTime",
    "hlc_string",
    "json_document",
    # declarative base and conventions
    "ACTOR_LENGTH",
    "APPEND_ONLY_TABLES",
    "NAMING_CONVENTION",
    "PAYLOAD_HASH_LENGTH",
    "PRODUCT_ID_LENGTH",
    "Base",
    "CentralRecord",
    "SyncedRecord",
    # change log and bulk loading
    "DEFAULT_BATCH_SIZE",
    "NewChange",
    "allocate_change_seqs",
    "append_changes",
    "insert_rows",
    # value sets
    "AllocationStatus",
    "AppointmentEventKind",
    "ChangeOp",
    "DiscrepancyKind",
    "DoseRecordKind",
    "InjectionSite",
    "MovementKind",
    "NotificationChannel",
    "NotificationStatus",
    "PurchaseOrderStatus",
    "SchedulerRunStatus",
    "Sex",
    "SiteRole",
    "StaffRole",
    "VialEventKind",
    # tables
    "Allocation",
    "AllocationLine",
    "Appointment",
    "AppointmentEvent",
    "AuditLog",
    "ChangeLog",
    "ChangeLogCounter",
    "Citizen",
    "ConflictLog",
    "Csca",
    "Delivery",
    "DoseRecord",
    "EnrolmentCode",
    "IssuedCertificate",
    "Lot",
    "NotificationOutbox",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Quarantine",
    "Recall",
    "Receipt",
    "ReceiptDiscrepancy",
    "Registration",
    "SchedulerRun",
    "Shipment",
    "ShipmentLine",
    "SignerCertificate",
    "Site",
    "SiteCredential",
    "SiteSyncStatus",
    "SiteUser",
    "StaffToken",
    "StaffUser",
    "StockCount",
    "StockMovement",
    "SyncBatch",
    "Vial",
    "VialEvent",
]
