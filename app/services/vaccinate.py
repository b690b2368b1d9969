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
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.appointments import Appointment, AppointmentEventKind
from app.local_db.models.citizens import Citizen
from app.local_db.models.doses import DoseRecord
from app.local_db.models.doses import InjectionSite as InjectionSite
from app.local_db.models.stock import Vial
from app.local_db.unit_of_work import session_scope
from app.services.check_in import add_appointment_event
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
from app.services.history import citizen_facts, live_doses
from app.services.roster import appointment_status
from app.services.vials import (
    VialLabel,
    VialState,
    draw_in,
    find_vial,
    label_product,
    lot_refusals,
    open_in,
    register_vial,
    state_of,
    use_refusals,
    vial_label,
)
from app.services.workplace import (
    SiteHere,
    audit,
    local_day,
    local_zone,
    site_here,
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
class _Assessment:
    """The checks' findings, with the rows `record_dose` continues from."""

    check: VialCheck
    appointment: Appointment | None
    product: Product | None
    label: VialLabel | None
    vial: Vial | None


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
        return _assess(session, clock, appointment_id, label, rules).check


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
        site = site_here(session)
        nurse = staff_member(session, actor)
        found = _assess(session, clock, appointment_id, label, rules)
        if found.check.refusals:
            raise found.check.refusals[0]
        appointment, product, scanned = found.appointment, found.product, found.label
        # _assess refuses whenever one of these is missing; asserting keeps mypy honest.
        assert appointment is not None
        assert product is not None
        assert scanned is not None
        now = clock.now()
        vial = found.vial or register_vial(session, scanned, product, site, actor, now)
        state = state_of(session, vial, product)
        if not state.is_open:
            open_in(session, vial, state, site, actor, now)
            state = state_of(session, vial, product)
        dose = _add_dose(
            session, site, nurse.full_name, actor, appointment, product, scanned, vial, now,
            injection_site, notes,
        )  # fmt: skip
        draw_in(session, vial, state, site, actor, now, dose.id)
        add_appointment_event(
            session, clock, site, actor, appointment, AppointmentEventKind.DONE,
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
            appointment_id=appointment.id,
            lot=scanned.lot_number,
            serial=scanned.serial,
        )
        after = state_of(session, vial, product)
        return RecordedDose(
            dose_id=dose.id,
            citizen_id=dose.citizen_id,
            appointment_id=appointment.id,
            product_code=product.id,
            product_name=product.name,
            gtin=scanned.gtin,
            lot_number=scanned.lot_number,
            serial=scanned.serial,
            vial_id=vial.id,
            dose_number=dose.dose_number,
            administered_at=now.astimezone(local_zone(session)),
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
    appointment: Appointment,
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
        citizen_id=appointment.citizen_id,
        appointment_id=appointment.id,
        product_code=product.id,
        gtin=label.gtin,
        lot_number=label.lot_number,
        vial_id=vial.id,
        dose_number=appointment.dose_number,
        administered_at=now,
        injection_site=injection_site,
        vaccinator_name=nurse_name,
        notes=(notes or "").strip()[:1000] or None,
        voids_dose_id=None,
    )
    session.add(dose)
    session.flush()  # the double-dose trigger runs here
    record_change(session, "dose_record", dose.id, dose_payload(dose), now=now)
    return dose


def _assess(
    session: Session,
    clock: Clock,
    appointment_id: uuid.UUID,
    scan: Gs1Label,
    rules: RuleSet | None,
) -> _Assessment:
    today = local_day(session, clock)
    zone = local_zone(session)
    ruleset = rules or rules_in_force(today)
    now = clock.now()
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

    appointment = session.get(Appointment, appointment_id)
    citizen = None if appointment is None else session.get(Citizen, appointment.citizen_id)
    if appointment is None or citizen is None:
        refusals.insert(0, AppointmentNotFound(code=str(appointment_id)))
    elif appointment.day != today:
        refusals.insert(0, AppointmentNotToday(day=appointment.day.strftime("%d.%m.%Y.")))
    else:
        status = appointment_status(session, appointment.id)
        if status is AppointmentStatus.SCHEDULED or status is AppointmentStatus.NO_SHOW:
            refusals.append(NotCheckedIn())
        elif status is not AppointmentStatus.CHECKED_IN and status is not AppointmentStatus.DONE:
            refusals.append(AppointmentClosed(**status_params(status.value)))
        doses = live_doses(session, citizen.id)
        same = [d for d in doses if d.dose_number == appointment.dose_number]
        if same:
            refusals.append(
                DoseAlreadyRecorded(
                    dose_number=appointment.dose_number,
                    given_on=same[0].given_on(zone).strftime("%d.%m.%Y."),
                )
            )
        elif appointment.dose_number != len(doses) + 1:
            refusals.append(DoseNumberMismatch(booked=appointment.dose_number, due=len(doses) + 1))
        else:
            expected = _expected_products(
                appointment, doses[0].product_code if doses else None, ruleset
            )
            if product is not None:
                try:
                    facts = citizen_facts(citizen, doses, zone)
                    eligibility = check_eligibility(facts, product.id, today, ruleset)
                except DomainError as broken_facts:
                    # Records that cannot be a history, or codes the rules do not know:
                    # the person's data must be corrected before anyone vaccinates.
                    refusals.append(broken_facts)
                else:
                    warnings = eligibility.warnings
                    refusals.extend(
                        _product_refusals(
                            eligibility.blocking, product, appointment, expected, ruleset
                        )
                    )

    vial: Vial | None = None
    state: VialState | None = None
    if label is not None:
        refusals.extend(lot_refusals(session, label, today))
        try:
            vial = find_vial(session, label)
        except ClinicalError as refusal:
            refusals.append(refusal)
        if vial is not None and product is not None:
            state = state_of(session, vial, product)
            refusals.extend(use_refusals(state, now))

    check = VialCheck(
        appointment_id=appointment_id,
        citizen_id=None if appointment is None else appointment.citizen_id,
        dose_number=None if appointment is None else appointment.dose_number,
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
    return _Assessment(check, appointment, product, label, vial)


def _expected_products(
    appointment: Appointment, first_product: str | None, rules: RuleSet
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
    appointment: Appointment,
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
