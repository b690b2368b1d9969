"""Small hand-made scheduling inputs.

Geography on one parallel (lat 44.0), where 0.25 degrees of longitude is about
20 km: places are named by their km offset, so reach (30 km by default) is
easy to read off a test.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from scheduler import (
    Citizen,
    CitizenTable,
    Config,
    Municipality,
    Problem,
    Product,
    Reason,
    Schedule,
    Session,
    Site,
    Stock,
    schedule,
)
from scheduler.check import assert_valid

START = date(2021, 3, 1)
KM_PER_DEGREE = 80.0  # at lat 44.0: 0.25 degrees ~ 20.0 km

PFIZER = Product(
    "pfizer", doses_per_vial=6, series_doses=2, min_interval_days=21, max_interval_days=42
)
ASTRAZENECA = Product(
    "astrazeneca", doses_per_vial=10, series_doses=2, min_interval_days=56, max_interval_days=84
)
SPUTNIK_1 = Product(
    "sputnik-1",
    doses_per_vial=5,
    series_doses=2,
    next_dose_product="sputnik-2",
    min_interval_days=21,
    max_interval_days=90,
)
SPUTNIK_2 = Product("sputnik-2", doses_per_vial=5, series_doses=2)
SINGLE = Product("janssen", doses_per_vial=1, series_doses=1)
VIAL5 = Product("vial5", doses_per_vial=5, series_doses=1)
QUICK = Product("quick", doses_per_vial=1, series_doses=2, min_interval_days=2, max_interval_days=3)
PRODUCTS = (PFIZER, ASTRAZENECA, SPUTNIK_1, SPUTNIK_2, SINGLE, VIAL5, QUICK)


def lon(km: float) -> float:
    return 20.0 + km / KM_PER_DEGREE


def municipality(name: str, km: float) -> Municipality:
    return Municipality(name, 44.0, lon(km))


def site(name: str, municipality_id: str, km: float) -> Site:
    return Site(name, municipality_id, 44.0, lon(km))


def day(offset: int) -> date:
    return START + timedelta(days=offset)


def session(
    site_id: str, offset: int, product: str, *, slots: int = 4, vaccinators: int = 1
) -> Session:
    opens = datetime.combine(day(offset), time(8))
    closes = opens + timedelta(minutes=15 * slots)
    return Session(site_id, day(offset), product, opens.time(), closes.time(), vaccinators)


def citizen(
    cid: str,
    *,
    products: tuple[str, ...] = ("pfizer",),
    rank: int = 3,
    municipality_id: str = "A",
    dose: int = 1,
    earliest: int | date = 0,
    latest: int | date | None = None,
    registered: int = 0,
    preferred_site: str | None = None,
    ineligible: str | None = None,
) -> Citizen:
    """A waiting citizen; day offsets are from START, `registered` in minutes."""
    return Citizen(
        id=cid,
        dose_number=dose,
        products=() if ineligible else products,
        earliest=day(earliest) if isinstance(earliest, int) else earliest,
        latest=day(latest) if isinstance(latest, int) else latest,
        municipality_id=municipality_id,
        rank=rank,
        registered=datetime(2021, 1, 1) + timedelta(minutes=registered),
        preferred_site=preferred_site,
        ineligible_reason=ineligible,
    )


def plenty_of_stock(sessions: Iterable[Session]) -> tuple[Stock, ...]:
    pairs = sorted({(x.site_id, x.product_id) for x in sessions})
    return tuple(Stock(s, p, 1000) for s, p in pairs)


def problem(
    citizens: Iterable[Citizen],
    sessions: Iterable[Session],
    *,
    municipalities: Iterable[Municipality] = (),
    sites: Iterable[Site] = (),
    stock: Iterable[Stock] | None = None,
    days: int = 7,
) -> Problem:
    """A problem over the default places (A at 0 km, B at 20 km, C at 200 km) plus extras."""
    munis = {
        m.id: m
        for m in (
            municipality("A", 0),
            municipality("B", 20),
            municipality("C", 200),
            *municipalities,
        )
    }
    site_list = {
        s.id: s for s in (site("XA", "A", 0), site("XB", "B", 20), site("XC", "C", 200), *sites)
    }
    sessions = tuple(sessions)
    return Problem(
        start=START,
        days=days,
        products=PRODUCTS,
        municipalities=tuple(munis.values()),
        sites=tuple(site_list.values()),
        sessions=sessions,
        stock=plenty_of_stock(sessions) if stock is None else tuple(stock),
        citizens=CitizenTable.from_citizens(citizens),
    )


def booked(result: Schedule) -> dict[tuple[str, int], tuple[str, int, str]]:
    """(citizen, dose) -> (site, day offset, product) of every appointment."""
    return {
        (a.citizen_id, a.dose_number): (a.site_id, (a.day - START).days, a.product_id)
        for a in result.appointments()
    }


def reasons(result: Schedule) -> dict[str, Reason]:
    """citizen -> reason of every citizen left unbooked."""
    return {u.citizen_id: u.reason for u in result.unbooked()}


def solve(p: Problem, config: Config | None = None) -> Schedule:
    """Schedule `p` and insist the independent checker finds nothing wrong."""
    result = schedule(p, config)
    assert_valid(result, config)
    return result
