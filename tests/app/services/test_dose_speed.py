"""Scan to recorded dose on a busy day's store: the figure issue #6 asks for.

Not a timed assertion (timing belongs to benchmarks): the test checks that
200 doses on a 5,000-row day are all recorded correctly and prints the
median of check_vial + record_dose and the roster load time, which the
report quotes. Run with ``pytest -m slow tests/app/services/test_dose_speed.py -s``.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

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
