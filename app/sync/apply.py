"""Applying pulled change-log entries to the site store.

Called by the engine inside one write transaction per page, together with the
new cursor (sync rule 5). Each entry is applied in a savepoint: an entry the
store refuses (a dose for a citizen this replica never had, an event kind it
cannot hold) is skipped and reported, never allowed to stop the pull for
ever; the verification after the round notices what is still missing.

Merge rules, the same as the hub's:

- dose records and appointment events are append-only: an id already held is
  a no-op;
- citizens merge field by field, the greater HLC timestamp winning (a field
  without a timestamp on either side, or with the same timestamp on both
  sides and another value, takes the hub's value);
- appointments (hub-owned) are replaced by the hub's row.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.local_db.models.appointments import Appointment, AppointmentEvent, AppointmentEventKind
from app.local_db.models.citizens import Citizen, Sex
from app.local_db.models.doses import DoseRecord
from app.local_db.models.site import Setting
from app.sync.apply_standby import apply_standby_entry
from app.sync.apply_stock import (
    apply_lot,
    apply_recall,
    apply_receipt,
    apply_receipt_discrepancy,
    apply_shipment,
    apply_stock_count,
    apply_vial_event,
)
from app.sync.apply_voids import apply_dose_void
from app.sync.site_users import apply_site_user
from app.sync.wire_forms import CITIZEN_WIRE_TO_LOCAL, INJECTION_SITE_FROM_WIRE
from domain.sync_wire import DoseRecordPayload, PulledChange

log = logging.getLogger("imuno.site.sync")

SLOT_MINUTES_SETTING: Final = "site.slot_minutes"
TIMEZONE_SETTING: Final = "site.timezone"
OPENING_HOURS_SETTING: Final = "site.opening_hours"
"""The hub's ``opening_hours`` of this site: ``{"mon": [["08:00", "20:00"]], ...}``, local time."""
VACCINATORS_SETTING: Final = "site.vaccinators"
"""How many people the site vaccinates in parallel (a slot holds that many)."""
DEFAULT_TIMEZONE: Final = "Europe/Belgrade"
DEFAULT_SLOT_MINUTES: Final = 10
"""Used until the hub's row of this site (its slot length) has been pulled."""


@dataclass
class ApplyReport:
    """What a page did to the store."""

    applied: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ApplyContext:
    session: Session
    site_id: uuid.UUID
    now: datetime


class Skip(Exception):
    """An entry this replica cannot hold; the reason is reported."""


def _dt(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _local_value(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column == "birth_date":
        return date.fromisoformat(str(value))
    if column == "sex":
        return Sex(value)
    return value


def apply_citizen(ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]) -> bool:
    remote_hlc: dict[str, str] = dict(payload.get("field_hlc") or {})
    citizen = ctx.session.get(Citizen, change.record_id)
    if citizen is None:
        values = {
            local: _local_value(local, payload.get(wire))
            for wire, local in CITIZEN_WIRE_TO_LOCAL.items()
        }
        ctx.session.add(
            Citizen(
                id=change.record_id,
                origin_site_id=_uuid(payload.get("origin_site_id")),
                created_at=_dt(payload.get("created_at") or ctx.now.isoformat()),
                created_by=None,
                field_hlc={
                    CITIZEN_WIRE_TO_LOCAL[w]: s
                    for w, s in remote_hlc.items()
                    if w in CITIZEN_WIRE_TO_LOCAL
                },
                hlc=str(payload.get("hlc") or change.hlc or ""),
                walk_in=False,
                **values,
            )
        )
        return True
    local_hlc = dict(citizen.field_hlc or {})
    changed = False
    for wire, local in CITIZEN_WIRE_TO_LOCAL.items():
        if wire not in payload:
            continue
        theirs, ours = remote_hlc.get(wire), local_hlc.get(local)
        take = (theirs is not None and (ours is None or theirs > ours)) or (
            theirs is None and ours is None
        )
        value = _local_value(local, payload[wire])
        if theirs is not None and theirs == ours and getattr(citizen, local) != value:
            # Two writes stamped alike (a clock behind, a restored store): the hub's
            # value settles it, as the hub kept the one it received first.
            take = True
        if take and getattr(citizen, local) != value:
            setattr(citizen, local, value)
            changed = True
        if take and theirs is not None and ours != theirs:
            local_hlc[local] = theirs
            changed = True
    if changed:
        citizen.field_hlc = local_hlc
        citizen.hlc = max([citizen.hlc or "", *local_hlc.values()])
    return changed


def _setting(session: Session, key: str, default: Any) -> Any:
    row = session.get(Setting, key)
    return default if row is None else row.value


def apply_site(ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]) -> bool:
    if change.record_id != ctx.site_id:
        return False  # other sites: nothing this replica keeps yet
    changed = False
    for key, value in (
        (SLOT_MINUTES_SETTING, payload.get("slot_minutes")),
        (TIMEZONE_SETTING, payload.get("timezone")),
        (OPENING_HOURS_SETTING, payload.get("opening_hours")),
        (VACCINATORS_SETTING, payload.get("vaccinators")),
    ):
        if value is None:
            continue
        row = ctx.session.get(Setting, key)
        if row is None:
            ctx.session.add(Setting(key=key, value=value, updated_at=ctx.now, updated_by=None))
            changed = True
        elif row.value != value:
            row.value, row.updated_at = value, ctx.now
            changed = True
    return changed


def apply_appointment(ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]) -> bool:
    citizen_id = _uuid(payload.get("citizen_id"))
    if citizen_id is None or ctx.session.get(Citizen, citizen_id) is None:
        raise Skip(f"appointment {change.record_id}: its citizen is not in this replica")
    zone = ZoneInfo(str(_setting(ctx.session, TIMEZONE_SETTING, DEFAULT_TIMEZONE)))
    day = date.fromisoformat(str(payload["day"]))
    slot = datetime.combine(day, time.fromisoformat(str(payload["slot_start"])), tzinfo=zone)
    values: dict[str, Any] = {
        "citizen_id": citizen_id,
        "site_id": _uuid(payload["site_id"]),
        "day": day,
        "slot_start": slot,
        "slot_minutes": int(_setting(ctx.session, SLOT_MINUTES_SETTING, DEFAULT_SLOT_MINUTES)),
        "product_code": str(payload["product_id"]),
        "dose_number": int(payload["dose_number"]),
    }
    row = ctx.session.get(Appointment, change.record_id)
    if row is None:
        ctx.session.add(
            Appointment(
                id=change.record_id,
                origin_site_id=_uuid(payload.get("origin_site_id")),
                created_at=_dt(payload["created_at"]),
                created_by=None,
                **values,
            )
        )
        return True
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _hub_hlc(occurred_at: datetime) -> str:
    return f"{int(occurred_at.timestamp() * 1000):012x}.0000.hub"


def apply_appointment_event(
    ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]
) -> bool:
    if ctx.session.get(AppointmentEvent, change.record_id) is not None:
        return False
    appointment_id = _uuid(payload.get("appointment_id"))
    if appointment_id is None or ctx.session.get(Appointment, appointment_id) is None:
        raise Skip(f"appointment event {change.record_id}: its appointment is not here")
    try:
        kind = AppointmentEventKind(str(payload["kind"]))
    except ValueError:
        raise Skip(f"appointment event kind {payload['kind']!r} is not kept here") from None
    occurred_at = _dt(payload["occurred_at"])
    details = {}
    if payload.get("new_appointment_id"):
        details["new_appointment_id"] = str(payload["new_appointment_id"])
    ctx.session.add(
        AppointmentEvent(
            id=change.record_id,
            origin_site_id=change.origin_site_id,
            created_at=_dt(payload.get("created_at") or payload["occurred_at"]),
            created_by=None,
            appointment_id=appointment_id,
            kind=kind,
            occurred_at=occurred_at,
            hlc=change.hlc or _hub_hlc(occurred_at),
            reason=payload.get("reason"),
            dose_record_id=None,
            details=details,
        )
    )
    return True


def apply_dose(ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]) -> bool:
    if ctx.session.get(DoseRecord, change.record_id) is not None:
        return False
    dose = DoseRecordPayload.model_validate(payload)
    if ctx.session.get(Citizen, dose.citizen_id) is None:
        raise Skip(f"dose {dose.id}: its citizen is not in this replica")
    if dose.voids_dose_id is not None and ctx.session.get(DoseRecord, dose.voids_dose_id) is None:
        raise Skip(f"dose {dose.id}: the dose it corrects is not in this replica")
    injection = INJECTION_SITE_FROM_WIRE.get(dose.injection_site)
    if injection is None:
        raise Skip(f"dose {dose.id}: injection site {dose.injection_site!r} is not kept here")
    if change.origin_site_id is None:
        raise Skip(f"dose {dose.id}: the hub did not say where it was given")
    ctx.session.add(
        DoseRecord(
            id=dose.id,
            origin_site_id=change.origin_site_id,
            created_at=dose.created_at,
            created_by=dose.vaccinator_id,
            citizen_id=dose.citizen_id,
            appointment_id=dose.appointment_id,
            product_code=dose.product_code,
            gtin=dose.gtin,
            lot_number=dose.lot_number,
            vial_id=dose.vial_id,
            dose_number=dose.dose_number,
            administered_at=dose.administered_at,
            injection_site=injection,
            vaccinator_name=dose.vaccinator_name,
            notes=dose.notes,
            voids_dose_id=dose.voids_dose_id,
        )
    )
    return True


Applier = Callable[[ApplyContext, PulledChange, Mapping[str, Any]], bool]

APPLIERS: Final[Mapping[str, Applier]] = {
    "sites": apply_site,
    "citizens": apply_citizen,
    "appointments": apply_appointment,
    "appointment_events": apply_appointment_event,
    "dose_records": apply_dose,
    "site_users": apply_site_user,
    "dose_voids": apply_dose_void,
    "lots": apply_lot,
    "recalls": apply_recall,
    "shipments": apply_shipment,
    "vial_events": apply_vial_event,
    "receipts": apply_receipt,
    "receipt_discrepancies": apply_receipt_discrepancy,
    "stock_counts": apply_stock_count,
    "standby_entries": apply_standby_entry,
}
"""Change-log table -> how this replica applies it. Other tables are not kept yet."""


def apply_changes(
    session: Session, site_id: uuid.UUID, changes: list[PulledChange], now: datetime
) -> ApplyReport:
    """Apply a page in order, in `session`'s transaction.

    The caller stores the page's cursor in the same transaction and commits.
    """
    report = ApplyReport()
    ctx = ApplyContext(session, site_id, now)
    for change in changes:
        applier = APPLIERS.get(change.table)
        if applier is None or change.op != "upsert" or change.payload is None:
            report.unchanged += 1
            continue
        savepoint = session.begin_nested()
        try:
            changed = applier(ctx, change, change.payload)
            session.flush()
        except Skip as skip:
            savepoint.rollback()
            report.skipped.append(str(skip))
            log.warning("pulled change %s skipped: %s", change.seq, skip)
            continue
        except (sa.exc.SQLAlchemyError, ValueError, KeyError) as exc:
            savepoint.rollback()
            reason = f"{change.table} {change.record_id}: refused by the store: {exc}"
            report.skipped.append(reason[:500])
            log.warning("pulled change %s skipped: %s", change.seq, reason)
            continue
        savepoint.commit()
        if changed:
            report.applied += 1
        else:
            report.unchanged += 1
    return report
