"""The site store's tables, one module per concept.

Import models from here. `Base.metadata` is the schema the migrations must
produce (a test compares them). `APPEND_ONLY_TABLES` lists the tables whose
rows SQLite refuses to update or delete.
"""

from __future__ import annotations

from typing import Final

from app.local_db.models.appointments import Appointment, AppointmentEvent, AppointmentEventKind
from app.local_db.models.base import SECRET, Base, UtcDateTime
from app.local_db.models.certificates import (
    CertificateList,
    CertificateListKind,
    IssuedCertificate,
)
from app.local_db.models.citizens import Citizen, Sex
from app.local_db.models.doses import DoseRecord, DoseVoid, InjectionSite
from app.local_db.models.logistics import (
    DiscrepancyKind,
    Receipt,
    ReceiptDiscrepancy,
    Shipment,
    ShipmentLine,
    StockCount,
    StockCountLine,
)
from app.local_db.models.site import AuditEntry, LocalUser, Role, Setting, SiteIdentity
from app.local_db.models.standby import StandbyEntry
from app.local_db.models.stock import Lot, Recall, Vial, VialEvent, VialEventKind
from app.local_db.models.sync import OutboxEntry, OutboxOp, SyncOutcome, SyncRound, SyncState
from app.local_db.models.trust import Revocation, RevocationKind, TrustedSigner

#: Clinical and stock facts: inserted, never updated or deleted.
APPEND_ONLY_TABLES: Final[tuple[str, ...]] = (
    "dose_records",
    "dose_voids",
    "vial_events",
    "appointment_events",
    "receipts",
    "receipt_discrepancies",
    "stock_counts",
    "stock_count_lines",
    "audit_log",
)


def secret_columns(table_name: str) -> frozenset[str]:
    """Names of the columns of `table_name` that must never leave the store in clear."""
    table = Base.metadata.tables[table_name]
    return frozenset(column.name for column in table.columns if column.info.get(SECRET))


__all__ = [
    "APPEND_ONLY_TABLES",
    "SECRET",
    "Appointment",
    "AppointmentEvent",
    "AppointmentEventKind",
    "AuditEntry",
    "Base",
    "CertificateList",
    "CertificateListKind",
    "Citizen",
    "DiscrepancyKind",
    "DoseRecord",
    "DoseVoid",
    "InjectionSite",
    "IssuedCertificate",
    "LocalUser",
    "Lot",
    "OutboxEntry",
    "OutboxOp",
    "Recall",
    "Receipt",
    "ReceiptDiscrepancy",
    "Revocation",
    "RevocationKind",
    "Role",
    "Setting",
    "Sex",
    "Shipment",
    "ShipmentLine",
    "SiteIdentity",
    "StandbyEntry",
    "StockCount",
    "StockCountLine",
    "SyncOutcome",
    "SyncRound",
    "SyncState",
    "TrustedSigner",
    "UtcDateTime",
    "Vial",
    "VialEvent",
    "VialEventKind",
    "secret_columns",
]
