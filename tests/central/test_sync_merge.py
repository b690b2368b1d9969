"""Hub-side merge rules on both engines: citizens by HLC with a conflict log, append-only facts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.local_db.models.citizens import Citizen as LocalCitizen
from app.local_db.unit_of_work import session_scope
from app.sync.citizen_writes import write_fields
from central.db import Citizen, ConflictLog, DoseRecord
from tests.app.sync.world import SiteClient, World


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    yield w
    w.close()


def _edit(site: SiteClient, citizen_id: object, **changes: object) -> None:
    with session_scope(site.store) as session:
        citizen = session.get(LocalCitizen, citizen_id)
        assert citizen is not None
        write_fields(session, citizen, changes, clock=site.hlc, now=site.clock.now())


def _local(site: SiteClient, citizen_id: object) -> LocalCitizen:
    with session_scope(site.store, write=False) as session:
        citizen = session.get(LocalCitizen, citizen_id)
        assert citizen is not None
        return citizen


def _two_sites_holding_a_citizen(world: World) -> tuple[SiteClient, SiteClient, Citizen]:
    a, b = world.add_site("MA-01"), world.add_site("MA-02")
    citizen = world.hub_citizen()
    world.book(citizen.id, a)
    world.book(citizen.id, b)
    a.sync()
    b.sync()
    return a, b, citizen


def test_concurrent_identity_edits_converge_and_are_logged(world: World) -> None:
    a, b, citizen = _two_sites_holding_a_citizen(world)
    b.clock.advance(timedelta(minutes=1))  # b writes later: b's timestamp wins
    _edit(a, citizen.id, family_name_latin="Jovanović")
    _edit(b, citizen.id, family_name_latin="Janković")
    a.sync()
    b.sync()
    a.sync()
    with world.hub.read_sessions() as session:
        assert session.get(Citizen, citizen.id).last_name_latin == "Janković"  # type: ignore[union-attr]
        conflicts = session.scalars(sa.select(ConflictLog)).all()
    assert [(c.field_name, c.kept_value, c.lost_value) for c in conflicts] == [
        ("last_name_latin", "Janković", "Jovanović")
    ]
    assert conflicts[0].kept_origin_site_id == b.site_id
    assert conflicts[0].lost_origin_site_id == a.site_id
    assert _local(a, citizen.id).family_name_latin == "Janković"
    assert _local(b, citizen.id).family_name_latin == "Janković"


def test_a_concurrent_loser_with_the_later_push_still_loses(world: World) -> None:
    a, b, citizen = _two_sites_holding_a_citizen(world)
    a.clock.advance(timedelta(minutes=5))  # a's clock is ahead: a's write wins
    _edit(a, citizen.id, given_name_latin="Ana")
    _edit(b, citizen.id, given_name_latin="Ema")
    a.sync()
    b.sync()  # pushed last, but earlier timestamp
    a.sync()
    assert world.hub_count(ConflictLog) == 1
    assert _local(a, citizen.id).given_name_latin == "Ana"
    assert _local(b, citizen.id).given_name_latin == "Ana"


def test_sequential_edits_and_non_identity_fields_are_not_conflicts(world: World) -> None:
    a, b, citizen = _two_sites_holding_a_citizen(world)
    _edit(a, citizen.id, family_name_latin="Jovanović")
    a.sync()
    b.sync()  # b sees a's write before writing
    b.clock.advance(timedelta(seconds=1))
    _edit(b, citizen.id, family_name_latin="Janković")
    b.sync()
    a.sync()
    # Concurrent phone edits merge by timestamp, without a conflict entry.
    b.clock.advance(timedelta(seconds=1))
    _edit(a, citizen.id, phone="+381601111111")
    _edit(b, citizen.id, phone="+381602222222")
    a.sync()
    b.sync()
    a.sync()
    assert world.hub_count(ConflictLog) == 0
    for site in (a, b):
        local = _local(site, citizen.id)
        assert (local.family_name_latin, local.phone) == ("Janković", "+381602222222")


def test_a_re_sent_dose_is_a_duplicate(world: World) -> None:
    a, _b, citizen = _two_sites_holding_a_citizen(world)
    dose_id = a.record_dose(citizen.id)
    a.sync()
    from app.local_db.models.doses import DoseRecord as LocalDose
    from app.sync.outbox import record_change
    from app.sync.wire_forms import dose_payload

    with session_scope(a.store) as session:
        dose = session.get(LocalDose, dose_id)
        assert dose is not None
        record_change(session, "dose_record", dose_id, dose_payload(dose))
    report = a.sync()
    assert report.duplicates == 1
    assert not report.quarantined
    assert world.hub_count(DoseRecord, id=dose_id) == 1


def test_clock_skew_is_flagged_never_refused(world: World) -> None:
    a, _b, citizen = _two_sites_holding_a_citizen(world)
    a.clock.advance(timedelta(days=400))
    dose_id = a.record_dose(citizen.id)
    report = a.sync()
    assert report.applied_at_hub == 1
    from central.db import SiteSyncStatus

    with world.hub.read_sessions() as session:
        status = session.get(SiteSyncStatus, a.site_id)
        assert status is not None
        assert status.clock_flagged
        assert status.clock_offset_ms is not None
        assert status.clock_offset_ms > 399 * 86_400_000
        dose = session.get(DoseRecord, dose_id)
        assert dose is not None
        assert dose.stored_at == world.clock.now()
        assert dose.administered_at == a.clock.now()  # clinical time kept as recorded
