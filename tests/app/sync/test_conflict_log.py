"""The hub's conflict log holds exactly the concurrent identity edits, on both hub engines.

Each scenario runs real site stores against a real hub and compares the
hub's log with `tests.app.sync.merge_model`, the reference the model-based
test uses; the replay at the end is the state-machine sequence that once
failed (shrunk by hand), run through the machine itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.local_db.models.citizens import Citizen as LocalCitizen
from app.local_db.unit_of_work import session_scope
from app.sync.citizen_writes import write_fields
from central.db import Citizen, ConflictLog
from domain.hlc import HybridClock
from tests.app.sync.merge_model import Conflict, Held, Write, expected_conflicts
from tests.app.sync.test_state_machine import SyncMachine
from tests.app.sync.world import SiteClient, World


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    yield w
    w.close()


def _edit(
    site: SiteClient, citizen_id: uuid.UUID, surname: str, *, fresh_clock: bool = False
) -> Write:
    """A nurse corrects the surname at `site` (with a new hybrid clock, as the services do)."""
    with session_scope(site.store) as session:
        citizen = session.get(LocalCitizen, citizen_id)
        assert citizen is not None
        base = (citizen.field_hlc or {}).get("family_name_latin")
        write_fields(
            session,
            citizen,
            {"family_name_latin": surname},
            clock=HybridClock(site.code, site.clock) if fresh_clock else site.hlc,
            now=site.clock.now(),
        )
        session.flush()
        return Write(citizen_id, citizen.field_hlc["family_name_latin"], base, surname)


def _logged(world: World) -> list[Conflict]:
    with world.hub.read_sessions() as session:
        rows = session.scalars(sa.select(ConflictLog).order_by(ConflictLog.detected_at)).all()
        return [
            Conflict(r.citizen_id, r.kept_hlc, r.kept_value, r.lost_hlc, r.lost_value) for r in rows
        ]


def _initial(world: World, citizen_id: uuid.UUID) -> dict[uuid.UUID, Held]:
    with world.hub.read_sessions() as session:
        citizen = session.get(Citizen, citizen_id)
        assert citizen is not None
        return {citizen_id: Held(citizen.field_hlc["last_name_latin"], citizen.last_name_latin)}


def _shared_citizen(world: World, *sites: SiteClient) -> uuid.UUID:
    citizen = world.hub_citizen()
    for site in sites:
        world.book(citizen.id, site)
        site.sync()
    return citizen.id


def test_crossing_branches_log_the_pair_the_hub_compared(world: World) -> None:
    """Two sites each edit twice, ending on each other's first value: one conflict, the heads."""
    a, b = world.add_site("CL-A"), world.add_site("CL-B")
    citizen_id = _shared_citizen(world, a, b)
    initial = _initial(world, citizen_id)
    a1, a2 = _edit(a, citizen_id, "Janković"), _edit(a, citizen_id, "Petrović")
    b1, b2 = _edit(b, citizen_id, "Petrović"), _edit(b, citizen_id, "Janković")
    a.sync()
    b.sync()
    arrivals = [(w.citizen_id, w.stamp) for w in (a1, a2, b1, b2)]
    expected, held = expected_conflicts(initial, [a1, a2, b1, b2], arrivals)
    # b1 met a2, both "Petrović": nothing lost. b2 met a2: the branches' heads differ.
    assert _logged(world) == expected
    assert [(c.kept_hlc, c.lost_hlc) for c in expected] == [
        tuple(sorted((a2.stamp, b2.stamp), reverse=True))
    ]
    a.sync()
    for site in (a, b):
        with session_scope(site.store, write=False) as session:
            local = session.get(LocalCitizen, citizen_id)
            assert local is not None
            assert local.family_name_latin == held[citizen_id].value


def test_equal_concurrent_values_are_not_a_conflict(world: World) -> None:
    a, b = world.add_site("CL-C"), world.add_site("CL-D")
    citizen_id = _shared_citizen(world, a, b)
    _edit(a, citizen_id, "Nikolić")
    _edit(b, citizen_id, "Nikolić")
    a.sync()
    b.sync()
    assert _logged(world) == []


def test_sequential_edits_through_the_hub_are_not_a_conflict(world: World) -> None:
    a, b = world.add_site("CL-E"), world.add_site("CL-F")
    citizen_id = _shared_citizen(world, a, b)
    _edit(a, citizen_id, "Nikolić")
    a.sync()
    b.sync()  # b sees a's edit before making its own
    _edit(b, citizen_id, "Jovanović")
    b.sync()
    assert _logged(world) == []


def test_concurrent_edits_are_logged_once(world: World) -> None:
    a, b = world.add_site("CL-G"), world.add_site("CL-H")
    citizen_id = _shared_citizen(world, a, b)
    initial = _initial(world, citizen_id)
    wa = _edit(a, citizen_id, "Nikolić")
    wb = _edit(b, citizen_id, "Jovanović")
    a.sync()
    b.sync()
    expected, _ = expected_conflicts(
        initial, [wa, wb], [(citizen_id, wa.stamp), (citizen_id, wb.stamp)]
    )
    assert len(expected) == 1
    assert _logged(world) == expected


def test_an_edit_sent_again_after_a_restore_is_not_a_new_conflict(
    world: World, tmp_path: Path
) -> None:
    """A restored laptop re-sends an edit the hub merged and another site built on."""
    a, b = world.add_site("CL-I"), world.add_site("CL-J")
    citizen_id = _shared_citizen(world, a, b)
    _edit(a, citizen_id, "Nikolić")  # waiting in a's outbox when the backup is taken
    backup = a.backup(tmp_path / "a-backup.sqlite")
    a.restore(backup)
    a.record_dose(citizen_id)  # after the backup: the batch sent is not the backup's outbox
    a.sync()  # the hub holds "Nikolić"
    b.sync()
    _edit(b, citizen_id, "Jovanović")  # b corrects a's edit, having seen it
    b.sync()

    a.restore(backup)  # the edit is back in the outbox, unsent as far as a knows
    report = a.sync()
    assert report.restored
    assert _logged(world) == []
    b.sync()
    for site in (a, b):
        with session_scope(site.store, write=False) as session:
            local = session.get(LocalCitizen, citizen_id)
            assert local is not None
            assert local.family_name_latin == "Jovanović"


def test_two_writes_stamped_alike_converge_and_are_logged(world: World, tmp_path: Path) -> None:
    """A site whose clock is behind, restored from a backup, stamps its next write like its last.

    The site's services take a fresh hybrid clock for each write
    (`app.services.workplace.citizen_hlc`): it starts from the value replaced,
    so both writes on that value get the same timestamp.
    """
    a = world.add_site("CL-K")
    citizen_id = _shared_citizen(world, a)
    a.clock.advance(timedelta(days=-3))
    backup = a.backup(tmp_path / "k-backup.sqlite")
    a.restore(backup)
    first = _edit(a, citizen_id, "Nikolić", fresh_clock=True)
    a.sync()
    a.restore(backup)  # the first write is gone from the laptop, not from the hub
    second = _edit(a, citizen_id, "Jovanović", fresh_clock=True)
    assert second.stamp == first.stamp
    a.sync()

    with world.hub.read_sessions() as session:
        assert session.get_one(Citizen, citizen_id).last_name_latin == "Nikolić"
    with session_scope(a.store, write=False) as session:
        assert session.get_one(LocalCitizen, citizen_id).family_name_latin == "Nikolić"
    assert _logged(world) == [
        Conflict(citizen_id, first.stamp, "Nikolić", second.stamp, "Jovanović")
    ]
    assert a.sync().verified


def test_the_state_machine_sequence_that_failed() -> None:
    """The slow state machine's failing example, shrunk: crossing edits at two sites."""
    machine = SyncMachine()
    try:
        machine.do_setup(count=2, shared=1)
        a, b = machine.sites
        shared = machine.citizens[a.code][2]
        machine.do_edit_surname(a, shared, "Janković")
        machine.do_edit_surname(a, shared, "Petrović")
        machine.do_edit_surname(b, shared, "Petrović")
        machine.do_edit_surname(b, shared, "Janković")
        machine.do_sync(a, "none")
        machine.do_sync(b, "drop_after")
    finally:
        machine.teardown()  # heals the network and checks every invariant
