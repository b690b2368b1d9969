"""A small campaign world for stock tests: sites, cartons, citizens, helpers."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Final

from sqlalchemy import select

from central.db import StockMovement
from central.services.context import Hub
from central.stock.deliveries import Carton, carton_from_scan, receive_delivery
from central.stock.positions import positions
from central.stock.purchase_orders import OrderLine, create_purchase_order
from tests.central.api.conftest import Api

COMIRNATY_GTIN: Final = "09520000100018"
SPIKEVAX_GTIN: Final = "09520000100117"
ACTOR: Final = "staff:test"
START: Final = date(2021, 6, 2)  # the day after the tests' NOW


def scan(gtin: str, lot: str, expiry: date) -> str:
    """The bracketed GS1 element string of a carton label."""
    return f"(01){gtin}(17){expiry:%y%m%d}(10){lot}"


def stocked_warehouse(hub: Hub) -> None:
    """Order and deliver two Comirnaty lots (EARLY expires first) and one Spikevax lot."""
    create_purchase_order(
        hub,
        number="PO-1",
        lines=[OrderLine("comirnaty", 1000), OrderLine("spikevax", 200)],
        actor=ACTOR,
    )
    receive_delivery(
        hub,
        [
            carton_from_scan(scan(COMIRNATY_GTIN, "LATE1", date(2021, 12, 31)), 300),
            carton_from_scan(scan(COMIRNATY_GTIN, "LATE1", date(2021, 12, 31)), 300),
            carton_from_scan(scan(COMIRNATY_GTIN, "EARLY1", date(2021, 6, 30)), 400),
            Carton(SPIKEVAX_GTIN, "SPK1", date(2021, 10, 31), 200),
        ],
        purchase_order="PO-1",
        actor=ACTOR,
    )


def sites(api: Api, *codes: str) -> None:
    for code in codes:
        api.add_site(code)


def movement_sums(hub: Hub) -> dict[tuple[str, object], int]:
    """Positions computed the slow, obvious way: every movement, in Python."""
    totals: dict[tuple[str, object], int] = defaultdict(int)
    with hub.sessions() as session:
        for m in session.scalars(select(StockMovement)):
            totals[(m.to_location, m.lot_id)] += m.quantity_vials
            totals[(m.from_location, m.lot_id)] -= m.quantity_vials
    return {k: v for k, v in totals.items() if v != 0}


def all_positions(hub: Hub) -> dict[tuple[str, object], int]:
    with hub.sessions() as session:
        return dict(positions(session))
