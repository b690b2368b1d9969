"""Concurrent identity edits, for central staff: list them and resolve each one.

The push already merged every conflict deterministically (the greater hybrid
logical clock won, `central.services.sync.citizens`); the conflict log keeps
both writes for a person to check, since a wrong name or JMBG on a dose record
follows the person for life. Resolving one is:

- ``keep``: the merged value stands; the entry is closed with the note;
- ``restore``: the overwritten value is written back at the hub;
- ``set``: a value neither site had (both were wrong) is written at the hub.

A write at the hub is stamped later than anything the citizen's row has seen
(`central.services.citizen_writes.write_fields`), so it wins the merge at
every replica, and it is announced to every site holding the citizen. Each
resolution is in the audit trail. Resolving an entry twice is refused.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import Citizen, ConflictLog, Site
from central.services.citizen_writes import write_fields
from central.services.context import Hub
from central.services.errors import Conflict, FieldProblem, HubError, InvalidRequest, NotFound
from central.services.pagination import DEFAULT_PAGE_SIZE, newest_first
from central.services.records import announce, audit, json_value, upsert_change
from central.services.sync.audience import citizen_sites
from domain.errors import DomainError
from domain.jmbg import parse_jmbg
from domain.review_wire import ConflictAction, ConflictList, ConflictResolution, ConflictView

NAME_FIELDS = frozenset(
    {"first_name_latin", "last_name_latin", "first_name_cyrillic", "last_name_cyrillic"}
)
NAME_MAX_LENGTH = 100


class UnknownConflict(NotFound):
    code: ClassVar[str] = "review.unknown_conflict"
    template: ClassVar[str] = (
        "There is no conflict {conflict_id}. List the open conflicts and use an id from there."
    )


class ConflictAlreadyResolved(Conflict):
    code: ClassVar[str] = "review.conflict_resolved"
    template: ClassVar[str] = (
        "This conflict was already resolved by {resolved_by} at {resolved_at}. "
        "To change the citizen now, resolve a newer conflict or correct the registration."
    )


class ConflictValueInvalid(HubError):
    code: ClassVar[str] = "review.value_invalid"
    template: ClassVar[str] = (
        "This is not a valid {field}: {problem}. Check the value and try again."
    )


class JmbgInUse(Conflict):
    code: ClassVar[str] = "review.jmbg_in_use"
    template: ClassVar[str] = (
        "Another citizen already has JMBG {jmbg}. Check both people's documents: "
        "if they are one person, their records must be merged first."
    )


def _site_codes(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Site.id, Site.code).where(Site.id.in_(ids))).all())


def _view(entry: ConflictLog, citizen: Citizen, codes: dict[uuid.UUID, str]) -> ConflictView:
    def code(site_id: uuid.UUID | None) -> str | None:
        return codes.get(site_id) if site_id is not None else None

    return ConflictView(
        id=entry.id,
        citizen_id=citizen.id,
        jmbg=citizen.jmbg,
        citizen_name=f"{citizen.first_name_latin} {citizen.last_name_latin}",
        field_name=entry.field_name,
        kept_value=entry.kept_value,
        kept_hlc=entry.kept_hlc,
        kept_site=code(entry.kept_origin_site_id),
        lost_value=entry.lost_value,
        lost_hlc=entry.lost_hlc,
        lost_site=code(entry.lost_origin_site_id),
        current_value=json_value(getattr(citizen, entry.field_name, None)),
        detected_at=entry.detected_at,
        resolved_at=entry.resolved_at,
        resolved_by=entry.resolved_by,
        resolution_note=entry.resolution_note,
    )


def list_conflicts(
    session: Session,
    *,
    open_only: bool = True,
    citizen_id: uuid.UUID | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> ConflictList:
    """Conflicts newest first (open ones only unless `open_only` is false)."""
    query = select(ConflictLog, Citizen).join(Citizen, Citizen.id == ConflictLog.citizen_id)
    if open_only:
        query = query.where(ConflictLog.resolved_at.is_(None))
    if citizen_id is not None:
        query = query.where(ConflictLog.citizen_id == citizen_id)
    page, next_cursor = newest_first(session, query, ConflictLog.id, limit=limit, cursor=cursor)
    sites = {s for e, _ in page for s in (e.kept_origin_site_id, e.lost_origin_site_id) if s}
    codes = _site_codes(session, sites)
    items = [_view(entry, citizen, codes) for entry, citizen in page]
    return ConflictList(items=items, next_cursor=next_cursor)


def _typed(session: Session, citizen: Citizen, field: str, value: Any) -> Any:
    """`value` as the citizen column `field` holds it; raises `InvalidRequest` if it cannot be."""

    def invalid(problem: str) -> InvalidRequest:
        return InvalidRequest(
            [FieldProblem("value", ConflictValueInvalid(field=field, problem=problem))]
        )

    if field == "birth_date":
        if not isinstance(value, str):
            raise invalid("a date is written YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise invalid("a date is written YYYY-MM-DD") from None
    if not isinstance(value, str):
        raise invalid("it must be text")
    text = value.strip()
    if field == "jmbg":
        try:
            parsed = parse_jmbg(text)
        except DomainError as error:
            raise InvalidRequest([FieldProblem("value", error)]) from None
        holder = session.scalar(select(Citizen.id).where(Citizen.jmbg == parsed.value))
        if holder is not None and holder != citizen.id:
            raise JmbgInUse(jmbg=parsed.value)
        return parsed.value
    if field in NAME_FIELDS:
        if not 1 <= len(text) <= NAME_MAX_LENGTH:
            raise invalid(f"a name has 1 to {NAME_MAX_LENGTH} characters")
        return text
    raise invalid("this field is not an identity field")


def resolve_conflict(
    hub: Hub,
    conflict_id: uuid.UUID,
    resolution: ConflictResolution,
    *,
    actor: str,
    request_id: str | None = None,
) -> ConflictView:
    """Settle one open conflict as `resolution` says; commit and return it as it is now."""
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        entry = session.get(ConflictLog, conflict_id, with_for_update=True)
        if entry is None:
            raise UnknownConflict(conflict_id=str(conflict_id))
        if entry.resolved_at is not None:
            raise ConflictAlreadyResolved(
                resolved_by=entry.resolved_by or "?", resolved_at=entry.resolved_at.isoformat()
            )
        citizen = session.get(Citizen, entry.citizen_id, with_for_update=True)
        assert citizen is not None  # a foreign key
        field = entry.field_name
        before = json_value(getattr(citizen, field))
        if resolution.action is not ConflictAction.KEEP:
            wanted = (
                entry.lost_value
                if resolution.action is ConflictAction.RESTORE
                else resolution.value
            )
            if write_fields(hub, citizen, {field: _typed(session, citizen, field, wanted)}, now):
                session.flush()
                audience = sorted(citizen_sites(session, citizen.id))
                announce(
                    session,
                    [upsert_change(citizen, audience_site_id=s, hlc=citizen.hlc) for s in audience],
                    now,
                )
        entry.resolved_at = now
        entry.resolved_by = actor
        entry.resolution_note = f"{resolution.action.value}: {resolution.note}"
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action=f"conflict.{resolution.action.value}",
            entity_table="conflict_log",
            entity_id=str(entry.id),
            before={field: before},
            after={field: json_value(getattr(citizen, field)), "note": resolution.note},
            request_id=request_id,
        )
        session.flush()
        codes = _site_codes(
            session, {s for s in (entry.kept_origin_site_id, entry.lost_origin_site_id) if s}
        )
        return _view(entry, citizen, codes)
