"""The stock screens over a real site store: extra seed, the backend, a scanner.

Builds on `tests.app.ui.conftest.seed` (an enrolled site at 15 June 2021,
10:00 Belgrade, with lots FA4597 good, EX1234 expired, RC0001 recalled) and
adds what a site holds before receiving and counting:

- shipment ``SH-0001`` (not received): 30 vials of FA4597 and 20 of
  ``NEAR01``, which expires on 20 June 2021 (five days away: a warning);
- three registered vials of the recalled lot RC0001 (``RC-1`` opened with one
  dose drawn, ``RC-2`` and ``RC-3`` unopened) and Ana's dose 1 from that lot
  on 1 June, so the recall has vials to set aside and a person to contact.

`Stock` wires `StockPage` to a `StoreStockBackend` and a real `ScannerFilter`
installed on the application, so tests drive the page with key bursts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from PySide6.QtWidgets import QApplication

from app.local_db.models import (
    Citizen,
    DoseRecord,
    InjectionSite,
    Lot,
    Vial,
    VialEvent,
    VialEventKind,
)
from app.local_db.models.logistics import Shipment, ShipmentLine
from app.local_db.unit_of_work import session_scope
from app.services.vials import VialState, state_of
from app.ui.scanner_filter import ScannerFilter
from app.ui.stock_backend import StoreStockBackend
from app.ui.stock_view import StockPage
from app.ui.tasks import TaskManager
from domain.clock import FixedClock
from domain.data import RuleSet
from domain.gs1 import GS
from tests.app.ui.conftest import (
    BELGRADE,
    COMIRNATY_GTIN,
    GOOD_LOT,
    MANAGER_ID,
    NOW,
    RECALLED_LOT,
    SITE_ID,
    TODAY,
)

SHIPMENT = "SH-0001"
NEAR_LOT = "NEAR01"
NEAR_EXPIRY = date(2021, 6, 20)
GOOD_EXPIRY = date(2021, 9, 30)
RECALLED_EXPIRY = date(2021, 10, 31)
WAIT_MS = 10_000


def carton(lot: str, expiry: date, vials: int | None = None, gtin: str = COMIRNATY_GTIN) -> str:
    """A carton's DataMatrix text: GTIN, expiry, lot and (AI 30) how many vials it holds."""
    text = f"01{gtin}17{expiry:%y%m%d}10{lot}"
    return text if vials is None else f"{text}{GS}30{vials}"


def list_vials(engine: Any, rules: RuleSet) -> list[VialState]:
    """Every vial registered in the store, folded (what the vials service should list)."""
    with session_scope(engine, write=False) as session:
        vials = session.scalars(sa.select(Vial).order_by(Vial.lot_number, Vial.serial)).all()
        return [state_of(session, v, rules.catalogue.by_gtin(v.gtin)) for v in vials]


def seed_stock(engine: Any) -> dict[str, uuid.UUID]:
    """Add the shipment, the recalled lot's vials and Ana's dose from it (see the module)."""
    ids: dict[str, uuid.UUID] = {}
    with session_scope(engine) as session:
        session.add(
            Lot(
                id=uuid.uuid4(),
                created_at=NOW,
                product_code="comirnaty",
                gtin=COMIRNATY_GTIN,
                lot_number=NEAR_LOT,
                expiry_date=NEAR_EXPIRY,
                manufacturer="BioNTech Manufacturing GmbH",
            )
        )
        shipment = Shipment(
            id=uuid.uuid4(),
            created_at=NOW - timedelta(days=1),
            reference=SHIPMENT,
            site_id=SITE_ID,
            dispatched_at=NOW - timedelta(days=1),
            expected_on=TODAY,
        )
        session.add(shipment)
        session.flush()
        for lot, expiry, count in ((GOOD_LOT, GOOD_EXPIRY, 30), (NEAR_LOT, NEAR_EXPIRY, 20)):
            session.add(
                ShipmentLine(
                    id=uuid.uuid4(),
                    created_at=NOW - timedelta(days=1),
                    shipment_id=shipment.id,
                    product_code="comirnaty",
                    gtin=COMIRNATY_GTIN,
                    lot_number=lot,
                    expiry_date=expiry,
                    vial_count=count,
                )
            )
        received = NOW - timedelta(days=20)
        for serial in ("RC-1", "RC-2", "RC-3"):
            vial = Vial(
                origin_site_id=SITE_ID,
                created_at=received,
                created_by=MANAGER_ID,
                gtin=COMIRNATY_GTIN,
                lot_number=RECALLED_LOT,
                serial=serial,
                expiry_date=RECALLED_EXPIRY,
                product_code="comirnaty",
                doses_per_vial=6,
                receipt_id=None,
            )
            session.add(vial)
            session.flush()
            ids[serial] = vial.id
            events = [(VialEventKind.RECEIVED, received)]
            if serial == "RC-1":
                opened = NOW - timedelta(minutes=30)
                events += [(VialEventKind.OPENED, opened), (VialEventKind.DOSE_DRAWN, opened)]
            for kind, at in events:
                session.add(
                    VialEvent(
                        origin_site_id=SITE_ID,
                        created_at=at,
                        created_by=MANAGER_ID,
                        vial_id=vial.id,
                        kind=kind,
                        occurred_at=at,
                        dose_record_id=None,
                        reason=None,
                    )
                )
        ana_id = session.scalar(sa.select(Citizen.id).where(Citizen.given_name_latin == "Ana"))
        assert ana_id is not None
        given = datetime.combine(date(2021, 6, 1), time(9, 30), tzinfo=BELGRADE).astimezone(UTC)
        dose = DoseRecord(
            origin_site_id=SITE_ID,
            created_at=given,
            created_by=MANAGER_ID,
            citizen_id=ana_id,
            appointment_id=None,
            product_code="comirnaty",
            gtin=COMIRNATY_GTIN,
            lot_number=RECALLED_LOT,
            vial_id=ids["RC-1"],
            dose_number=1,
            administered_at=given,
            injection_site=InjectionSite.LEFT_DELTOID,
            vaccinator_name="Marija Sestra",
            notes=None,
            voids_dose_id=None,
        )
        session.add(dose)
        session.flush()
        ids["ana_dose"] = dose.id
        ids["ana"] = ana_id
    return ids


@dataclass
class Stock:
    """The stock page over the store, the clock it reads, and the scanner in front of it."""

    engine: Any
    clock: FixedClock
    backend: StoreStockBackend
    tasks: TaskManager
    page: StockPage
    scanner: ScannerFilter
    actor: list[uuid.UUID]

    def act_as(self, user_id: uuid.UUID) -> None:
        self.actor[0] = user_id

    def vials(self) -> Sequence[VialState]:
        return self.backend.site_vials()

    def close(self) -> None:
        app = QApplication.instance()
        if app is not None:
            self.scanner.uninstall(app)
        self.tasks.shutdown()


def open_stock(qtbot: Any, engine: Any, rules: RuleSet, user_id: uuid.UUID = MANAGER_ID) -> Stock:
    """Show the stock page over `engine`, loaded, with a scanner filter installed."""
    clock = FixedClock(NOW)
    actor = [user_id]
    backend = StoreStockBackend(
        engine, clock, lambda: actor[0], lambda: list_vials(engine, rules), rules
    )
    tasks = TaskManager()
    names = tasks.run_now(backend.product_names)
    page = StockPage(backend, tasks, names)
    page.resize(1100, 760)
    qtbot.addWidget(page)
    scanner = ScannerFilter(today=lambda: TODAY)
    scanner.scanned.connect(page.handle_scan)
    app = QApplication.instance()
    assert app is not None
    scanner.install(app)
    with (
        qtbot.waitSignal(page.vials.vials_shown, timeout=WAIT_MS),
        qtbot.waitSignal(page.receiving.shipments_shown, timeout=WAIT_MS),
        qtbot.waitSignal(page.recalls.recalls_shown, timeout=WAIT_MS),
    ):
        page.load()
    page.show()
    qtbot.waitExposed(page)
    page.activateWindow()
    page.setFocus()
    return Stock(engine, clock, backend, tasks, page, scanner, actor)
