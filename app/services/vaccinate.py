"""Vaccinate: check the scanned vial against the checked-in person, then record the dose.

Two steps, so the screen can go green or red before the nurse confirms:

- `check_vial(engine, clock, appointment_id, label)` -> `VialCheck`: reads
  only. Every refusal that applies is listed (`VialCheck.refusals`, each a
  `DomainError`, nearly always a `ClinicalError`, whose message says what
  to do), with the eligibility
  warnings that must be read out (`VialCheck.warnings`).
- `record_dose(engine, clock, actor, appointment_id, label, injection_site)`
  -> `RecordedDose`: repeats every check inside one write transaction and, if
  none refuses, records in that same transaction the dose record (nurse,
  time, injection site, lot, vial), the vial's ``opened`` event (when this
  is its first dose) and ``dose_drawn`` event, the appointment's ``done``
  event, and the outbox row of each. It raises the first refusal otherwise.
  The store's double-dose trigger is the last guard: two workstations
  racing on the same person get `app.local_db.errors.DoubleDose` for the
  second.

The checks, in the order they are listed:

1. the label has lot, expiry and serial (`LabelIncomplete`); the GTIN is a
   catalogue product (`UnknownVaccine`);
2. the appointment is today and checked in (`NotCheckedIn`,
   `AppointmentClosed`, `AppointmentNotToday`);
3. no live dose with this number is recorded for the person anywhere the
   site knows of (`DoseAlreadyRecorded`), and the booked dose is the next
   one (`DoseNumberMismatch`);
4. the product is right for this person and dose (`WrongProduct`): dose 1
   is the booked product, a later dose one the series allows (Sputnik V
   dose 2 is component II); the interval since the previous dose is reached
   (`IntervalNotReached`); nothing else in `domain.eligibility` blocks
   (`IneligibleForDose`);
5. the lot is not recalled (`LotRecalled`) nor expired (`LotExpired`);
6. the vial is not discarded, not past its use-by time, not empty
   (`VialDiscarded`, `VialPastUseBy`, `VialEmpty`), and its serial is not
   registered under another lot (`VialLabelMismatch`).

An unopened (or never seen) vial is opened by its first dose: the nurse
scans the vial she punctures.

Cost (a nurse waits on it at every scan): each fact is read once, by one
indexed statement built ahead of time, as plain columns rather than ORM rows;
the vial's states after opening and drawing are folded in memory from the
events already read; the new rows are written by a single flush.
`tests/app/services/test_dose_speed.py` holds the statement budget.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.appointments import Appointment, AppointmentEventKind
from app.local_db.models.citizens import Citizen
from app.local_db.models.doses import DoseRecord
from app.local_db.models.doses import InjectionSite as InjectionSite
from app.local_db.models.stock import Vial, VialEventKind
from app.local_db.unit_of_work import session_scope
from app.services.check_in import append_appointment_event
from app.services.errors import (
    AppointmentClosed,
    AppointmentNotFound,
    AppointmentNotToday,
    ClinicalError,
    DoseAlreadyRecorded,
    DoseNumberMismatch,
    IneligibleForDose,
    IntervalNotReached,
    NotCheckedIn,
    WrongProduct,
    reason_params,
    status_params,
)
from app.services.history import facts_of, live_doses
from app.services.roster import appointment_status
from app.services.vials import (
    VialEventFact,
    VialLabel,
    VialState,
    draw_in,
    find_vial,
    label_product,
    lot_refusals,
    open_in,
    register_vial,
    state_from,
    use_refusals,
    vial_facts,
    vial_label,
)
from app.services.workplace import (
    SiteHere,
    audit,
    local_zone,
    site_and_zone,
    staff_member,
)
from app.sync.outbox import record_change
from app.sync.wire_forms import dose_payload
from domain.appointment_status import AppointmentStatus
from domain.catalogue import Product
from domain.clock import Clock
from domain.data import RuleSet, rules_in_force
from domain.eligibility import (
    INTERVAL_NOT_REACHED,
    WRONG_PRODUCT_FOR_DOSE,
    Reason,
    check_eligibility,
)
from domain.errors import DomainError
from domain.gs1 import Gs1Label
from domain.ids import uuid7

__all__ = [
    "InjectionSite",
    "RecordedDose",
    "VialCheck",
    "check_vial",
    "record_dose",
]


@dataclass(frozen=True)
class VialCheck:
    """What the scan says and whether the dose may be given.

    `product_code`/`product_name` are None when the GTIN is not a vaccine the
    catalogue knows. `vial` is None for a vial never seen here (its first dose
    opens it). `ok` is true exactly when nothing refuses; `warnings` must
    still be shown (late dose, precautions).
    """

    appointment_id: uuid.UUID
    citizen_id: uuid.UUID | None
    dose_number: int | None
    gtin: str
    product_code: str | None
    product_name: str | None
    lot_number: str | None
    expiry_date: date | None
    serial: str | None
    expected_products: tuple[str, ...]
    vial: VialState | None
    refusals: tuple[DomainError, ...]
    warnings: tuple[Reason, ...]

    @property
    def ok(self) -> bool:
        return not self.refusals


@dataclass(frozen=True)
class RecordedDose:
    """The dose as recorded (immutable from now on)."""

    dose_id: uuid.UUID
    citizen_id: uuid.UUID
    appointment_id: uuid.UUID
    product_code: str
    product_name: str
    gtin: str
    lot_number: str
    serial: str
    vial_id: uuid.UUID
    dose_number: int
    administered_at: datetime
    injection_site: InjectionSite
    vaccinator_id: uuid.UUID
    vaccinator_name: str
    vial_doses_left: int
    vial_use_by: datetime | None
    warnings: tuple[Reason, ...]


@dataclass(frozen=True)
class _Booking:
    """The appointment and what eligibility needs of its citizen, read in one statement."""

    appointment_id: uuid.UUID
    citizen_id: uuid.UUID
    day: date
    product_code: str
    dose_number: int
    birth_date: date
    priority_group: str
    conditions: tuple[str, ...]


@dataclass(frozen=True)
class _Assessment:
    """The checks' findings, with what `record_dose` continues from.

    `vial_events` are the facts `check.vial` was folded from, so the states
    after opening and drawing are folds of these plus the new events, not
    further reads.
    """

    check: VialCheck
    booking: _Booking | None
    product: Product | None
    label: VialLabel | None
    vial: Vial | None
    vial_events: tuple[VialEventFact, ...]


def check_vial(
    engine: Engine,
    clock: Clock,
    appointment_id: uuid.UUID,
    label: Gs1Label,
    *,
    rules: RuleSet | None = None,
) -> VialCheck:
    """Every reason the scanned vial must not be used for this appointment now (reads only)."""
    with session_scope(engine, write=False) as session:
        return _assess(session, clock, local_zone(session), appointment_id, label, rules).check


def record_dose(
    engine: Engine,
    clock: Clock,
    actor: uuid.UUID,
    appointment_id: uuid.UUID,
    label: Gs1Label,
    injection_site: InjectionSite,
    *,
    notes: str | None = None,
    rules: RuleSet | None = None,
) -> RecordedDose:
    """Record the dose in one transaction, or raise the first refusal (see the module doc).

    Also raises `UnknownUser` and `SiteNotEnrolled`, and the store's
    `DoubleDose` if another workstation recorded the same dose meanwhile.
    """
    with session_scope(engine) as session:
        site, zone = site_and_zone(session)
        nurse = staff_member(session, actor)
        # Every check again, inside the write transaction (BEGIN IMMEDIATE holds
        # the lock): nothing can change between these reads and the writes below.
        found = _assess(session, clock, zone, appointment_id, label, rules)
        if found.check.refusals:
            raise found.check.refusals[0]
        booking, product, scanned = found.booking, found.product, found.label
        # _assess refuses whenever one of these is missing; asserting keeps mypy honest.
        assert booking is not None
        assert product is not None
        assert scanned is not None
        now = clock.now()
        vial = found.vial or register_vial(session, scanned, product, site, actor, now)
        facts = list(found.vial_events)
        state = state_from(vial, facts, product, zone)
        # The rows below are written together by the one flush at the end; no
        # query in between reads what they add (the appointment's latest stamp
        # is read from its events, which the new event is not among yet).
        with session.no_autoflush:
            if not state.is_open:
                open_in(session, vial, state, site, actor, now)
                facts.append(VialEventFact(VialEventKind.OPENED, now))
                state = state_from(vial, facts, product, zone)
            dose = _add_dose(
                session, site, nurse.full_name, actor, booking, product, scanned, vial, now,
                injection_site, notes,
            )  # fmt: skip
            draw_in(session, vial, state, site, actor, now, dose.id)
            facts.append(VialEventFact(VialEventKind.DOSE_DRAWN, now))
            append_appointment_event(
                session, clock, site, actor, booking.appointment_id, AppointmentEventKind.DONE,
                dose_record_id=dose.id,
            )  # fmt: skip
            audit(
                session,
                site,
                nurse,
                now,
                "dose.recorded",
                "dose_records",
                dose.id,
                appointment_id=booking.appointment_id,
                lot=scanned.lot_number,
                serial=scanned.serial,
            )
        session.flush()  # the double-dose trigger runs here
        after = state_from(vial, facts, product, zone)
        return RecordedDose(
            dose_id=dose.id,
            citizen_id=dose.citizen_id,
            appointment_id=booking.appointment_id,
            product_code=product.id,
            product_name=product.name,
            gtin=scanned.gtin,
            lot_number=scanned.lot_number,
            serial=scanned.serial,
            vial_id=vial.id,
            dose_number=dose.dose_number,
            administered_at=now.astimezone(zone),
            injection_site=injection_site,
            vaccinator_id=actor,
            vaccinator_name=nurse.full_name,
            vial_doses_left=after.doses_left,
            vial_use_by=after.use_by,
            warnings=found.check.warnings,
        )


def _add_dose(
    session: Session,
    site: SiteHere,
    nurse_name: str,
    actor: uuid.UUID,
    booking: _Booking,
    product: Product,
    label: VialLabel,
    vial: Vial,
    now: datetime,
    injection_site: InjectionSite,
    notes: str | None,
) -> DoseRecord:
    dose = DoseRecord(
        id=uuid7(),
        origin_site_id=site.site_id,
        created_at=now,
        created_by=actor,
        citizen_id=booking.citizen_id,
        appointment_id=booking.appointment_id,
        product_code=product.id,
        gtin=label.gtin,
        lot_number=label.lot_number,
        vial_id=vial.id,
        dose_number=booking.dose_number,
        administered_at=now,
        injection_site=injection_site,
        vaccinator_name=nurse_name,
        notes=(notes or "").strip()[:1000] or None,
        voids_dose_id=None,
    )
    session.add(dose)
    record_change(session, "dose_record", dose.id, dose_payload(dose), now=now)
    return dose


# Built once, with a bound parameter (see `app.services.workplace`): two primary-key lookups.
_BOOKING = (
    sa.select(
        Appointment.citizen_id,
        Appointment.day,
        Appointment.product_code,
        Appointment.dose_number,
        Citizen.birth_date,
        Citizen.priority_group,
        Citizen.conditions,
    )
    .join(Citizen, Citizen.id == Appointment.citizen_id)
    .where(Appointment.id == sa.bindparam("appointment_id"))
)


def _booking(session: Session, appointment_id: uuid.UUID) -> _Booking | None:
    """The appointment with its citizen's eligibility columns; None if either is missing."""
    row = session.execute(_BOOKING, {"appointment_id": appointment_id}).one_or_none()
    if row is None:
        return None
    citizen_id, day, product_code, dose_number, birth_date, group, conditions = row
    return _Booking(
        appointment_id, citizen_id, day, product_code, dose_number, birth_date, group,
        tuple(conditions or ()),
    )  # fmt: skip


def _assess(
    session: Session,
    clock: Clock,
    zone: ZoneInfo,
    appointment_id: uuid.UUID,
    scan: Gs1Label,
    rules: RuleSet | None,
) -> _Assessment:
    now = clock.now()
    today = now.astimezone(zone).date()
    ruleset = rules or rules_in_force(today)
    refusals: list[DomainError] = []
    warnings: tuple[Reason, ...] = ()
    expected: tuple[str, ...] = ()

    label: VialLabel | None = None
    product: Product | None = None
    try:
        label = vial_label(scan)
        product = label_product(label.gtin, ruleset)
    except ClinicalError as refusal:
        refusals.append(refusal)

    booking = _booking(session, appointment_id)
    if booking is None:
        refusals.insert(0, AppointmentNotFound(code=str(appointment_id)))
    elif booking.day != today:
        refusals.insert(0, AppointmentNotToday(day=booking.day.strftime("%d.%m.%Y.")))
    else:
        status = appointment_status(session, booking.appointment_id)
        if status is AppointmentStatus.SCHEDULED or status is AppointmentStatus.NO_SHOW:
            refusals.append(NotCheckedIn())
        elif status is not AppointmentStatus.CHECKED_IN and status is not AppointmentStatus.DONE:
            refusals.append(AppointmentClosed(**status_params(status.value)))
        doses = live_doses(session, booking.citizen_id)
        same = [d for d in doses if d.dose_number == booking.dose_number]
        if same:
            refusals.append(
                DoseAlreadyRecorded(
                    dose_number=booking.dose_number,
                    given_on=same[0].given_on(zone).strftime("%d.%m.%Y."),
                )
            )
        elif booking.dose_number != len(doses) + 1:
            refusals.append(DoseNumberMismatch(booked=booking.dose_number, due=len(doses) + 1))
        else:
            expected = _expected_products(
                booking, doses[0].product_code if doses else None, ruleset
            )
            if product is not None:
                try:
                    facts = facts_of(
                        booking.birth_date, booking.priority_group, booking.conditions, doses, zone
                    )
                    eligibility = check_eligibility(facts, product.id, today, ruleset)
                except DomainError as broken_facts:
                    # Records that cannot be a history, or codes the rules do not know:
                    # the person's data must be corrected before anyone vaccinates.
                    refusals.append(broken_facts)
                else:
                    warnings = eligibility.warnings
                    refusals.extend(
                        _product_refusals(eligibility.blocking, product, booking, expected, ruleset)
                    )

    vial: Vial | None = None
    state: VialState | None = None
    events: tuple[VialEventFact, ...] = ()
    if label is not None:
        refusals.extend(lot_refusals(session, label, today))
        try:
            vial = find_vial(session, label)
        except ClinicalError as refusal:
            refusals.append(refusal)
        if vial is not None and product is not None:
            events = tuple(vial_facts(session, vial.id))
            state = state_from(vial, events, product, zone)
            refusals.extend(use_refusals(state, now))

    check = VialCheck(
        appointment_id=appointment_id,
        citizen_id=None if booking is None else booking.citizen_id,
        dose_number=None if booking is None else booking.dose_number,
        gtin=scan.gtin,
        product_code=None if product is None else product.id,
        product_name=None if product is None else product.name,
        lot_number=scan.lot,
        expiry_date=scan.expiry_date,
        serial=scan.serial,
        expected_products=expected,
        vial=state,
        refusals=tuple(refusals),
        warnings=warnings,
    )
    return _Assessment(check, booking, product, label, vial, events)


def _expected_products(
    appointment: _Booking, first_product: str | None, rules: RuleSet
) -> tuple[str, ...]:
    """Products allowed for the booked dose: the booked one for dose 1, else the series'."""
    if appointment.dose_number == 1 or first_product is None:
        return (appointment.product_code,)
    first = rules.catalogue.get(first_product)
    if first is None or first.series is None:
        return (appointment.product_code,)
    rule = first.series.rule_for(appointment.dose_number)
    return (appointment.product_code,) if rule is None else rule.product_ids


def _names(ids: tuple[str, ...], rules: RuleSet) -> str:
    return ", ".join(
        product.name if (product := rules.catalogue.get(i)) is not None else i for i in ids
    )


def _product_refusals(
    blocking: tuple[Reason, ...],
    product: Product,
    appointment: _Booking,
    expected: tuple[str, ...],
    rules: RuleSet,
) -> list[ClinicalError]:
    """The eligibility's blocking reasons as refusals a nurse can act on."""
    refusals: list[ClinicalError] = []
    wrong = product.id not in expected or any(r.kind is WRONG_PRODUCT_FOR_DOSE for r in blocking)
    if wrong:
        refusals.append(
            WrongProduct(
                scanned=product.name,
                dose_number=appointment.dose_number,
                expected=_names(expected, rules),
            )
        )
    others: list[Reason] = []
    for reason in blocking:
        if reason.kind is WRONG_PRODUCT_FOR_DOSE:
            continue
        if reason.kind is INTERVAL_NOT_REACHED:
            earliest = reason.params["earliest"]
            assert isinstance(earliest, date)
            refusals.append(
                IntervalNotReached(
                    dose_number=reason.params["dose_number"],
                    min_days=reason.params["min_days"],
                    earliest=earliest.strftime("%d.%m.%Y."),
                )
            )
        else:
            others.append(reason)
    if others:
        refusals.append(IneligibleForDose(**reason_params(others)))
    return refusals
