"""The roster: rows, derived statuses (by precedence) and counts, and its PDF."""

from __future__ import annotations

import io
from datetime import time, timedelta

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.local_db import models as m
from app.services import errors
from app.services.roster import Roster, load_roster, today_and_tomorrow
from app.services.roster_pdf import today_roster_pdf
from domain.appointment_status import AppointmentStatus
from tests.app.services.site import NOW, TODAY, ClinicSite, seed_day

K = m.AppointmentEventKind


def test_rows_are_in_slot_order_with_masked_jmbg_and_local_times(clinic: ClinicSite) -> None:
    late = clinic.appointment(clinic.citizen(family_name_latin="Zorić"), at=time(15, 0))
    early = clinic.appointment(clinic.citizen(family_name_latin="Babić"), at=time(8, 30))
    clinic.appointment(clinic.citizen(), day=TODAY + timedelta(days=2))  # another day
    roster = load_roster(clinic.engine, clinic.clock)
    assert [row.appointment_id for row in roster.rows] == [early, late]
    first = roster.rows[0]
    assert first.slot_start.strftime("%H:%M") == "08:30"
    assert first.jmbg_masked.endswith("******")
    assert first.family_name == "Babić"
    assert (first.product_code, first.dose_number) == ("comirnaty", 1)


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ((), AppointmentStatus.SCHEDULED),
        ((K.SCHEDULED,), AppointmentStatus.SCHEDULED),
        ((K.SCHEDULED, K.CHECKED_IN), AppointmentStatus.CHECKED_IN),
        ((K.CHECKED_IN, K.CANCELLED), AppointmentStatus.CHECKED_IN),  # crossing writes
        ((K.DONE, K.RESCHEDULED), AppointmentStatus.DONE),
        ((K.NO_SHOW, K.CANCELLED), AppointmentStatus.NO_SHOW),
        ((K.NO_SHOW, K.CHECKED_IN), AppointmentStatus.CHECKED_IN),
        ((K.CANCELLED, K.RESCHEDULED), AppointmentStatus.RESCHEDULED),  # same tier: latest
        ((K.RESCHEDULED, K.CANCELLED), AppointmentStatus.CANCELLED),
        ((K.SCHEDULED, K.CANCELLED), AppointmentStatus.CANCELLED),
    ],
)
def test_status_follows_precedence_not_arrival(
    clinic: ClinicSite, events: tuple[m.AppointmentEventKind, ...], status: AppointmentStatus
) -> None:
    clinic.appointment(clinic.citizen(), events=events)
    (row,) = load_roster(clinic.engine, clinic.clock).rows
    assert row.status is status


def test_counts_and_tomorrow(clinic: ClinicSite) -> None:
    for events in ((), (K.CHECKED_IN,), (K.CHECKED_IN, K.DONE), (K.NO_SHOW,), (K.CANCELLED,)):
        clinic.appointment(clinic.citizen(), events=events)
    clinic.appointment(clinic.citizen(), day=TODAY + timedelta(days=1))
    today, tomorrow = today_and_tomorrow(clinic.engine, clinic.clock)
    counts = today.counts
    assert (counts.booked, counts.checked_in, counts.done, counts.no_show, counts.cancelled) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert tomorrow.day == TODAY + timedelta(days=1)
    assert len(tomorrow.rows) == 1


def test_the_day_is_the_sites_local_day(clinic: ClinicSite) -> None:
    clinic.appointment(clinic.citizen())
    clinic.clock.set(NOW.replace(hour=22, minute=30))  # 00:30 the next day in Belgrade
    assert load_roster(clinic.engine, clinic.clock).day == TODAY + timedelta(days=1)


def test_five_thousand_rows_load_in_one_query(clinic: ClinicSite) -> None:
    ids = seed_day(clinic, 5000)
    clinic.appointment(clinic.citizen(), day=TODAY + timedelta(days=1))

    def selects_for(day_offset: int) -> tuple[Roster, int]:
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(clinic.engine, "before_cursor_execute", count)
        try:
            roster = load_roster(clinic.engine, clinic.clock, TODAY + timedelta(days=day_offset))
        finally:
            event.remove(clinic.engine, "before_cursor_execute", count)
        return roster, sum(s.lstrip().upper().startswith("SELECT") for s in statements)

    roster, big = selects_for(0)
    one, small = selects_for(1)
    assert len(one.rows) == 1
    assert big == small  # no query per row
    assert len(roster.rows) == 5000
    assert {row.appointment_id for row in roster.rows} == set(ids)
    assert roster.counts.booked == 5000


def test_roster_pdf_is_a4_in_serbian_with_every_row(clinic: ClinicSite) -> None:
    clinic.appointment(
        clinic.citizen(family_name_latin="Đurić", given_name_latin="Žarko"), at=time(9, 0)
    )
    seed_day(clinic, 60)
    pdf = today_roster_pdf(clinic.engine, clinic.clock)
    assert pdf.startswith(b"%PDF")
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    try:
        assert len(document) >= 2  # 61 rows do not fit one page
        width, height = document[0].get_size()
        assert (round(width), round(height)) == (595, 842)  # A4 in points
        text = "".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()
    assert "Spisak za 01.06.2021." in text
    assert "Đurić Žarko" in text
    assert "Dom zdravlja Vračar" in text
    assert text.count("Comirnaty") == 61


def test_roster_pdf_needs_an_enrolled_site(clinic: ClinicSite) -> None:
    with clinic.engine.begin() as connection:
        connection.execute(sa.delete(m.SiteIdentity))
    with pytest.raises(errors.SiteNotEnrolled):
        today_roster_pdf(clinic.engine, clinic.clock)
