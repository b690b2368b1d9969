"""The vial list a manager reads: vials in use, and those finished lately, folded in two queries."""

from __future__ import annotations

from datetime import timedelta

from app.services.vials import discard_vial, open_vial, site_vials
from tests.app.services.site import COMIRNATY, NURSE, ClinicSite, label


def test_lists_open_and_unopened_vials_with_their_use_by(clinic: ClinicSite) -> None:
    first, second = label(COMIRNATY, "LOT-A"), label(COMIRNATY, "LOT-B")
    open_vial(clinic.engine, clinic.clock, NURSE, first)
    open_vial(clinic.engine, clinic.clock, NURSE, second)
    discard_vial(clinic.engine, clinic.clock, NURSE, second, "broken")

    listed = site_vials(clinic.engine, clinic.clock)

    assert [(v.lot_number, v.is_open, v.is_discarded) for v in listed] == [
        ("LOT-A", True, False),
        ("LOT-B", True, True),
    ]
    minutes = clinic.rules.catalogue.by_gtin(COMIRNATY).minutes_usable_after_opening
    opened = listed[0]
    assert opened.use_by is not None
    assert opened.opened_at is not None
    assert opened.use_by - opened.opened_at == timedelta(minutes=minutes)


def test_vials_finished_long_ago_drop_off_the_list(clinic: ClinicSite) -> None:
    old, recent = label(COMIRNATY, "OLD"), label(COMIRNATY, "NEW")
    open_vial(clinic.engine, clinic.clock, NURSE, old)
    discard_vial(clinic.engine, clinic.clock, NURSE, old, "broken")
    clinic.clock.advance(timedelta(days=3))
    open_vial(clinic.engine, clinic.clock, NURSE, recent)

    lots = [v.lot_number for v in site_vials(clinic.engine, clinic.clock)]
    assert lots == ["NEW"]
    everything = site_vials(clinic.engine, clinic.clock, finished_within=timedelta(days=7))
    assert [v.lot_number for v in everything] == ["NEW", "OLD"]
