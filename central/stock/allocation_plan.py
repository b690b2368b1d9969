"""The allocation rule: which lots, how many vials, to which site. Pure.

For each site and product:

1. Vials needed per day: the day's booked doses divided by doses per vial,
   rounded up per day (an opened vial does not last into the next day).
2. A safety margin on top: ``ceil(total × margin %)`` vials, needed by the
   last booked day.
3. What the site already holds or has on the way covers the earliest needs
   first (first expiry first out), using only lots that do not expire before
   the day they serve.
4. The rest comes from the warehouse, day by day across all sites, earliest
   day first, first expiry first out, never from a lot that expires before
   the day it serves and never more than the warehouse holds. When a day's
   needs of a product exceed the usable stock, every site's need that day is
   cut in the same proportion (largest remainders, so the vials add up), and
   the shortfall is reported.

An expiry date is the last day a lot may be used: a lot is usable on day d
when ``expiry >= d``.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Need:
    """Doses of one product booked at one site on one day."""

    site_id: uuid.UUID
    product_id: str
    day: date
    doses: int


@dataclass(frozen=True)
class LotStock:
    """Vials of one lot available at some place."""

    lot_id: uuid.UUID
    product_id: str
    expiry: date
    vials: int


@dataclass(frozen=True)
class PlannedLine:
    """Vials of one lot to send to one site; `first_day` is the earliest day they serve."""

    site_id: uuid.UUID
    product_id: str
    lot_id: uuid.UUID
    vials: int
    first_day: date


@dataclass(frozen=True)
class SiteNeed:
    """What one site needs of one product over the horizon, and what the plan gives."""

    site_id: uuid.UUID
    product_id: str
    doses: int
    vials_needed: int  # per-day vials plus the margin
    vials_held: int  # covered by what the site holds or has on the way
    vials_planned: int  # from the warehouse in this plan
    vials_short: int
    first_day: date
    last_day: date


@dataclass(frozen=True)
class AllocationPlan:
    """Lines to send, and every site's need with its shortfall."""

    lines: tuple[PlannedLine, ...]
    needs: tuple[SiteNeed, ...]

    @property
    def vials_short(self) -> int:
        return sum(n.vials_short for n in self.needs)


@dataclass
class _Left:
    """Vials still untaken of one lot."""

    expiry: date
    lot_id: uuid.UUID
    remaining: int


class _Pool:
    """Remaining vials of lots, taken first expiry first (ties by lot id)."""

    def __init__(self, stock: Iterable[LotStock]) -> None:
        self._lots = sorted(
            (_Left(s.expiry, s.lot_id, s.vials) for s in stock if s.vials > 0),
            key=lambda left: (left.expiry, left.lot_id),
        )

    def usable(self, day: date) -> int:
        """Vials of lots usable on `day`."""
        return sum(left.remaining for left in self._lots if left.expiry >= day)

    def take(self, day: date, vials: int) -> list[tuple[uuid.UUID, int]]:
        """Up to `vials` from lots usable on `day`, first expiry first."""
        taken: list[tuple[uuid.UUID, int]] = []
        for left in self._lots:
            if vials == 0:
                break
            if left.expiry < day or left.remaining == 0:
                continue
            n = min(left.remaining, vials)
            left.remaining -= n
            vials -= n
            taken.append((left.lot_id, n))
        return taken


@dataclass(frozen=True)
class _PairNeed:
    doses: int
    needed: int
    held: int
    first: date
    last: date
    deficits: tuple[tuple[date, int], ...]


def _proportional(total: int, wants: Sequence[int]) -> list[int]:
    """Split `total` (< sum of wants) in proportion to `wants`, largest remainders."""
    whole = sum(wants)
    shares = [total * w / whole for w in wants]
    given = [math.floor(s) for s in shares]
    order = sorted(range(len(wants)), key=lambda i: (-(shares[i] - given[i]), i))
    for i in order[: total - sum(given)]:
        given[i] += 1
    return given


def _pair_need(
    days: Mapping[date, int], per_vial: int, held: Sequence[LotStock], margin_percent: int
) -> _PairNeed:
    wanted = {day: math.ceil(doses / per_vial) for day, doses in sorted(days.items())}
    last = max(wanted)
    wanted[last] += math.ceil(sum(wanted.values()) * margin_percent / 100)
    pool = _Pool(held)
    deficits: list[tuple[date, int]] = []
    covered = 0
    for day, vials in sorted(wanted.items()):
        got = sum(n for _, n in pool.take(day, vials))
        covered += got
        if vials > got:
            deficits.append((day, vials - got))
    return _PairNeed(
        sum(days.values()), sum(wanted.values()), covered, min(days), last, tuple(deficits)
    )


def plan_allocation(
    needs: Iterable[Need],
    doses_per_vial: Mapping[str, int],
    warehouse: Iterable[LotStock],
    held: Mapping[tuple[uuid.UUID, str], Sequence[LotStock]],
    margin_percent: int,
) -> AllocationPlan:
    """Plan what the warehouse sends so each site can serve its booked doses.

    `held` is what each (site, product) holds or has on the way. Sites and
    lots are taken in id order where a rule leaves a tie, so the same inputs
    always give the same plan.
    """
    by_pair: dict[tuple[uuid.UUID, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for need in needs:
        if need.doses > 0:
            by_pair[(need.site_id, need.product_id)][need.day] += need.doses
    pairs = {
        pair: _pair_need(days, doses_per_vial[pair[1]], held.get(pair, ()), margin_percent)
        for pair, days in sorted(by_pair.items())
    }
    warehouse_by_product: dict[str, list[LotStock]] = defaultdict(list)
    for stock in warehouse:
        warehouse_by_product[stock.product_id].append(stock)
    planned: dict[tuple[uuid.UUID, str, uuid.UUID], tuple[int, date]] = {}
    short: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    for product in sorted({p for _, p in pairs}):
        pool = _Pool(warehouse_by_product.get(product, ()))
        per_day: dict[date, list[tuple[tuple[uuid.UUID, str], int]]] = defaultdict(list)
        for pair, pair_need in pairs.items():
            if pair[1] == product:
                for day, vials in pair_need.deficits:
                    per_day[day].append((pair, vials))
        for day in sorted(per_day):
            wants = sorted(per_day[day])
            amounts = [v for _, v in wants]
            usable = pool.usable(day)
            given = _proportional(usable, amounts) if usable < sum(amounts) else amounts
            for (pair, want), give in zip(wants, given, strict=True):
                short[pair] += want - give
                for lot_id, n in pool.take(day, give):
                    key = (pair[0], product, lot_id)
                    before, first = planned.get(key, (0, day))
                    planned[key] = (before + n, min(first, day))
    lines = tuple(
        PlannedLine(site, product, lot, vials, first)
        for (site, product, lot), (vials, first) in sorted(planned.items())
    )
    from_warehouse: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    for line in lines:
        from_warehouse[(line.site_id, line.product_id)] += line.vials
    site_needs = tuple(
        SiteNeed(
            site_id=pair[0],
            product_id=pair[1],
            doses=p.doses,
            vials_needed=p.needed,
            vials_held=p.held,
            vials_planned=from_warehouse[pair],
            vials_short=short[pair],
            first_day=p.first,
            last_day=p.last,
        )
        for pair, p in sorted(pairs.items())
    )
    return AllocationPlan(lines, site_needs)
