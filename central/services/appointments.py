"""Appointments seen from the centre: look-up, cancel, reschedule, mark for rebooking.

An appointment's status is not stored: it is the kind of its deciding event
(`domain.appointment_status`: by precedence, then clinical time and id),
``scheduled`` when it has none yet. Every change
here is a new append-only event carrying the reason and the staff member,
announced in the change log to the site(s) concerned, so their rosters follow.

What central staff may do, by current status:

==================  ========================================================
cancel              scheduled, rebook_requested
mark for rebooking  scheduled, no_show, cancelled
reschedule          scheduled, no_show, cancelled, rebook_requested
==================  ========================================================

Nothing may be changed once a person is checked in, vaccinated (done) or
moved (rescheduled: change the new appointment instead).

A rescheduled appointment gets a new appointment (``replaces_appointment_id``
names the old one); the old one gets a ``rescheduled`` event naming the new.
The new slot must lie on the site's slot grid inside its opening hours, on a
day not yet past at the site, and have a free place: fewer appointments in
it than the site has vaccinators, counting every appointment not cancelled,
moved or marked for rebooking. Reschedules into one site are serialised by
locking the site's row, so two staff members cannot overfill one slot.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from central.db import (
    Appointment,
    AppointmentEvent,
    AppointmentEventKind,
    Citizen,
    NewChange,
    Site,
)
from central.services.context import Hub
from central.services.errors import AdminOnly, Conflict, FieldProblem, InvalidRequest, NotFound
from central.services.pagination import BadCursor, decode_cursor, encode_cursor
from central.services.principals import Principal, SitePrincipal, StaffPrincipal
from central.services.records import announce, audit, upsert_change
from central.services.sites import is_open_slot, site_by_code
from domain.appointment_status import STATUS_PRECEDENCE
from domain.ids import uuid7
from domain.wire import (
    AppointmentEventView,
    AppointmentList,
    AppointmentView,
    RescheduleRequest,
    payload_hash,
)

Kind = AppointmentEventKind

CAN_CANCEL: Final = frozenset({Kind.SCHEDULED, Kind.REBOOK_REQUESTED})
CAN_REBOOK: Final = frozenset({Kind.SCHEDULED, Kind.NO_SHOW, Kind.CANCELLED})
CAN_RESCHEDULE: Final = frozenset(
    {Kind.SCHEDULED, Kind.NO_SHOW, Kind.CANCELLED, Kind.REBOOK_REQUESTED}
)
FREES_SLOT: Final = frozenset({Kind.CANCELLED, Kind.RESCHEDULED, Kind.REBOOK_REQUESTED})


class UnknownAppointment(NotFound):
    code: ClassVar[str] = "appointments.unknown"
    template: ClassVar[str] = "There is no appointment {appointment_id}. Check the id."


class AppointmentStateConflict(Conflict):
    code: ClassVar[str] = "appointments.wrong_state"
    template: ClassVar[str] = (
        "This appointment is {status}, so it cannot be {action} now. "
        "Reload it to see what happened."
    )


class SlotNotOffered(Conflict):
    code: ClassVar[str] = "appointments.slot_not_offered"
    template: ClassVar[str] = (
        "Site {site} does not offer a slot at {slot} on {day}: pick a time on its "
        "{minutes}-minute grid within its opening hours."
    )


class SlotInPast(Conflict):
    code: ClassVar[str] = "appointments.slot_in_past"
    template: ClassVar[str] = "{day} has already passed at site {site}. Pick a later day."


class SlotFull(Conflict):
    code: ClassVar[str] = "appointments.slot_full"
    template: ClassVar[str] = (
        "The slot at {slot} on {day} at site {site} is full ({capacity} places). Pick another slot."
    )


class ProductNotStocked(Conflict):
    code: ClassVar[str] = "appointments.product_not_stocked"
    template: ClassVar[str] = (
        "Site {site} does not keep {product}, which this dose needs. Pick another site."
    )


class SiteClosed(Conflict):
    code: ClassVar[str] = "appointments.site_inactive"
    template: ClassVar[str] = "Site {site} is switched off. Pick another site."


class NothingToChange(Conflict):
    code: ClassVar[str] = "appointments.same_slot"
    template: ClassVar[str] = "The appointment is already at that site, day and slot."


def deciding_order() -> tuple[ColumnElement[Any], ...]:
    """ORDER BY putting an appointment's deciding event first.

    The precedence of `domain.appointment_status` (done > checked in > no-show
    > rescheduled, cancelled, rebook requested > scheduled), then the latest
    by clinical time and id: the same status whatever order events arrived in.
    """
    rank = case(dict(STATUS_PRECEDENCE), value=AppointmentEvent.kind, else_=-1)
    return (rank.desc(), AppointmentEvent.occurred_at.desc(), AppointmentEvent.id.desc())


def latest_kind() -> Any:
    """A scalar subquery: the kind of the appointment's deciding event (NULL: none)."""
    return (
        select(AppointmentEvent.kind)
        .where(AppointmentEvent.appointment_id == Appointment.id)
        .order_by(*deciding_order())
        .limit(1)
        .correlate(Appointment)
        .scalar_subquery()
    )


def status_from(kind: str | None) -> Kind:
    """The status for the latest event's kind (``scheduled`` when there is none)."""
    return Kind(kind) if kind is not None else Kind.SCHEDULED


def occupies_slot() -> ColumnElement[bool]:
    """True for appointments that still hold their slot."""
    return ~exists().where(
        AppointmentEvent.appointment_id == Appointment.id,
        AppointmentEvent.kind.in_([k.value for k in FREES_SLOT]),
    )


def local_today(site: Site, now: datetime) -> date:
    """The calendar day at the site."""
    return now.astimezone(ZoneInfo(site.timezone)).date()


def event_payload(event: AppointmentEvent) -> dict[str, Any]:
    """The wire form of an event that `payload_hash` is computed over."""
    return {
        "id": str(event.id),
        "appointment_id": str(event.appointment_id),
        "kind": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "reason": event.reason,
        "new_appointment_id": str(event.new_appointment_id) if event.new_appointment_id else None,
        "created_at": event.created_at.isoformat(),
        "created_by": event.created_by,
        "origin_site_id": None,
    }


def new_event(
    appointment_id: uuid.UUID,
    kind: Kind,
    *,
    now: datetime,
    actor: str,
    reason: str | None,
    new_appointment_id: uuid.UUID | None = None,
) -> AppointmentEvent:
    """A hub-born appointment event, with its payload hash."""
    event = AppointmentEvent(
        id=uuid7(),
        appointment_id=appointment_id,
        kind=kind.value,
        occurred_at=now,
        reason=reason,
        new_appointment_id=new_appointment_id,
        origin_site_id=None,
        created_at=now,
        created_by=actor,
        stored_at=now,
    )
    event.payload_hash = payload_hash(event_payload(event))
    return event


def _views(
    session: Session, rows: Sequence[tuple[Appointment, str, str | None]]
) -> list[AppointmentView]:
    ids = [appointment.id for appointment, _, _ in rows]
    events: dict[uuid.UUID, list[AppointmentEvent]] = defaultdict(list)
    if ids:
        for event in session.scalars(
            select(AppointmentEvent)
            .where(AppointmentEvent.appointment_id.in_(ids))
            .order_by(AppointmentEvent.occurred_at, AppointmentEvent.id)
        ):
            events[event.appointment_id].append(event)
    return [
        AppointmentView(
            id=appointment.id,
            citizen_id=appointment.citizen_id,
            site_code=code,
            day=appointment.day,
            slot_start=appointment.slot_start,
            product_id=appointment.product_id,
            dose_number=appointment.dose_number,
            status=status_from(kind).value,
            replaces_appointment_id=appointment.replaces_appointment_id,
            events=[
                AppointmentEventView(
                    id=e.id,
                    kind=e.kind,  # type: ignore[arg-type]
                    occurred_at=e.occurred_at,
                    reason=e.reason,
                    new_appointment_id=e.new_appointment_id,
                    created_by=e.created_by,
                )
                for e in events[appointment.id]
            ],
        )
        for appointment, code, kind in rows
    ]


def _select() -> Select[tuple[Appointment, str, str | None]]:
    return select(Appointment, Site.code, latest_kind()).join(Site, Site.id == Appointment.site_id)


def _view(session: Session, appointment_id: uuid.UUID) -> AppointmentView:
    row = session.execute(_select().where(Appointment.id == appointment_id)).one_or_none()
    if row is None:
        raise UnknownAppointment(appointment_id=str(appointment_id))
    return _views(session, [tuple(row)])[0]  # type: ignore[list-item]


def get_appointment(hub: Hub, appointment_id: uuid.UUID, principal: Principal) -> AppointmentView:
    """One appointment with its history: for staff, or for the site it is at.

    Another site gets `UnknownAppointment`, as if it did not exist.
    """
    with hub.read_sessions() as session:
        view = _view(session, appointment_id)
    if isinstance(principal, SitePrincipal) and view.site_code != principal.site_code:
        raise UnknownAppointment(appointment_id=str(appointment_id))
    return view


def list_appointments(
    hub: Hub,
    *,
    site_code: str | None,
    day: date | None,
    citizen_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> AppointmentList:
    """A page of appointments matching the filters, by day, slot and id."""
    statement = _select().order_by(Appointment.day, Appointment.slot_start, Appointment.id)
    with hub.read_sessions() as session:
        if site_code is not None:
            statement = statement.where(Appointment.site_id == site_by_code(session, site_code).id)
        if day is not None:
            statement = statement.where(Appointment.day == day)
        if citizen_id is not None:
            statement = statement.where(Appointment.citizen_id == citizen_id)
        if cursor is not None:
            after_day, after_slot, after_id = decode_cursor(cursor, 3)
            try:
                key = (
                    date.fromisoformat(after_day),
                    time.fromisoformat(after_slot),
                    uuid.UUID(after_id),
                )
            except ValueError:
                raise InvalidRequest([FieldProblem("cursor", BadCursor())]) from None
            statement = statement.where(
                or_(
                    Appointment.day > key[0],
                    and_(Appointment.day == key[0], Appointment.slot_start > key[1]),
                    and_(
                        Appointment.day == key[0],
                        Appointment.slot_start == key[1],
                        Appointment.id > key[2],
                    ),
                )
            )
        rows = [tuple(r) for r in session.execute(statement.limit(limit + 1))]
        more = len(rows) > limit
        views = _views(session, rows[:limit])  # type: ignore[arg-type]
    last = views[-1] if views else None
    return AppointmentList(
        items=views,
        next_cursor=(
            encode_cursor([last.day.isoformat(), last.slot_start.isoformat(), str(last.id)])
            if more and last is not None
            else None
        ),
    )


def _require_admin(principal: StaffPrincipal) -> None:
    if not principal.is_admin:
        raise AdminOnly()


def _locked(session: Session, appointment_id: uuid.UUID) -> tuple[Appointment, Kind]:
    appointment = session.scalar(
        select(Appointment).where(Appointment.id == appointment_id).with_for_update()
    )
    if appointment is None:
        raise UnknownAppointment(appointment_id=str(appointment_id))
    kind = session.scalar(
        select(AppointmentEvent.kind)
        .where(AppointmentEvent.appointment_id == appointment_id)
        .order_by(*deciding_order())
        .limit(1)
    )
    status = status_from(kind)
    if status == Kind.NO_SHOW and _moved(session, appointment_id):
        # A no-show outranks the later move in the status, but a moved
        # appointment must not be moved (or rebooked) a second time.
        return appointment, Kind.RESCHEDULED
    return appointment, status


def _moved(session: Session, appointment_id: uuid.UUID) -> bool:
    return (
        session.scalar(
            select(AppointmentEvent.id)
            .where(
                AppointmentEvent.appointment_id == appointment_id,
                AppointmentEvent.kind == Kind.RESCHEDULED.value,
            )
            .limit(1)
        )
        is not None
    )


def _simple_change(
    hub: Hub,
    appointment_id: uuid.UUID,
    principal: StaffPrincipal,
    *,
    kind: Kind,
    allowed: frozenset[Kind],
    action: str,
    reason: str,
    request_id: str | None,
) -> AppointmentView:
    _require_admin(principal)
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        appointment, status = _locked(session, appointment_id)
        if status not in allowed:
            raise AppointmentStateConflict(status=status.value.replace("_", " "), action=action)
        event = new_event(appointment.id, kind, now=now, actor=principal.actor, reason=reason)
        session.add(event)
        audit(
            session,
            occurred_at=now,
            actor=principal.actor,
            action=f"appointment.{kind.value}",
            entity=appointment,
            site_id=appointment.site_id,
            before={"status": status.value},
            after={"status": kind.value, "reason": reason},
            request_id=request_id,
        )
        announce(session, [upsert_change(event, audience_site_id=appointment.site_id)], now)
        return _view(session, appointment.id)


def cancel(
    hub: Hub,
    appointment_id: uuid.UUID,
    reason: str,
    principal: StaffPrincipal,
    *,
    request_id: str | None = None,
) -> AppointmentView:
    """Cancel an appointment, recording why. Raises `AppointmentStateConflict`."""
    return _simple_change(
        hub,
        appointment_id,
        principal,
        kind=Kind.CANCELLED,
        allowed=CAN_CANCEL,
        action="cancelled",
        reason=reason,
        request_id=request_id,
    )


def mark_for_rebooking(
    hub: Hub,
    appointment_id: uuid.UUID,
    reason: str,
    principal: StaffPrincipal,
    *,
    request_id: str | None = None,
) -> AppointmentView:
    """Mark an appointment for the scheduler to book again, recording why."""
    return _simple_change(
        hub,
        appointment_id,
        principal,
        kind=Kind.REBOOK_REQUESTED,
        allowed=CAN_REBOOK,
        action="marked for rebooking",
        reason=reason,
        request_id=request_id,
    )


def reschedule(
    hub: Hub,
    appointment_id: uuid.UUID,
    request: RescheduleRequest,
    principal: StaffPrincipal,
    *,
    request_id: str | None = None,
) -> AppointmentView:
    """Move an appointment to a new slot (and site); returns the new appointment.

    Raises `AppointmentStateConflict`, `UnknownSite`, `SiteClosed`,
    `ProductNotStocked`, `SlotInPast`, `SlotNotOffered`, `SlotFull` or
    `NothingToChange`.
    """
    _require_admin(principal)
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        old, status = _locked(session, appointment_id)
        if status not in CAN_RESCHEDULE:
            raise AppointmentStateConflict(
                status=status.value.replace("_", " "), action="rescheduled"
            )
        if request.site_code is None:
            site = session.get_one(Site, old.site_id, with_for_update=True)
        else:
            site = site_by_code(session, request.site_code)
            session.refresh(site, with_for_update=True)
        _check_slot(session, site, old, request, now)
        new = Appointment(
            id=uuid7(),
            citizen_id=old.citizen_id,
            site_id=site.id,
            day=request.day,
            slot_start=request.slot_start,
            product_id=old.product_id,
            dose_number=old.dose_number,
            scheduler_run_id=None,
            replaces_appointment_id=old.id,
            origin_site_id=None,
            created_at=now,
            created_by=principal.actor,
            stored_at=now,
        )
        session.add(new)
        session.flush()
        moved = new_event(
            old.id,
            Kind.RESCHEDULED,
            now=now,
            actor=principal.actor,
            reason=request.reason,
            new_appointment_id=new.id,
        )
        booked = new_event(
            new.id, Kind.SCHEDULED, now=now, actor=principal.actor, reason=request.reason
        )
        session.add_all([moved, booked])
        audit(
            session,
            occurred_at=now,
            actor=principal.actor,
            action="appointment.reschedule",
            entity=old,
            site_id=old.site_id,
            before={"site_id": old.site_id, "day": old.day, "slot_start": old.slot_start},
            after={
                "appointment_id": new.id,
                "site_id": site.id,
                "day": new.day,
                "slot_start": new.slot_start,
                "reason": request.reason,
            },
            request_id=request_id,
        )
        changes: list[NewChange] = [upsert_change(moved, audience_site_id=old.site_id)]
        if site.id != old.site_id:
            citizen = session.get_one(Citizen, old.citizen_id)
            changes.append(upsert_change(citizen, audience_site_id=site.id, hlc=citizen.hlc))
        changes += [
            upsert_change(new, audience_site_id=site.id),
            upsert_change(booked, audience_site_id=site.id),
        ]
        announce(session, changes, now)
        return _view(session, new.id)


def _check_slot(
    session: Session, site: Site, old: Appointment, request: RescheduleRequest, now: datetime
) -> None:
    day, slot = request.day, request.slot_start
    if not site.active:
        raise SiteClosed(site=site.code)
    if old.product_id not in site.products:
        raise ProductNotStocked(site=site.code, product=old.product_id)
    if site.id == old.site_id and day == old.day and slot == old.slot_start:
        raise NothingToChange()
    if day < local_today(site, now):
        raise SlotInPast(day=day.isoformat(), site=site.code)
    if not is_open_slot(site, day.weekday(), slot):
        raise SlotNotOffered(
            site=site.code,
            slot=slot.isoformat("minutes"),
            day=day.isoformat(),
            minutes=site.slot_minutes,
        )
    taken = session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.site_id == site.id,
            Appointment.day == day,
            Appointment.slot_start == slot,
            occupies_slot(),
        )
    )
    if (taken or 0) >= site.vaccinators:
        raise SlotFull(
            slot=slot.isoformat("minutes"),
            day=day.isoformat(),
            site=site.code,
            capacity=site.vaccinators,
        )


def cancel_future(
    session: Session,
    citizen_id: uuid.UUID,
    *,
    now: datetime,
    actor: str,
    reason: str,
) -> list[NewChange]:
    """Cancel the citizen's appointments that are still to come (status scheduled
    or rebook_requested, day not past at their site), in the caller's
    transaction. Returns the change-log entries to announce."""
    rows = session.execute(
        select(Appointment, Site, latest_kind())
        .join(Site, Site.id == Appointment.site_id)
        .where(Appointment.citizen_id == citizen_id)
    ).all()
    changes: list[NewChange] = []
    for appointment, site, kind in rows:
        if status_from(kind) not in CAN_CANCEL or appointment.day < local_today(site, now):
            continue
        event = new_event(appointment.id, Kind.CANCELLED, now=now, actor=actor, reason=reason)
        session.add(event)
        changes.append(upsert_change(event, audience_site_id=site.id))
    return changes


def sites_expecting(session: Session, citizen_id: uuid.UUID, today: date) -> Iterable[uuid.UUID]:
    """Sites with an appointment of the citizen on `today` or later."""
    return session.scalars(
        select(Appointment.site_id)
        .where(Appointment.citizen_id == citizen_id, Appointment.day >= today)
        .distinct()
    ).all()
