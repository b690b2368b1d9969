"""Pushed citizen writes: merged field by field by hybrid logical clock (sync rule 3).

For each written field the greater timestamp wins, the same way on every
replica. A write is *concurrent* with the hub's value when the value the
site replaced (its ``base_hlc``) is not the one the hub holds: neither
writer had seen the other. A concurrent change of an identity field (names,
date of birth, JMBG) with a different value is also written to the conflict
log, with the kept and the lost write, for central staff to review.

A citizen new to the hub (a walk-in registered at a site) is created from
the write, which must then carry every required field.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import Citizen, ConflictLog, NewChange, Site
from central.services.records import json_value, upsert_change
from central.services.sync.audience import citizen_sites
from central.services.sync.kinds import ApplyContext, Outcome
from domain.hlc import HlcFormatError, Timestamp
from domain.sync_wire import (
    CITIZEN_FIELDS,
    IDENTITY_FIELDS,
    CitizenChangePayload,
    RecordStatus,
    WireRecord,
)

REQUIRED_FOR_NEW = frozenset(
    {
        "jmbg",
        "first_name_latin",
        "last_name_latin",
        "first_name_cyrillic",
        "last_name_cyrillic",
        "birth_date",
        "sex",
        "municipality",
        "priority_group",
    }
)


class _Values(BaseModel):
    """Types of the writable citizen fields (all optional: a write names some)."""

    model_config = ConfigDict(extra="forbid")

    jmbg: str | None = Field(default=None, pattern=r"^[0-9]{13}$")
    first_name_latin: str | None = Field(default=None, min_length=1, max_length=100)
    last_name_latin: str | None = Field(default=None, min_length=1, max_length=100)
    first_name_cyrillic: str | None = Field(default=None, min_length=1, max_length=100)
    last_name_cyrillic: str | None = Field(default=None, min_length=1, max_length=100)
    birth_date: date | None = None
    sex: str | None = Field(default=None, pattern="^[MF]$")
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    municipality: str | None = Field(default=None, min_length=1, max_length=100)
    priority_group: str | None = Field(default=None, min_length=1, max_length=40)
    conditions: list[str] | None = None
    vaccine_preferences: list[str] | None = None


_NULLABLE = frozenset({"phone", "email"})


def _parse(change: CitizenChangePayload) -> dict[str, Any]:
    """The written values, typed; raises ValueError naming what is wrong."""
    unknown = set(change.values) - CITIZEN_FIELDS
    if unknown:
        raise ValueError(f"fields a site may not write: {sorted(unknown)}")
    if set(change.values) != set(change.field_hlc):
        raise ValueError("every written field needs exactly one timestamp")
    for stamp in [*change.field_hlc.values(), *(b for b in change.base_hlc.values() if b)]:
        Timestamp.decode(stamp)
    typed = _Values.model_validate(change.values)
    values = {name: getattr(typed, name) for name in change.values}
    for name, value in values.items():
        if value is None and name not in _NULLABLE:
            raise ValueError(f"{name} may not be empty")
    return values


def _site_of(session: Session, stamp: str) -> uuid.UUID | None:
    """The site whose clock made `stamp` (its node is the site code); None: the hub."""
    node = Timestamp.decode(stamp).node
    return session.scalar(select(Site.id).where(Site.code == node))


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Merge one pushed citizen write, or say why not."""
    try:
        change = CitizenChangePayload.model_validate(record.payload)
        values = _parse(change)
    except (ValidationError, ValueError, HlcFormatError) as exc:
        return Outcome.quarantined("invalid_payload", str(exc)[:2000])
    session = ctx.session
    citizen = session.get(Citizen, record.id)
    if citizen is None:
        return _create(ctx, record.id, change, values)
    current_hlc: dict[str, str] = dict(citizen.field_hlc or {})
    changed = False
    incoming_won_all = True
    for name, value in values.items():
        incoming = change.field_hlc[name]
        current = current_hlc.get(name)  # None: never written with a timestamp
        if incoming == current:
            continue  # this very write is already merged
        changed = True
        concurrent = change.base_hlc.get(name) != current
        incoming_wins = current is None or incoming > current
        current_value = json_value(getattr(citizen, name))
        if concurrent and name in IDENTITY_FIELDS and json_value(value) != current_value:
            current_stamp = current or citizen.hlc
            kept, lost = (incoming, current_stamp) if incoming_wins else (current_stamp, incoming)
            kept_value, lost_value = (
                (json_value(value), current_value)
                if incoming_wins
                else (current_value, json_value(value))
            )
            session.add(
                ConflictLog(
                    citizen_id=citizen.id,
                    field_name=name,
                    kept_value=kept_value,
                    kept_hlc=kept,
                    kept_origin_site_id=_site_of(session, kept),
                    lost_value=lost_value,
                    lost_hlc=lost,
                    lost_origin_site_id=_site_of(session, lost),
                    detected_at=ctx.now,
                )
            )
        if incoming_wins:
            setattr(citizen, name, value)
            current_hlc[name] = incoming
        else:
            incoming_won_all = False
    if not changed:
        return Outcome(RecordStatus.DUPLICATE)
    citizen.field_hlc = current_hlc
    citizen.hlc = max([citizen.hlc, *current_hlc.values()])
    citizen.updated_at = ctx.now
    session.flush()
    # The pushing site needs the merged row back only when some of its writes lost.
    origin = ctx.site_id if incoming_won_all else None
    return Outcome(RecordStatus.APPLIED, changes=_announce(session, citizen, ctx.site_id, origin))


def _announce(
    session: Session, citizen: Citizen, site_id: uuid.UUID, origin: uuid.UUID | None
) -> tuple[NewChange, ...]:
    audience = sorted(citizen_sites(session, citizen.id) | {site_id})
    return tuple(
        replace(upsert_change(citizen, audience_site_id=s, hlc=citizen.hlc), origin_site_id=origin)
        for s in audience
    )


def _create(
    ctx: ApplyContext, citizen_id: uuid.UUID, change: CitizenChangePayload, values: dict[str, Any]
) -> Outcome:
    missing = REQUIRED_FOR_NEW - set(values)
    if missing:
        return Outcome.quarantined(
            "unknown_citizen", f"a citizen new to the hub needs {sorted(missing)}"
        )
    session = ctx.session
    if session.scalar(select(Citizen.id).where(Citizen.jmbg == values["jmbg"])) is not None:
        return Outcome.quarantined(
            "jmbg_taken", "another citizen with this JMBG is already registered at the hub"
        )
    registered_at: datetime = change.registered_at or change.created_at
    citizen = Citizen(
        id=citizen_id,
        phone=None,
        email=None,
        conditions=[],
        vaccine_preferences=["any"],
        registered_at=registered_at,
        withdrawn_at=None,
        field_hlc=dict(change.field_hlc),
        hlc=max(change.field_hlc.values()),
        updated_at=ctx.now,
        origin_site_id=ctx.site_id,
        created_at=change.created_at,
        created_by=f"site:{ctx.site_id}",
        stored_at=ctx.now,
    )
    for name, value in values.items():
        setattr(citizen, name, value)
    session.add(citizen)
    session.flush()
    return Outcome(
        RecordStatus.APPLIED, changes=_announce(session, citizen, ctx.site_id, ctx.site_id)
    )
