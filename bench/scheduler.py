"""Scheduler benchmark: a seeded national instance, the solver and a greedy baseline.

    .venv/bin/python bench/scheduler.py                       # 1,000,000 x 400 sites x 7 days
    .venv/bin/python bench/scheduler.py --citizens 5000000 --sites 2000 --days 14

Prints the solver's wall time and peak memory, citizens booked against an
upper bound (a max flow over capacities and stock built here, independently
of the solver), the priority shortfall against the lexicographic optimum
(prefix max flows, same independent graph), open-vial waste simulated vial by
vial with and without 5 % no-shows, and the same figures for a priority-greedy
baseline. Targets (1M): <= 5 s on 2 cores, <= 2 GB, 100 % of the bound, zero
shortfall, waste <= 0.8 %.

The instance: municipalities scattered over Serbia's extent with Zipf-like
populations, sites placed by population, six products (Sputnik V as two
components), one or two product lines per site and day with 1-4 vaccinators on
15-minute slots, stock on hand plus a mid-horizon delivery at roughly the
capacity's level, priority groups in campaign proportions, 15 % waiting for a
second dose at their first site, age-based product exclusions, preferences
("any", a favourite first, or one product only) and 0.5 % ineligible.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import date, timedelta
from datetime import time as dtime
from pathlib import Path

import numpy as np
from ortools.graph.python import max_flow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduler import (
    CitizenTable,
    Config,
    Municipality,
    Problem,
    Product,
    Schedule,
    Session,
    Site,
    Stock,
    schedule,
)
from scheduler.check import check

START = date(2021, 4, 5)
PRODUCTS = (
    Product("pfizer", 6, 2, None, 21, 42),
    Product("sinopharm", 1, 2, None, 21, 28),
    Product("astrazeneca", 10, 2, None, 56, 84),
    Product("sputnik-1", 5, 2, "sputnik-2", 21, 90),
    Product("sputnik-2", 5, 2, None, 0, 0),
    Product("moderna", 10, 2, None, 28, 42),
)
FIRST_DOSE = (0, 1, 2, 3, 5)  # products a first dose may use (positions)
NEXT = {0: 0, 1: 1, 2: 2, 3: 4, 5: 5}
RANK_SHARE = (0.05, 0.03, 0.25, 0.17, 0.50)
NO_SHOW = 0.05


def generate(n_citizens: int, n_sites: int, n_days: int, seed: int) -> Problem:
    """A seeded synthetic national instance."""
    rng = np.random.default_rng(seed)
    n_muni = max(20, min(170, n_sites // 2))
    muni_lat = rng.uniform(42.3, 46.1, n_muni)
    muni_lon = rng.uniform(19.0, 22.9, n_muni)
    weight = 1.0 / np.arange(1, n_muni + 1) ** 0.9
    weight /= weight.sum()
    municipalities = tuple(
        Municipality(f"M{i:03d}", float(muni_lat[i]), float(muni_lon[i])) for i in range(n_muni)
    )
    extra = rng.choice(n_muni, n_sites - n_muni, p=weight) if n_sites > n_muni else []
    site_muni = np.concatenate([np.arange(min(n_muni, n_sites)), extra]).astype(int)
    site_lat = muni_lat[site_muni] + rng.normal(0, 0.04, n_sites)
    site_lon = muni_lon[site_muni] + rng.normal(0, 0.05, n_sites)
    sites = tuple(
        Site(f"S{i:04d}", f"M{site_muni[i]:03d}", float(site_lat[i]), float(site_lon[i]))
        for i in range(n_sites)
    )

    sessions: list[Session] = []
    line_capacity = np.zeros((n_sites, len(PRODUCTS)), dtype=np.int64)
    for s in range(n_sites):
        stocked = rng.choice(FIRST_DOSE, size=int(rng.integers(2, 4)), replace=False).tolist()
        if 3 in stocked:
            stocked.append(4)
        staff = int(rng.integers(2, 7))
        for d in range(n_days):
            day = START + timedelta(days=d)
            if day.weekday() == 6 and rng.random() < 0.7:
                continue  # most sites close on Sundays
            lines = rng.choice(
                stocked, size=min(len(stocked), int(rng.integers(1, 3))), replace=False
            ).tolist()
            for k, p in enumerate(sorted(lines)):
                vaccinators = max(1, staff // len(lines) + (k < staff % len(lines)))
                closes = dtime(14) if rng.random() < 0.3 else dtime(16)
                x = Session(sites[s].id, day, PRODUCTS[p].id, dtime(8), closes, vaccinators)
                sessions.append(x)
                line_capacity[s, p] += x.capacity
    stock: list[Stock] = []
    for s in range(n_sites):
        for p in np.flatnonzero(line_capacity[s]).tolist():
            v = PRODUCTS[p].doses_per_vial
            total = line_capacity[s, p] * rng.uniform(0.6, 1.15)
            first = int(total * 0.6) // v * v
            stock.append(Stock(sites[s].id, PRODUCTS[p].id, first))
            stock.append(
                Stock(
                    sites[s].id,
                    PRODUCTS[p].id,
                    int(total - first) // v * v,
                    START + timedelta(days=n_days // 2),
                )
            )

    n = n_citizens
    muni = rng.choice(n_muni, n, p=weight).astype(np.int32)
    rank = (rng.choice(len(RANK_SHARE), n, p=RANK_SHARE) + 1).astype(np.int16)
    dose = np.where(rng.random(n) < 0.15, 2, 1).astype(np.int16)
    # Product lists: eligibility by group (65+ excludes AstraZeneca and Sputnik),
    # then preference: any order, a favourite first, or one product only.
    base = [0, 1, 2, 3, 5]
    lists: list[tuple[str, ...]] = [()]
    index: dict[tuple[str, ...], int] = {(): 0}

    def code(ps: list[int]) -> int:
        key = tuple(PRODUCTS[p].id for p in ps)
        if key not in index:
            index[key] = len(lists)
            lists.append(key)
        return index[key]

    table_codes: dict[tuple[int, int, int], int] = {}
    for older in (0, 1):
        allowed = [p for p in base if not (older and p in (2, 3))]
        for style in range(1 + 2 * len(base)):
            if style == 0:
                ps = allowed
            elif style <= len(base):
                fav = base[style - 1]
                ps = [fav] + [p for p in allowed if p != fav] if fav in allowed else allowed
            else:
                fav = base[style - 1 - len(base)]
                ps = [fav] if fav in allowed else allowed
            table_codes[(older, style, 0)] = code(ps)
    for p in set(NEXT.values()):
        code([p])
    older = (rank == 3).astype(int)
    style = np.where(
        rng.random(n) < 0.5,
        0,
        np.where(rng.random(n) < 0.6, rng.integers(1, 6, n), rng.integers(6, 11, n)),
    )
    lookup = np.zeros((2, 11), dtype=np.int32)
    for (o, st, _), c in table_codes.items():
        lookup[o, st] = c
    products = lookup[older, style]
    earliest = np.full(n, np.datetime64(START, "D"))
    deferred = rng.random(n) < 0.08
    earliest[deferred] += rng.integers(1, n_days + 3, int(deferred.sum())).astype("timedelta64[D]")
    latest = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    preferred = np.full(n, -1, dtype=np.int32)

    second = np.flatnonzero(dose == 2)
    first_product = rng.choice(FIRST_DOSE, len(second))
    next_code = np.array([code([NEXT[p]]) if p in NEXT else 0 for p in range(6)], dtype=np.int32)
    products[second] = next_code[first_product]
    given = -rng.integers(10, 60, len(second))
    lo = np.array([PRODUCTS[p].min_interval_days for p in range(6)])[first_product]
    hi = np.array([PRODUCTS[p].max_interval_days for p in range(6)])[first_product]
    earliest[second] = np.datetime64(START, "D") + (given + lo).astype("timedelta64[D]")
    latest[second] = np.datetime64(START, "D") + (given + hi).astype("timedelta64[D]")
    # Their first dose was given at a site of their municipality.
    by_muni = [np.flatnonzero(site_muni == m) for m in range(n_muni)]
    pick = rng.random(len(second))
    preferred[second] = [
        by_muni[m][int(u * len(by_muni[m]))] if len(by_muni[m]) else 0
        for m, u in zip(muni[second].tolist(), pick.tolist(), strict=True)
    ]
    ineligible = np.full(n, -1, dtype=np.int32)
    out = rng.random(n) < 0.005
    ineligible[out] = 0
    products[out] = 0

    return Problem(
        start=START,
        days=n_days,
        products=PRODUCTS,
        municipalities=municipalities,
        sites=sites,
        sessions=tuple(sessions),
        stock=tuple(stock),
        citizens=CitizenTable(
            ids=np.arange(1, n + 1, dtype=np.int64),
            dose=dose,
            rank=rank,
            municipality=muni,
            municipality_ids=tuple(m.id for m in municipalities),
            products=products.astype(np.int32),
            product_lists=tuple(lists),
            earliest=earliest,
            latest=latest,
            registered=np.datetime64("2021-02-01T00:00:00")
            + rng.integers(0, 60 * 86400, n).astype("timedelta64[s]"),
            preferred_site=preferred,
            site_ids=tuple(s.id for s in sites),
            ineligible=ineligible,
            ineligible_reasons=("contraindication.allergy",),
        ),
    )


def _groups(problem: Problem) -> np.ndarray:
    """Effective priority group per row: later doses first, then rank (0 = highest)."""
    t = problem.citizens
    key = (t.dose < 2).astype(np.int64) * 1000 + t.rank.astype(np.int64)
    return np.unique(key, return_inverse=True)[1].reshape(-1)


def _haversine(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


class Instance:
    """Flat views of a problem for the bound and the baseline (independent of the solver)."""

    def __init__(self, problem: Problem, config: Config) -> None:
        t = problem.citizens
        self.problem = problem
        self.n_days = problem.days
        pid = {p.id: i for i, p in enumerate(problem.products)}
        sid = {s.id: i for i, s in enumerate(problem.sites)}
        mid = {m.id: i for i, m in enumerate(problem.municipalities)}
        self.ses_site = np.array([sid[x.site_id] for x in problem.sessions])
        self.ses_day = np.array([(x.day - problem.start).days for x in problem.sessions])
        self.ses_prod = np.array([pid[x.product_id] for x in problem.sessions])
        self.ses_cap = np.array([x.capacity for x in problem.sessions], dtype=np.int64)
        n_s, n_p = len(sid), len(pid)
        self.stock = np.zeros((n_s, n_p, self.n_days), dtype=np.int64)
        for st in problem.stock:
            d = 0 if st.available_from is None else max((st.available_from - problem.start).days, 0)
            if d < self.n_days:
                self.stock[sid[st.site_id], pid[st.product_id], d] += st.doses
        self.cum_stock = np.cumsum(self.stock, axis=2)
        m_lat = np.array([m.lat for m in problem.municipalities])
        m_lon = np.array([m.lon for m in problem.municipalities])
        s_lat = np.array([s.lat for s in problem.sites])
        s_lon = np.array([s.lon for s in problem.sites])
        s_muni = np.array([mid[s.municipality_id] for s in problem.sites])
        km = _haversine(m_lat[:, None], m_lon[:, None], s_lat[None, :], s_lon[None, :])
        self.reach = (km <= config.reach_km) | (s_muni[None, :] == np.arange(len(m_lat))[:, None])
        self.units = np.rint(km / config.km_per_unit).astype(np.int64)
        self.config = config
        # Rows that the input allows to book in the horizon.
        start = np.datetime64(problem.start, "D")
        e = np.maximum((t.earliest - start).astype(np.int64), 0)
        lat = np.where(np.isnat(t.latest), start + self.n_days - 1, t.latest)
        lo = np.minimum((lat - start).astype(np.int64), self.n_days - 1)
        lists = [tuple(pid[p] for p in lst) for lst in t.product_lists]
        has_list = np.array([len(x) > 0 for x in lists])[t.products]
        ok = (t.ineligible < 0) & has_list & (e <= lo)
        self.rows = np.flatnonzero(ok)
        self.muni = np.array([mid[m] for m in t.municipality_ids])[t.municipality]
        pref_map = np.array([sid[s] for s in t.site_ids] + [-1])
        self.pref = np.where(t.dose >= 2, pref_map[t.preferred_site], -1)
        self.e, self.lo, self.lists = e, lo, lists
        self.group = _groups(problem)
        self.session_at = np.full((n_s, self.n_days, n_p), -1)
        self.session_at[self.ses_site, self.ses_day, self.ses_prod] = np.arange(len(self.ses_site))

    def demand_keys(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Aggregated demand: key columns, size and group of each key."""
        t = self.problem.citizens
        r = self.rows
        cols = np.stack(
            [self.group[r], self.muni[r], t.products[r], self.e[r], self.lo[r], self.pref[r]],
            axis=1,
        )
        keys, size = np.unique(cols, axis=0, return_counts=True)
        return keys, size, keys[:, 0]

    def options(self, key: np.ndarray) -> np.ndarray:
        """Sessions a demand key can use."""
        _, m, plist, e, lo, pref = (int(v) for v in key)
        sites = np.flatnonzero(self.reach[m])
        if pref >= 0 and not self.reach[m, pref]:
            sites = np.append(sites, pref)
        prods = np.array(self.lists[plist])
        ses = self.session_at[sites][:, e : lo + 1][:, :, prods].ravel()
        return ses[ses >= 0]


def prefix_optimum(inst: Instance) -> np.ndarray:
    """F_k: max citizens of groups 0..k bookable together (max flow, built here)."""
    keys, size, group = inst.demand_keys()
    n_keys, n_ses = len(keys), len(inst.ses_cap)
    n_s, n_p, n_d = inst.stock.shape
    k0, s0 = 2, 2 + n_keys
    t0 = s0 + n_ses  # chain node (site, product, day)
    tails, heads, caps = [], [], []
    for i in range(n_keys):
        ses = inst.options(keys[i])
        tails.append(np.full(len(ses), k0 + i))
        heads.append(s0 + ses)
        caps.append(np.full(len(ses), int(size[i])))
    chain = t0 + (inst.ses_site * n_p + inst.ses_prod) * n_d + inst.ses_day
    tails += [s0 + np.arange(n_ses)]
    heads += [chain]
    caps += [inst.ses_cap]
    sp = np.arange(n_s * n_p)
    for d in range(n_d):
        nxt = t0 + sp * n_d + d + 1 if d < n_d - 1 else np.full(len(sp), 1)
        tails.append(t0 + sp * n_d + d)
        heads.append(nxt)
        caps.append(inst.cum_stock[:, :, d].reshape(-1))
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(
        np.concatenate([np.zeros(n_keys, dtype=np.int64), *tails]).astype(np.int32),
        np.concatenate([k0 + np.arange(n_keys), *heads]).astype(np.int32),
        np.concatenate([np.zeros(n_keys, dtype=np.int64), *caps]).astype(np.int64),
    )
    n_groups = int(inst.group.max()) + 1
    out = np.zeros(n_groups, dtype=np.int64)
    for g in range(n_groups):
        members = np.flatnonzero(group == g)
        if len(members):
            flow.set_arcs_capacity(members.astype(np.int32), size[members].astype(np.int64))
            flow.solve(0, 1)
        out[g] = flow.optimal_flow() if len(members) or g else 0
        if not len(members) and g:
            out[g] = out[g - 1]
    return out


def greedy_baseline(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    """Priority-greedy: classes by group then registration take the cheapest free session.

    Returns (bookings per session, bookings per group).
    """
    t = inst.problem.citizens
    keys, size, group = inst.demand_keys()
    r = inst.rows
    reg = t.registered.astype(np.int64)
    cols = np.stack(
        [inst.group[r], inst.muni[r], t.products[r], inst.e[r], inst.lo[r], inst.pref[r]], axis=1
    )
    _, inv = np.unique(cols, axis=0, return_inverse=True)
    first_reg = np.full(len(keys), np.iinfo(np.int64).max)
    np.minimum.at(first_reg, inv.reshape(-1), reg[r])
    order = np.lexsort((first_reg, group))
    cap_left = inst.ses_cap.copy()
    booked_cum = np.zeros_like(inst.cum_stock)
    per_session = np.zeros(len(cap_left), dtype=np.int64)
    per_group = np.zeros(int(inst.group.max()) + 1, dtype=np.int64)
    step, penalty = inst.config.preference_step, inst.config.other_site_penalty
    for i in order.tolist():
        g, m, plist, _, _, pref = (int(v) for v in keys[i])
        ses = inst.options(keys[i])
        ses = ses[cap_left[ses] > 0]
        if not len(ses):
            continue
        site, prod = inst.ses_site[ses], inst.ses_prod[ses]
        rank = {p: k for k, p in enumerate(inst.lists[plist])}
        cost = inst.units[m, site] + step * np.array([rank[p] for p in prod.tolist()])
        cost = cost + penalty * ((pref >= 0) & (site != pref))
        left = int(size[i])
        for x in ses[np.lexsort((ses, inst.ses_day[ses], cost))].tolist():
            s, p, d = int(inst.ses_site[x]), int(inst.ses_prod[x]), int(inst.ses_day[x])
            room = inst.cum_stock[s, p, d:] - booked_cum[s, p, d:]
            k = min(left, int(cap_left[x]), int(room.min()))
            if k <= 0:
                continue
            cap_left[x] -= k
            booked_cum[s, p, d:] += k
            per_session[x] += k
            left -= k
            if left == 0:
                break
        per_group[g] += int(size[i]) - left
    return per_session, per_group


def waste(
    problem: Problem, per_session: np.ndarray, standby: np.ndarray, no_show: float, seed: int
) -> float:
    """Open-vial waste in % of the doses in opened vials, vial by vial.

    Booked citizens arrive (each misses with probability `no_show`); a vial is
    opened when the previous one is empty; the doses left in the last vial go to
    standby citizens called in list order, who come with the same probability.
    """
    rng = np.random.default_rng(seed)
    v = np.array([p.doses_per_vial for p in problem.products])
    pid = {p.id: i for i, p in enumerate(problem.products)}
    per_vial = v[[pid[x.product_id] for x in problem.sessions]]
    shown = per_session - rng.binomial(per_session, no_show)
    opened = -(-shown // per_vial)
    left = opened * per_vial - shown
    came = rng.binomial(standby, 1 - no_show)
    wasted = left - np.minimum(left, came)
    doses = int((opened * per_vial).sum())
    return 100.0 * float(wasted.sum()) / doses if doses else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--citizens", type=int, default=1_000_000)
    ap.add_argument("--sites", type=int, default=400)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=20210405)
    ap.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the priority-greedy baseline (default: on)",
    )
    ap.add_argument(
        "--check",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="validate the solution with scheduler.check (default: on)",
    )
    args = ap.parse_args()

    t0 = time.perf_counter()
    problem = generate(args.citizens, args.sites, args.days, args.seed)
    gen_s = time.perf_counter() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    config = Config()
    t0, c0 = time.perf_counter(), time.process_time()
    result: Schedule = schedule(problem, config)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    load = os.getloadavg()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"instance: {args.citizens:,} citizens, {args.sites} sites, {args.days} days, "
        f"{len(problem.products)} products, {len(problem.sessions):,} sessions, "
        f"capacity {sum(x.capacity for x in problem.sessions):,} (generated in {gen_s:.1f} s)"
    )
    print(
        f"solver:   wall {wall:.2f} s, CPU {cpu:.2f} s (all threads), peak RSS "
        f"{rss_peak:,.0f} MB (instance alone {rss_before:,.0f} MB), load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )

    if args.check:
        t0 = time.perf_counter()
        found = check(result, config)
        print(f"check:    {'valid' if not found else found[:5]} ({time.perf_counter() - t0:.1f} s)")

    inst = Instance(problem, config)
    t0 = time.perf_counter()
    optimum = prefix_optimum(inst)
    bound = int(optimum[-1])
    t = problem.citizens
    main_dose = result.appointment_dose == t.dose[result.appointment_row]
    booked_rows = result.appointment_row[main_dose]
    groups = _groups(problem)
    achieved = np.cumsum(np.bincount(groups[booked_rows], minlength=len(optimum)))
    shortfall = int(np.max(optimum - achieved))
    print(f"bound:    max flow {bound:,} ({time.perf_counter() - t0:.1f} s)")
    per_session = result.booked_per_session()
    standby = np.bincount(result.standby_session, minlength=len(problem.sessions))
    w0 = waste(problem, per_session, standby, 0.0, args.seed)
    w5 = waste(problem, per_session, standby, NO_SHOW, args.seed)
    print(
        f"solver:   booked {len(booked_rows):,} = {100 * len(booked_rows) / max(bound, 1):.2f} % "
        f"of bound, priority shortfall {shortfall}, open-vial waste {w0:.2f} % "
        f"(5 % no-shows: {w5:.2f} %), standby {len(result.standby_row):,}"
    )
    print(
        "          per group booked/optimum: "
        + ", ".join(
            f"{int(a)}/{int(o)}"
            for a, o in zip(np.diff(achieved, prepend=0), np.diff(optimum, prepend=0), strict=True)
        )
    )
    if args.baseline:
        t0 = time.perf_counter()
        g_session, g_group = greedy_baseline(inst)
        g_wall = time.perf_counter() - t0
        g_ach = np.cumsum(g_group)
        g_short = int(np.max(optimum - g_ach))
        gw0 = waste(problem, g_session, np.zeros_like(g_session), 0.0, args.seed)
        gw5 = waste(problem, g_session, np.zeros_like(g_session), NO_SHOW, args.seed)
        print(
            f"greedy:   wall {g_wall:.2f} s, booked {int(g_group.sum()):,} = "
            f"{100 * g_group.sum() / max(bound, 1):.2f} % of bound, priority shortfall "
            f"{g_short}, open-vial waste {gw0:.2f} % (5 % no-shows: {gw5:.2f} %), no standby"
        )
    ok = (
        wall <= (5 if args.citizens <= 1_000_000 else 30)
        and shortfall == 0
        and len(booked_rows) == bound
        and w5 <= 0.8
    )
    print(f"targets:  {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
