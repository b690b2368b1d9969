"""Table rows from the demo's plans: what `central.demo.generate` inserts.

Rows are plain dicts keyed by column name, as `central.db.insert_rows` takes
them. The citizens and registrations come a slice of the population at a
time, so a million rows never sit in memory at once.

Every row was born at the hub: ``origin_site_id`` is NULL, ``created_by`` is
``demo-data``, ``stored_at`` equals ``created_at``. A citizen's fields all
carry the hybrid-logical-clock stamp of their registration on node ``hub``
(ties within a millisecond broken by the counter), as the portal's intake
writes them (`central.services.registrations`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from central.db import ChangeOp, MovementKind, NewChange, Site
from central.demo.names import FEMALE_NAMES, MALE_NAMES, SURNAMES
from central.demo.people import EMAIL_DOMAINS, Population
from central.demo.seeded import IdColumn, stream
from central.demo.sites import SitePlan, site_row_values
from central.demo.stock import StockPlan
from central.services.records import json_value
from central.services.registrations import DEMOGRAPHIC_FIELDS
from domain.hlc import Timestamp
from domain.script import cyrillic_to_latin
from domain.wire import payload_hash

ACTOR: Final = "demo-data"
HLC_NODE: Final = "hub"
WAREHOUSE: Final = "warehouse"
SUPPLIER: Final = "supplier"
_CHUNK: Final = 20_000


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _ids(seed: int, table: str, created: Sequence[datetime] | npt.NDArray[np.int64]) -> IdColumn:
    ms = (
        created
        if isinstance(created, np.ndarray)
        else np.array([_ms(at) for at in created], dtype=np.int64)
    )
    return IdColumn.generate(ms.astype(np.int64), stream(seed, f"ids.{table}"))


def site_location(site_id: uuid.UUID) -> str:
    """The stock location of a site's fridge."""
    return f"site:{site_id}"


def transit_location(shipment_id: uuid.UUID) -> str:
    """The stock location of vials on the road in one shipment."""
    return f"transit:{shipment_id}"


# --- sites --------------------------------------------------------------------


def site_rows(plans: Sequence[SitePlan], created_at: datetime, seed: int) -> list[dict[str, Any]]:
    """One row per site, all created at `created_at`."""
    ids = _ids(seed, "sites", [created_at] * len(plans))
    return [
        {
            "id": site_id,
            "created_at": created_at,
            "created_by": ACTOR,
            "updated_at": created_at,
            **site_row_values(plan),
        }
        for site_id, plan in zip(ids.all(), plans, strict=True)
    ]


def site_changes(sites: Sequence[dict[str, Any]]) -> list[NewChange]:
    """Change-log entries announcing each site to every site, as adding a site does."""
    return [
        NewChange(
            table_name=Site.__tablename__,
            record_id=row["id"],
            op=ChangeOp.UPSERT,
            payload={key: json_value(value) for key, value in row.items()},
        )
        for row in sites
    ]


def audit_row(seed: int, at: datetime, after: dict[str, Any]) -> dict[str, Any]:
    """The audit-trail entry recording a demo-data run."""
    return {
        "id": _ids(seed, "audit_log", [at]).at(0),
        "occurred_at": at,
        "actor": ACTOR,
        "action": "demo_data.generate",
        "entity_table": "",
        "entity_id": None,
        "site_id": None,
        "before": None,
        "after": after,
        "request_id": None,
    }


# --- citizens and registrations -----------------------------------------------


@dataclass(frozen=True)
class _Lookups:
    """Per-value strings built once, shared by every row that uses them."""

    male: tuple[tuple[str, str, str], ...]  # (Cyrillic, Latin, e-mail ASCII)
    female: tuple[tuple[str, str, str], ...]
    surnames: tuple[tuple[str, str, str], ...]
    municipalities: tuple[str, ...]
    priorities: tuple[str, ...]
    claims: tuple[str | None, ...]  # index claim + 1
    conditions: tuple[list[str], ...]
    preferences: tuple[list[str], ...]


_ASCII: Final = str.maketrans({"č": "c", "ć": "c", "š": "s", "ž": "z", "đ": "dj"})


def _forms(cyrillic: str) -> tuple[str, str, str]:
    latin = cyrillic_to_latin(cyrillic)
    return cyrillic, latin, latin.lower().translate(_ASCII)


def _lookups(population: Population) -> _Lookups:
    return _Lookups(
        male=tuple(_forms(n) for n in MALE_NAMES),
        female=tuple(_forms(n) for n in FEMALE_NAMES),
        surnames=tuple(_forms(n) for n in SURNAMES),
        municipalities=tuple(p.municipality for p in population.places),
        priorities=population.priority_codes,
        claims=(None, *population.claim_codes),
        conditions=population.condition_lists(),
        preferences=tuple(list(chosen) for chosen in population.preferences.lists),
    )


def citizen_ids(population: Population, seed: int) -> IdColumn:
    """The citizens' ids (UUIDv7 of their registration time)."""
    return _ids(seed, "citizens", population.registered_ms)


def registration_ids(population: Population, seed: int) -> IdColumn:
    """The registrations' ids (UUIDv7 of their time, like the citizen's)."""
    return _ids(seed, "registrations", population.registered_ms)


def people_rows(
    population: Population, citizens: IdColumn, registrations: IdColumn
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Citizen rows and their registration rows, a slice of the population at a time.

    One registration per citizen, its payload as the portal submitted it:
    names in the script the person typed (`Population.writes_cyrillic`).
    """
    lookups = _lookups(population)
    codes = population.priority_codes
    version = population.rules_version
    for a in range(0, len(population), _CHUNK):
        b = min(len(population), a + _CHUNK)
        columns = zip(
            citizens.slice(a, b),
            registrations.slice(a, b),
            population.registered_ms[a:b].tolist(),
            population.registered_ms[a:b].astype("datetime64[ms]").tolist(),
            population.same_ms_rank[a:b].tolist(),
            population.jmbg[a:b].astype("U13").tolist(),
            population.birth[a:b].tolist(),
            population.female[a:b].tolist(),
            population.first_name[a:b].tolist(),
            population.last_name[a:b].tolist(),
            population.phone[a:b].tolist(),
            population.email_domain[a:b].tolist(),
            population.email_style[a:b].tolist(),
            population.email_number[a:b].tolist(),
            population.place[a:b].tolist(),
            population.priority[a:b].tolist(),
            population.claim[a:b].tolist(),
            population.conditions[a:b].tolist(),
            population.preferences.index[a:b].tolist(),
            population.writes_cyrillic[a:b].tolist(),
            strict=True,
        )
        citizen_batch: list[dict[str, Any]] = []
        registration_batch: list[dict[str, Any]] = []
        for (
            citizen_id,
            registration_id,
            ms,
            naive,
            counter,
            jmbg,
            birth,
            female,
            first_i,
            last_i,
            phone_number,
            domain,
            style,
            number,
            place,
            priority,
            claim,
            mask,
            preference,
            cyrillic,
        ) in columns:
            at = naive.replace(tzinfo=UTC)
            stamp = Timestamp(ms, counter, HLC_NODE).encode()
            first = (lookups.female if female else lookups.male)[first_i]
            last = lookups.surnames[last_i]
            phone = f"+381{phone_number}" if phone_number else None
            email = None
            if domain >= 0:
                local = (
                    f"{first[2]}.{last[2]}",
                    f"{first[2]}.{last[2]}{number:02d}",
                    f"{first[2]}{last[2]}{number}",
                )[style]
                email = f"{local}@{EMAIL_DOMAINS[domain]}"
            municipality = lookups.municipalities[place]
            conditions = lookups.conditions[mask]
            preferences = lookups.preferences[preference]
            citizen_batch.append(
                {
                    "id": citizen_id,
                    "jmbg": jmbg,
                    "first_name_latin": first[1],
                    "last_name_latin": last[1],
                    "first_name_cyrillic": first[0],
                    "last_name_cyrillic": last[0],
                    "birth_date": birth,
                    "sex": "F" if female else "M",
                    "phone": phone,
                    "email": email,
                    "municipality": municipality,
                    "priority_group": codes[priority],
                    "conditions": conditions,
                    "vaccine_preferences": preferences,
                    "registered_at": at,
                    "withdrawn_at": None,
                    "field_hlc": dict.fromkeys(DEMOGRAPHIC_FIELDS, stamp),
                    "hlc": stamp,
                    "updated_at": at,
                    "origin_site_id": None,
                    "stored_at": at,
                    "created_at": at,
                    "created_by": ACTOR,
                }
            )
            script = 0 if cyrillic else 1
            registration_batch.append(
                {
                    "id": registration_id,
                    "citizen_id": citizen_id,
                    "payload": {
                        "jmbg": jmbg,
                        "first_name": first[script],
                        "last_name": last[script],
                        "phone": phone,
                        "email": email,
                        "municipality": municipality,
                        "priority_claim": lookups.claims[claim + 1],
                        "conditions": conditions,
                        "vaccine_preferences": preferences,
                        "rules_version": version,
                    },
                    "hlc": stamp,
                    "updated_at": at,
                    "withdrawn_at": None,
                    "origin_site_id": None,
                    "stored_at": at,
                    "created_at": at,
                    "created_by": ACTOR,
                }
            )
        yield citizen_batch, registration_batch


# --- stock --------------------------------------------------------------------


@dataclass(frozen=True)
class StockRows:
    """Rows of every stock table, in an order that satisfies the foreign keys."""

    purchase_orders: list[dict[str, Any]]
    purchase_order_lines: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    lots: list[dict[str, Any]]
    shipments: list[dict[str, Any]]
    shipment_lines: list[dict[str, Any]]
    receipts: list[dict[str, Any]]
    movements: list[dict[str, Any]]


def stock_rows(plan: StockPlan, site_ids: Sequence[uuid.UUID], seed: int) -> StockRows:
    """The stock tables' rows; positions follow from `movements` alone."""
    order_ids = _ids(seed, "purchase_orders", [o.ordered_at for o in plan.purchase_orders]).all()
    delivery_ids = _ids(seed, "deliveries", [d.delivered_at for d in plan.deliveries]).all()
    lot_times = [plan.deliveries[lot.delivery].delivered_at for lot in plan.lots]
    lot_ids = _ids(seed, "lots", lot_times).all()
    shipment_ids = _ids(seed, "shipments", [s.dispatched_at for s in plan.shipments]).all()
    receipt_ids = _ids(seed, "receipts", [s.received_at for s in plan.shipments]).all()

    last_delivery = {
        d.purchase_order: d.delivered_at
        for d in sorted(plan.deliveries, key=lambda d: d.delivered_at)
    }
    orders = [
        {
            "id": order_ids[i],
            "number": order.number,
            "supplier": order.supplier,
            "status": "delivered",
            "ordered_at": order.ordered_at,
            "updated_at": last_delivery.get(i, order.ordered_at),
            "created_at": order.ordered_at,
            "created_by": ACTOR,
        }
        for i, order in enumerate(plan.purchase_orders)
    ]
    order_lines_plain = [
        (i, line_number, product_id, gtin, vials, order.ordered_at)
        for i, order in enumerate(plan.purchase_orders)
        for line_number, (product_id, gtin, vials) in enumerate(order.lines, start=1)
    ]
    line_ids = _ids(seed, "purchase_order_lines", [line[5] for line in order_lines_plain]).all()
    order_lines = [
        {
            "id": line_ids[n],
            "purchase_order_id": order_ids[i],
            "line_number": line_number,
            "product_id": product_id,
            "gtin": gtin,
            "quantity_vials": vials,
            "created_at": at,
            "created_by": ACTOR,
        }
        for n, (i, line_number, product_id, gtin, vials, at) in enumerate(order_lines_plain)
    ]
    deliveries = [
        {
            "id": delivery_ids[i],
            "purchase_order_id": order_ids[d.purchase_order],
            "delivered_at": d.delivered_at,
            "delivery_note": d.note,
            "created_at": d.delivered_at,
            "created_by": ACTOR,
        }
        for i, d in enumerate(plan.deliveries)
    ]
    lots = [
        {
            "id": lot_ids[i],
            "gtin": lot.gtin,
            "lot_number": lot.lot_number,
            "product_id": lot.product_id,
            "expiry": lot.expiry,
            "created_at": lot_times[i],
            "created_by": ACTOR,
        }
        for i, lot in enumerate(plan.lots)
    ]
    movements: list[tuple[datetime, str, str, str, int, int, str, uuid.UUID]] = [
        (
            lot_times[i],
            MovementKind.DELIVERY,
            SUPPLIER,
            WAREHOUSE,
            i,
            lot.vials,
            "deliveries",
            delivery_ids[lot.delivery],
        )
        for i, lot in enumerate(plan.lots)
    ]
    shipments: list[dict[str, Any]] = []
    shipment_lines: list[dict[str, Any]] = []
    receipts: list[dict[str, Any]] = []
    line_plain: list[tuple[int, int, int, datetime]] = []
    for s, shipment in enumerate(plan.shipments):
        shipment_id, receipt_id = shipment_ids[s], receipt_ids[s]
        site_id = site_ids[shipment.site]
        transit = transit_location(shipment_id)
        shipments.append(
            {
                "id": shipment_id,
                "site_id": site_id,
                "allocation_id": None,
                "dispatched_at": shipment.dispatched_at,
                "expected_at": shipment.expected_at,
                "cancelled_at": None,
                "updated_at": shipment.received_at,
                "created_at": shipment.dispatched_at,
                "created_by": ACTOR,
            }
        )
        for lot, vials in shipment.lines:
            line_plain.append((s, lot, vials, shipment.dispatched_at))
            movements.append(
                (
                    shipment.dispatched_at,
                    MovementKind.DISPATCH,
                    WAREHOUSE,
                    transit,
                    lot,
                    vials,
                    "shipments",
                    shipment_id,
                )
            )
            movements.append(
                (
                    shipment.received_at,
                    MovementKind.RECEIPT,
                    transit,
                    site_location(site_id),
                    lot,
                    vials,
                    "receipts",
                    receipt_id,
                )
            )
        receipts.append(
            {
                "id": receipt_id,
                "shipment_id": shipment_id,
                "site_id": site_id,
                "received_at": shipment.received_at,
                "note": None,
                "payload_hash": payload_hash(
                    {
                        "id": str(receipt_id),
                        "shipment_id": str(shipment_id),
                        "site_id": str(site_id),
                        "received_at": shipment.received_at.isoformat(),
                        "note": None,
                        "lines": [
                            {"lot_id": str(lot_ids[lot]), "quantity_vials": vials}
                            for lot, vials in shipment.lines
                        ],
                    }
                ),
                "origin_site_id": None,
                "stored_at": shipment.received_at,
                "created_at": shipment.received_at,
                "created_by": ACTOR,
            }
        )
    shipment_line_ids = _ids(seed, "shipment_lines", [p[3] for p in line_plain]).all()
    for n, (s, lot, vials, at) in enumerate(line_plain):
        shipment_lines.append(
            {
                "id": shipment_line_ids[n],
                "shipment_id": shipment_ids[s],
                "lot_id": lot_ids[lot],
                "quantity_vials": vials,
                "created_at": at,
                "created_by": ACTOR,
            }
        )
    movement_ids = _ids(seed, "stock_movements", [m[0] for m in movements]).all()
    movement_rows = [
        {
            "id": movement_ids[n],
            "kind": kind.value if isinstance(kind, MovementKind) else kind,
            "occurred_at": at,
            "from_location": source,
            "to_location": target,
            "lot_id": lot_ids[lot],
            "quantity_vials": vials,
            "reference_table": table,
            "reference_id": reference,
            "origin_site_id": None,
            "stored_at": at,
            "created_at": at,
            "created_by": ACTOR,
        }
        for n, (at, kind, source, target, lot, vials, table, reference) in enumerate(movements)
    ]
    return StockRows(
        purchase_orders=orders,
        purchase_order_lines=order_lines,
        deliveries=deliveries,
        lots=lots,
        shipments=shipments,
        shipment_lines=shipment_lines,
        receipts=receipts,
        movements=movement_rows,
    )
