"""The supply chain end to end: a real hub over HTTP and a real, enrolled site store.

Central staff order and take in vaccine by carton scan; an opening stock is
shipped by hand to the site, which receives it by scanning cartons. Citizens
register through the hub's public API and a real scheduler run books them
at the site on the next two days. The allocation is then proposed from
those appointments alone (checked against the rule, independently of the
code: per product, the day's doses over doses per vial rounded up per day,
plus the safety margin), approved and shipped, and the site receives it by
scanning. On each appointment day the nurse checks the booked people in and
records their doses by scanning vial labels, which opens vials; at the end
of day one she discards each opened vial with doses left. After a sync the
hub's usage and wastage reports match what happened at the desk, and every
stock position equals an independent sum over the movements. Finally, with
day two's vials still open, a recall reaches the site: the lot is refused at
scan, and the site lists the vials to quarantine and the people already
dosed from it. Both engines.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.local_db.engine import open_site_store
from app.local_db.models import LocalUser
from app.local_db.models.doses import InjectionSite
from app.local_db.sealing import SecretBox
from app.local_db.unit_of_work import session_scope
from app.services.check_in import check_in, find_by_appointment_code
from app.services.enrolment import enrol_site
from app.services.errors import LotRecalled
from app.services.recalls import recalled_lots
from app.services.receiving import CartonScan, pending_shipments, receive_shipment
from app.services.vaccinate import check_vial, record_dose
from app.services.vials import discard_vial
from app.sync.connect import connect
from central.db import Appointment, Site, StockMovement
from central.scheduling.run import run_schedule
from central.services.context import Hub
from central.settings import HubSettings
from central.stock.allocations import (
    adjust_allocation,
    approve_allocation,
    propose_allocation,
)
from central.stock.deliveries import carton_from_scan, receive_delivery
from central.stock.locations import WAREHOUSE, site_location
from central.stock.positions import positions
from central.stock.purchase_orders import OrderLine, create_purchase_order
from central.stock.recalls import recall_lot
from central.stock.reports import usage, wastage
from central.stock.shipments import ShipmentView, ship_allocation
from domain.clock import FixedClock, SystemClock
from domain.gs1 import Gs1Label, encode_gs1, parse_gs1
from domain.wire import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.app.sync.world import new_jmbg
from tests.e2e.conftest import RunningHub, start_hub

pytestmark = pytest.mark.e2e

BELGRADE = ZoneInfo("Europe/Belgrade")
SITE = "SC-01"
ACTOR = "staff:e2e"
MARGIN_PERCENT = 25
DAYS = 2
PEOPLE = 15
GS1 = {"comirnaty": "09520000100018", "spikevax": "09520000100117"}
PER_VIAL = {"comirnaty": 6, "spikevax": 10}
LOTS = {"comirnaty": "CMR-E2E-1", "spikevax": "SPX-E2E-1"}
OPENING_VIALS = {"comirnaty": 2, "spikevax": 1}
DELIVERED = {"comirnaty": 60, "spikevax": 30}
DISCARD_REASON = "expired after opening"
SURNAMES = (
    "Petrović", "Jovanović", "Nikolić", "Marković", "Đorđević", "Stojanović", "Ilić",
    "Stanković", "Pavlović", "Milošević", "Popović", "Kostić", "Živković", "Lukić", "Savić",
)  # fmt: skip


@dataclass
class OpenVial:
    """The vial of a product in use at the desk: its label and doses drawn so far."""

    lot: str
    serial: str
    drawn: int = 0


@dataclass
class Desk:
    """What happened at the site, counted by the test as the nurse worked."""

    opened: Counter[tuple[str, date]] = field(default_factory=Counter)
    drawn: Counter[tuple[str, date]] = field(default_factory=Counter)
    wasted_vials: Counter[str] = field(default_factory=Counter)
    wasted_doses: Counter[str] = field(default_factory=Counter)
    dosed_by_lot: dict[str, set[uuid.UUID]] = field(default_factory=lambda: defaultdict(set))
    live_serials_by_lot: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    serials: int = 0


def _label(product: str, lot: str, expiry: date, serial: str | None) -> Gs1Label:
    """What the scanner reads from a carton (no serial) or vial label (with one)."""
    return parse_gs1(encode_gs1(GS1[product], expiry, lot, serial))


def _expiry() -> date:
    return date(datetime.now(UTC).year + 1, 12, 31)


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The hub's CSCA and signer key files, for this process and the served hub."""
    found = {
        "IMUNO_HUB_CSCA_KEY": str(tmp_path / "keys" / "csca-key.pem"),
        "IMUNO_HUB_SIGNER_KEY": str(tmp_path / "keys" / "hub-signer-key.pem"),
    }
    for name, value in found.items():
        monkeypatch.setenv(name, value)
    return found


@pytest.fixture
def hub(hub_db_url: str, keys: dict[str, str], tmp_path: Path) -> Iterator[RunningHub]:
    with start_hub(hub_db_url, tmp_path / "hub", env=keys) as running:
        running.admin("cert", "init-csca")
        yield running


@pytest.fixture
def central(hub: RunningHub) -> Iterator[Hub]:
    """Central staff's own connection to the hub database (the hub migrated it)."""
    opened = Hub.open(HubSettings(database_url=hub.db_url), clock=SystemClock())
    yield opened
    opened.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Engine]:
    engine = open_site_store(tmp_path / "site.sqlite")
    yield engine
    engine.dispose()


def _register(hub: RunningHub, people: int) -> None:
    """Citizens register through the public API, as the portal sends them."""
    with hub.client(headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)}) as client:
        for n in range(people):
            answer = client.post(
                "/v1/registrations",
                json={
                    "jmbg": new_jmbg(n + 1),
                    "first_name": "Ljubica",
                    "last_name": SURNAMES[n % len(SURNAMES)],
                    "phone": "+381641234567",
                    "municipality": "Novi Sad",
                },
            )
            assert answer.status_code == 201, answer.text


def _receive_by_scanning(
    store: Engine, clock: FixedClock, actor: uuid.UUID, reference: str, expiry: date
) -> int:
    """Scan one carton per line of the pending notice, counting what the notice says."""
    (notice,) = [n for n in pending_shipments(store) if n.reference == reference]
    scans = [
        CartonScan(_label(line.product_code, line.lot_number, line.expiry_date, None), line.vials)
        for line in notice.lines
    ]
    result = receive_shipment(store, clock, actor, reference, scans)
    assert result.differences == ()
    return sum(line.vials for line in notice.lines)


def _ship(central: Hub, allocation_id: uuid.UUID) -> ShipmentView:
    approve_allocation(central, allocation_id, actor=ACTOR)
    (shipment,) = ship_allocation(central, allocation_id, actor=ACTOR)
    assert shipment.site_code == SITE
    assert shipment.reference is not None
    return shipment


def _day_at_desk(
    store: Engine,
    clock: FixedClock,
    nurse: uuid.UUID,
    day: date,
    booked: list[Appointment],
    desk: Desk,
    expiry: date,
    *,
    close_the_day: bool,
) -> None:
    """Check in and dose everyone booked on `day`.

    With `close_the_day` the nurse then discards each opened vial with doses
    left (it will not last until tomorrow); without, they are still in use.
    """
    clock.set(datetime.combine(day, time(8, 30), BELGRADE).astimezone(UTC))
    in_use: dict[str, OpenVial] = {}
    for appointment in sorted(booked, key=lambda a: (a.slot_start, a.id)):
        clock.advance(timedelta(minutes=5))
        found = find_by_appointment_code(store, clock, appointment.id)
        assert found.appointment is not None
        assert found.eligibility_error is None
        check_in(store, clock, nurse, appointment.id)
        product = appointment.product_id
        vial = in_use.get(product)
        if vial is None:
            desk.serials += 1
            vial = in_use[product] = OpenVial(LOTS[product], f"V{desk.serials:05d}")
            desk.opened[(product, day)] += 1
            desk.live_serials_by_lot[vial.lot].add(vial.serial)
        label = _label(product, vial.lot, expiry, vial.serial)
        checked = check_vial(store, clock, appointment.id, label)
        assert checked.ok, checked.refusals
        dose = record_dose(store, clock, nurse, appointment.id, label, InjectionSite.LEFT_DELTOID)
        vial.drawn += 1
        assert dose.vial_doses_left == PER_VIAL[product] - vial.drawn
        desk.drawn[(product, day)] += 1
        desk.dosed_by_lot[vial.lot].add(appointment.citizen_id)
        if dose.vial_doses_left == 0:
            del in_use[product]
    if not close_the_day:
        return
    clock.set(datetime.combine(day, time(14, 0), BELGRADE).astimezone(UTC))
    for product, vial in in_use.items():
        state = discard_vial(
            store, clock, nurse, _label(product, vial.lot, expiry, vial.serial), DISCARD_REASON
        )
        assert state.is_discarded
        desk.wasted_vials[product] += 1
        desk.wasted_doses[product] += PER_VIAL[product] - vial.drawn
        desk.live_serials_by_lot[vial.lot].discard(vial.serial)


def _movement_sums(central: Hub) -> dict[tuple[str, uuid.UUID], int]:
    """Every position summed the slow, obvious way: each movement, in Python."""
    totals: dict[tuple[str, uuid.UUID], int] = defaultdict(int)
    with central.read_sessions() as session:
        for m in session.scalars(sa.select(StockMovement)):
            totals[(m.to_location, m.lot_id)] += m.quantity_vials
            totals[(m.from_location, m.lot_id)] -= m.quantity_vials
    return {k: v for k, v in totals.items() if v != 0}


def test_order_to_syringe_with_a_recall(
    hub: RunningHub, central: Hub, store: Engine, tmp_path: Path
) -> None:
    expiry = _expiry()
    today = datetime.now(BELGRADE).date()
    start = today + timedelta(days=1)
    days = [start + timedelta(days=n) for n in range(DAYS)]

    # The site, its staff and the workstation's enrolment (a real CSR). Eight
    # places a day (one vaccinator, 10-minute slots), so the run fills both days.
    hub.admin(
        "sites", "add", SITE, "--name", "Dom zdravlja Liman", "--municipality", "Novi Sad",
        "--lat", "45.2450", "--lon", "19.8420", "--hours", "mon-sun 08:00-09:20",
        "--slot-minutes", "10", "--vaccinators", "1",
        "--product", "comirnaty", "--product", "spikevax",
    )  # fmt: skip
    for username, role in (("mara", "manager"), ("jelena", "nurse")):
        hub.admin(
            "site-users", "add", SITE, username, "--role", role,
            "--full-name", f"{username.title()} E2E", "--password-stdin", input="a password\n",
        )  # fmt: skip
    box = SecretBox.load_or_create(tmp_path / "site-secrets.key")
    clock = FixedClock(datetime.now(UTC))
    enrolled = enrol_site(store, box, hub.base_url, hub.enrol_code(SITE), SystemClock())
    assert enrolled.site_code == SITE
    link = connect(store, box, clock=clock)

    def sync() -> None:
        report = link.engine.run_round()
        assert not report.quarantined, report.quarantined

    try:
        sync()
        with session_scope(store, write=False) as session:
            staff = {u.username: u.id for u in session.scalars(sa.select(LocalUser))}
        manager, nurse = staff["mara"], staff["jelena"]

        # Order and delivery into the central warehouse, by carton scan.
        create_purchase_order(
            central,
            number="PO-E2E",
            lines=[OrderLine(p, n) for p, n in DELIVERED.items()],
            actor=ACTOR,
        )
        cartons = [
            carton_from_scan(encode_gs1(GS1[p], expiry, LOTS[p], None), vials)
            for p, vials in (("comirnaty", 30), ("comirnaty", 30), ("spikevax", 30))
        ]
        delivery = receive_delivery(central, cartons, purchase_order="PO-E2E", actor=ACTOR)
        lot_ids = {lot.lot_number: lot.lot_id for lot in delivery.lots}
        assert {(lot.lot_number, lot.vials) for lot in delivery.lots} == {
            (LOTS[p], n) for p, n in DELIVERED.items()
        }

        # Opening stock, by hand (nothing is booked yet, so nothing is proposed).
        opening = propose_allocation(central, start, DAYS, actor=ACTOR)
        assert opening.lines == ()
        for product, vials in OPENING_VIALS.items():
            adjust_allocation(
                central, opening.id, site_code=SITE, lot_number=LOTS[product], vials=vials,
                actor=ACTOR,
            )  # fmt: skip
        first = _ship(central, opening.id)
        sync()
        received = _receive_by_scanning(store, clock, manager, first.reference or "", expiry)
        assert received == sum(OPENING_VIALS.values())
        sync()

        # A real scheduler run books the registered people at the site.
        _register(hub, PEOPLE)
        run = run_schedule(central, start, DAYS, actor=ACTOR)
        assert run.appointments == PEOPLE, run.unbooked
        with central.read_sessions() as session:
            site_id = session.scalars(sa.select(Site.id).where(Site.code == SITE)).one()
            booked = list(session.scalars(sa.select(Appointment)))
        assert {a.site_id for a in booked} == {site_id}
        assert {a.day for a in booked} == set(days)

        # The allocation from those appointments, with no hand adjustment. The rule
        # (central.stock.allocation_plan): vials rounded up per day, since an opened
        # vial does not last into the next day, plus ceil(vials x margin) on top;
        # what the site holds already covers the first of it.
        proposal = propose_allocation(
            central, start, DAYS, actor=ACTOR, margin_percent=MARGIN_PERCENT
        )
        per_day: dict[str, Counter[date]] = defaultdict(Counter)
        for a in booked:
            per_day[a.product_id][a.day] += 1
        assert {n.product_id for n in proposal.needs} == set(per_day)
        planned: Counter[str] = Counter()
        for line in proposal.lines:
            assert (line.site_code, line.lot_number) == (SITE, LOTS[line.product_id])
            planned[line.product_id] += line.vials
        for need in proposal.needs:
            doses = per_day[need.product_id]
            vials = sum(math.ceil(d / PER_VIAL[need.product_id]) for d in doses.values())
            assert need.doses == sum(doses.values())
            assert need.vials_needed == vials + math.ceil(vials * MARGIN_PERCENT / 100)
            assert need.vials_held == min(OPENING_VIALS[need.product_id], need.vials_needed)
            assert need.vials_planned == need.vials_needed - need.vials_held
            assert need.vials_short == 0
            assert planned[need.product_id] == need.vials_planned
        assert proposal.vials > 0
        second = _ship(central, proposal.id)
        assert {(x.lot_number, x.vials) for x in second.lines} == {
            (LOTS[p], n) for p, n in planned.items() if n
        }

        # The site receives it by scanning cartons against the notice.
        sync()
        received = _receive_by_scanning(store, clock, manager, second.reference or "", expiry)
        assert received == proposal.vials

        # The appointment days at the desk.
        desk = Desk()
        for day in days:
            _day_at_desk(
                store, clock, nurse, day, [a for a in booked if a.day == day], desk, expiry,
                close_the_day=day != days[-1],
            )  # fmt: skip
        assert sum(desk.wasted_vials.values()) >= 1  # day one left doses in a vial
        assert desk.live_serials_by_lot[LOTS["comirnaty"]]  # day two's vial, still in use
        sync()

        with central.read_sessions() as session:
            used = usage(session, days[0], days[-1])
            wasted = wastage(session, days[0], days[-1])
        assert {
            (u.site_code, u.product_id, u.day, u.vials_opened, u.doses_in_opened_vials,
             u.doses_drawn, u.doses_recorded)
            for u in used
        } == {
            (SITE, p, d, n, n * PER_VIAL[p], desk.drawn[(p, d)], desk.drawn[(p, d)])
            for (p, d), n in desk.opened.items()
        }  # fmt: skip
        assert {(w.site_code, w.product_id, w.reason, w.vials, w.doses_lost) for w in wasted} == {
            (SITE, p, DISCARD_REASON, n, desk.wasted_doses[p]) for p, n in desk.wasted_vials.items()
        }

        # Positions: derived from movements, equal to an independent sum.
        with central.read_sessions() as session:
            found = dict(positions(session))
        assert found == _movement_sums(central)
        site_here = site_location(site_id)
        for product, lot in LOTS.items():
            shipped = OPENING_VIALS[product] + planned[product]
            opened = sum(n for (p, _), n in desk.opened.items() if p == product)
            assert found.get((WAREHOUSE, lot_ids[lot]), 0) == DELIVERED[product] - shipped
            assert found.get((site_here, lot_ids[lot]), 0) == shipped - opened

        # A recall reaches the site and is enforced there.
        recalled = LOTS["comirnaty"]
        recall_lot(central, recalled, reason="particles seen in vials", actor=ACTOR)
        sync()
        any_booking = next(a for a in booked if a.product_id == "comirnaty")
        refused = check_vial(
            store, clock, any_booking.id, _label("comirnaty", recalled, expiry, "V99999")
        )
        assert any(isinstance(r, LotRecalled) for r in refused.refusals), refused.refusals
        (listed,) = recalled_lots(store)
        assert listed.lot_number == recalled
        assert {v.serial for v in listed.vials_to_quarantine} == desk.live_serials_by_lot[recalled]
        assert {c.citizen_id for c in listed.citizens} == desk.dosed_by_lot[recalled]
        assert listed.vials_in_fridge == found.get((site_here, lot_ids[recalled]), 0)
    finally:
        link.close()
