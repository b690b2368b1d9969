"""A hub and site stores in one process, for sync tests: real databases, no HTTP.

`World` migrates a central database, opens a `Hub` on it with a `FixedClock`,
adds sites (a hub row, a nurse known to the hub, a local SQLite store, a
`SyncEngine` over the in-process transport) and creates the records sites
sync: citizens and appointments born at the hub (announced in the change
log as the hub's services do), doses and events recorded at sites (with
their outbox rows, in one local transaction, as the site's use cases do).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as Time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.local_db.engine import open_site_store
from app.local_db.models.appointments import AppointmentEvent, AppointmentEventKind
from app.local_db.models.doses import DoseRecord, InjectionSite
from app.local_db.unit_of_work import session_scope
from app.sync.engine import SyncEngine
from app.sync.errors import RestoreDetected
from app.sync.outbox import record_change
from app.sync.wire_forms import appointment_event_payload, dose_payload
from central.db import Appointment, Citizen, Lot, SiteUser, upgrade_to_head
from central.db import AppointmentEvent as HubEvent
from central.services.context import Hub
from central.services.records import announce, upsert_change
from central.services.sites import NewSite, add_site, parse_opening_hours
from central.services.sync.errors import SequenceGap
from central.services.sync.in_process import InProcessTransport
from central.settings import HubSettings
from domain.clock import FixedClock
from domain.hlc import HybridClock
from domain.ids import uuid7
from domain.jmbg import Sex, make_jmbg, parse_jmbg

NOW = datetime(2021, 6, 1, 8, 0, tzinfo=UTC)
GTIN = "08901234567894"
LOT = "LOT42A"


def new_jmbg(n: int) -> str:
    birth = date(1950, 1, 1) + timedelta(days=n)
    for serial in range(10):
        try:
            return make_jmbg(birth, 71, serial, Sex.FEMALE)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def gap_to_restore(gap: SequenceGap) -> Exception:
    """What the HTTP transport raises for a 409 sequence gap."""
    return RestoreDetected(expected_seq=gap.expected, recovery_cursor=gap.recovery_cursor)


@dataclass
class SiteClient:
    """One site: its hub row, its nurse, its store and its sync engine."""

    code: str
    site_id: uuid.UUID
    nurse_id: uuid.UUID
    path: Path
    store: Engine
    engine: SyncEngine
    clock: FixedClock
    hlc: HybridClock
    world: World = field(repr=False)

    def record_dose(
        self,
        citizen_id: uuid.UUID,
        *,
        appointment_id: uuid.UUID | None = None,
        dose_number: int = 1,
    ) -> uuid.UUID:
        """A dose given here, with its outbox row, in one local transaction."""
        with session_scope(self.store) as session:
            dose = DoseRecord(
                id=uuid7(),
                origin_site_id=self.site_id,
                created_at=self.clock.now(),
                created_by=self.nurse_id,
                citizen_id=citizen_id,
                appointment_id=appointment_id,
                product_code="comirnaty",
                gtin=GTIN,
                lot_number=LOT,
                vial_id=None,
                dose_number=dose_number,
                administered_at=self.clock.now(),
                injection_site=InjectionSite.LEFT_DELTOID,
                vaccinator_name=f"Sestra {self.code}",
                notes=None,
                voids_dose_id=None,
            )
            session.add(dose)
            session.flush()
            record_change(session, "dose_record", dose.id, dose_payload(dose), now=self.clock.now())
            return dose.id

    def record_event(self, appointment_id: uuid.UUID, kind: AppointmentEventKind) -> uuid.UUID:
        """An appointment event recorded here, with its outbox row."""
        with session_scope(self.store) as session:
            event = AppointmentEvent(
                id=uuid7(),
                origin_site_id=self.site_id,
                created_at=self.clock.now(),
                created_by=self.nurse_id,
                appointment_id=appointment_id,
                kind=kind,
                occurred_at=self.clock.now(),
                hlc=self.hlc.now().encode(),
                reason=None,
                dose_record_id=None,
                details={},
            )
            session.add(event)
            session.flush()
            record_change(
                session,
                "appointment_event",
                event.id,
                appointment_event_payload(event),
                now=self.clock.now(),
            )
            return event.id

    def sync(self, **kwargs: Any) -> Any:
        return self.engine.run_round(**kwargs)

    def local_ids(self, model: Any) -> set[uuid.UUID]:
        with session_scope(self.store, write=False) as session:
            return set(session.scalars(sa.select(model.id)))

    def backup(self, target: Path) -> Path:
        """A copy of the store as it is now (the store must be idle)."""
        self.store.dispose()
        shutil.copy2(self.path, target)
        for suffix in ("-wal", "-shm"):
            extra = Path(f"{self.path}{suffix}")
            if extra.exists():
                shutil.copy2(extra, Path(f"{target}{suffix}"))
        return target

    def restart(self) -> None:
        """The site's process starts again on its store (after being killed): a new engine."""
        old = self.engine
        self.store.dispose()
        self.store = open_site_store(self.path)
        self.engine = SyncEngine(
            self.store,
            old.transport,
            clock=self.clock,
            site_id=self.site_id,
            page_size=old.page_size,
        )

    def restore(self, backup: Path) -> None:
        """Replace the store with `backup` (the laptop restored from an old copy)."""
        self.store.dispose()
        for suffix in ("", "-wal", "-shm"):
            dst = Path(f"{self.path}{suffix}")
            src = Path(f"{backup}{suffix}")
            if dst.exists():
                dst.unlink()
            if src.exists():
                shutil.copy2(src, dst)
        self.store = open_site_store(self.path)
        self.engine.engine = self.store


class World:
    """One hub (in process) and its sites."""

    def __init__(
        self,
        central_url: str,
        folder: Path,
        *,
        clock: FixedClock | None = None,
        site_template: Path | None = None,
        migrate: bool = True,
    ):
        if migrate:
            upgrade_to_head(central_url)
        self.site_template = site_template
        self.folder = folder
        self.clock = clock or FixedClock(NOW)
        self.hub = Hub.open(HubSettings(database_url=central_url), clock=self.clock)
        self.sites: dict[str, SiteClient] = {}
        self._citizens = 0
        with self.hub.sessions() as session, session.begin():
            lot = Lot(
                gtin=GTIN,
                lot_number=LOT,
                product_id="comirnaty",
                expiry=date(2022, 1, 1),
                created_at=NOW,
                created_by="test",
            )
            session.add(lot)

    def close(self) -> None:
        for site in self.sites.values():
            site.store.dispose()
        self.hub.close()

    def add_site(self, code: str, *, clock: FixedClock | None = None) -> SiteClient:
        site = add_site(
            self.hub,
            NewSite(
                code=code,
                name=f"Dom zdravlja {code}",
                municipality="Novi Sad",
                latitude=45.2671,
                longitude=19.8335,
                opening_hours=parse_opening_hours(["mon-sun 08:00-20:00"]),
                slot_minutes=10,
                vaccinators=2,
                products=["comirnaty"],
            ),
            actor="test",
        )
        nurse_id = uuid7()
        with self.hub.sessions() as session, session.begin():
            session.add(
                SiteUser(
                    id=nurse_id,
                    site_id=site.id,
                    username=f"nurse-{code}",
                    full_name=f"Sestra {code}",
                    password_hash="$argon2id$v=19$m=65536,t=3,p=4$x$y",
                    role="nurse",
                    active=True,
                    updated_at=NOW,
                    origin_site_id=None,
                    created_at=NOW,
                    created_by="test",
                    stored_at=NOW,
                )
            )
        site_clock = clock or FixedClock(self.clock.now())
        path = self.folder / f"{code}.sqlite"
        if self.site_template is not None:
            shutil.copy2(self.site_template, path)
        store = open_site_store(path)
        transport = InProcessTransport(self.hub, site.id, on_gap=gap_to_restore)
        engine = SyncEngine(store, transport, clock=site_clock, site_id=site.id, page_size=200)
        client = SiteClient(
            code, site.id, nurse_id, path, store, engine, site_clock,
            HybridClock(code, site_clock), self,
        )  # fmt: skip
        self.sites[code] = client
        return client

    def hub_citizen(self, **fields: Any) -> Citizen:
        """A citizen registered at the hub (not yet announced: booking announces it)."""
        self._citizens += 1
        jmbg = new_jmbg(self._citizens)
        stamp = f"{int(NOW.timestamp() * 1000):012x}.0000.hub"
        names = ("first_name_latin", "last_name_latin", "first_name_cyrillic", "last_name_cyrillic")
        values: dict[str, Any] = {
            "id": uuid7(),
            "jmbg": jmbg,
            "first_name_latin": "Ljubica",
            "last_name_latin": f"Petrović{self._citizens}",
            "first_name_cyrillic": "Љубица",
            "last_name_cyrillic": f"Петровић{self._citizens}",
            "birth_date": parse_jmbg(jmbg).birth_date,
            "sex": "F",
            "phone": "+381641234567",
            "email": None,
            "municipality": "Novi Sad",
            "priority_group": "general",
            "conditions": [],
            "vaccine_preferences": ["any"],
            "registered_at": NOW,
            "withdrawn_at": None,
            "field_hlc": dict.fromkeys((*names, "phone", "jmbg", "birth_date"), stamp),
            "hlc": stamp,
            "updated_at": NOW,
            "origin_site_id": None,
            "stored_at": NOW,
            "created_at": NOW,
            "created_by": "test",
        }
        values.update(fields)
        with self.hub.sessions() as session, session.begin():
            citizen = Citizen(**values)
            session.add(citizen)
        return citizen

    def book(self, citizen_id: uuid.UUID, site: SiteClient, day: date | None = None) -> uuid.UUID:
        """An appointment made at the hub, announced to the site with the citizen."""
        with self.hub.sessions() as session, session.begin():
            appointment = Appointment(
                id=uuid7(),
                citizen_id=citizen_id,
                site_id=site.site_id,
                day=day or NOW.date(),
                slot_start=Time(9, 0),
                product_id="comirnaty",
                dose_number=1,
                scheduler_run_id=None,
                replaces_appointment_id=None,
                origin_site_id=None,
                created_at=self.clock.now(),
                created_by="scheduler:test",
                stored_at=self.clock.now(),
            )
            session.add(appointment)
            session.flush()
            event = HubEvent(
                id=uuid7(),
                appointment_id=appointment.id,
                kind="scheduled",
                occurred_at=self.clock.now(),
                reason=None,
                new_appointment_id=None,
                payload_hash="0" * 64,
                origin_site_id=None,
                created_at=self.clock.now(),
                created_by="scheduler:test",
                stored_at=self.clock.now(),
            )
            session.add(event)
            citizen = session.get(Citizen, citizen_id)
            assert citizen is not None
            announce(
                session,
                [
                    upsert_change(citizen, audience_site_id=site.site_id, hlc=citizen.hlc),
                    upsert_change(appointment, audience_site_id=site.site_id),
                    upsert_change(event, audience_site_id=site.site_id),
                ],
                self.clock.now(),
            )
            return appointment.id

    def hub_count(self, model: Any, **where: Any) -> int:
        with self.hub.read_sessions() as session:
            query = sa.select(sa.func.count()).select_from(model)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            return int(session.scalar(query) or 0)
