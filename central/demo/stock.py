"""The demo's vaccine stock: purchase orders, deliveries of lots, first shipments.

Supply is sized to the demo: enough for the primary series of everyone
registered, but at most for two weeks of every site's weekday capacity. It is
split over products by demand: each product's share of first choices, plus
its share of the "any" people by the early-2021 supply mix (BBIBP-CorV half,
Comirnaty a quarter, Sputnik V 15 %, Vaxzevria 10 %). Each dose 1 brings its
series' dose 2 (Sputnik V component II for component I).

Lots arrive at the central warehouse in the four weeks before the start
(one or two lots a delivery, one purchase order per manufacturer). Lot
numbers follow each manufacturer's style (``EJ6795``, ``ABV5300``,
``I-120221``, ``202101B2043``); expiry dates lie months ahead, as their shelf
lives allowed: Comirnaty 3-6 months, Sputnik V and Vaxzevria 4-8, BBIBP-CorV
12-24.

Two days before the start every site gets a first shipment: three days of
its weekday capacity in the dose-1 products it stores, split by the supply
mix, taken from the warehouse earliest expiry first. At most 60 % of each
product goes out, and every site's wish is cut by the same factor when
there is not enough; Sputnik V component II stays in the warehouse until
second doses are due. Stock positions are never stored: they are the sums of
the movements these plans become (`central.demo.rows`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np

from central.demo.preferences import Preferences
from central.demo.seeded import stream
from central.demo.sites import SitePlan
from domain.catalogue import Catalogue, Product
from domain.wire import ANY_VACCINE

_TIMEZONE: Final = ZoneInfo("Europe/Belgrade")
ANY_SUPPLY_MIX: Final[Mapping[str, float]] = {
    "bbibp": 0.50,
    "comirnaty": 0.25,
    "sputnik-v-1": 0.15,
    "vaxzevria": 0.10,
}
SUPPLY_DAYS: Final = 14
INITIAL_DAYS: Final = 3
SHARE_TO_SITES: Final = 0.6
_LOT_VIALS: Final[Mapping[str, int]] = {
    "comirnaty": 10_000,
    "sputnik-v-1": 8_000,
    "sputnik-v-2": 8_000,
    "bbibp": 50_000,
    "vaxzevria": 5_000,
}
_DEFAULT_LOT_VIALS: Final = 8_000
_MAX_LOTS: Final = 12
_SHELF_MONTHS: Final[Mapping[str, tuple[int, int]]] = {
    "comirnaty": (3, 6),
    "sputnik-v-1": (4, 8),
    "sputnik-v-2": (4, 8),
    "vaxzevria": (4, 8),
    "bbibp": (12, 24),
}
_DEFAULT_SHELF_MONTHS: Final = (4, 8)


@dataclass(frozen=True)
class LotPlan:
    """A lot as delivered: its label facts and how many vials came."""

    product_id: str
    gtin: str
    lot_number: str
    expiry: date
    vials: int
    delivery: int  # index into StockPlan.deliveries


@dataclass(frozen=True)
class DeliveryPlan:
    """Vials arriving at the central warehouse, with their delivery note."""

    purchase_order: int  # index into StockPlan.purchase_orders
    delivered_at: datetime
    note: str


@dataclass(frozen=True)
class PurchaseOrderPlan:
    """An order to one manufacturer; `lines` are (product id, GTIN, vials)."""

    number: str
    supplier: str
    ordered_at: datetime
    lines: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class ShipmentPlan:
    """A site's first shipment; `lines` are (lot index, vials)."""

    site: int  # index into the site plans
    dispatched_at: datetime
    expected_at: datetime
    received_at: datetime
    lines: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class StockPlan:
    """Everything the stock tables will hold."""

    purchase_orders: tuple[PurchaseOrderPlan, ...]
    deliveries: tuple[DeliveryPlan, ...]
    lots: tuple[LotPlan, ...]
    shipments: tuple[ShipmentPlan, ...]

    def vials_at_sites(self) -> dict[str, int]:
        """Vials shipped to sites, by product id."""
        totals: dict[str, int] = {}
        for shipment in self.shipments:
            for lot, vials in shipment.lines:
                product = self.lots[lot].product_id
                totals[product] = totals.get(product, 0) + vials
        return totals

    def vials_delivered(self) -> dict[str, int]:
        """Vials delivered to the warehouse, by product id."""
        totals: dict[str, int] = {}
        for lot in self.lots:
            totals[lot.product_id] = totals.get(lot.product_id, 0) + lot.vials
        return totals


def supply_mix(preferences: Preferences, catalogue: Catalogue) -> dict[str, float]:
    """Each dose-1 product's share of demand (summing to 1)."""
    first = np.bincount(preferences.first_choices(), minlength=len(preferences.options))
    total = max(int(first.sum()), 1)
    shares = {o: int(n) / total for o, n in zip(preferences.options, first, strict=True)}
    any_share = shares.pop(ANY_VACCINE, 0.0)
    mix = {
        p.id: shares.get(p.id, 0.0) + any_share * ANY_SUPPLY_MIX.get(p.id, 0.0)
        for p in catalogue.first_dose_products
    }
    norm = sum(mix.values())
    return {k: v / norm for k, v in mix.items() if v > 0} if norm > 0 else {}


def plan_stock(
    citizens: int,
    sites: Sequence[SitePlan],
    mix: Mapping[str, float],
    catalogue: Catalogue,
    seed: int,
    start: date,
) -> StockPlan:
    """Deliveries, lots and first shipments for the demo; deterministic for `seed`."""
    rng = stream(seed, "stock")
    weekday_capacity = sum(s.capacity("mon") for s in sites)
    people = min(citizens, SUPPLY_DAYS * weekday_capacity)
    doses: dict[str, float] = {}
    for product_id, share in mix.items():
        product = catalogue.by_id(product_id)
        doses[product_id] = doses.get(product_id, 0.0) + people * share
        assert product.series is not None  # the mix holds dose-1 products only
        for rule in product.series.later_doses[: product.series.primary_doses - 1]:
            follow = rule.product_ids[0]
            doses[follow] = doses.get(follow, 0.0) + people * share
    vials = {
        p.id: math.ceil(doses[p.id] / p.doses_per_vial)
        for p in catalogue.products
        if doses.get(p.id, 0) > 0
    }

    lots: list[LotPlan] = []
    deliveries: list[DeliveryPlan] = []
    orders: list[PurchaseOrderPlan] = []
    suppliers = list(dict.fromkeys(catalogue.by_id(p).manufacturer for p in vials))
    ordered_at = _local(start - timedelta(days=60), time(10))
    used_numbers: set[tuple[str, str]] = set()
    for supplier in suppliers:
        order_index = len(orders)
        lines: dict[tuple[str, str], int] = {}
        for product_id, total in vials.items():
            product = catalogue.by_id(product_id)
            if product.manufacturer != supplier:
                continue
            lot_count = max(
                1, min(_MAX_LOTS, round(total / _LOT_VIALS.get(product_id, _DEFAULT_LOT_VIALS)))
            )
            lot_count = min(lot_count, total)
            split = _split(rng, total, lot_count)
            for i, lot_vials in enumerate(split):
                if i % 2 == 0:
                    day = start - timedelta(days=int(rng.integers(3, 29)))
                    deliveries.append(
                        DeliveryPlan(
                            purchase_order=order_index,
                            delivered_at=_local(
                                day, time(int(rng.integers(9, 15)), int(rng.integers(0, 60)))
                            ),
                            note=f"OTP-{day.year}-{len(deliveries) + 1:04d}",
                        )
                    )
                gtin = (
                    product.gtins[0]
                    if len(product.gtins) == 1 or rng.random() < 0.8
                    else product.gtins[1]
                )
                number = _lot_number(rng, product)
                while (gtin, number) in used_numbers:
                    number = _lot_number(rng, product)
                used_numbers.add((gtin, number))
                lots.append(
                    LotPlan(
                        product_id=product_id,
                        gtin=gtin,
                        lot_number=number,
                        expiry=_expiry(rng, product, start),
                        vials=lot_vials,
                        delivery=len(deliveries) - 1,
                    )
                )
                lines[(product_id, gtin)] = lines.get((product_id, gtin), 0) + lot_vials
        orders.append(
            PurchaseOrderPlan(
                number=f"PO-{ordered_at.year}-{order_index + 1:03d}",
                supplier=supplier,
                ordered_at=ordered_at,
                lines=tuple((p, g, n) for (p, g), n in lines.items()),
            )
        )
    shipments = _first_shipments(rng, sites, mix, catalogue, lots, start)
    return StockPlan(tuple(orders), tuple(deliveries), tuple(lots), shipments)


def _first_shipments(
    rng: np.random.Generator,
    sites: Sequence[SitePlan],
    mix: Mapping[str, float],
    catalogue: Catalogue,
    lots: Sequence[LotPlan],
    start: date,
) -> tuple[ShipmentPlan, ...]:
    wants: list[dict[str, int]] = []
    for site in sites:
        stored = [p for p in site.products if p in mix]
        weight = sum(mix[p] for p in stored)
        doses = INITIAL_DAYS * site.capacity("mon")
        wants.append(
            {
                p: math.ceil(doses * mix[p] / weight / catalogue.by_id(p).doses_per_vial)
                for p in stored
            }
        )
    # Same cut for every site when the warehouse cannot give all they want.
    scale: dict[str, float] = {}
    for product_id in mix:
        delivered = sum(lot.vials for lot in lots if lot.product_id == product_id)
        wanted = sum(w.get(product_id, 0) for w in wants)
        scale[product_id] = min(1.0, SHARE_TO_SITES * delivered / wanted) if wanted else 0.0
    remaining = [lot.vials for lot in lots]
    fefo = sorted(range(len(lots)), key=lambda i: (lots[i].expiry, i))
    dispatched_at = _local(start - timedelta(days=2), time(7))
    shipments: list[ShipmentPlan] = []
    for site_index, want in enumerate(wants):
        lines: list[tuple[int, int]] = []
        for product_id, vials in want.items():
            need = math.floor(vials * scale[product_id])
            for lot in fefo:
                if need == 0:
                    break
                if lots[lot].product_id != product_id or remaining[lot] == 0:
                    continue
                take = min(need, remaining[lot])
                remaining[lot] -= take
                need -= take
                lines.append((lot, take))
        if lines:
            shipments.append(
                ShipmentPlan(
                    site=site_index,
                    dispatched_at=dispatched_at,
                    expected_at=dispatched_at + timedelta(hours=6),
                    received_at=dispatched_at + timedelta(minutes=int(rng.integers(180, 480))),
                    lines=tuple(lines),
                )
            )
    return tuple(shipments)


def _split(rng: np.random.Generator, total: int, parts: int) -> list[int]:
    """`total` in `parts` positive random integers."""
    weights = rng.dirichlet(np.full(parts, 5.0))
    sizes = np.floor(weights * (total - parts)).astype(np.int64) + 1
    sizes[int(np.argmax(weights))] += total - int(sizes.sum())
    return [int(s) for s in sizes]


def _lot_number(rng: np.random.Generator, product: Product) -> str:
    digits = int(rng.integers(1000, 10_000))
    letter = "JKLNPRTW"[int(rng.integers(0, 8))]
    if product.id == "comirnaty":
        return f"E{letter}{digits}"
    if product.id == "vaxzevria":
        return f"AB{'VWXY'[digits % 4]}{digits}"
    if product.id == "sputnik-v-1":
        return f"I-{int(rng.integers(10, 29))}{int(rng.integers(1, 13)):02d}21"
    if product.id == "sputnik-v-2":
        return f"II-{int(rng.integers(10, 29))}{int(rng.integers(1, 13)):02d}21"
    if product.id == "bbibp":
        return f"2021{int(rng.integers(1, 13)):02d}B{digits}"
    prefix = "".join(part[0] for part in product.id.split("-")).upper()
    return f"{prefix}{letter}{digits}"


def _expiry(rng: np.random.Generator, product: Product, start: date) -> date:
    low, high = _SHELF_MONTHS.get(product.id, _DEFAULT_SHELF_MONTHS)
    months = start.month - 1 + int(rng.integers(low, high + 1))
    year, month = start.year + months // 12, months % 12 + 1
    # Labels give the month; the lot expires at its end.
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def _local(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, _TIMEZONE).astimezone(UTC)
