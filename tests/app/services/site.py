"""A real, migrated site store seeded like an enrolled site after its first sync.

`ClinicSite` opens a SQLite store on disk, enrols it, adds a nurse and a
manager, stores the site's hours and vaccinators as the pull does, and
offers builders for what the hub would have sent (citizens, appointments,
lots, recalls, earlier doses) and for vial labels as scanners read them.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.local_db import models as m
from app.local_db.engine import open_site_store
from app.local_db.unit_of_work import session_scope
from app.sync.apply import (
    OPENING_HOURS_SETTING,
    SLOT_MINUTES_SETTING,
    TIMEZONE_SETTING,
    VACCINATORS_SETTING,
)
from domain.clock import FixedClock
from domain.data import RuleSet, load_rules
from domain.gs1 import Gs1Label, encode_gs1, parse_gs1
from domain.ids import uuid7
from domain.jmbg import Sex, make_jmbg

BELGRADE = ZoneInfo("Europe/Belgrade")
#: 10:00 in Belgrade on a Tuesday.
NOW = datetime(2021, 6, 1, 8, 0, tzinfo=UTC)
TODAY = date(2021, 6, 1)
SITE_ID = uuid.UUID("01890000-0000-7000-8000-000000000001")
NURSE = uuid.UUID("01890000-0000-7000-8000-0000000000aa")
MANAGER = uuid.UUID("01890000-0000-7000-8000-0000000000bb")
RULES = load_rules("2021.03")

COMIRNATY = "09520000100018"
SPUTNIK_1 = "09520000100315"
SPUTNIK_2 = "09520000100322"
BBIBP = "09520000100414"

_serials = itertools.count(1)
_people = itertools.count(1)


def new_jmbg(n: int, sex: Sex = Sex.FEMALE, born: date = date(1950, 1, 1)) -> str:
    birth = born + timedelta(days=n % 9000)
    for serial in range(n % 400, 500):
        try:
            return make_jmbg(birth, 71, serial, sex)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def label(
    gtin: str = COMIRNATY,
    lot: str = "LOT1",
    expiry: date = date(2021, 12, 31),
    serial: str | None = None,
) -> Gs1Label:
    """A vial's DataMatrix as the scanner hands it over (with GS separators)."""
    return parse_gs1(encode_gs1(gtin, expiry, lot, serial or f"S{next(_serials):06d}"))


@dataclass
class ClinicSite:
    """An enrolled site store and builders for its data."""

    engine: Engine
    clock: FixedClock = field(default_factory=lambda: FixedClock(NOW))
    rules: RuleSet = RULES

    @classmethod
    def open(cls, path: Path, *, vaccinators: int = 2) -> ClinicSite:
        engine = open_site_store(path)
        site = cls(engine)
        with session_scope(engine) as session:
            session.add(
                m.SiteIdentity(
                    site_id=SITE_ID,
                    site_code="RS-BG-042",
                    site_name="Dom zdravlja Vračar",
                    municipality_code="70092",
                    hub_url="https://hub.example.test",
                    credential_id="cred-042",
                    credential_secret_sealed=b"\x01sealed",
                    enrolled_at=NOW,
                )
            )
            for user_id, username, name, role in (
                (NURSE, "ana", "Ana Petrović", m.Role.NURSE),
                (MANAGER, "marko", "Marko Ilić", m.Role.MANAGER),
            ):
                session.add(
                    m.LocalUser(
                        id=user_id,
                        username=username,
                        full_name=name,
                        role=role,
                        password_hash="$argon2id$v=19$m=65536,t=3,p=4$x$y",
                        active=True,
                        failed_logins=0,
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
            hours = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
            for key, value in (
                (TIMEZONE_SETTING, "Europe/Belgrade"),
                (SLOT_MINUTES_SETTING, 10),
                (OPENING_HOURS_SETTING, hours),
                (VACCINATORS_SETTING, vaccinators),
            ):
                session.add(m.Setting(key=key, value=value, updated_at=NOW, updated_by=None))
        return site

    def citizen(self, **overrides: Any) -> uuid.UUID:
        """A citizen pulled from the hub (health worker, born 1960 unless told)."""
        n = next(_people)
        values: dict[str, Any] = {
            "id": uuid7(),
            "jmbg": new_jmbg(n, born=date(1960, 1, 1)),
            "given_name_latin": "Milica",
            "family_name_latin": f"Jovanović{n}",
            "given_name_cyrillic": "Милица",
            "family_name_cyrillic": f"Јовановић{n}",
            "birth_date": date(1960, 1, 1) + timedelta(days=n % 9000),
            "sex": Sex.FEMALE,
            "municipality_code": "70092",
            "priority_group": "health-workers",
            "conditions": [],
            "preferences": ["any"],
            "field_hlc": {},
            "hlc": "0177ba3c5f10.0000.hub",
            "origin_site_id": None,
            "created_at": NOW - timedelta(days=30),
        }
        values.update(overrides)
        with session_scope(self.engine) as session:
            session.add(m.Citizen(**values))
        return uuid.UUID(str(values["id"]))

    def appointment(
        self,
        citizen_id: uuid.UUID,
        *,
        product: str = "comirnaty",
        dose_number: int = 1,
        day: date = TODAY,
        at: time = time(10, 0),
        events: tuple[m.AppointmentEventKind, ...] = (),
    ) -> uuid.UUID:
        """An appointment the hub booked here, with events the hub (or site) recorded."""
        appointment_id = uuid7()
        with session_scope(self.engine) as session:
            session.add(
                m.Appointment(
                    id=appointment_id,
                    citizen_id=citizen_id,
                    site_id=SITE_ID,
                    day=day,
                    slot_start=datetime.combine(day, at, tzinfo=BELGRADE),
                    slot_minutes=10,
                    product_code=product,
                    dose_number=dose_number,
                    origin_site_id=None,
                    created_at=NOW - timedelta(days=3),
                )
            )
            session.flush()
            for i, kind in enumerate(events):
                occurred = NOW - timedelta(hours=2) + timedelta(minutes=i)
                session.add(
                    m.AppointmentEvent(
                        appointment_id=appointment_id,
                        kind=kind,
                        occurred_at=occurred,
                        hlc=f"{int(occurred.timestamp() * 1000):012x}.{i:04x}.hub",
                        origin_site_id=None,
                        created_at=occurred,
                        details={},
                    )
                )
        return appointment_id

    def past_dose(
        self,
        citizen_id: uuid.UUID,
        *,
        product: str = "comirnaty",
        dose_number: int = 1,
        given: datetime,
        gtin: str = COMIRNATY,
        origin: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """A dose given earlier (here, or at another site when `origin` says so)."""
        dose_id = uuid7()
        with session_scope(self.engine) as session:
            session.add(
                m.DoseRecord(
                    id=dose_id,
                    citizen_id=citizen_id,
                    product_code=product,
                    gtin=gtin,
                    lot_number="OLD1",
                    dose_number=dose_number,
                    administered_at=given,
                    injection_site=m.InjectionSite.LEFT_DELTOID,
                    vaccinator_name="Jelena Marić",
                    origin_site_id=origin or SITE_ID,
                    created_at=given,
                    created_by=NURSE,
                )
            )
        return dose_id

    def recall(self, gtin: str, lot: str, *, lifted: bool = False) -> None:
        with session_scope(self.engine) as session:
            session.add(
                m.Recall(
                    id=uuid7(),
                    gtin=gtin,
                    lot_number=lot,
                    product_code="comirnaty",
                    reason="temperature excursion at the warehouse",
                    recalled_at=NOW - timedelta(days=1),
                    lifted_at=NOW if lifted else None,
                    created_at=NOW - timedelta(days=1),
                )
            )

    def lot(self, gtin: str, lot: str, expiry: date) -> None:
        with session_scope(self.engine) as session:
            session.add(
                m.Lot(
                    id=uuid7(),
                    product_code="comirnaty",
                    gtin=gtin,
                    lot_number=lot,
                    expiry_date=expiry,
                    manufacturer="BioNTech",
                    created_at=NOW - timedelta(days=10),
                )
            )

    def outbox(self) -> list[tuple[str, dict[str, Any]]]:
        """(kind, payload) of every waiting outbox row, in order."""
        with session_scope(self.engine, write=False) as session:
            rows = session.query(m.OutboxEntry).order_by(m.OutboxEntry.seq).all()
            return [(row.table_name, dict(row.payload)) for row in rows]


def seed_day(clinic: ClinicSite, count: int, day: date = TODAY) -> list[uuid.UUID]:
    """`count` citizens booked on `day` in 10-minute slots from 08:00, inserted in bulk.

    Every fifth has a ``scheduled`` event from the hub; the rest have none.
    Returns the appointment ids in slot order.
    """
    citizens: list[dict[str, Any]] = []
    appointments: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    start = datetime.combine(day, time(8, 0), tzinfo=BELGRADE)
    created = NOW - timedelta(days=3)
    for i in range(count):
        n = next(_people)
        citizen_id, appointment_id = uuid7(), uuid7()
        citizens.append(
            {
                "id": citizen_id,
                "jmbg": new_jmbg(n, born=date(1940, 1, 1)),
                "given_name_latin": "Petar",
                "family_name_latin": f"Marković{n}",
                "given_name_cyrillic": "Петар",
                "family_name_cyrillic": f"Марковић{n}",
                "birth_date": date(1940, 1, 1) + timedelta(days=n % 9000),
                "sex": Sex.MALE,
                "municipality_code": "70092",
                "priority_group": "health-workers",
                "conditions": [],
                "preferences": ["any"],
                "field_hlc": {},
                "hlc": "0177ba3c5f10.0000.hub",
                "origin_site_id": None,
                "walk_in": False,
                "created_at": created,
            }
        )
        appointments.append(
            {
                "id": appointment_id,
                "citizen_id": citizen_id,
                "site_id": SITE_ID,
                "day": day,
                "slot_start": start + timedelta(minutes=10 * (i // 4)),
                "slot_minutes": 10,
                "product_code": "comirnaty",
                "dose_number": 1,
                "origin_site_id": None,
                "created_at": created,
            }
        )
        if i % 5 == 0:
            events.append(
                {
                    "id": uuid7(),
                    "appointment_id": appointment_id,
                    "kind": m.AppointmentEventKind.SCHEDULED,
                    "occurred_at": created,
                    "hlc": f"{int(created.timestamp() * 1000):012x}.0000.hub",
                    "origin_site_id": None,
                    "details": {},
                    "created_at": created,
                }
            )
    with session_scope(clinic.engine) as session:
        session.execute(sa.insert(m.Citizen), citizens)
        session.execute(sa.insert(m.Appointment), appointments)
        if events:
            session.execute(sa.insert(m.AppointmentEvent), events)
    return [row["id"] for row in appointments]
