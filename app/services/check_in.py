"""Check-in: find the person in front of the desk and today's appointment, then mark arrival.

Three ways in, matching what the scanner reads (`app.scanning` parses the text;
these take the parsed domain values):

- `find_by_jmbg(engine, clock, jmbg)`: a typed or scanned JMBG (`domain.jmbg.Jmbg`);
- `find_by_mrz(engine, clock, document)`: an ID card or passport MRZ
  (`domain.mrz.MrzDocument`). Serbian ID cards carry the JMBG in the optional
  data (`document.jmbg`); foreign documents are matched by document number
  (``foreign_document`` ends with ``:<state>:<number>``), then by surname and
  date of birth;
- `find_by_appointment_code(engine, clock, appointment_id)`: the appointment
  id printed in the invitation's QR code.

Each returns a `CheckInCandidate`: the person, today's appointment here (or
None: offer the walk-in flow), the live dose history, and eligibility for the
booked product checked offline against the rules in force
(`domain.eligibility`), with every reason. Nothing is written.

`check_in(engine, clock, actor, appointment_id)` appends a ``checked_in``
event to the appointment (and its outbox row, in the same transaction). It is
idempotent: a second check-in of a checked-in appointment returns the first.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.appointments import Appointment, AppointmentEvent, AppointmentEventKind
from app.local_db.models.citizens import Citizen
from app.local_db.models.site import SiteIdentity
from app.local_db.unit_of_work import session_scope
from app.services.errors import (
    AppointmentClosed,
    AppointmentNotFound,
    AppointmentNotToday,
    CitizenNotFound,
    SeveralCitizensMatch,
    status_params,
)
from app.services.history import PastDose, citizen_facts, live_doses
from app.services.roster import OPEN_STATUSES, appointment_status
from app.services.workplace import (
    SiteHere,
    audit,
    event_hlc,
    local_day,
    local_zone,
    site_here,
    staff_member,
)
from app.sync.outbox import record_change
from app.sync.wire_forms import appointment_event_payload
from domain.appointment_status import AppointmentStatus
from domain.clock import Clock
from domain.data import RuleSet, rules_in_force
from domain.eligibility import Eligibility, check_eligibility
from domain.errors import DomainError
from domain.ids import uuid7
from domain.jmbg import Jmbg, Sex, mask_jmbg
from domain.mrz import MrzDocument

#: Statuses from which a person may be checked in: a late arrival first marked
#: as no-show is still welcome.
_CHECK_IN_FROM = frozenset(
    {AppointmentStatus.SCHEDULED, AppointmentStatus.NO_SHOW, AppointmentStatus.CHECKED_IN}
)


@dataclass(frozen=True)
class CitizenSummary:
    """The person as the desk shows them (JMBG masked)."""

    citizen_id: uuid.UUID
    given_name: str
    family_name: str
    given_name_cyrillic: str
    family_name_cyrillic: str
    jmbg_masked: str
    birth_date: date
    sex: Sex
    priority_group: str
    walk_in: bool


@dataclass(frozen=True)
class TodayAppointment:
    """An appointment at this site today."""

    appointment_id: uuid.UUID
    slot_start: datetime
    product_code: str
    dose_number: int
    status: AppointmentStatus


@dataclass(frozen=True)
class CheckInCandidate:
    """Who was found, their appointment today (None: none here today) and eligibility.

    `eligibility` is for the booked product and today, None without an
    appointment (the walk-in flow assesses products itself). Its blocking
    reasons mean "do not vaccinate"; warnings must be read out before.
    """

    citizen: CitizenSummary
    appointment: TodayAppointment | None
    doses: tuple[PastDose, ...]
    eligibility: Eligibility | None
    day: date
    #: Set instead of `eligibility` when the person's records cannot be assessed
    #: (doses that cannot be a history, codes the rules do not know): fix them first.
    eligibility_error: DomainError | None = None


@dataclass(frozen=True)
class CheckedIn:
    """The result of a check-in."""

    appointment_id: uuid.UUID
    event_id: uuid.UUID
    checked_in_at: datetime
    already_checked_in: bool


def find_by_jmbg(
    engine: Engine, clock: Clock, jmbg: Jmbg, *, rules: RuleSet | None = None
) -> CheckInCandidate:
    """The person with this JMBG; `CitizenNotFound` if this site does not know them."""
    with session_scope(engine, write=False) as session:
        citizen = session.scalar(sa.select(Citizen).where(Citizen.jmbg == jmbg.value))
        if citizen is None:
            raise CitizenNotFound(identifier=f"JMBG {mask_jmbg(jmbg.value)}")
        return _candidate(session, clock, citizen, None, rules)


def find_by_mrz(
    engine: Engine, clock: Clock, document: MrzDocument, *, rules: RuleSet | None = None
) -> CheckInCandidate:
    """The holder of the document; `CitizenNotFound` or `SeveralCitizensMatch`."""
    with session_scope(engine, write=False) as session:
        citizen = _citizen_for_document(session, document)
        return _candidate(session, clock, citizen, None, rules)


def find_by_appointment_code(
    engine: Engine, clock: Clock, appointment_id: uuid.UUID, *, rules: RuleSet | None = None
) -> CheckInCandidate:
    """The person and appointment named by an invitation's code.

    Raises `AppointmentNotFound` (not at this site) or `AppointmentNotToday`.
    """
    with session_scope(engine, write=False) as session:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            raise AppointmentNotFound(code=str(appointment_id))
        today = local_day(session, clock)
        if appointment.day != today:
            raise AppointmentNotToday(day=appointment.day.strftime("%d.%m.%Y."))
        citizen = session.get(Citizen, appointment.citizen_id)
        if citizen is None:  # the foreign key makes this impossible; say so if it happens
            raise AppointmentNotFound(code=str(appointment_id))
        return _candidate(session, clock, citizen, appointment, rules)


def check_in(
    engine: Engine, clock: Clock, actor: uuid.UUID, appointment_id: uuid.UUID
) -> CheckedIn:
    """Record that the person of `appointment_id` has arrived.

    Raises `AppointmentNotFound`, `AppointmentNotToday`, `AppointmentClosed`
    (already done, cancelled or rescheduled), `UnknownUser`, `SiteNotEnrolled`.
    """
    with session_scope(engine) as session:
        site = site_here(session)
        staff = staff_member(session, actor)
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            raise AppointmentNotFound(code=str(appointment_id))
        if appointment.day != local_day(session, clock):
            raise AppointmentNotToday(day=appointment.day.strftime("%d.%m.%Y."))
        status = appointment_status(session, appointment_id)
        if status not in _CHECK_IN_FROM:
            raise AppointmentClosed(**status_params(status.value))
        if status is AppointmentStatus.CHECKED_IN:
            event = session.scalars(
                sa.select(AppointmentEvent)
                .where(
                    AppointmentEvent.appointment_id == appointment_id,
                    AppointmentEvent.kind == AppointmentEventKind.CHECKED_IN,
                )
                .order_by(AppointmentEvent.hlc.desc())
                .limit(1)
            ).one()
            return CheckedIn(appointment_id, event.id, event.occurred_at, already_checked_in=True)
        event = add_appointment_event(
            session, clock, site, actor, appointment, AppointmentEventKind.CHECKED_IN
        )
        audit(
            session,
            site,
            staff,
            event.occurred_at,
            "appointment.checked_in",
            "appointments",
            appointment_id,
        )
        return CheckedIn(appointment_id, event.id, event.occurred_at, already_checked_in=False)


def add_appointment_event(
    session: Session,
    clock: Clock,
    site: SiteHere,
    actor: uuid.UUID,
    appointment: Appointment,
    kind: AppointmentEventKind,
    *,
    dose_record_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> AppointmentEvent:
    """Append an event to `appointment` and queue it for the hub, in `session`'s transaction.

    Every event travels: the hub holds the scheduler's appointments, and a
    walk-in's is queued (``walk_in_appointment``) before its first event.
    """
    return append_appointment_event(
        session, clock, site, actor, appointment.id, kind,
        dose_record_id=dose_record_id, reason=reason,
    )  # fmt: skip


def append_appointment_event(
    session: Session,
    clock: Clock,
    site: SiteHere,
    actor: uuid.UUID,
    appointment_id: uuid.UUID,
    kind: AppointmentEventKind,
    *,
    dose_record_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> AppointmentEvent:
    """`add_appointment_event` for callers that hold the appointment's id, not its row.

    The event and its outbox row are added, not flushed: they reach the store
    at the session's next query or at its commit.
    """
    now = clock.now()
    event = AppointmentEvent(
        id=uuid7(),  # now, not at flush: the outbox payload carries it
        origin_site_id=site.site_id,
        created_at=now,
        created_by=actor,
        appointment_id=appointment_id,
        kind=kind,
        occurred_at=now,
        hlc=event_hlc(session, appointment_id, site, clock),
        reason=reason,
        dose_record_id=dose_record_id,
        details={},
    )
    session.add(event)
    record_change(session, "appointment_event", event.id, appointment_event_payload(event), now=now)
    return event


def summarize(citizen: Citizen) -> CitizenSummary:
    """The desk's view of a citizen row."""
    return CitizenSummary(
        citizen_id=citizen.id,
        given_name=citizen.given_name_latin,
        family_name=citizen.family_name_latin,
        given_name_cyrillic=citizen.given_name_cyrillic,
        family_name_cyrillic=citizen.family_name_cyrillic,
        jmbg_masked=mask_jmbg(citizen.jmbg or ""),
        birth_date=citizen.birth_date,
        sex=Sex(citizen.sex),
        priority_group=citizen.priority_group,
        walk_in=citizen.walk_in,
    )


def _candidate(
    session: Session,
    clock: Clock,
    citizen: Citizen,
    appointment: Appointment | None,
    rules: RuleSet | None,
) -> CheckInCandidate:
    today = local_day(session, clock)
    zone = local_zone(session)
    if appointment is None:
        appointment = _todays_appointment(session, citizen.id, today)
    doses = live_doses(session, citizen.id, _site_id_or_none(session))
    booked: TodayAppointment | None = None
    eligibility: Eligibility | None = None
    if appointment is not None:
        booked = TodayAppointment(
            appointment.id,
            appointment.slot_start.astimezone(zone),
            appointment.product_code,
            appointment.dose_number,
            appointment_status(session, appointment.id),
        )
        ruleset = rules or rules_in_force(today)
        try:
            facts = citizen_facts(citizen, doses, zone)
            eligibility = check_eligibility(facts, appointment.product_code, today, ruleset)
        except DomainError as broken:
            return CheckInCandidate(summarize(citizen), booked, doses, None, today, broken)
    return CheckInCandidate(summarize(citizen), booked, doses, eligibility, today)


def _site_id_or_none(session: Session) -> uuid.UUID | None:
    identity = session.get(SiteIdentity, 1)
    return None if identity is None else identity.site_id


def _todays_appointment(session: Session, citizen_id: uuid.UUID, today: date) -> Appointment | None:
    """The person's appointment here today: the first still open, else the first of the day."""
    appointments = session.scalars(
        sa.select(Appointment)
        .where(Appointment.citizen_id == citizen_id, Appointment.day == today)
        .order_by(Appointment.slot_start)
    ).all()
    for appointment in appointments:
        if appointment_status(session, appointment.id) in OPEN_STATUSES:
            return appointment
    return appointments[0] if appointments else None


def _fold(text: str) -> str:
    """A name as an MRZ writes it: upper case ASCII, Đ as DJ, separators as spaces."""
    text = text.upper().replace("Đ", "DJ").replace("-", " ").replace("'", "")
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _citizen_for_document(session: Session, document: MrzDocument) -> Citizen:
    if document.jmbg is not None:
        citizen = session.scalar(sa.select(Citizen).where(Citizen.jmbg == document.jmbg.value))
        if citizen is None:
            raise CitizenNotFound(identifier=f"JMBG {mask_jmbg(document.jmbg.value)}")
        return citizen
    suffix = f":{document.issuing_state}:{document.document_number}"
    by_document = session.scalars(
        sa.select(Citizen).where(Citizen.foreign_document.endswith(suffix, autoescape=True))
    ).all()
    if len(by_document) == 1:
        return by_document[0]
    surname = _fold(document.surname)
    matches = [
        citizen
        for citizen in session.scalars(
            sa.select(Citizen).where(Citizen.birth_date == document.birth_date)
        )
        if _fold(citizen.family_name_latin) == surname
    ]
    if not matches:
        raise CitizenNotFound(
            identifier=f"{document.surname}, {document.birth_date.strftime('%d.%m.%Y.')}"
        )
    if len(matches) > 1:
        given = _fold(document.given_names)
        exact = [c for c in matches if _fold(c.given_name_latin) == given]
        if len(exact) == 1:
            return exact[0]
        raise SeveralCitizensMatch(count=len(matches))
    return matches[0]
