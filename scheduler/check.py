"""An independent check of every hard constraint of a `Schedule`.

Written from the input's definitions only (it reads `Problem`, `Config` and the
schedule's columns, and shares no code with the solver beyond the input and
output types), so a bug in the solver cannot hide itself here. Tests and the
benchmark run it on every solution.

Hard constraints checked:

- eligibility: only eligible citizens are booked, with a product on their list;
- window: a booked day lies inside the citizen's [earliest, latest];
- reach: the site is in the home municipality, within `Config.reach_km` of its
  centre, or (later doses) the previous dose's site;
- capacity: per session at most ``slots * vaccinators``; per slot at most
  `vaccinators`; slots exist;
- stock: per site and product, bookings up to each day never exceed the doses
  arrived by that day;
- series: a second dose booked in the run follows its first dose inside the
  product's interval, with the follow-up product (Sputnik V component II);
- one appointment per citizen and dose; every citizen is either booked or has
  exactly one reason, and the reason matches the input where the input decides
  it (ineligible, interval not reached, interval passed);
- standby: each citizen on at most one list, unbooked, and able to use the
  session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scheduler.config import Config
from scheduler.reasons import Reason
from scheduler.result import Schedule

_R = 6371.0088


@dataclass(frozen=True)
class Violation:
    """One broken constraint: which rule, and an example."""

    rule: str
    detail: str


class ScheduleInvalid(AssertionError):
    """A schedule broke hard constraints (a solver bug, never bad input)."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        lines = "\n".join(f"- {v.rule}: {v.detail}" for v in violations[:20])
        super().__init__(f"{len(violations)} constraint violation(s):\n{lines}")


def assert_valid(schedule: Schedule, config: Config | None = None) -> None:
    """Raise `ScheduleInvalid` if `schedule` breaks any hard constraint."""
    found = check(schedule, config)
    if found:
        raise ScheduleInvalid(found)


def _km(
    lat1: npt.NDArray[np.float64],
    lon1: npt.NDArray[np.float64],
    lat2: npt.NDArray[np.float64],
    lon2: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    la1, la2 = np.deg2rad(lat1), np.deg2rad(lat2)
    h = (
        np.sin((la2 - la1) / 2) ** 2
        + np.cos(la1) * np.cos(la2) * np.sin(np.deg2rad(lon2 - lon1) / 2) ** 2
    )
    return np.asarray(2 * _R * np.arcsin(np.sqrt(np.minimum(h, 1.0))))


def check(schedule: Schedule, config: Config | None = None) -> list[Violation]:
    """Every hard-constraint violation in `schedule` (empty when valid)."""
    return list(_violations(schedule, config or Config()))


def _first(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def _violations(schedule: Schedule, config: Config) -> Iterator[Violation]:
    problem = schedule.problem
    table = problem.citizens
    n_rows = len(table)
    sessions = problem.sessions
    products = {p.id: p for p in problem.products}
    site_by_id = {s.id: s for s in problem.sites}
    muni_by_id = {m.id: m for m in problem.municipalities}
    start = np.datetime64(problem.start, "D")
    end = start + np.timedelta64(problem.days - 1, "D")

    row = schedule.appointment_row
    dose = schedule.appointment_dose
    ses = schedule.appointment_session
    slot = schedule.appointment_slot
    if len(row) and (row.min() < 0 or row.max() >= n_rows):
        yield Violation("reference", "an appointment names a citizen row outside the input")
        return
    if len(ses) and (ses.min() < 0 or ses.max() >= len(sessions)):
        yield Violation("reference", "an appointment names a session outside the input")
        return

    # Session facts, straight from the input values.
    s_day = np.array([np.datetime64(x.day, "D") for x in sessions], dtype="datetime64[D]")
    s_site = np.array([x.site_id for x in sessions], dtype=object)
    s_product = np.array([x.product_id for x in sessions], dtype=object)
    s_slots = np.array([x.slots for x in sessions], dtype=np.int64)
    s_vacc = np.array([x.vaccinators for x in sessions], dtype=np.int64)
    s_lat = np.array([site_by_id[x.site_id].lat for x in sessions], dtype=np.float64)
    s_lon = np.array([site_by_id[x.site_id].lon for x in sessions], dtype=np.float64)
    s_muni = np.array([site_by_id[x.site_id].municipality_id for x in sessions], dtype=object)

    # One appointment per citizen and dose.
    pair = row.astype(np.int64) * 64 + dose.astype(np.int64)
    uniq, counts = np.unique(pair, return_counts=True)
    if (counts > 1).any():
        bad = int(uniq[counts > 1][0])
        yield Violation(
            "duplicate",
            f"citizen {table.citizen_id(bad // 64)} has two appointments for dose {bad % 64}",
        )

    own_dose = table.dose.astype(np.int64)[row]
    main = dose == own_dose
    follow = dose == own_dose + 1
    if (~main & ~follow).any():
        i = _first(~main & ~follow)
        yield Violation(
            "series",
            f"citizen {table.citizen_id(int(row[i]))} booked for dose "
            f"{int(dose[i])}, waiting for dose {int(own_dose[i])}",
        )

    # Eligibility and product.
    accepts = np.zeros((len(table.product_lists), len(sessions)), dtype=bool)
    list_sets = [set(lst) for lst in table.product_lists]
    for k, lst in enumerate(list_sets):
        accepts[k] = np.array([p in lst for p in s_product.tolist()], dtype=bool)
    mrow, mses = row[main], ses[main]
    ineligible = table.ineligible[mrow] >= 0
    if ineligible.any():
        yield Violation(
            "eligibility",
            f"ineligible citizen {table.citizen_id(int(mrow[_first(ineligible)]))} is booked",
        )
    wrong = ~accepts[table.products[mrow], mses]
    if wrong.any():
        i = _first(wrong)
        yield Violation(
            "eligibility",
            f"citizen {table.citizen_id(int(mrow[i]))} booked with "
            f"{s_product[mses[i]]}, not on their list",
        )

    # Window.
    day = s_day[mses]
    early = day < table.earliest[mrow]
    latest = table.latest[mrow]
    late = ~np.isnat(latest) & (day > latest)
    if (early | late).any():
        i = _first(early | late)
        yield Violation(
            "window",
            f"citizen {table.citizen_id(int(mrow[i]))} booked on {day[i]} outside their window",
        )

    # Reach.
    muni_ids = np.array(table.municipality_ids, dtype=object)[table.municipality]
    c_lat = np.array([muni_by_id[m].lat for m in table.municipality_ids], dtype=np.float64)
    c_lon = np.array([muni_by_id[m].lon for m in table.municipality_ids], dtype=np.float64)

    def within(rows: npt.NDArray[np.int64], sess: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        code = table.municipality[rows]
        same = s_muni[sess] == muni_ids[rows]
        km = _km(c_lat[code], c_lon[code], s_lat[sess], s_lon[sess])
        return np.asarray(same | (km <= config.reach_km))

    pref_code = table.preferred_site[mrow]
    site_names = np.array((*table.site_ids, ""), dtype=object)
    at_pref = (table.dose[mrow] >= 2) & (site_names[pref_code] == s_site[mses])
    far = ~(within(mrow, mses) | at_pref)
    if far.any():
        i = _first(far)
        yield Violation(
            "reach",
            f"citizen {table.citizen_id(int(mrow[i]))} booked at {s_site[mses[i]]}, out of reach",
        )

    # Second doses booked in the run.
    main_of = np.full(n_rows, -1, dtype=np.int64)
    main_of[mrow] = mses
    frow, fses = row[follow], ses[follow]
    for r, x in zip(frow.tolist(), fses.tolist(), strict=True):
        first = int(main_of[r])
        cid = table.citizen_id(r)
        if first < 0:
            yield Violation("series", f"citizen {cid} has a second dose without a first")
            continue
        p1 = products[s_product[first]]
        gap = int((s_day[x] - s_day[first]) // np.timedelta64(1, "D"))
        if int(table.dose[r]) >= p1.series_doses:
            yield Violation("series", f"citizen {cid}: {p1.id} has no further dose")
        if s_product[x] != p1.follow_up_product:
            yield Violation(
                "series",
                f"citizen {cid}: dose after {p1.id} must be "
                f"{p1.follow_up_product}, got {s_product[x]}",
            )
        if not p1.min_interval_days <= gap <= p1.max_interval_days:
            yield Violation("interval", f"citizen {cid}: {gap} days between doses of {p1.id}")
        reach_ok = bool(within(np.array([r]), np.array([x]))[0]) or s_site[x] == s_site[first]
        if not reach_ok:
            yield Violation("reach", f"citizen {cid}: second dose at {s_site[x]} out of reach")

    # Capacity and slots.
    per_session = np.bincount(ses, minlength=len(sessions))
    over = per_session > s_slots * s_vacc
    if over.any():
        i = _first(over)
        yield Violation(
            "capacity",
            f"session {s_site[i]}/{s_day[i]}/{s_product[i]} has "
            f"{int(per_session[i])} bookings for {int(s_slots[i] * s_vacc[i])} places",
        )
    if len(slot) and ((slot < 0) | (slot >= s_slots[ses])).any():
        yield Violation("slot", "an appointment names a slot outside its session's hours")
    else:
        key = ses.astype(np.int64) * (int(s_slots.max(initial=0)) + 1) + slot
        k, c = np.unique(key, return_counts=True)
        full = c > s_vacc[k // (int(s_slots.max(initial=0)) + 1)]
        if full.any():
            yield Violation(
                "slot", f"a slot holds {int(c[full][0])} citizens, more than its vaccinators"
            )

    # Stock, cumulative by day.
    arrived: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for st in problem.stock:
        offset = 0 if st.available_from is None else (st.available_from - problem.start).days
        arrived.setdefault((st.site_id, st.product_id), []).append((offset, st.doses))
    used: dict[tuple[str, str], npt.NDArray[np.int64]] = {}
    for x, k in enumerate(per_session.tolist()):
        if k:
            d = int((s_day[x] - start) // np.timedelta64(1, "D"))
            used.setdefault((s_site[x], s_product[x]), np.zeros(problem.days, dtype=np.int64))[
                d
            ] += k
    for chain, by_day in used.items():
        have = np.zeros(problem.days, dtype=np.int64)
        for offset, doses in arrived.get(chain, []):
            if offset < problem.days:
                have[max(offset, 0)] += doses
        short = np.cumsum(by_day) > np.cumsum(have)
        if short.any():
            yield Violation(
                "stock",
                f"{chain[0]}/{chain[1]}: bookings exceed the stock arrived by day {_first(short)}",
            )

    # Every citizen booked or explained, once.
    covered = np.zeros(n_rows, dtype=np.int64)
    np.add.at(covered, mrow, 1)
    np.add.at(covered, schedule.unbooked_row, 1)
    if (covered != 1).any():
        i = _first(covered != 1)
        yield Violation(
            "coverage",
            f"citizen {table.citizen_id(i)} is booked or reported {int(covered[i])} times",
        )
    reasons = [Reason(r) for r in Reason]
    u = schedule.unbooked_row
    code = schedule.unbooked_reason.astype(np.int64)
    is_inel = (table.ineligible[u] >= 0) | np.array(
        [len(table.product_lists[c]) == 0 for c in table.products[u].tolist()], dtype=bool
    )
    said_inel = code == reasons.index(Reason.INELIGIBLE)
    if (is_inel != said_inel).any():
        i = _first(is_inel != said_inel)
        yield Violation(
            "reason",
            f"citizen {table.citizen_id(int(u[i]))}: ineligible reason does not match the input",
        )
    not_reached = table.earliest[u] > end
    said_nr = code == reasons.index(Reason.INTERVAL_NOT_REACHED)
    if (said_nr & ~not_reached).any():
        yield Violation("reason", "interval_not_reached given to a citizen due in the horizon")
    lat_u = table.latest[u]
    passed = ~np.isnat(lat_u) & ((lat_u < start) | (lat_u < table.earliest[u]))
    said_passed = code == reasons.index(Reason.INTERVAL_PASSED)
    if (said_passed & ~passed).any():
        yield Violation("reason", "interval_passed given to a citizen whose window is open")

    # Standby lists.
    srow, sses = schedule.standby_row, schedule.standby_session
    if len(np.unique(srow)) != len(srow):
        yield Violation("standby", "a citizen is on two standby lists")
    booked_rows = np.zeros(n_rows, dtype=bool)
    booked_rows[mrow] = True
    if booked_rows[srow].any():
        yield Violation("standby", "a booked citizen is on a standby list")
    if len(srow):
        ok = accepts[table.products[srow], sses] & (table.ineligible[srow] < 0)
        sd = s_day[sses]
        ok &= sd >= table.earliest[srow]
        sl = table.latest[srow]
        ok &= np.isnat(sl) | (sd <= sl)
        pref_ok = (table.dose[srow] >= 2) & (site_names[table.preferred_site[srow]] == s_site[sses])
        ok &= within(srow, sses) | pref_ok
        if not ok.all():
            i = _first(~ok)
            yield Violation(
                "standby",
                f"citizen {table.citizen_id(int(srow[i]))} cannot use "
                f"the session they stand by for",
            )
