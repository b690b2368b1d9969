"""A real site store seeded with one morning's work, and the client window over it.

The store is the production one (`open_site_store`, migrations, triggers) in
the test's temporary folder. Seeded: an enrolled site (S0001), a nurse and a
manager, opening hours (walk-ins need capacity), lots of Comirnaty (good,
expired, recalled) and people booked today:

==========  ==================================================================
``ANA``      dose 1 of Comirnaty at 10:00: the normal flow.
``BOJAN``    dose 1 of Comirnaty at 10:10, whose dose 1 another site already
             recorded (pulled from the hub): a second attempt at the same dose.
``CVETA``    dose 1 of Spikevax at 10:20: a Comirnaty vial is the wrong product.
``DUSAN``    dose 1 of Comirnaty tomorrow.
==========  ==================================================================

The clock is fixed at 15 June 2021, 10:00 in Belgrade (rules 2021.06, the
general population eligible from that day). Prompts, the save dialog and the
sound are replaced by recorders (`Recorder`), so no modal dialog ever opens.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.bootstrap import SiteClient
from app.local_db.engine import open_site_store
from app.local_db.models import (
    Appointment,
    Citizen,
    DoseRecord,
    InjectionSite,
    LocalUser,
    Lot,
    Recall,
    Role,
    Setting,
    SiteIdentity,
)
from app.local_db.sealing import SecretBox
from app.local_db.unit_of_work import session_scope
from app.services.accounts import SignedIn
from app.sync.apply import OPENING_HOURS_SETTING, SLOT_MINUTES_SETTING, VACCINATORS_SETTING
from app.sync.identity import CREDENTIAL_PURPOSE
from app.ui.text import DEFAULT_LANGUAGE, set_language
from domain.clock import FixedClock
from domain.data import rules_in_force
from domain.gs1 import encode_gs1
from domain.jmbg import Sex, make_jmbg
from domain.script import latin_to_cyrillic
from domain.site_accounts import SiteRole

BELGRADE = ZoneInfo("Europe/Belgrade")
TODAY = date(2021, 6, 15)
NOW = datetime.combine(TODAY, time(10, 0), tzinfo=BELGRADE).astimezone(UTC)
SITE_ID = uuid.UUID("01900000-0000-7000-8000-000000000001")
OTHER_SITE_ID = uuid.UUID("01900000-0000-7000-8000-000000000002")
NURSE_ID = uuid.UUID("01900000-0000-7000-8000-0000000000a1")
MANAGER_ID = uuid.UUID("01900000-0000-7000-8000-0000000000a2")

COMIRNATY_GTIN = "09520000100018"
GOOD_LOT = "FA4597"
EXPIRED_LOT = "EX1234"
RECALLED_LOT = "RC0001"


def jmbg(birth: date, serial: int, sex: Sex) -> str:
    """A valid JMBG (skipping serials the registry never issues)."""
    while True:
        try:
            return make_jmbg(birth, 71, serial, sex)
        except ValueError:
            serial += 1


ANA = jmbg(date(1960, 3, 2), 10, Sex.FEMALE)
BOJAN = jmbg(date(1975, 7, 21), 20, Sex.MALE)
CVETA = jmbg(date(1982, 1, 30), 30, Sex.FEMALE)
DUSAN = jmbg(date(1990, 11, 5), 40, Sex.MALE)
#: A ten-year-old nobody booked: too young for every vaccine in 2021.
CHILD = jmbg(date(2011, 4, 4), 50, Sex.MALE)


def vial(lot: str, expiry: date, serial: str, gtin: str = COMIRNATY_GTIN) -> str:
    """The text a scanner sends for a vial's GS1 DataMatrix (with the GS separator)."""
    return encode_gs1(gtin, expiry, lot, serial)


@dataclass
class Recorder:
    """Stands in for the dialogs and the speaker, and remembers what was asked."""

    save_path: Path | None = None
    void_reason: str | None = "Wrong person selected at the desk"
    walk_in: Any = None
    sounds: list[bool] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    def choose_path(self, _parent: object, suggested: str) -> Path | None:
        self.asked.append(f"path:{suggested}")
        return self.save_path

    def reason(self, _parent: object) -> str | None:
        self.asked.append("reason")
        return self.void_reason

    def walk_in_form(self, _parent: object, *args: object) -> Any:
        self.asked.append("walk_in")
        factory = self.walk_in
        return factory(*args) if callable(factory) else factory

    def sound(self, ok: bool) -> None:
        self.sounds.append(ok)


def _citizen(number: str, given: str, family: str, born: date, sex: Sex) -> Citizen:
    return Citizen(
        id=uuid.uuid4(),
        origin_site_id=None,
        created_at=NOW,
        created_by=None,
        jmbg=number,
        foreign_document=None,
        given_name_latin=given,
        family_name_latin=family,
        given_name_cyrillic=latin_to_cyrillic(given),
        family_name_cyrillic=latin_to_cyrillic(family),
        birth_date=born,
        sex=sex,
        municipality_code="80284",
        priority_group="general",
        conditions=[],
        preferences=["any"],
        field_hlc={},
        hlc="0",
        walk_in=False,
    )


def _appointment(citizen: Citizen, day: date, hhmm: str, product: str, dose: int) -> Appointment:
    start = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=BELGRADE)
    return Appointment(
        id=uuid.uuid4(),
        origin_site_id=None,
        created_at=NOW,
        created_by=None,
        citizen_id=citizen.id,
        site_id=SITE_ID,
        day=day,
        slot_start=start,
        slot_minutes=10,
        product_code=product,
        dose_number=dose,
    )


def seed(path: Path, key_path: Path) -> tuple[Any, SecretBox, dict[str, Any]]:
    """Create and fill the store; returns (engine, box, ids by name)."""
    engine = open_site_store(path)
    box = SecretBox.load_or_create(key_path)
    people = {
        "ana": _citizen(ANA, "Ana", "Petrović", date(1960, 3, 2), Sex.FEMALE),
        "bojan": _citizen(BOJAN, "Bojan", "Jovanović", date(1975, 7, 21), Sex.MALE),
        "cveta": _citizen(CVETA, "Cveta", "Nikolić", date(1982, 1, 30), Sex.FEMALE),
        "dusan": _citizen(DUSAN, "Dušan", "Đorđević", date(1990, 11, 5), Sex.MALE),
    }
    appointments = {
        "ana": _appointment(people["ana"], TODAY, "10:00", "comirnaty", 1),
        "bojan": _appointment(people["bojan"], TODAY, "10:10", "comirnaty", 1),
        "cveta": _appointment(people["cveta"], TODAY, "10:20", "spikevax", 1),
        "dusan": _appointment(people["dusan"], TODAY + timedelta(days=1), "09:00", "comirnaty", 1),
    }
    with session_scope(engine) as session:
        session.add(
            SiteIdentity(
                id=1,
                site_id=SITE_ID,
                site_code="S0001",
                site_name="Dom zdravlja Novi Sad",
                municipality_code="80284",
                hub_url="http://127.0.0.1:9",
                credential_id="test",
                credential_secret_sealed=box.seal(
                    b"not-a-real-credential", purpose=CREDENTIAL_PURPOSE
                ),
                enrolled_at=NOW - timedelta(days=30),
            )
        )
        for user_id, username, name, role in (
            (NURSE_ID, "nurse", "Marija Sestra", Role.NURSE),
            (MANAGER_ID, "manager", "Jelena Upravnik", Role.MANAGER),
        ):
            session.add(
                LocalUser(
                    id=user_id,
                    username=username,
                    full_name=name,
                    role=role,
                    password_hash="$argon2id$unused-in-these-tests",
                    active=True,
                    failed_logins=0,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        for key, value in (
            (OPENING_HOURS_SETTING, {d: [["08:00", "20:00"]] for d in
                                     ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}),
            (SLOT_MINUTES_SETTING, 10),
            (VACCINATORS_SETTING, 2),
        ):  # fmt: skip
            session.add(Setting(key=key, value=value, updated_at=NOW, updated_by=None))
        session.add_all(people.values())
        session.flush()
        session.add_all(appointments.values())
        for lot, expiry in ((GOOD_LOT, date(2021, 9, 30)), (EXPIRED_LOT, date(2021, 5, 31)),
                            (RECALLED_LOT, date(2021, 10, 31))):  # fmt: skip
            session.add(
                Lot(
                    id=uuid.uuid4(),
                    created_at=NOW,
                    product_code="comirnaty",
                    gtin=COMIRNATY_GTIN,
                    lot_number=lot,
                    expiry_date=expiry,
                    manufacturer="BioNTech Manufacturing GmbH",
                )
            )
        session.add(
            Recall(
                id=uuid.uuid4(),
                created_at=NOW,
                gtin=COMIRNATY_GTIN,
                lot_number=RECALLED_LOT,
                product_code="comirnaty",
                reason="cold chain breach at the distributor",
                recalled_at=NOW - timedelta(days=2),
                lifted_at=None,
            )
        )
        # Bojan's dose 1, given at another site last month and pulled from the hub.
        session.add(
            DoseRecord(
                id=uuid.uuid4(),
                origin_site_id=OTHER_SITE_ID,
                created_at=NOW - timedelta(days=30),
                created_by=None,
                citizen_id=people["bojan"].id,
                appointment_id=None,
                product_code="comirnaty",
                gtin=COMIRNATY_GTIN,
                lot_number=GOOD_LOT,
                vial_id=None,
                dose_number=1,
                administered_at=NOW - timedelta(days=30),
                injection_site=InjectionSite.LEFT_DELTOID,
                vaccinator_name="Druga Sestra",
                notes=None,
                voids_dose_id=None,
            )
        )
    ids = {
        "people": {name: c.id for name, c in people.items()},
        "appointments": {name: a.id for name, a in appointments.items()},
    }
    return engine, box, ids


def signed_in(user_id: uuid.UUID = NURSE_ID) -> SignedIn:
    manager = user_id == MANAGER_ID
    return SignedIn(
        id=user_id,
        username="manager" if manager else "nurse",
        full_name="Jelena Upravnik" if manager else "Marija Sestra",
        role=SiteRole.MANAGER if manager else SiteRole.NURSE,
        logged_in_at=NOW,
    )


@pytest.fixture
def artifacts_dir() -> Path:
    """Where screenshots go: $IMUNO_ARTIFACTS_DIR or ./artifacts, then screenshots/."""
    root = Path(os.environ.get("IMUNO_ARTIFACTS_DIR", "artifacts"))
    folder = root / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Any, SecretBox, dict[str, Any]]]:
    engine, box, ids = seed(tmp_path / "site.sqlite", tmp_path / "site-secrets.key")
    yield engine, box, ids
    engine.dispose()


@pytest.fixture
def recorder(tmp_path: Path) -> Recorder:
    return Recorder(save_path=tmp_path / "roster.pdf")


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts (and leaves the process) in the default language."""
    set_language(DEFAULT_LANGUAGE)
    yield
    set_language(DEFAULT_LANGUAGE)


ClientFactory = Callable[..., SiteClient]


@pytest.fixture
def make_client(
    qtbot: Any, store: tuple[Any, SecretBox, dict[str, Any]], recorder: Recorder
) -> Iterator[ClientFactory]:
    """Start the client window on the seeded store, offline (no sync worker), as a user."""
    engine, box, _ids = store
    clients: list[SiteClient] = []

    def make(user_id: uuid.UUID = NURSE_ID, **options: Any) -> SiteClient:
        options.setdefault("sync", False)
        client = SiteClient(
            engine,
            box,
            signed_in(user_id),
            clock=FixedClock(NOW),
            rules=rules_in_force(TODAY),
            path_chooser=recorder.choose_path,
            reason_prompt=recorder.reason,
            walk_in_prompt=recorder.walk_in_form,
            sound=recorder.sound,
            **options,
        )
        clients.append(client)
        qtbot.addWidget(client.window)
        with qtbot.waitSignal(client.window.roster_shown, timeout=10_000):
            client.start()
        qtbot.waitExposed(client.window)
        client.window.activateWindow()
        return client

    yield make
    for client in clients:
        client.close()
