"""A walk-in registered offline under a new id for a citizen the hub already held."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.local_db.models.citizens import Citizen as LocalCitizen
from app.local_db.unit_of_work import session_scope
from app.sync.citizen_writes import register_walk_in, write_fields
from central.db import Citizen, CitizenAlias, ConflictLog, DoseRecord, Quarantine
from domain.ids import uuid7
from tests.app.sync.world import SiteClient, World


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    yield w
    w.close()


def _walk_in(site: SiteClient, template: uuid.UUID, jmbg: str, **fields: object) -> uuid.UUID:
    """Register a walk-in at `site` (as the walk-in desk does), copying another person's data."""
    walk_in_id = uuid7()
    with session_scope(site.store) as session:
        source = session.get(LocalCitizen, template)
        assert source is not None
        values = {c.key: getattr(source, c.key) for c in sa.inspect(LocalCitizen).column_attrs}
        values.update(id=walk_in_id, jmbg=jmbg, field_hlc={}, hlc="", **fields)
        register_walk_in(session, LocalCitizen(**values), clock=site.hlc, now=site.clock.now())
    return walk_in_id


def _registered_elsewhere(world: World) -> tuple[SiteClient, Citizen, uuid.UUID]:
    """Site S holds one citizen; another registered centrally walks in there offline."""
    site = world.add_site("AL-01")
    on_roster = world.hub_citizen()
    world.book(on_roster.id, site)
    site.sync()
    known = world.hub_citizen(first_name_latin="Milica", first_name_cyrillic="Милица")
    walk_in = _walk_in(site, on_roster.id, known.jmbg, given_name_latin="Milica")
    return site, known, walk_in


def test_the_walk_in_and_its_dose_land_on_the_citizen_the_hub_held(world: World) -> None:
    site, known, walk_in = _registered_elsewhere(world)
    dose_id = site.record_dose(walk_in)

    report = site.sync()

    assert report.quarantined == []
    assert report.applied_at_hub == 2
    with world.hub.read_sessions() as session:
        alias = session.get(CitizenAlias, walk_in)
        assert alias is not None
        assert (alias.citizen_id, alias.site_id) == (known.id, site.site_id)
        assert session.get(Citizen, walk_in) is None  # one person, one citizen
        dose = session.get(DoseRecord, dose_id)
        assert dose is not None
        assert dose.citizen_id == known.id
        assert session.scalar(sa.select(sa.func.count()).select_from(Quarantine)) == 0


def test_identity_differences_of_the_merge_go_to_review(world: World) -> None:
    site, known, _walk_in = _registered_elsewhere(world)

    site.sync()

    with world.hub.read_sessions() as session:
        entries = session.scalars(sa.select(ConflictLog).order_by(ConflictLog.field_name)).all()
        merged = session.get(Citizen, known.id)
        assert merged is not None
    fields = {e.field_name for e in entries}
    # The walk-in desk typed the surname of the template person: a difference to check.
    assert "last_name_latin" in fields
    assert "first_name_latin" not in fields  # both say Milica
    assert "jmbg" not in fields
    assert all(e.citizen_id == known.id for e in entries)
    assert all(e.lost_origin_site_id == site.site_id or e.kept_origin_site_id == site.site_id
               for e in entries)  # fmt: skip
    assert merged.jmbg == known.jmbg


def test_later_writes_under_the_site_id_change_the_one_citizen(world: World) -> None:
    site, known, walk_in = _registered_elsewhere(world)
    site.sync()
    site.clock.advance(timedelta(minutes=5))
    with session_scope(site.store) as session:
        local = session.get(LocalCitizen, walk_in)
        assert local is not None
        write_fields(
            session, local, {"phone": "+381601112233"}, clock=site.hlc, now=site.clock.now()
        )

    report = site.sync()

    assert report.quarantined == []
    with world.hub.read_sessions() as session:
        merged = session.get(Citizen, known.id)
        assert merged is not None
        assert merged.phone == "+381601112233"


def test_a_re_sent_walk_in_and_dose_are_duplicates(world: World) -> None:
    site, _known, walk_in = _registered_elsewhere(world)
    dose_id = site.record_dose(walk_in)
    site.sync()
    from app.local_db.models.doses import DoseRecord as LocalDose
    from app.sync.outbox import record_change
    from app.sync.wire_forms import dose_payload

    with session_scope(site.store) as session:
        dose = session.get(LocalDose, dose_id)
        assert dose is not None
        record_change(session, "dose_record", dose_id, dose_payload(dose))

    report = site.sync()

    assert report.duplicates == 1
    assert report.quarantined == []
    assert world.hub_count(DoseRecord, id=dose_id) == 1


def test_the_replica_check_agrees_with_a_site_holding_the_person_under_its_own_id(
    world: World,
) -> None:
    site, _known, walk_in = _registered_elsewhere(world)
    site.record_dose(walk_in)
    site.sync()

    report = site.sync()
    again = site.sync()

    assert report.verified
    assert again.verified
    assert (again.refetched, again.resent) == (0, 0)
    with world.hub.read_sessions() as session:
        alias = session.get(CitizenAlias, walk_in)
        assert alias is not None
        assert alias.field_hlc  # the site's own writes: its replica's version
