"""The database itself protects the data: uniqueness, checks, references, immutability."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, text, update
from sqlalchemy.exc import IntegrityError

from central.db import DoseRecord, DoseRecordKind, StockMovement, make_engine, upgrade_to_head
from domain.ids import uuid7
from tests.central.conftest import T0, Rows


def test_a_jmbg_is_registered_once(rows: Rows) -> None:
    rows.citizen(jmbg="0101950710008")

    with pytest.raises(IntegrityError, match=r"(?i)unique|duplicate"):
        rows.citizen(jmbg="0101950710008")


def test_dose_records_cannot_be_updated(rows: Rows, db_engine: Engine) -> None:
    site = rows.site()
    dose = rows.dose(rows.citizen(), site, rows.nurse(site), rows.lot())
    rows.session.commit()

    with pytest.raises(IntegrityError, match="append-only"):
        rows.session.execute(
            update(DoseRecord).where(DoseRecord.id == dose.id).values(dose_number=2)
        )
    rows.session.rollback()

    # Not through the ORM either, and not by changing the object.
    with db_engine.begin() as connection, pytest.raises(IntegrityError, match="append-only"):
        connection.execute(text("UPDATE dose_records SET injection_site = 'right_arm'"))
    dose.lot_id = rows.lot().id
    with pytest.raises(IntegrityError, match="append-only"):
        rows.session.flush()


def test_dose_records_cannot_be_deleted(rows: Rows) -> None:
    site = rows.site()
    dose = rows.dose(rows.citizen(), site, rows.nurse(site), rows.lot())
    rows.session.commit()

    with pytest.raises(IntegrityError, match="append-only"):
        rows.session.execute(delete(DoseRecord).where(DoseRecord.id == dose.id))
    rows.session.rollback()

    assert rows.session.get(DoseRecord, dose.id) is not None


@pytest.mark.postgres
def test_append_only_tables_cannot_be_truncated_on_postgresql(pg_url: str) -> None:
    upgrade_to_head(pg_url)
    engine = make_engine(pg_url)
    try:
        with engine.begin() as connection, pytest.raises(IntegrityError, match="append-only"):
            connection.execute(text("TRUNCATE dose_records CASCADE"))
    finally:
        engine.dispose()


def test_a_correction_is_a_new_record_voiding_the_old_one(rows: Rows) -> None:
    site = rows.site()
    citizen, nurse, lot = rows.citizen(), rows.nurse(site), rows.lot()
    wrong = rows.dose(citizen, site, nurse, lot, injection_site="left_arm")

    fixed = rows.dose(
        citizen,
        site,
        nurse,
        lot,
        kind=DoseRecordKind.CORRECTION,
        voids_dose_id=wrong.id,
        correction_reason="right arm, typed wrong",
        injection_site="right_arm",
        administered_at=T0 + timedelta(minutes=5),
    )

    assert fixed.voids_dose_id == wrong.id


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"kind": "correction"}, id="correction-without-target"),
        pytest.param({"correction_reason": "why not"}, id="reason-without-void"),
        pytest.param({"dose_number": 0}, id="dose-number-zero"),
        pytest.param({"injection_site": "forehead"}, id="unknown-injection-site"),
        pytest.param({"kind": "deleted"}, id="unknown-kind"),
    ],
)
def test_invalid_dose_records_are_refused(rows: Rows, fields: dict[str, object]) -> None:
    site = rows.site()
    citizen, nurse, lot = rows.citizen(), rows.nurse(site), rows.lot()

    with pytest.raises(IntegrityError, match=r"(?i)check"):
        rows.dose(citizen, site, nurse, lot, **fields)


def test_a_dose_cannot_void_itself(rows: Rows) -> None:
    site = rows.site()
    citizen, nurse, lot = rows.citizen(), rows.nurse(site), rows.lot()
    dose_id = uuid7()

    with pytest.raises(IntegrityError):
        rows.dose(
            citizen,
            site,
            nurse,
            lot,
            id=dose_id,
            kind="retraction",
            voids_dose_id=dose_id,
            correction_reason="oops",
        )


@pytest.mark.parametrize("quantity", [0, -5])
def test_stock_movements_move_a_positive_number_of_vials(rows: Rows, quantity: int) -> None:
    lot = rows.lot()

    with pytest.raises(IntegrityError, match=r"(?i)check"):
        rows._add(
            StockMovement(
                kind="delivery",
                occurred_at=T0,
                from_location="supplier",
                to_location="warehouse",
                lot_id=lot.id,
                quantity_vials=quantity,
                created_at=T0,
                created_by="staff:test",
                stored_at=T0,
            )
        )


def test_references_are_enforced(rows: Rows) -> None:
    site = rows.site()
    nurse = rows.nurse(site)

    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        rows.dose(rows.citizen(), site, nurse, rows.lot(), lot_id=uuid.uuid4())


def test_a_gtin_is_stored_as_gtin_14(rows: Rows) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)check"):
        rows.lot(gtin="9520000000016")
