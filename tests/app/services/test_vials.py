"""Vials: labels to vials, the fold over events, and the refusals of each transition."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.local_db import models as m
from app.local_db.unit_of_work import session_scope
from app.services import errors
from app.services.check_in import check_in
from app.services.vaccinate import InjectionSite, check_vial, record_dose
from app.services.vials import (
    VialEventFact,
    discard_vial,
    draw_in,
    fold_vial,
    label_product,
    open_vial,
    state_of,
    vial_label,
    vial_status,
)
from app.services.workplace import site_here
from domain.gs1 import GS, encode_gs1, parse_gs1
from domain.i18n import message
from tests.app.services.site import (
    BBIBP,
    COMIRNATY,
    NOW,
    NURSE,
    RULES,
    SPUTNIK_1,
    ClinicSite,
    label,
)

LOTS = st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789-", min_size=1, max_size=20)


@given(
    gtin=st.sampled_from([g for p in RULES.catalogue.products for g in p.gtins]),
    lot=LOTS,
    serial=LOTS,
    expiry=st.dates(date(2021, 1, 1), date(2035, 12, 31)),
)
def test_any_scanned_vaccine_label_gives_its_product_lot_expiry_and_serial(
    gtin: str, lot: str, serial: str, expiry: date
) -> None:
    scanned = parse_gs1(encode_gs1(gtin, expiry, lot, serial, separator=GS))
    vial = vial_label(scanned)
    assert (vial.gtin, vial.lot_number, vial.serial, vial.expiry_date) == (
        gtin,
        lot,
        serial,
        expiry,
    )
    assert gtin in label_product(vial.gtin, RULES).gtins


@given(
    kinds=st.lists(st.sampled_from(list(m.VialEventKind)), max_size=12),
    minutes=st.integers(1, 600),
)
def test_the_fold_counts_draws_and_keeps_the_first_open_and_discard(
    kinds: list[m.VialEventKind], minutes: int
) -> None:
    vial = m.Vial(
        id=uuid.uuid4(),
        gtin=COMIRNATY,
        lot_number="L",
        serial="S",
        expiry_date=date(2021, 12, 31),
        product_code="comirnaty",
        doses_per_vial=6,
    )
    events = [
        VialEventFact(kind, NOW + timedelta(minutes=i), f"r{i}") for i, kind in enumerate(kinds)
    ]
    state = fold_vial(vial, reversed(events), minutes)  # order of arrival does not matter
    drawn = kinds.count(m.VialEventKind.DOSE_DRAWN)
    assert state.doses_drawn == drawn
    assert state.doses_left == max(6 - drawn, 0)
    if m.VialEventKind.OPENED in kinds:
        opened = NOW + timedelta(minutes=kinds.index(m.VialEventKind.OPENED))
        assert state.opened_at == opened
        assert state.use_by == opened + timedelta(minutes=minutes)
    else:
        assert state.use_by is None
    if m.VialEventKind.DISCARDED in kinds:
        assert state.discard_reason == f"r{kinds.index(m.VialEventKind.DISCARDED)}"
    assert state.is_discarded == (m.VialEventKind.DISCARDED in kinds)


def test_opening_starts_the_use_by_and_a_second_open_is_refused(clinic: ClinicSite) -> None:
    scan = label(SPUTNIK_1, "GAM1", serial="SV1")
    assert vial_status(clinic.engine, clinic.clock, scan) is None
    opened = open_vial(clinic.engine, clinic.clock, NURSE, scan)
    assert opened.opened_at == NOW
    assert opened.use_by == NOW + timedelta(minutes=120)  # Sputnik V: 2 hours
    assert opened.doses_left == 5
    with pytest.raises(errors.VialAlreadyOpened) as raised:
        open_vial(clinic.engine, clinic.clock, NURSE, scan)
    assert "10:00" in str(raised.value)  # local time at the site
    assert [kind for kind, _ in clinic.outbox()] == ["vial_event"]
    payload = clinic.outbox()[0][1]
    assert (payload["kind"], payload["serial"], payload["lot_number"]) == ("opened", "SV1", "GAM1")


def test_a_recalled_lot_cannot_be_opened(clinic: ClinicSite) -> None:
    clinic.recall(COMIRNATY, "BAD")
    with pytest.raises(errors.LotRecalled):
        open_vial(clinic.engine, clinic.clock, NURSE, label(COMIRNATY, "BAD"))


def test_more_doses_than_the_vial_holds_are_refused(clinic: ClinicSite) -> None:
    scan = label(BBIBP, "SIN1", serial="ONE")  # single-dose vials
    first = clinic.appointment(clinic.citizen(), product="bbibp")
    second = clinic.appointment(clinic.citizen(), product="bbibp")
    for appointment_id in (first, second):
        check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    dose = record_dose(clinic.engine, clinic.clock, NURSE, first, scan, InjectionSite.LEFT_DELTOID)
    assert dose.vial_doses_left == 0
    check = check_vial(clinic.engine, clinic.clock, second, scan)
    assert [type(r) for r in check.refusals] == [errors.VialEmpty]
    with pytest.raises(errors.VialEmpty):
        record_dose(clinic.engine, clinic.clock, NURSE, second, scan, InjectionSite.LEFT_DELTOID)


def test_drawing_from_an_unopened_vial_is_refused(clinic: ClinicSite) -> None:
    """The session-level draw refuses; `record_dose` opens first, on purpose."""
    scan = vial_label(label(COMIRNATY, "L1", serial="CLOSED"))
    product = label_product(scan.gtin, RULES)
    with session_scope(clinic.engine) as session:
        site = site_here(session)
        vial = m.Vial(
            gtin=scan.gtin,
            lot_number=scan.lot_number,
            serial=scan.serial,
            expiry_date=scan.expiry_date,
            product_code=product.id,
            doses_per_vial=product.doses_per_vial,
            origin_site_id=site.site_id,
            created_at=NOW,
        )
        session.add(vial)
        session.flush()
        state = state_of(session, vial, product)
        with pytest.raises(errors.VialNotOpened):
            draw_in(session, vial, state, site, NURSE, NOW, None)


def test_discard_needs_a_reason_and_happens_once(clinic: ClinicSite) -> None:
    scan = label(COMIRNATY, "L2", serial="DROP")
    with pytest.raises(errors.VialNotFound):
        discard_vial(clinic.engine, clinic.clock, NURSE, scan, "broken")
    open_vial(clinic.engine, clinic.clock, NURSE, scan)
    with pytest.raises(errors.DiscardReasonRequired):
        discard_vial(clinic.engine, clinic.clock, NURSE, scan, "   ")
    state = discard_vial(clinic.engine, clinic.clock, NURSE, scan, " dropped  on the floor ")
    assert state.is_discarded
    assert state.discard_reason == "dropped on the floor"
    with pytest.raises(errors.VialDiscarded) as raised:
        discard_vial(clinic.engine, clinic.clock, NURSE, scan, "again")
    assert "dropped on the floor" in str(raised.value)
    assert "odbačena" in message(raised.value, "sr-Latn")
    discarded = [p for kind, p in clinic.outbox() if p["kind"] == "discarded"]
    assert [p["reason"] for p in discarded] == ["dropped on the floor"]


def test_a_discarded_vial_is_refused_at_the_desk(clinic: ClinicSite) -> None:
    scan = label(COMIRNATY, "L3", serial="GONE")
    open_vial(clinic.engine, clinic.clock, NURSE, scan)
    discard_vial(clinic.engine, clinic.clock, NURSE, scan, "broken")
    appointment_id = clinic.appointment(clinic.citizen())
    check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    check = check_vial(clinic.engine, clinic.clock, appointment_id, scan)
    assert [type(r) for r in check.refusals] == [errors.VialDiscarded]


def test_a_serial_seen_with_another_lot_is_refused(clinic: ClinicSite) -> None:
    open_vial(clinic.engine, clinic.clock, NURSE, label(COMIRNATY, "REAL", serial="DUP"))
    appointment_id = clinic.appointment(clinic.citizen())
    check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    check = check_vial(
        clinic.engine, clinic.clock, appointment_id, label(COMIRNATY, "FAKE", serial="DUP")
    )
    assert [type(r) for r in check.refusals] == [errors.VialLabelMismatch]
