"""Registrations of interest: the intake the citizens' portal calls.

A registration names a person by JMBG. The first registration of a JMBG
creates the citizen; a later one updates that same person (and the same
registration while it is active) instead of creating another. Withdrawal
marks the registration and the person withdrawn and cancels their
appointments still to come. The submission is kept as received in
``registrations.payload``; the audit trail keeps each change.

Validation uses the domain rules in force today (Serbia's calendar day):
the JMBG by `domain.jmbg.parse_jmbg` (which also gives birth date and sex),
condition and product codes by the rule set, the priority claim by the
rule set's claimable groups, and preferences against contraindications.
The person's priority group is derived (`domain.priority.priority_group_for`);
a claim only counts for groups people declare (health workers, ...). Every
problem found is reported, one per field.

Demographics have several writers (portal, sites), so each changed citizen
field gets a new hybrid-logical-clock stamp later than the row's current one;
sites expecting the person (an appointment today or later) are sent the
updated row through the change log.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.db import Citizen, Registration
from central.services.appointments import cancel_future, sites_expecting
from central.services.citizen_writes import write_fields
from central.services.context import Hub
from central.services.errors import FieldProblem, HubError, InvalidRequest, NotFound
from central.services.records import announce, audit, upsert_change
from domain.catalogue import NotAFirstDose, UnknownProduct
from domain.conditions import UnknownCondition
from domain.data import RuleSet, rules_in_force
from domain.errors import DomainError
from domain.ids import uuid7
from domain.jmbg import Jmbg, JmbgError, mask_jmbg, parse_jmbg
from domain.priority import Membership, UnknownPriorityGroup, priority_group_for
from domain.script import cyrillic_to_latin, latin_to_cyrillic
from domain.wire import ANY_VACCINE, RegistrationRequest, RegistrationView

CAMPAIGN_TIMEZONE: Final = ZoneInfo("Europe/Belgrade")
"""Whose calendar decides "today" for ages and rules in force."""

NAME_LENGTH: Final = 100
_CYRILLIC: Final = re.compile(r"[\u0400-\u04FF]")
_PHONE: Final = re.compile(r"^\+?[0-9 ()\-]+$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ATTEMPTS: Final = 3
DEMOGRAPHIC_FIELDS: Final = (
    "first_name_latin",
    "last_name_latin",
    "first_name_cyrillic",
    "last_name_cyrillic",
    "phone",
    "email",
    "municipality",
    "priority_group",
    "conditions",
    "vaccine_preferences",
    "withdrawn_at",
)


class UnknownRegistration(NotFound):
    code: ClassVar[str] = "registrations.unknown"
    template: ClassVar[str] = (
        "There is no registration {registration_id}. Check the number you were given."
    )


class NameTooLong(HubError):
    code: ClassVar[str] = "registrations.name_too_long"
    template: ClassVar[str] = "The name is too long: at most {limit} letters fit. Shorten it."


class NameMixedScripts(HubError):
    code: ClassVar[str] = "registrations.name_mixed_scripts"
    template: ClassVar[str] = "The name mixes Latin and Cyrillic letters. Write it in one alphabet."


class PhoneInvalid(HubError):
    code: ClassVar[str] = "registrations.phone_invalid"
    template: ClassVar[str] = (
        "'{phone}' is not a phone number. Write it with 8 to 15 digits, "
        "for example +381 64 123 4567."
    )


class EmailInvalid(HubError):
    code: ClassVar[str] = "registrations.email_invalid"
    template: ClassVar[str] = "'{email}' is not an e-mail address. Check it, e.g. ime@primer.rs."


class ContactMissing(HubError):
    code: ClassVar[str] = "registrations.contact_missing"
    template: ClassVar[str] = (
        "Give a phone number or an e-mail address, so the invitation can reach the person."
    )


class PriorityNotClaimable(HubError):
    code: ClassVar[str] = "registrations.priority_not_claimable"
    template: ClassVar[str] = (
        "The priority group '{group}' follows from age or health conditions and cannot be "
        "claimed; leave it out. Groups that can be claimed: {claimable}."
    )


class PreferenceAnyWithOthers(HubError):
    code: ClassVar[str] = "registrations.preference_any_with_others"
    template: ClassVar[str] = (
        "'any' means any suitable vaccine, so it cannot be listed with particular vaccines. "
        "Give either 'any' alone or the vaccines in order of preference."
    )


class PreferenceRepeated(HubError):
    code: ClassVar[str] = "registrations.preference_repeated"
    template: ClassVar[str] = "The vaccine '{product_id}' is listed twice. List each once."


class PreferenceContraindicated(HubError):
    code: ClassVar[str] = "registrations.preference_contraindicated"
    template: ClassVar[str] = (
        "{product} must not be given to a person with the condition '{condition}'. "
        "Choose another vaccine or 'any'."
    )


@dataclass(frozen=True)
class _Checked:
    """A request that passed validation, with everything derived from it."""

    jmbg: Jmbg
    names: tuple[str, str, str, str]
    phone: str | None
    email: str | None
    priority_group: str
    conditions: list[str]
    preferences: list[str]
    rules: RuleSet


def campaign_today(now: datetime) -> date:
    """The calendar day in Serbia at `now`."""
    return now.astimezone(CAMPAIGN_TIMEZONE).date()


def _both_scripts(name: str) -> tuple[str, str] | DomainError:
    """(Latin, Cyrillic) for a name written in either script."""
    has_cyrillic = bool(_CYRILLIC.search(name))
    if has_cyrillic and re.search(r"[A-Za-zČĆŽŠĐčćžšđ]", name):
        return NameMixedScripts()
    latin, cyrillic = (
        (cyrillic_to_latin(name), name) if has_cyrillic else (name, latin_to_cyrillic(name))
    )
    if max(len(latin), len(cyrillic)) > NAME_LENGTH:
        return NameTooLong(limit=NAME_LENGTH)
    return latin, cyrillic


def _phone(text: str) -> str | DomainError:
    digits = re.sub(r"\D", "", text)
    if not _PHONE.match(text) or not 8 <= len(digits) <= 15:
        return PhoneInvalid(phone=text)
    return ("+" if text.startswith("+") else "") + digits


def _check(request: RegistrationRequest, today: date) -> _Checked:
    """Validate against the rules in force `today`; raise `InvalidRequest` with every problem."""
    problems: list[FieldProblem] = []
    rules = rules_in_force(today)
    jmbg: Jmbg | None = None
    try:
        jmbg = parse_jmbg(request.jmbg, today=today)
    except JmbgError as error:
        problems.append(FieldProblem("jmbg", error))

    first = _both_scripts(request.first_name)
    last = _both_scripts(request.last_name)
    for field, result in (("first_name", first), ("last_name", last)):
        if isinstance(result, DomainError):
            problems.append(FieldProblem(field, result))

    phone = _phone(request.phone) if request.phone is not None else None
    if isinstance(phone, DomainError):
        problems.append(FieldProblem("phone", phone))
    email = request.email
    if email is not None and not _EMAIL.match(email):
        problems.append(FieldProblem("email", EmailInvalid(email=email)))
    if request.phone is None and request.email is None:
        problems.append(FieldProblem("phone", ContactMissing()))

    if request.priority_claim is not None:
        try:
            group = rules.priority_groups.by_code(request.priority_claim)
            if group.membership is not Membership.CLAIMED:
                claimable = ", ".join(
                    g.code
                    for g in rules.priority_groups.groups
                    if g.membership is Membership.CLAIMED
                )
                problems.append(
                    FieldProblem(
                        "priority_claim",
                        PriorityNotClaimable(group=group.code, claimable=claimable),
                    )
                )
        except UnknownPriorityGroup as error:
            problems.append(FieldProblem("priority_claim", error))

    conditions = list(dict.fromkeys(request.conditions))
    for index, code in enumerate(request.conditions):
        try:
            rules.conditions.by_code(code)
        except UnknownCondition as error:
            problems.append(FieldProblem(f"conditions.{index}", error))

    preferences = list(request.vaccine_preferences)
    problems += _preference_problems(preferences, set(conditions), rules)

    if problems or jmbg is None:
        raise InvalidRequest(problems)
    assert not isinstance(first, DomainError)
    assert not isinstance(last, DomainError)
    assert not isinstance(phone, DomainError)
    group_code = priority_group_for(
        jmbg.birth_date, request.priority_claim, set(conditions), today, rules
    ).code
    return _Checked(
        jmbg=jmbg,
        names=(first[0], last[0], first[1], last[1]),
        phone=phone,
        email=email,
        priority_group=group_code,
        conditions=conditions,
        preferences=preferences,
        rules=rules,
    )


def _preference_problems(
    preferences: list[str], conditions: set[str], rules: RuleSet
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if ANY_VACCINE in preferences:
        if len(preferences) > 1:
            problems.append(FieldProblem("vaccine_preferences", PreferenceAnyWithOthers()))
        return problems
    seen: set[str] = set()
    known_conditions = conditions & rules.conditions.codes
    for index, product_id in enumerate(preferences):
        field = f"vaccine_preferences.{index}"
        product = rules.catalogue.get(product_id)
        if product is None:
            problems.append(
                FieldProblem(field, UnknownProduct(product_id=product_id, version=rules.version))
            )
        elif not product.starts_series:
            problems.append(FieldProblem(field, NotAFirstDose(product=product.name)))
        elif product_id in seen:
            problems.append(FieldProblem(field, PreferenceRepeated(product_id=product_id)))
        else:
            blocking = sorted(known_conditions & product.contraindications)
            if blocking:
                problems.append(
                    FieldProblem(
                        field,
                        PreferenceContraindicated(product=product.name, condition=blocking[0]),
                    )
                )
        seen.add(product_id)
    return problems


def view(registration: Registration, citizen: Citizen) -> RegistrationView:
    """The wire form of a registration and its person (JMBG masked)."""
    payload = registration.payload
    return RegistrationView(
        id=registration.id,
        status="withdrawn" if registration.withdrawn_at is not None else "active",
        citizen_id=citizen.id,
        jmbg_masked=mask_jmbg(citizen.jmbg),
        first_name_latin=citizen.first_name_latin,
        last_name_latin=citizen.last_name_latin,
        first_name_cyrillic=citizen.first_name_cyrillic,
        last_name_cyrillic=citizen.last_name_cyrillic,
        birth_date=citizen.birth_date,
        sex=citizen.sex,  # type: ignore[arg-type]
        phone=citizen.phone,
        email=citizen.email,
        municipality=citizen.municipality,
        priority_claim=payload.get("priority_claim"),
        priority_group=citizen.priority_group,
        conditions=list(citizen.conditions),
        vaccine_preferences=list(citizen.vaccine_preferences),
        rules_version=str(payload.get("rules_version", "")),
        registered_at=registration.created_at,
        updated_at=registration.updated_at,
        withdrawn_at=registration.withdrawn_at,
    )


def register(
    hub: Hub, request: RegistrationRequest, *, actor: str = "portal", request_id: str | None = None
) -> tuple[RegistrationView, bool]:
    """Register interest; returns the registration and whether it is new.

    Raises `InvalidRequest` with a problem per field. Safe against two
    registrations of one new JMBG at once: the loser retries as an update.
    """
    now = hub.clock.now()
    checked = _check(request, campaign_today(now))
    for attempt in range(_ATTEMPTS):
        try:
            with hub.sessions() as session, session.begin():
                return _store(hub, session, request, checked, now, actor, request_id)
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _store(
    hub: Hub,
    session: Session,
    request: RegistrationRequest,
    checked: _Checked,
    now: datetime,
    actor: str,
    request_id: str | None,
) -> tuple[RegistrationView, bool]:
    citizen = session.scalar(
        select(Citizen).where(Citizen.jmbg == checked.jmbg.value).with_for_update()
    )
    values: dict[str, Any] = {
        "first_name_latin": checked.names[0],
        "last_name_latin": checked.names[1],
        "first_name_cyrillic": checked.names[2],
        "last_name_cyrillic": checked.names[3],
        "phone": checked.phone,
        "email": checked.email,
        "municipality": request.municipality,
        "priority_group": checked.priority_group,
        "conditions": checked.conditions,
        "vaccine_preferences": checked.preferences,
        "withdrawn_at": None,
    }
    before: dict[str, Any] | None = None
    if citizen is None:
        stamp = hub.hlc.now().encode()
        citizen = Citizen(
            id=uuid7(),
            jmbg=checked.jmbg.value,
            birth_date=checked.jmbg.birth_date,
            sex=checked.jmbg.sex.value,
            registered_at=now,
            field_hlc=dict.fromkeys(DEMOGRAPHIC_FIELDS, stamp),
            hlc=stamp,
            updated_at=now,
            origin_site_id=None,
            stored_at=now,
            created_at=now,
            created_by=actor,
            **values,
        )
        session.add(citizen)
    else:
        before = {k: getattr(citizen, k) for k in values}
        write_fields(hub, citizen, values, now)

    registration = (
        None
        if before is None  # a new person has no registration yet
        else session.scalar(
            select(Registration)
            .where(Registration.citizen_id == citizen.id, Registration.withdrawn_at.is_(None))
            .order_by(Registration.created_at.desc())
            .limit(1)
            .with_for_update()
        )
    )
    payload = {**request.model_dump(mode="json"), "rules_version": checked.rules.version}
    created = registration is None
    if registration is None:
        registration = Registration(
            id=uuid7(),
            citizen_id=citizen.id,
            payload=payload,
            hlc=citizen.hlc,
            updated_at=now,
            withdrawn_at=None,
            origin_site_id=None,
            stored_at=now,
            created_at=now,
            created_by=actor,
        )
        session.add(registration)
    else:
        registration.payload = payload
        registration.hlc = citizen.hlc
        registration.updated_at = now
    audit(
        session,
        occurred_at=now,
        actor=actor,
        action="registration.create" if created else "registration.update",
        entity=registration,
        before=before,
        after=values,
        request_id=request_id,
    )
    if before is not None:
        _announce_citizen(session, citizen, now)
    return view(registration, citizen), created


def _announce_citizen(session: Session, citizen: Citizen, now: datetime) -> None:
    sites = sites_expecting(session, citizen.id, campaign_today(now))
    announce(
        session,
        [upsert_change(citizen, audience_site_id=site_id, hlc=citizen.hlc) for site_id in sites],
        now,
    )


def _load(session: Session, registration_id: uuid.UUID) -> tuple[Registration, Citizen]:
    row = session.execute(
        select(Registration, Citizen)
        .join(Citizen, Citizen.id == Registration.citizen_id)
        .where(Registration.id == registration_id)
    ).one_or_none()
    if row is None:
        raise UnknownRegistration(registration_id=str(registration_id))
    return row[0], row[1]


def get_registration(hub: Hub, registration_id: uuid.UUID) -> RegistrationView:
    """The registration; raises `UnknownRegistration`."""
    with hub.read_sessions() as session:
        return view(*_load(session, registration_id))


def withdraw(
    hub: Hub, registration_id: uuid.UUID, *, actor: str = "portal", request_id: str | None = None
) -> RegistrationView:
    """Withdraw a registration: the person no longer wants to be booked.

    Their appointments still to come are cancelled. Withdrawing twice
    changes nothing the second time. Raises `UnknownRegistration`.
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        registration, citizen = _load(session, registration_id)
        if registration.withdrawn_at is not None:
            return view(registration, citizen)
        registration.withdrawn_at = now
        registration.updated_at = now
        write_fields(hub, citizen, {"withdrawn_at": now}, now)
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="registration.withdraw",
            entity=registration,
            request_id=request_id,
        )
        changes = cancel_future(
            session, citizen.id, now=now, actor=actor, reason="registration withdrawn"
        )
        today = campaign_today(now)
        changes += [
            upsert_change(citizen, audience_site_id=site_id, hlc=citizen.hlc)
            for site_id in sites_expecting(session, citizen.id, today)
        ]
        session.flush()
        announce(session, changes, now)
        return view(registration, citizen)
