"""Local rows as the payloads the hub expects, and the names that differ.

The wire speaks the hub's vocabulary (``first_name_latin``, ``left_arm``);
the site store has its own (``given_name_latin``, ``left_deltoid``). The
mappings live here, in one place, in both directions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from app.local_db.models.appointments import Appointment, AppointmentEvent
from app.local_db.models.citizens import Citizen
from app.local_db.models.doses import DoseRecord, DoseVoid, InjectionSite
from app.local_db.models.logistics import (
    DiscrepancyKind,
    Receipt,
    ReceiptDiscrepancy,
    StockCount,
    StockCountLine,
)
from app.local_db.models.stock import Vial, VialEvent, VialEventKind
from domain.sync_wire import (
    AppointmentEventPayload,
    CitizenChangePayload,
    DoseRecordPayload,
    DoseVoidPayload,
    ReceiptDiscrepancyPayload,
    ReceiptPayload,
    StockCountLinePayload,
    StockCountPayload,
    VialEventPayload,
    WalkInAppointmentPayload,
)

CITIZEN_WIRE_TO_LOCAL: Final[Mapping[str, str]] = {
    "jmbg": "jmbg",
    "first_name_latin": "given_name_latin",
    "last_name_latin": "family_name_latin",
    "first_name_cyrillic": "given_name_cyrillic",
    "last_name_cyrillic": "family_name_cyrillic",
    "birth_date": "birth_date",
    "sex": "sex",
    "phone": "phone",
    "email": "email",
    "municipality": "municipality_code",
    "priority_group": "priority_group",
    "conditions": "conditions",
    "vaccine_preferences": "preferences",
}
"""Citizen fields that travel, hub (wire) name -> site column."""

CITIZEN_LOCAL_TO_WIRE: Final[Mapping[str, str]] = {v: k for k, v in CITIZEN_WIRE_TO_LOCAL.items()}

INJECTION_SITE_TO_WIRE: Final[Mapping[InjectionSite, str]] = {
    InjectionSite.LEFT_DELTOID: "left_arm",
    InjectionSite.RIGHT_DELTOID: "right_arm",
    InjectionSite.LEFT_THIGH: "left_thigh",
    InjectionSite.RIGHT_THIGH: "right_thigh",
}
INJECTION_SITE_FROM_WIRE: Final[Mapping[str, InjectionSite]] = {
    v: k for k, v in INJECTION_SITE_TO_WIRE.items()
}


def json_value(value: Any) -> Any:
    """`value` as JSON: ids, dates and times as ISO text, enums as their value."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


def dose_payload(
    dose: DoseRecord, *, correction_reason: str | None = None, retraction: bool = False
) -> dict[str, Any]:
    """The wire form of a dose record (give the void's reason for a replacement)."""
    if dose.created_by is None:
        raise ValueError("a dose record must name the nurse who recorded it (created_by)")
    payload = DoseRecordPayload(
        id=dose.id,
        citizen_id=dose.citizen_id,
        appointment_id=dose.appointment_id,
        product_code=dose.product_code,
        gtin=dose.gtin,
        lot_number=dose.lot_number,
        vial_id=dose.vial_id,
        dose_number=dose.dose_number,
        administered_at=dose.administered_at,
        injection_site=INJECTION_SITE_TO_WIRE[InjectionSite(dose.injection_site)],
        vaccinator_id=dose.created_by,
        vaccinator_name=dose.vaccinator_name,
        notes=dose.notes,
        voids_dose_id=dose.voids_dose_id,
        correction_reason=correction_reason,
        retraction=retraction,
        created_at=dose.created_at,
    )
    return payload.model_dump(mode="json")


def appointment_event_payload(event: AppointmentEvent) -> dict[str, Any]:
    """The wire form of an appointment event."""
    return AppointmentEventPayload(
        id=event.id,
        appointment_id=event.appointment_id,
        kind=event.kind.value,
        occurred_at=event.occurred_at,
        reason=event.reason,
        new_appointment_id=_uuid_or_none(event.details.get("new_appointment_id")),
        recorded_by=event.created_by,
        created_at=event.created_at,
    ).model_dump(mode="json")


def walk_in_appointment_payload(appointment: Appointment) -> dict[str, Any]:
    """The wire form of an appointment booked here (kind ``walk_in_appointment``).

    Queue it in the booking's transaction, before the appointment's first
    event, so the hub holds it before anything names it.
    """
    if appointment.origin_site_id != appointment.site_id:
        raise ValueError(f"appointment {appointment.id} was not booked at its own site")
    return WalkInAppointmentPayload(
        id=appointment.id,
        citizen_id=appointment.citizen_id,
        site_id=appointment.site_id,
        day=appointment.day,
        slot_start=appointment.slot_start,
        product_code=appointment.product_code,
        dose_number=appointment.dose_number,
        booked_by=appointment.created_by,
        created_at=appointment.created_at,
    ).model_dump(mode="json")


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def citizen_payload(
    citizen: Citizen,
    written: Mapping[str, str],
    base: Mapping[str, str | None],
    *,
    new: bool = False,
) -> dict[str, Any]:
    """The wire form of writes to `citizen` (after they were made on the row).

    `written` maps each written local column to its new HLC timestamp text,
    `base` to the timestamp the column had before (None: none). A `new`
    citizen (a walk-in) sends all its fields.
    """
    values = {CITIZEN_LOCAL_TO_WIRE[c]: json_value(getattr(citizen, c)) for c in written}
    return CitizenChangePayload(
        values=values,
        field_hlc={CITIZEN_LOCAL_TO_WIRE[c]: stamp for c, stamp in written.items()},
        base_hlc={CITIZEN_LOCAL_TO_WIRE[c]: base.get(c) for c in written},
        registered_at=citizen.created_at if new else None,
        created_at=citizen.created_at,
    ).model_dump(mode="json")


# --- stock facts and voids ---------------------------------------------------------------

DISCREPANCY_TO_WIRE: Final[Mapping[DiscrepancyKind, str]] = {
    DiscrepancyKind.MISSING: "short",
    DiscrepancyKind.EXTRA: "over",
    DiscrepancyKind.DAMAGED: "damaged",
    DiscrepancyKind.WRONG_LOT: "wrong_lot",
    DiscrepancyKind.TEMPERATURE_EXCURSION: "temperature",
}
"""Receipt discrepancy kinds, site name -> hub (wire) name."""
DISCREPANCY_FROM_WIRE: Final[Mapping[str, DiscrepancyKind]] = {
    v: k for k, v in DISCREPANCY_TO_WIRE.items()
}


def vial_event_payload(event: VialEvent, vial: Vial) -> dict[str, Any]:
    """The wire form of a vial event (kind ``vial_event``), with its vial's label."""
    if event.vial_id != vial.id:
        raise ValueError(f"vial event {event.id} is not about vial {vial.id}")
    return VialEventPayload(
        id=event.id,
        vial_id=vial.id,
        gtin=vial.gtin,
        lot_number=vial.lot_number,
        serial=vial.serial,
        product_code=vial.product_code,
        expiry_date=vial.expiry_date,
        doses_per_vial=vial.doses_per_vial,
        kind=VialEventKind(event.kind).value,
        occurred_at=event.occurred_at,
        reason=event.reason,
        dose_record_id=event.dose_record_id,
        recorded_by=event.created_by,
        created_at=event.created_at,
    ).model_dump(mode="json")


def dose_void_payload(void: DoseVoid) -> dict[str, Any]:
    """The wire form of a dose void (kind ``dose_void``)."""
    return DoseVoidPayload(
        id=void.id,
        dose_id=void.dose_id,
        reason=void.reason,
        voided_at=void.voided_at,
        voided_by=void.created_by,
        created_at=void.created_at,
    ).model_dump(mode="json")


def receipt_payload(receipt: Receipt) -> dict[str, Any]:
    """The wire form of a receipt (kind ``receipt``)."""
    return ReceiptPayload(
        id=receipt.id,
        shipment_id=receipt.shipment_id,
        shipment_reference=receipt.shipment_reference,
        received_at=receipt.received_at,
        cold_chain_ok=receipt.cold_chain_ok,
        note=receipt.note,
        received_by=receipt.created_by,
        created_at=receipt.created_at,
    ).model_dump(mode="json")


def receipt_discrepancy_payload(discrepancy: ReceiptDiscrepancy) -> dict[str, Any]:
    """The wire form of a receipt discrepancy (kind ``receipt_discrepancy``)."""
    return ReceiptDiscrepancyPayload(
        id=discrepancy.id,
        receipt_id=discrepancy.receipt_id,
        kind=DISCREPANCY_TO_WIRE[DiscrepancyKind(discrepancy.kind)],
        gtin=discrepancy.gtin,
        lot_number=discrepancy.lot_number,
        expected_vials=discrepancy.expected_vials,
        received_vials=discrepancy.received_vials,
        note=discrepancy.note,
        created_at=discrepancy.created_at,
    ).model_dump(mode="json")


def stock_count_payload(count: StockCount, lines: Sequence[StockCountLine]) -> dict[str, Any]:
    """The wire form of a stock count with all its lines (kind ``stock_count``).

    Queue it once, after the count's last line is added.
    """
    strays = [line.id for line in lines if line.stock_count_id != count.id]
    if strays:
        raise ValueError(f"lines {strays} are not lines of stock count {count.id}")
    return StockCountPayload(
        id=count.id,
        counted_at=count.counted_at,
        note=count.note,
        counted_by=count.created_by,
        lines=[
            StockCountLinePayload(
                id=line.id,
                product_code=line.product_code,
                gtin=line.gtin,
                lot_number=line.lot_number,
                expected_vials=line.expected_vials,
                counted_vials=line.counted_vials,
                note=line.note,
            )
            for line in lines
        ],
        created_at=count.created_at,
    ).model_dump(mode="json")
