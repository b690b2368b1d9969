"""Pushed citizen writes: merged field by field by hybrid logical clock (sync rule 3).

For each written field the greater timestamp wins, the same way on every
replica. A write is *concurrent* with the hub's value when the value the
site replaced (its ``base_hlc``) is not the one the hub holds: neither
writer had seen the other. A concurrent change of an identity field (names,
date of birth, JMBG) with a different value is also written to the conflict
log, with the kept and the lost write, for central staff to review.

A write the hub already received is a no-op (sync rule 2 holds for citizen
writes too). A site restored from a backup sends again writes the hub merged
long ago; by then another site may have corrected the value on top of one,
and comparing it again would log a conflict between a write and its own
correction. So every received write is kept in the audit trail (action
`RECEIVED`: what the site wrote, with its timestamps and the values it
replaced), and a write concurrent with the hub's value is first looked up
there. A sequential write (its base is what the hub holds) cannot have been
received before, so the look-up (indexed by citizen) is made only on the
rare concurrent path.

Two different writes can carry the same timestamp: a site's hybrid clock
starts afresh from the value it replaces, so a site whose clock is behind,
restored from a backup that lacks its first write, stamps its second write
exactly like the first. Such a write is not "this very write" (its value
differs): it is concurrent with the one the hub holds, which stays (it came
first; sites take the hub's value on a tie, `app.sync.apply`), and the pair
goes to the conflict log like any other.

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

from central.db import AuditLog, Citizen, CitizenAlias, ConflictLog, NewChange, Site
from central.services.records import audit, json_value, upsert_change
from central.services.sync.audience import citizen_sites
from central.services.sync.citizen_aliases import add_alias, alias_sites, note_write
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

RECEIVED = "citizen.write_received"
"""Audit action of a citizen write received from a site (``after``: the write as sent)."""


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


def _written(change: CitizenChangePayload, values: dict[str, Any]) -> dict[str, Any]:
    """The write as the audit trail keeps it: values, their timestamps, what they replaced."""
    return {
        "values": {name: json_value(value) for name, value in values.items()},
        "field_hlc": dict(change.field_hlc),
        "base_hlc": dict(change.base_hlc),
    }


def _received_before(session: Session, citizen_id: uuid.UUID, written: dict[str, Any]) -> bool:
    """Whether this very write (same fields, timestamps and values) reached the hub before."""
    earlier = session.scalars(
        select(AuditLog.after).where(
            AuditLog.entity_table == Citizen.__tablename__,
            AuditLog.entity_id == str(citizen_id),
            AuditLog.action == RECEIVED,
        )
    )
    return any(
        after is not None
        and after.get("field_hlc") == written["field_hlc"]
        and after.get("values") == written["values"]
        for after in earlier
    )


def _audit_received(
    ctx: ApplyContext, citizen_id: uuid.UUID, before: dict[str, Any] | None, written: dict[str, Any]
) -> None:
    audit(
        ctx.session,
        occurred_at=ctx.now,
        actor=f"site:{ctx.site_id}",
        action=RECEIVED,
        entity_table=Citizen.__tablename__,
        entity_id=str(citizen_id),
        site_id=ctx.site_id,
        before=before,
        after=written,
    )


def apply(ctx: ApplyContext, record: WireRecord) -> Outcome:
    """Merge one pushed citizen write, or say why not."""
    try:
        change = CitizenChangePayload.model_validate(record.payload)
        values = _parse(change)
    except (ValidationError, ValueError, HlcFormatError) as exc:
        return Outcome.quarantined("invalid_payload", str(exc)[:2000])
    session = ctx.session
    alias = session.get(CitizenAlias, record.id)
    citizen = session.get(Citizen, alias.citizen_id if alias is not None else record.id)
    written = _written(change, values)
    if citizen is None:
        holder = _jmbg_holder(session, values)
        if holder is None:
            return _create(ctx, record.id, change, values, written)
        # A walk-in registered at the site under its own id: the same person.
        alias = add_alias(
            session, alias_id=record.id, citizen_id=holder.id, site_id=ctx.site_id, now=ctx.now
        )
        citizen = holder
    if alias is not None:
        note_write(alias, change.field_hlc)
    current_hlc: dict[str, str] = dict(citizen.field_hlc or {})
    fresh = {
        name
        for name, value in values.items()
        if change.field_hlc[name] != current_hlc.get(name)
        or json_value(value) != json_value(getattr(citizen, name))
    }
    if not fresh:
        return Outcome(RecordStatus.DUPLICATE)  # this very write is what the hub holds
    concurrent = {name for name in fresh if change.base_hlc.get(name) != current_hlc.get(name)}
    if concurrent and _received_before(session, citizen.id, written):
        return Outcome(RecordStatus.DUPLICATE)  # merged before; the hub has moved on since
    before = {
        "values": {name: json_value(getattr(citizen, name)) for name in values},
        "field_hlc": {name: current_hlc.get(name) for name in values},
    }
    incoming_won_all = True
    for name in sorted(fresh, key=list(values).index):
        value = values[name]
        incoming = change.field_hlc[name]
        current = current_hlc.get(name)  # None: never written with a timestamp
        incoming_wins = current is None or incoming > current
        current_value = json_value(getattr(citizen, name))
        if name in concurrent and name in IDENTITY_FIELDS and json_value(value) != current_value:
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
    citizen.field_hlc = current_hlc
    citizen.hlc = max([citizen.hlc, *current_hlc.values()])
    citizen.updated_at = ctx.now
    _audit_received(ctx, citizen.id, before, written)
    session.flush()
    # The pushing site needs the merged row back only when some of its writes lost.
    origin = ctx.site_id if incoming_won_all else None
    return Outcome(RecordStatus.APPLIED, changes=_announce(session, citizen, ctx.site_id, origin))


def _jmbg_holder(session: Session, values: dict[str, Any]) -> Citizen | None:
    """The citizen the hub holds under the written JMBG, for a write of a citizen new to it."""
    if "jmbg" not in values or REQUIRED_FOR_NEW - set(values):
        return None
    return session.scalar(select(Citizen).where(Citizen.jmbg == values["jmbg"]))


def _announce(
    session: Session, citizen: Citizen, site_id: uuid.UUID, origin: uuid.UUID | None
) -> tuple[NewChange, ...]:
    # A site knowing the person under its own alias would refuse the row (same JMBG,
    # other id); it keeps its own record of the person instead.
    sites = citizen_sites(session, citizen.id) | {site_id}
    audience = sorted(sites - alias_sites(session, citizen.id))
    return tuple(
        replace(upsert_change(citizen, audience_site_id=s, hlc=citizen.hlc), origin_site_id=origin)
        for s in audience
    )


def _create(
    ctx: ApplyContext,
    citizen_id: uuid.UUID,
    change: CitizenChangePayload,
    values: dict[str, Any],
    written: dict[str, Any],
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
    _audit_received(ctx, citizen_id, None, written)
    return Outcome(
        RecordStatus.APPLIED, changes=_announce(session, citizen, ctx.site_id, ctx.site_id)
    )
