"""Valid rows for every table of the site store, for tests to build on."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from app.local_db import models as m
from domain.ids import uuid7

NOW = datetime(2021, 3, 1, 8, 0, tzinfo=UTC)
HERE = uuid.UUID("01890000-0000-7000-8000-000000000001")
ELSEWHERE = uuid.UUID("01890000-0000-7000-8000-000000000002")
NURSE = uuid.UUID("01890000-0000-7000-8000-0000000000aa")

_jmbg = itertools.count(1)


def enrol(session: Session, site_id: uuid.UUID = HERE) -> m.SiteIdentity:
    identity = m.SiteIdentity(
        site_id=site_id,
        site_code="RS-BG-042",
        site_name="Dom zdravlja Vračar",
        municipality_code="70092",
        hub_url="https://hub.example.test",
        credential_id="cred-042",
        credential_secret_sealed=b"\x01sealed-bytes",
        enrolled_at=NOW,
    )
    session.add(identity)
    session.flush()
    return identity


def citizen(session: Session, **overrides: object) -> m.Citizen:
    values: dict[str, object] = {
        "jmbg": f"{next(_jmbg):013d}",
        "given_name_latin": "Milica",
        "family_name_latin": "Jovanović",
        "given_name_cyrillic": "Милица",
        "family_name_cyrillic": "Јовановић",
        "birth_date": date(1950, 4, 2),
        "sex": m.Sex.FEMALE,
        "municipality_code": "70092",
        "priority_group": "age_65_plus",
        "hlc": "0177ba3c5f10.0000.RS-BG-042",
        "origin_site_id": HERE,
        "created_at": NOW,
    }
    values.update(overrides)
    row = m.Citizen(**values)
    session.add(row)
    session.flush()
    return row


def dose(
    session: Session, citizen_id: uuid.UUID, dose_number: int = 1, **overrides: object
) -> m.DoseRecord:
    values: dict[str, object] = {
        "citizen_id": citizen_id,
        "product_code": "EU/1/20/1528",
        "gtin": "05415062343169",
        "lot_number": "EW2239",
        "dose_number": dose_number,
        "administered_at": NOW,
        "injection_site": m.InjectionSite.LEFT_DELTOID,
        "vaccinator_name": "Ana Petrović",
        "origin_site_id": HERE,
        "created_at": NOW,
        "created_by": NURSE,
    }
    values.update(overrides)
    row = m.DoseRecord(**values)
    session.add(row)
    session.flush()
    return row


def void(session: Session, dose_id: uuid.UUID, **overrides: object) -> m.DoseVoid:
    values: dict[str, object] = {
        "dose_id": dose_id,
        "reason": "recorded for the wrong citizen",
        "voided_at": NOW,
        "origin_site_id": HERE,
        "created_at": NOW,
        "created_by": NURSE,
    }
    values.update(overrides)
    row = m.DoseVoid(**values)
    session.add(row)
    session.flush()
    return row


def appointment(session: Session, citizen_id: uuid.UUID) -> m.Appointment:
    row = m.Appointment(
        citizen_id=citizen_id,
        site_id=HERE,
        day=NOW.date(),
        slot_start=NOW,
        slot_minutes=10,
        product_code="EU/1/20/1528",
        dose_number=1,
        origin_site_id=None,
        created_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


def vial(session: Session, serial: str = "000123") -> m.Vial:
    row = m.Vial(
        gtin="05415062343169",
        lot_number="EW2239",
        serial=serial,
        expiry_date=date(2021, 6, 30),
        product_code="EU/1/20/1528",
        doses_per_vial=6,
        origin_site_id=HERE,
        created_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


def append_only_row(session: Session, table: str) -> object:
    """One committed-to-be row of an append-only table (with what it depends on)."""
    if table == "dose_records":
        return dose(session, citizen(session).id)
    if table == "dose_voids":
        return void(session, dose(session, citizen(session).id).id)
    if table == "vial_events":
        row: object = m.VialEvent(
            vial_id=vial(session).id,
            kind=m.VialEventKind.OPENED,
            occurred_at=NOW,
            origin_site_id=HERE,
            created_at=NOW,
        )
    elif table == "appointment_events":
        row = m.AppointmentEvent(
            appointment_id=appointment(session, citizen(session).id).id,
            kind=m.AppointmentEventKind.CHECKED_IN,
            occurred_at=NOW,
            hlc="0177ba3c5f10.0001.RS-BG-042",
            origin_site_id=HERE,
            created_at=NOW,
        )
    elif table == "receipts":
        row = receipt(session)
    elif table == "receipt_discrepancies":
        row = m.ReceiptDiscrepancy(
            receipt_id=receipt(session).id,
            kind=m.DiscrepancyKind.DAMAGED,
            expected_vials=10,
            received_vials=9,
            origin_site_id=HERE,
            created_at=NOW,
        )
    elif table == "stock_counts":
        row = stock_count(session)
    elif table == "stock_count_lines":
        row = m.StockCountLine(
            stock_count_id=stock_count(session).id,
            product_code="EU/1/20/1528",
            gtin="05415062343169",
            lot_number="EW2239",
            counted_vials=4,
            origin_site_id=HERE,
            created_at=NOW,
        )
    elif table == "audit_log":
        row = audit(session, "dose.recorded")
    else:
        raise AssertionError(f"no factory for {table}")
    session.add(row)
    session.flush()
    return row


def receipt(session: Session) -> m.Receipt:
    row = m.Receipt(
        shipment_reference="SH-2021-0042",
        received_at=NOW,
        cold_chain_ok=True,
        origin_site_id=HERE,
        created_at=NOW,
    )
    session.add(row)
    session.flush()
    return row


def stock_count(session: Session) -> m.StockCount:
    row = m.StockCount(counted_at=NOW, origin_site_id=HERE, created_at=NOW)
    session.add(row)
    session.flush()
    return row


def audit(session: Session, action: str, **details: object) -> m.AuditEntry:
    row = m.AuditEntry(
        id=uuid7(),
        actor_name="Ana Petrović",
        action=action,
        details=dict(details),
        origin_site_id=HERE,
        created_at=NOW,
        created_by=NURSE,
    )
    session.add(row)
    session.flush()
    return row
