"""The input turned into dense arrays the solver indexes by position.

Products, sites, municipalities and sessions are numbered in input order; days
are offsets from the horizon's start. Nothing here decides anything: it only
translates ids to positions and precomputes distances, reach and stock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from scheduler.config import Config
from scheduler.model import Problem

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> F64:
    """Great-circle distance in km (broadcasts like numpy)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


@dataclass(frozen=True, eq=False)
class Prepared:
    """Positions and precomputed tables for one `Problem` and `Config`."""

    problem: Problem
    config: Config
    n_days: int
    # products
    doses_per_vial: I64
    series_doses: I64
    follow_up_product: I32
    min_interval: I64
    max_interval: I64
    # sessions
    session_site: I32
    session_day: I32
    session_product: I32
    session_capacity: I64
    session_vaccinators: I64
    session_slots: I64
    session_at: I32  # [site, day, product] -> session position or -1
    # stock: cumulative doses arrived by the end of each day, [site, product, day]
    stock_by_day: I64
    # geography
    in_reach: Bool  # [municipality, site]
    closeness: I64  # [municipality, site] closeness units
    # citizen table vocabularies mapped to positions
    citizen_municipality: I32  # table municipality code -> municipality position
    citizen_site: I32  # table site code -> site position
    product_lists: tuple[tuple[int, ...], ...]  # table list code -> product positions

    @property
    def n_sites(self) -> int:
        return len(self.problem.sites)

    @property
    def n_products(self) -> int:
        return len(self.problem.products)


def prepare(problem: Problem, config: Config) -> Prepared:
    """Index `problem` for the solver."""
    product_pos = {p.id: i for i, p in enumerate(problem.products)}
    site_pos = {s.id: i for i, s in enumerate(problem.sites)}
    muni_pos = {m.id: i for i, m in enumerate(problem.municipalities)}
    n_p, n_s, n_d = len(product_pos), len(site_pos), problem.days

    sessions = problem.sessions
    session_site = np.array([site_pos[x.site_id] for x in sessions], dtype=np.int32)
    session_day = np.array([(x.day - problem.start).days for x in sessions], dtype=np.int32)
    session_product = np.array([product_pos[x.product_id] for x in sessions], dtype=np.int32)
    session_at = np.full((n_s, n_d, n_p), -1, dtype=np.int32)
    session_at[session_site, session_day, session_product] = np.arange(
        len(sessions), dtype=np.int32
    )

    arrivals = np.zeros((n_s, n_p, n_d), dtype=np.int64)
    for st in problem.stock:
        day = 0 if st.available_from is None else (st.available_from - problem.start).days
        if day < n_d:  # stock arriving after the horizon cannot be booked in it
            arrivals[site_pos[st.site_id], product_pos[st.product_id], max(day, 0)] += st.doses

    site_lat = np.array([s.lat for s in problem.sites], dtype=np.float64)
    site_lon = np.array([s.lon for s in problem.sites], dtype=np.float64)
    site_muni = np.array([muni_pos[s.municipality_id] for s in problem.sites], dtype=np.int32)
    muni_lat = np.array([m.lat for m in problem.municipalities], dtype=np.float64)
    muni_lon = np.array([m.lon for m in problem.municipalities], dtype=np.float64)
    km = haversine_km(muni_lat[:, None], muni_lon[:, None], site_lat[None, :], site_lon[None, :])
    same = site_muni[None, :] == np.arange(len(muni_lat), dtype=np.int32)[:, None]
    in_reach = same | (km <= config.reach_km)
    closeness = np.rint(km / config.km_per_unit).astype(np.int64)

    table = problem.citizens
    return Prepared(
        problem=problem,
        config=config,
        n_days=n_d,
        doses_per_vial=np.array([p.doses_per_vial for p in problem.products], dtype=np.int64),
        series_doses=np.array([p.series_doses for p in problem.products], dtype=np.int64),
        follow_up_product=np.array(
            [product_pos[p.follow_up_product] for p in problem.products], dtype=np.int32
        ),
        min_interval=np.array([p.min_interval_days for p in problem.products], dtype=np.int64),
        max_interval=np.array([p.max_interval_days for p in problem.products], dtype=np.int64),
        session_site=session_site,
        session_day=session_day,
        session_product=session_product,
        session_capacity=np.array([x.capacity for x in sessions], dtype=np.int64),
        session_vaccinators=np.array([x.vaccinators for x in sessions], dtype=np.int64),
        session_slots=np.array([x.slots for x in sessions], dtype=np.int64),
        session_at=session_at,
        stock_by_day=np.cumsum(arrivals, axis=2),
        in_reach=in_reach,
        closeness=closeness,
        citizen_municipality=np.array(
            [muni_pos[m] for m in table.municipality_ids], dtype=np.int32
        ).reshape(-1),
        citizen_site=np.array([site_pos[s] for s in table.site_ids], dtype=np.int32).reshape(-1),
        product_lists=tuple(tuple(product_pos[p] for p in lst) for lst in table.product_lists),
    )
