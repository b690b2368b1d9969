"""Fixtures for the central database tests: migrated databases and row builders.

Every fixture here runs on both engines through `central_db_url` (SQLite, and
PostgreSQL when IMUNO_TEST_PG_URL is set).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from central.db import (
    Citizen,
    DoseRecord,
    Lot,
    Site,
    SiteUser,
    make_engine,
    session_factory,
    upgrade_to_head,
)
from domain.ids import uuid7

_Row = TypeVar("_Row")

T0 = datetime(2021, 3, 1, 8, 0, tzinfo=UTC)
"""A fixed instant for rows whose time does not matter to the test."""


@pytest.fixture
def migrated_url(central_db_url: str) -> str:
    """An empty database (SQLite or PostgreSQL) upgraded to the head revision."""
    upgrade_to_head(central_db_url)
    return central_db_url


@pytest.fixture
def db_engine(migrated_url: str) -> Iterator[Engine]:
    """An engine on a migrated database, disposed after the test."""
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_sessions(db_engine: Engine) -> sessionmaker[Session]:
    """The session factory the hub would use."""
    return session_factory(db_engine)


@dataclass
class Rows:
    """Builds valid rows with sensible defaults; override any field by keyword."""

    session: Session
    _serial: int = 0

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    def site(self, **fields: Any) -> Site:
        n = self._next()
        values: dict[str, Any] = {
            "code": f"S{n:04d}",
            "name": f"Dom zdravlja {n}",
            "municipality": "Novi Sad",
            "latitude": 45.2671,
            "longitude": 19.8335,
            "opening_hours": {"mon": [["08:00", "20:00"]]},
            "slot_minutes": 10,
            "vaccinators": 4,
            "products": ["comirnaty"],
            "updated_at": T0,
            "created_at": T0,
            "created_by": "staff:test",
        }
        return self._add(Site(**{**values, **fields}))

    def citizen(self, **fields: Any) -> Citizen:
        return self._add(Citizen(**{**citizen_row(self._next()), **fields}))

    def nurse(self, site: Site, **fields: Any) -> SiteUser:
        n = self._next()
        values: dict[str, Any] = {
            "site_id": site.id,
            "username": f"nurse{n}",
            "full_name": f"Sestra {n}",
            "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
            "role": "nurse",
            "created_at": T0,
            "created_by": "staff:test",
            "stored_at": T0,
            "updated_at": T0,
        }
        return self._add(SiteUser(**{**values, **fields}))

    def lot(self, **fields: Any) -> Lot:
        n = self._next()
        values: dict[str, Any] = {
            "gtin": "09520000000016",
            "lot_number": f"LOT{n}",
            "product_id": "comirnaty",
            "expiry": date(2021, 12, 31),
            "created_at": T0,
            "created_by": "staff:test",
        }
        return self._add(Lot(**{**values, **fields}))

    def dose(
        self, citizen: Citizen, site: Site, nurse: SiteUser, lot: Lot, **fields: Any
    ) -> DoseRecord:
        values: dict[str, Any] = {
            "id": uuid7(),
            "citizen_id": citizen.id,
            "site_id": site.id,
            "nurse_id": nurse.id,
            "product_id": "comirnaty",
            "lot_id": lot.id,
            "dose_number": 1,
            "administered_at": T0,
            "injection_site": "left_arm",
            "payload_hash": hashlib.sha256(b"dose").hexdigest(),
            "origin_site_id": site.id,
            "created_at": T0,
            "created_by": f"site-user:{nurse.id}",
            "stored_at": T0,
        }
        return self._add(DoseRecord(**{**values, **fields}))

    def _add(self, row: _Row) -> _Row:
        self.session.add(row)
        self.session.flush()
        return row


def citizen_row(n: int) -> dict[str, Any]:
    """Column values of a valid citizen, distinct for each `n` (JMBG included)."""
    return {
        "id": uuid.UUID(int=(0x7 << 76) | (0b10 << 62) | n),
        "jmbg": f"{n:013d}",
        "first_name_latin": "Đorđe",
        "last_name_latin": "Petrović",
        "first_name_cyrillic": "Ђорђе",
        "last_name_cyrillic": "Петровић",
        "birth_date": date(1950, 1, 1),
        "sex": "M",
        "phone": "+381601234567",
        "email": None,
        "municipality": "Novi Sad",
        "priority_group": "age-65-74",
        "conditions": [],
        "vaccine_preferences": ["any"],
        "registered_at": T0,
        "withdrawn_at": None,
        "field_hlc": {"phone": "0177ba3c5f10.0000.hub"},
        "hlc": "0177ba3c5f10.0000.hub",
        "updated_at": T0,
        "origin_site_id": None,
        "stored_at": T0,
        "created_at": T0,
        "created_by": "portal",
    }


@pytest.fixture
def rows(db_sessions: sessionmaker[Session]) -> Iterator[Rows]:
    """A `Rows` builder on an open session; the test commits when it needs to."""
    with db_sessions() as session:
        yield Rows(session)
