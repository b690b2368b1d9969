"""Scan to recorded dose on a busy day's store: the figure issue #6 asks for.

Not a timed assertion (timing belongs to benchmarks): the slow test checks
that 200 doses on a 5,000-row day are all recorded correctly and prints the
median of check_vial + record_dose and the roster load time, which the
report quotes. Run with ``pytest -m slow tests/app/services/test_dose_speed.py -s``.

What keeps it fast is checked without a clock: every statement of the dose
path is answered from an index, and each fact is read once (a statement
budget, which per-row ORM loads, repeated lookups or autoflushes would break).
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.local_db import models as m
from app.local_db.unit_of_work import session_scope
from app.services.check_in import check_in
from app.services.roster import load_roster
from app.services.vaccinate import InjectionSite, check_vial, record_dose
from domain.appointment_status import AppointmentStatus
from tests.app.services.site import COMIRNATY, NURSE, ClinicSite, label, seed_day

DOSES = 200


@pytest.mark.slow
def test_scan_to_recorded_dose_on_a_5000_row_day(clinic: ClinicSite) -> None:
    appointments = seed_day(clinic, 5000)
    timings: list[float] = []
    scan = label(COMIRNATY, "EW2239")
    for i, appointment_id in enumerate(appointments[:DOSES]):
        if i % 6 == 0:
            scan = label(COMIRNATY, "EW2239")  # a new 6-dose vial
        check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
        started = time.perf_counter()
        check = check_vial(clinic.engine, clinic.clock, appointment_id, scan)
        assert check.ok, check.refusals
        record_dose(
            clinic.engine, clinic.clock, NURSE, appointment_id, scan, InjectionSite.LEFT_DELTOID
        )
        timings.append(time.perf_counter() - started)
        clinic.clock.advance(timedelta(seconds=40))

    started = time.perf_counter()
    roster = load_roster(clinic.engine, clinic.clock)
    roster_ms = (time.perf_counter() - started) * 1000

    assert roster.counts.done == DOSES
    assert sum(row.status is AppointmentStatus.DONE for row in roster.rows) == DOSES
    with session_scope(clinic.engine, write=False) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.DoseRecord)) == DOSES
    median_ms = statistics.median(timings) * 1000
    p95_ms = statistics.quantiles(timings, n=20)[-1] * 1000
    print(
        f"\nscan to recorded dose: median {median_ms:.1f} ms, p95 {p95_ms:.1f} ms "
        f"over {DOSES} doses; roster of 5,000 rows loaded in {roster_ms:.1f} ms"
    )


#: Statements of one check and one dose from an open vial, BEGIN included. Each
#: fact is one statement; raise these only for a new fact the checks need.
CHECK_BUDGET = 11
DOSE_BUDGET = 18


def test_the_dose_path_reads_each_fact_once_and_by_index(clinic: ClinicSite) -> None:
    appointments = seed_day(clinic, 300)
    scan = label(COMIRNATY, "EW2239")
    first, second = appointments[:2]
    for appointment_id in (first, second):
        check_in(clinic.engine, clinic.clock, NURSE, appointment_id)
    record_dose(clinic.engine, clinic.clock, NURSE, first, scan, InjectionSite.LEFT_DELTOID)

    statements: list[tuple[str, Any]] = []

    def log(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(clinic.engine, "before_cursor_execute", log)
    try:
        assert check_vial(clinic.engine, clinic.clock, second, scan).ok
        checked = len(statements)
        dose = record_dose(
            clinic.engine, clinic.clock, NURSE, second, scan, InjectionSite.LEFT_DELTOID
        )
    finally:
        event.remove(clinic.engine, "before_cursor_execute", log)
    assert dose.vial_doses_left == 4

    assert checked <= CHECK_BUDGET, [s for s, _ in statements[:checked]]
    assert len(statements) - checked <= DOSE_BUDGET, [s for s, _ in statements[checked:]]
    selects = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects
    with clinic.engine.connect() as connection:
        for statement, parameters in selects:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            scans = [
                detail
                for *_, detail in plan
                if detail.startswith("SCAN") and detail != "SCAN CONSTANT ROW"
            ]
            assert not scans, (statement, scans)
        connection.rollback()
