"""Vial events and stock counts pushed by a site become movements, once each."""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import select

from central.db import Lot, StockCount, Vial, VialEvent
from central.services.context import Hub
from central.stock.deliveries import Carton, receive_delivery
from central.stock.locations import ADMINISTERED, UNACCOUNTED, WASTE, site_location
from central.stock.site_facts import settle
from central.stock.sites import find_site
from tests.central.api.conftest import NOW
from tests.central.stock.world import ACTOR, COMIRNATY_GTIN, all_positions, movement_sums


def test_openings_unopened_discards_and_counts_are_booked_once(hub: Hub) -> None:
    receive_delivery(hub, [Carton(COMIRNATY_GTIN, "F1", date(2021, 12, 31), 10)], actor=ACTOR)
    with hub.sessions() as session, session.begin():
        site = find_site(session, "NS-001")
        lot = session.scalars(select(Lot)).one()

        def vial(serial: str, *kinds: str) -> None:
            row = Vial(lot_id=lot.id, serial=serial, site_id=site.id, origin_site_id=site.id,
                       stored_at=NOW, created_at=NOW, created_by="x")  # fmt: skip
            session.add(row)
            session.flush()
            for kind in kinds:
                session.add(
                    VialEvent(
                        vial_id=row.id, site_id=site.id, kind=kind, occurred_at=NOW,
                        reason="broken" if kind == "discarded" else None,
                        payload_hash=hashlib.sha256(f"{serial}{kind}".encode()).hexdigest(),
                        origin_site_id=site.id, stored_at=NOW, created_at=NOW, created_by="x",
                    )
                )  # fmt: skip

        vial("A", "received", "opened", "dose_drawn", "discarded")
        vial("B", "received", "discarded")
        session.add(
            StockCount(
                site_id=site.id, lot_id=lot.id, counted_at=NOW, counted_vials=3, expected_vials=5,
                payload_hash="0" * 64, origin_site_id=site.id, stored_at=NOW, created_at=NOW,
                created_by="x",
            )
        )  # fmt: skip
        first = settle(session, at=NOW)
        again = settle(session, at=NOW)

    assert (first.vial_events, first.stock_counts) == (2, 1)
    assert (again.vial_events, again.stock_counts) == (0, 0)
    found = all_positions(hub)
    assert found == movement_sums(hub)
    assert found[(ADMINISTERED, lot.id)] == 1  # A: opened (its discard moves nothing more)
    assert found[(WASTE, lot.id)] == 1  # B: discarded unopened
    assert found[(UNACCOUNTED, lot.id)] == 2  # the count found two fewer
    assert found[(site_location(site.id), lot.id)] == -4  # nothing was ever received here
