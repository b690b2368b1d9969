"""Local rows as the payloads the hub expects, and the names that differ.

The wire speaks the hub's vocabulary (``first_name_latin``, ``left_arm``);
the site store has its own (``given_name_latin``, ``left_deltoid``). The
mappings live here, in one place, in both directions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from app.local_db.models.appointments import AppointmentEvent
from app.local_db.models.citizens import Citizen
from app.local_db.models.doses import DoseRecord, InjectionSite
from domain.sync_wire import AppointmentEventPayload, CitizenChangePayload, DoseRecordPayload

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
