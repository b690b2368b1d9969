"""Sites, places, sessions and stock of a horizon, read from the hub database.

Sessions. A site's slot grid comes from its opening hours and slot length;
each slot holds ``vaccinators`` people whatever the product (as
`central.services.appointments` counts a full slot). Places already taken by
standing appointments are subtracted slot by slot. The free places of a
site-day are then split between the products the site stores and holds
stock of, in proportion to their stock in doses (largest remainders, so the
parts add up exactly); a site with no stock at all splits them evenly, and
the scheduler reports its citizens as short of stock. Each product's share
becomes one `scheduler.Session` with a single slot of that many places: the
scheduler decides who goes to which site, day and product, and the hub then
seats them in the real free slots in time order (`SlotBook`), product after
product, so each product's vials are used in one block of the day.

Stock. Doses on hand at a site are its vials (movements into
``site:<id>`` minus movements out, by lot) times the product's doses per
vial, leaving out expired and recalled lots, less the doses held by standing
appointments from the start day on (each will use one).

Places. A municipality's centre is the first packaged place of that
municipality (`central.demo.places`), else the mean position of its sites.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import scheduler
from central.db import Lot, Recall, Site, StockMovement
from central.demo.places import load_places
from central.scheduling.demand import HOLDS_PLACE, ExistingAppointment
from central.services.sites import WEEKDAYS
from domain.data import RuleSet

_ONE_SLOT_OPENS = time(0, 0)
_ONE_SLOT_CLOSES = time(0, 1)


def _clock(text: str) -> int:
    hours, minutes = text.strip().split(":")
    return int(hours) * 60 + int(minutes)


def slot_grid(site: Site, day: date) -> list[time]:
    """Start times of the site's whole slots on `day`, in order."""
    starts: list[time] = []
    for opens, closes in site.opening_hours.get(WEEKDAYS[day.weekday()], []):
        first, last = _clock(opens), _clock(closes)
        minute = first
        while minute + site.slot_minutes <= last:
            starts.append(time(minute // 60, minute % 60))
            minute += site.slot_minutes
    return starts


@dataclass
class SlotBook:
    """Free places per slot of one site and day; seats bookings in time order.

    Places are only ever taken, so the slots before the first one with a free
    place stay full: seating resumes from there instead of searching again.
    """

    free: dict[time, int]
    _order: list[time] = field(init=False, repr=False)
    _next: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self._order = sorted(self.free)

    def total(self) -> int:
        return sum(self.free.values())

    def seat(self) -> time:
        """The earliest slot with a free place, taking the place."""
        order, free = self._order, self.free
        while self._next < len(order):
            slot = order[self._next]
            if free[slot] > 0:
                free[slot] -= 1
                return slot
            self._next += 1
        raise AssertionError("more bookings than free places: the sessions were built wrong")


@dataclass
class Capacity:
    """What the scheduler needs of places and stock, plus the hub's seating books."""

    sites: dict[uuid.UUID, Site]
    municipalities: tuple[scheduler.Municipality, ...]
    scheduler_sites: tuple[scheduler.Site, ...]
    sessions: tuple[scheduler.Session, ...]
    stock: tuple[scheduler.Stock, ...]
    books: dict[tuple[uuid.UUID, date], SlotBook] = field(default_factory=dict)
    place_bound: int = 0
    """Free places over the horizon: the capacity bound of the fill rate."""


def stock_doses(
    session: Session, rules: RuleSet, start: date, appointments: Iterable[ExistingAppointment]
) -> dict[tuple[uuid.UUID, str], int]:
    """Usable doses per (site, product) on `start` (see the module docstring)."""
    recalled = set(session.scalars(select(Recall.lot_id).where(Recall.lifted_at.is_(None))))
    lots = {
        lot_id: product
        for lot_id, product, expiry in session.execute(select(Lot.id, Lot.product_id, Lot.expiry))
        if expiry >= start and lot_id not in recalled
    }
    vials: dict[tuple[str, uuid.UUID], int] = defaultdict(int)
    inflow = (
        select(
            StockMovement.to_location, StockMovement.lot_id, func.sum(StockMovement.quantity_vials)
        )
        .where(StockMovement.to_location.like("site:%"))
        .group_by(StockMovement.to_location, StockMovement.lot_id)
    )
    outflow = (
        select(
            StockMovement.from_location,
            StockMovement.lot_id,
            func.sum(StockMovement.quantity_vials),
        )
        .where(StockMovement.from_location.like("site:%"))
        .group_by(StockMovement.from_location, StockMovement.lot_id)
    )
    for location, lot_id, quantity in session.execute(inflow):
        vials[(location, lot_id)] += int(quantity)
    for location, lot_id, quantity in session.execute(outflow):
        vials[(location, lot_id)] -= int(quantity)
    catalogue = rules.catalogue
    doses: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    for (location, lot_id), count in vials.items():
        product = lots.get(lot_id)
        if product is None or count <= 0 or catalogue.get(product) is None:
            continue
        site_id = uuid.UUID(location.removeprefix("site:"))
        doses[(site_id, product)] += count * catalogue.by_id(product).doses_per_vial
    for a in appointments:
        if a.status in HOLDS_PLACE and a.day >= start and (a.site_id, a.product_id) in doses:
            doses[(a.site_id, a.product_id)] -= 1
    return {key: max(0, value) for key, value in doses.items()}


def split_places(total: int, weights: dict[str, int]) -> dict[str, int]:
    """`total` split in proportion to `weights` by largest remainders.

    The parts add up to `total`; all-zero weights split evenly.
    """
    keys = sorted(weights)
    weight_sum = sum(weights.values())
    if weight_sum == 0:
        weights = dict.fromkeys(keys, 1)
        weight_sum = len(keys)
    exact = {k: total * weights[k] / weight_sum for k in keys}
    parts = {k: int(exact[k]) for k in keys}
    left = total - sum(parts.values())
    for k in sorted(keys, key=lambda k: (parts[k] - exact[k], k))[:left]:
        parts[k] += 1
    return parts


def municipality_centres(sites: Iterable[Site]) -> dict[str, tuple[float, float]]:
    """Centre of every municipality known from the places file or from sites."""
    centres: dict[str, tuple[float, float]] = {}
    for place in load_places():
        centres.setdefault(place.municipality, (place.lat, place.lng))
    positions: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for site in sites:
        positions[site.municipality].append((site.latitude, site.longitude))
    for name, points in positions.items():
        if name not in centres:
            centres[name] = (
                sum(p[0] for p in points) / len(points),
                sum(p[1] for p in points) / len(points),
            )
    return centres


def build_capacity(
    session: Session,
    rules: RuleSet,
    start: date,
    days: int,
    appointments: list[ExistingAppointment],
    home_municipalities: Iterable[str],
) -> Capacity:
    """Sessions, stock and places for the horizon `start` .. `start + days - 1`."""
    sites = {s.id: s for s in session.scalars(select(Site).where(Site.active.is_(True)))}
    centres = municipality_centres(sites.values())
    wanted = set(home_municipalities) | {s.municipality for s in sites.values()}
    municipalities = tuple(
        scheduler.Municipality(name, *centres[name]) for name in sorted(wanted) if name in centres
    )
    doses = stock_doses(session, rules, start, appointments)
    taken: dict[tuple[uuid.UUID, date, time], int] = defaultdict(int)
    for a in appointments:
        if a.status in HOLDS_PLACE and a.day >= start:
            taken[(a.site_id, a.day, a.slot_start)] += 1
    known = {p.id for p in rules.catalogue.products}
    sessions: list[scheduler.Session] = []
    books: dict[tuple[uuid.UUID, date], SlotBook] = {}
    bound = 0
    for site in sorted(sites.values(), key=lambda s: s.code):
        products = [p for p in site.products if p in known]
        if not products or site.vaccinators == 0:
            continue
        weights = {p: doses.get((site.id, p), 0) for p in products}
        stocked = {p: w for p, w in weights.items() if w > 0} or weights
        for offset in range(days):
            day = start + timedelta(days=offset)
            free = {
                slot: max(0, site.vaccinators - taken.get((site.id, day, slot), 0))
                for slot in slot_grid(site, day)
            }
            book = SlotBook(free)
            total = book.total()
            if total == 0:
                continue
            books[(site.id, day)] = book
            bound += total
            for product, places in split_places(total, stocked).items():
                if places > 0:
                    sessions.append(
                        scheduler.Session(
                            site_id=str(site.id),
                            day=day,
                            product_id=product,
                            opens=_ONE_SLOT_OPENS,
                            closes=_ONE_SLOT_CLOSES,
                            vaccinators=places,
                            slot_minutes=1,
                        )
                    )
    scheduler_sites = tuple(
        scheduler.Site(str(s.id), s.municipality, s.latitude, s.longitude)
        for s in sorted(sites.values(), key=lambda s: s.code)
    )
    stock = tuple(
        scheduler.Stock(str(site_id), product, count)
        for (site_id, product), count in sorted(
            doses.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])
        )
        if site_id in sites and count > 0
    )
    return Capacity(
        sites=sites,
        municipalities=municipalities,
        scheduler_sites=scheduler_sites,
        sessions=tuple(sessions),
        stock=stock,
        books=books,
        place_bound=bound,
    )
