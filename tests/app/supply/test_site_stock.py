"""Receiving, counting and recalls at the site, on a real site store."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.local_db import models as m
from app.local_db.unit_of_work import session_scope
from app.services import errors
from app.services.recalls import quarantine_recalled, recalled_lots, stock_warnings
from app.services.receiving import (
    CartonCountInvalid,
    CartonScan,
    ShipmentAlreadyReceived,
    ShipmentNotFound,
    check_scan,
    pending_shipments,
    receive_shipment,
)
from app.services.stock_count import CountedLot, CountNegative, expected_stock, record_count
from app.services.vials import open_vial
from domain.gs1 import parse_gs1
from domain.ids import uuid7
from tests.app.services.site import COMIRNATY, MANAGER, NOW, NURSE, SITE_ID, ClinicSite, label

REFERENCE = "SH-20210601-RS-BG-042-ABC123"
EXPIRY = date(2021, 12, 31)


def _notice(clinic: ClinicSite, lines: dict[str, int]) -> None:
    """A shipment notice as the site's pull stores it."""
    with session_scope(clinic.engine) as session:
        shipment = m.Shipment(
            id=uuid7(), reference=REFERENCE, site_id=SITE_ID, dispatched_at=NOW,
            expected_on=NOW.date(), created_at=NOW,
        )  # fmt: skip
        session.add(shipment)
        session.flush()
        for lot, vials in lines.items():
            session.add(
                m.ShipmentLine(
                    id=uuid7(), shipment_id=shipment.id, product_code="comirnaty", gtin=COMIRNATY,
                    lot_number=lot, expiry_date=EXPIRY, vial_count=vials, created_at=NOW,
                )
            )  # fmt: skip


def _carton(lot: str) -> CartonScan:
    return CartonScan(parse_gs1(f"(01){COMIRNATY}(17){EXPIRY:%y%m%d}(10){lot}"), 1)


def _receive(clinic: ClinicSite) -> None:
    _notice(clinic, {"A": 10, "B": 1})
    receive_shipment(
        clinic.engine,
        clinic.clock,
        NURSE,
        REFERENCE,
        [
            CartonScan(_carton("A").label, 6),
            CartonScan(_carton("A").label, 3, damaged_vials=1),
            CartonScan(_carton("X").label, 2),
            CartonScan(label(lot="B", expiry=EXPIRY, serial="VB1"), 1),
        ],
    )


def test_receiving_records_every_difference_and_queues_it(clinic: ClinicSite) -> None:
    _notice(clinic, {"A": 10, "B": 1})
    (notice,) = pending_shipments(clinic.engine)
    assert [(x.lot_number, x.vials) for x in notice.lines] == [("A", 10), ("B", 1)]
    check = check_scan(clinic.engine, clinic.clock, REFERENCE, _carton("X").label, 2)
    assert (check.on_shipment, check.sent_vials, check.recalled_reason) == (False, 0, None)

    result = receive_shipment(
        clinic.engine,
        clinic.clock,
        NURSE,
        REFERENCE,
        [
            CartonScan(_carton("A").label, 6),
            CartonScan(_carton("A").label, 3, damaged_vials=1),
            CartonScan(_carton("X").label, 2),
            CartonScan(label(lot="B", expiry=EXPIRY, serial="VB1"), 1),
        ],
        cold_chain_ok=False,
    )

    found = {
        (d.kind.value, d.lot_number, d.expected_vials, d.received_vials) for d in result.differences
    }
    assert found == {
        ("missing", "A", 10, 9),
        ("damaged", "A", 9, 8),
        ("wrong_lot", "X", 0, 2),
        ("temperature_excursion", None, 0, 0),
    }
    assert result.vials_registered == 1
    queued = clinic.outbox()
    kinds = [kind for kind, _ in queued]
    assert kinds == ["receipt", *["receipt_discrepancy"] * 4, "vial_event"]
    assert queued[0][1]["shipment_reference"] == REFERENCE
    assert queued[0][1]["cold_chain_ok"] is False
    wire = {(p["kind"], p["lot_number"]) for k, p in queued if k == "receipt_discrepancy"}
    assert wire == {("short", "A"), ("damaged", "A"), ("wrong_lot", "X"), ("temperature", None)}
    assert queued[-1][1]["kind"] == "received"
    assert queued[-1][1]["serial"] == "VB1"
    assert pending_shipments(clinic.engine) == []


def test_receiving_refuses_what_does_not_add_up(clinic: ClinicSite) -> None:
    _notice(clinic, {"A": 10})
    with pytest.raises(ShipmentNotFound):
        receive_shipment(clinic.engine, clinic.clock, NURSE, "SH-NOPE", [_carton("A")])
    with pytest.raises(CartonCountInvalid):
        receive_shipment(
            clinic.engine, clinic.clock, NURSE, REFERENCE, [CartonScan(_carton("A").label, 2, 3)]
        )
    with pytest.raises(errors.LabelIncomplete):
        receive_shipment(
            clinic.engine,
            clinic.clock,
            NURSE,
            REFERENCE,
            [CartonScan(parse_gs1(f"(01){COMIRNATY}(10)A"), 1)],
        )
    with pytest.raises(errors.UnknownVaccine):
        receive_shipment(
            clinic.engine, clinic.clock, NURSE, REFERENCE,
            [CartonScan(parse_gs1("(01)09520000999995(17)211231(10)A"), 1)],
        )  # fmt: skip
    assert clinic.outbox() == []
    receive_shipment(
        clinic.engine, clinic.clock, NURSE, REFERENCE, [CartonScan(_carton("A").label, 10)]
    )
    with pytest.raises(ShipmentAlreadyReceived):
        receive_shipment(
            clinic.engine, clinic.clock, NURSE, REFERENCE, [CartonScan(_carton("A").label, 10)]
        )


def test_a_count_compares_with_the_books_and_the_books_follow_the_count(clinic: ClinicSite) -> None:
    _receive(clinic)
    books = {(x.lot_number): x.expected_vials for x in expected_stock(clinic.engine)}
    assert books == {"A": 8, "B": 1, "X": 2}
    open_vial(clinic.engine, clinic.clock, NURSE, label(lot="A", expiry=EXPIRY), rules=clinic.rules)
    assert {x.lot_number: x.expected_vials for x in expected_stock(clinic.engine)}["A"] == 7

    with pytest.raises(errors.ManagerRequired):
        record_count(clinic.engine, clinic.clock, NURSE, [CountedLot(COMIRNATY, "A", 6)])
    with pytest.raises(CountNegative):
        record_count(clinic.engine, clinic.clock, MANAGER, [CountedLot(COMIRNATY, "A", -1)])
    clinic.clock.advance(timedelta(minutes=5))
    result = record_count(
        clinic.engine, clinic.clock, MANAGER, [CountedLot(COMIRNATY, "A", 6)], complete=True
    )

    assert {(d.lot_number, d.expected_vials, d.counted_vials) for d in result.differences} == {
        ("A", 7, 6),
        ("B", 1, 0),
        ("X", 2, 0),
    }
    kind, payload = clinic.outbox()[-1]
    assert kind == "stock_count"
    lines = {(x["lot_number"], x["expected_vials"], x["counted_vials"]) for x in payload["lines"]}
    assert lines == {("A", 7, 6), ("B", 1, 0), ("X", 2, 0)}
    assert {x.lot_number: x.expected_vials for x in expected_stock(clinic.engine)} == {
        "A": 6, "B": 0, "X": 0,
    }  # fmt: skip


def test_a_recall_lists_vials_to_quarantine_and_citizens_dosed(clinic: ClinicSite) -> None:
    _receive(clinic)
    opened = open_vial(
        clinic.engine, clinic.clock, NURSE, label(lot="A", expiry=EXPIRY), rules=clinic.rules
    )
    dosed = clinic.citizen()
    clinic.past_dose(dosed, given=NOW - timedelta(days=3))  # lot OLD1
    clinic.recall(COMIRNATY, "A")
    clinic.recall(COMIRNATY, "OLD1")

    found = {r.lot_number: r for r in recalled_lots(clinic.engine)}

    assert [(v.vial_id, v.opened) for v in found["A"].vials_to_quarantine] == [
        (opened.vial_id, True)
    ]
    assert found["A"].vials_in_fridge == 7
    assert [c.citizen_id for c in found["OLD1"].citizens] == [dosed]
    assert found["A"].citizens == ()
    with pytest.raises(errors.LotRecalled):
        open_vial(
            clinic.engine, clinic.clock, NURSE, label(lot="A", expiry=EXPIRY), rules=clinic.rules
        )
    assert quarantine_recalled(clinic.engine, clinic.clock, NURSE, COMIRNATY, "A") == 1
    assert quarantine_recalled(clinic.engine, clinic.clock, NURSE, COMIRNATY, "A") == 0
    assert {r.lot_number: r.vials_to_quarantine for r in recalled_lots(clinic.engine)}["A"] == ()
    assert clinic.outbox()[-1][1]["reason"] == "recalled"


def test_warnings_for_lots_near_expiry_and_vials_near_their_limit(clinic: ClinicSite) -> None:
    _notice(clinic, {"SOON": 5})
    soon = NOW.date() + timedelta(days=10)
    with session_scope(clinic.engine) as session:
        for line in session.query(m.ShipmentLine).all():
            line.expiry_date = soon
    receive_shipment(
        clinic.engine, clinic.clock, NURSE, REFERENCE,
        [CartonScan(parse_gs1(f"(01){COMIRNATY}(17){soon:%y%m%d}(10)SOON"), 5)],
    )  # fmt: skip
    opened = open_vial(
        clinic.engine, clinic.clock, NURSE, label(lot="SOON", expiry=soon), rules=clinic.rules
    )

    early = stock_warnings(clinic.engine, clinic.clock)
    clinic.clock.advance(timedelta(hours=5, minutes=30))  # Comirnaty: 6 hours after opening
    late = stock_warnings(clinic.engine, clinic.clock)

    assert [(x.lot_number, x.days_left, x.vials) for x in early.lots] == [("SOON", 10, 4)]
    assert early.vials == ()
    assert [(v.vial_id, v.minutes_left) for v in late.vials] == [(opened.vial_id, 30)]
