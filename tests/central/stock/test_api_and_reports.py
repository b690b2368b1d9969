"""The stock API for staff, and the reports it serves, on a served hub (both engines)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from central.cli import app as cli_app
from central.db import Lot, Site, Vial, VialEvent
from central.db.enums import StaffRole
from central.stock.reports import DAMAGED_ON_THE_ROAD
from domain.ids import uuid7
from tests.central.api.conftest import NOW, Api
from tests.central.conftest import Rows
from tests.central.stock.world import COMIRNATY_GTIN, START, scan


def _post(api: Api, token: str, path: str, body: object) -> dict:  # type: ignore[type-arg]
    response = api.client.post(f"/v1/stock{path}", json=body, headers=api.staff_headers(token))
    assert response.status_code == 200, response.text
    result = response.json()
    assert isinstance(result, dict | list)
    return result  # type: ignore[return-value]


def test_the_chain_through_the_api_and_the_wastage_it_reports(api: Api) -> None:
    api.add_site("NS-001")
    admin = api.staff_token()
    viewer = api.staff_token(StaffRole.CENTRAL_VIEWER)
    _post(
        api,
        admin,
        "/purchase-orders",
        {"number": "PO-1", "lines": [{"product_id": "comirnaty", "vials": 100}]},
    )
    carton = {"scan": scan(COMIRNATY_GTIN, "L1", date(2021, 6, 20)), "vials": 100}
    delivered = _post(api, admin, "/deliveries", {"purchase_order": "PO-1", "cartons": [carton]})
    assert delivered["lots"][0]["vials"] == 100
    proposal = _post(api, admin, "/allocations", {"start": START.isoformat(), "days": 3})
    path = f"/allocations/{proposal['id']}"
    _post(api, admin, f"{path}/adjust", {"site_code": "NS-001", "lot_number": "L1", "vials": 10})
    _post(api, admin, f"{path}/approve", {})
    (shipment,) = _post(api, admin, f"{path}/ship", {})
    counted = {"gtin": COMIRNATY_GTIN, "lot_number": "L1", "received_vials": 8, "damaged_vials": 2}
    received = _post(
        api, admin, f"/shipments/{shipment['reference']}/receipt",
        {"site_code": "NS-001", "lots": [counted]},
    )  # fmt: skip
    assert received["discrepancies"] == [["damaged", "L1", 10, 8]]

    # Refusals: no token, a viewer writing, a conflict, a bad label.
    assert api.client.get("/v1/stock/positions").status_code == 401
    forbidden = api.client.post(
        "/v1/stock/recalls",
        json={"lot_number": "L1", "reason": "x"},
        headers=api.staff_headers(viewer),
    )
    assert forbidden.status_code == 403
    again = api.client.post(f"/v1/stock{path}/ship", json={}, headers=api.staff_headers(admin))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "stock.allocation_already_shipped"
    bad = api.client.post(
        "/v1/stock/deliveries",
        json={"cartons": [{"scan": "(01)09520000100019(10)X", "vials": 1}]},
        headers={**api.staff_headers(admin), "Accept-Language": "sr-Latn"},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"].startswith("gs1.")

    # At the site: a vial opened, 4 doses drawn, then discarded past its time limit.
    with api.hub.sessions() as session, session.begin():
        site = session.scalars(select(Site)).one()
        lot = session.scalars(select(Lot)).one()
        vial = Vial(lot_id=lot.id, serial="V1", site_id=site.id, origin_site_id=site.id,
                    stored_at=NOW, created_at=NOW, created_by="site-user:x")  # fmt: skip
        session.add(vial)
        session.flush()
        opened = NOW + timedelta(hours=1)
        kinds = ["opened", "dose_drawn", "dose_drawn", "dose_drawn", "dose_drawn", "discarded"]
        for n, kind in enumerate(kinds):
            session.add(
                VialEvent(
                    vial_id=vial.id, site_id=site.id, kind=kind,
                    occurred_at=opened + timedelta(minutes=n),
                    reason="open too long" if kind == "discarded" else None,
                    payload_hash=hashlib.sha256(kind.encode()).hexdigest(),
                    origin_site_id=site.id, stored_at=NOW, created_at=NOW, created_by="x",
                )
            )  # fmt: skip
        rows = Rows(session)
        nurse = rows.nurse(site)
        for _ in range(4):
            rows.dose(rows.citizen(), site, nurse, lot, id=uuid7(), administered_at=opened)
    day = NOW.date().isoformat()
    usage = api.client.get(
        "/v1/stock/reports/usage",
        params={"from": day, "to": day},
        headers=api.staff_headers(viewer),
    ).json()
    assert usage == [
        {"site_code": "NS-001", "product_id": "comirnaty", "day": day, "vials_opened": 1,
         "doses_in_opened_vials": 6, "doses_drawn": 4, "doses_recorded": 4}
    ]  # fmt: skip
    wastage = api.client.get(
        "/v1/stock/reports/wastage",
        params={"from": day, "to": day},
        headers=api.staff_headers(viewer),
    ).json()
    assert {(w["reason"], w["vials"], w["doses_lost"]) for w in wastage} == {
        ("open too long", 1, 2),
        (DAMAGED_ON_THE_ROAD, 2, 12),
    }
    expiring = api.client.get(
        "/v1/stock/reports/expiring", params={"within": 30}, headers=api.staff_headers(viewer)
    ).json()
    assert {(e["location"], e["vials"], e["days_left"]) for e in expiring} == {
        ("warehouse", 90, 19),
        (f"site:{site.id}", 8, 19),
    }
    cover = api.client.get("/v1/stock/reports/cover", headers=api.staff_headers(viewer)).json()
    assert cover == [
        {"site_code": "NS-001", "product_id": "comirnaty", "vials": 8, "doses": 48,
         "doses_booked": 0, "days_of_cover": None}
    ]  # fmt: skip


def test_the_cli_prints_positions_and_reports(tmp_path: object) -> None:
    db = f"sqlite:///{tmp_path}/hub.sqlite"
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli_app, ["stock", *args, "--db", db])
        assert result.exit_code == 0, result.output
        return result.output

    run("order", "--number", "PO-7", "--product", "comirnaty=50")
    label = scan(COMIRNATY_GTIN, "C1", datetime.now(UTC).date() + timedelta(days=10))
    run("deliver", "--order", "PO-7", "--carton", f"{label}=50")
    assert "delivered" in run("orders")
    positions = run("positions")
    assert "warehouse" in positions
    assert positions.splitlines()[-1].split()[-1] == "50"
    assert "C1" in run("expiring", "--within", "30")
    refused = runner.invoke(cli_app, ["stock", "recall", "NOPE", "--reason", "x", "--db", db])
    assert refused.exit_code == 1
    assert "There is no lot 'NOPE'" in refused.output


def test_odd_input_is_refused_in_the_error_shape_never_a_server_error(api: Api) -> None:
    api.add_site("NS-001")
    admin = api.staff_headers(api.staff_token())
    huge = {"scan": scan(COMIRNATY_GTIN, "L", date(2021, 7, 1)), "vials": 10**12}
    nowhere = {"from_site_code": "NS-001", "to_site_code": "NOPE"}
    odd = [
        ("post", "/allocations", {"start": "9999-12-31", "days": 28}),
        ("post", "/allocations", {"start": "2021-06-02", "days": 0}),
        ("post", f"/allocations/{uuid7()}/approve", {}),
        ("post", "/deliveries", {"cartons": [huge]}),
        ("post", "/transfers", {**nowhere, "lines": [{"lot_number": "X", "vials": 1}]}),
        ("post", "/recalls", {"lot_number": "NOPE", "reason": "x"}),
        ("post", "/returns/RT-NOPE/receive", {}),
        ("get", "/reports/usage?from=0001-01-01&to=9999-12-31", None),
        ("get", "/reports/expiring?within=3650", None),
    ]  # fmt: skip
    for method, path, body in odd:
        response = api.client.request(method, f"/v1/stock{path}", json=body, headers=admin)
        assert response.status_code < 500, (path, response.text)
        if response.status_code >= 400:
            assert response.json()["error"]["code"], path
