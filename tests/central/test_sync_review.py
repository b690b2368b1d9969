"""Central staff review after sync, on both engines: conflicts resolved, quarantine retried."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.local_db.models.citizens import Citizen as LocalCitizen
from app.local_db.models.doses import DoseRecord as LocalDose
from app.local_db.unit_of_work import session_scope
from app.sync.citizen_writes import write_fields
from central.cli import app as hub_cli
from central.db import AuditLog, ChangeLog, Citizen, DoseRecord, Quarantine
from central.services.errors import InvalidRequest
from central.services.sync.conflicts import (
    ConflictAlreadyResolved,
    JmbgInUse,
    list_conflicts,
    resolve_conflict,
)
from central.services.sync.quarantine import (
    QuarantineClosed,
    dismiss,
    list_quarantined,
    retry_matching,
    retry_one,
)
from domain.ids import uuid7
from domain.review_wire import (
    ConflictAction,
    ConflictResolution,
    Dismissal,
    RetryFilter,
    RetryStatus,
)
from tests.app.sync.world import SiteClient, World

STAFF = "staff:test"


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    yield w
    w.close()


def _edit(site: SiteClient, citizen_id: uuid.UUID, **changes: object) -> None:
    with session_scope(site.store) as session:
        citizen = session.get(LocalCitizen, citizen_id)
        assert citizen is not None
        write_fields(session, citizen, changes, clock=site.hlc, now=site.clock.now())


def _local_surname(site: SiteClient, citizen_id: uuid.UUID) -> str:
    with session_scope(site.store, write=False) as session:
        citizen = session.get(LocalCitizen, citizen_id)
        assert citizen is not None
        return str(citizen.family_name_latin)


def _conflict(world: World) -> tuple[SiteClient, SiteClient, Citizen]:
    """Two sites renamed one citizen concurrently; b's later write won."""
    a, b = world.add_site("RV-01"), world.add_site("RV-02")
    citizen = world.hub_citizen()
    world.book(citizen.id, a)
    world.book(citizen.id, b)
    a.sync()
    b.sync()
    b.clock.advance(timedelta(minutes=1))
    _edit(a, citizen.id, family_name_latin="Jovanović")
    _edit(b, citizen.id, family_name_latin="Janković")
    a.sync()
    b.sync()
    a.sync()
    return a, b, citizen


def test_an_open_conflict_is_listed_with_both_writes_and_the_value_now(world: World) -> None:
    a, b, citizen = _conflict(world)

    with world.hub.read_sessions() as session:
        listed = list_conflicts(session).items

    assert len(listed) == 1
    entry = listed[0]
    assert (entry.citizen_id, entry.jmbg, entry.field_name) == (
        citizen.id,
        citizen.jmbg,
        "last_name_latin",
    )
    assert (entry.kept_value, entry.kept_site) == ("Janković", b.code)
    assert (entry.lost_value, entry.lost_site) == ("Jovanović", a.code)
    assert entry.current_value == "Janković"
    assert entry.resolved_at is None


def test_restoring_the_lost_value_reaches_every_site_and_closes_the_entry(world: World) -> None:
    a, b, citizen = _conflict(world)
    with world.hub.read_sessions() as session:
        (entry,) = list_conflicts(session).items

    view = resolve_conflict(
        world.hub,
        entry.id,
        ConflictResolution(action=ConflictAction.RESTORE, note="ID card checked: Jovanović"),
        actor=STAFF,
    )

    assert view.current_value == "Jovanović"
    assert view.resolved_by == STAFF
    assert view.resolution_note == "restore: ID card checked: Jovanović"
    a.sync()
    b.sync()
    assert _local_surname(a, citizen.id) == "Jovanović"
    assert _local_surname(b, citizen.id) == "Jovanović"
    with world.hub.read_sessions() as session:
        assert list_conflicts(session).items == []
        assert len(list_conflicts(session, open_only=False).items) == 1
        actions = session.scalars(sa.select(AuditLog.action)).all()
    assert "conflict.restore" in actions


def test_keeping_writes_nothing_and_a_second_resolution_is_refused(world: World) -> None:
    _a, _b, citizen = _conflict(world)
    with world.hub.read_sessions() as session:
        (entry,) = list_conflicts(session).items
        log_before = session.scalar(sa.select(sa.func.count()).select_from(ChangeLog))
    keep = ConflictResolution(action=ConflictAction.KEEP, note="the later write is right")

    resolve_conflict(world.hub, entry.id, keep, actor=STAFF)

    with world.hub.read_sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ChangeLog)) == log_before
        assert session.get(Citizen, citizen.id).last_name_latin == "Janković"  # type: ignore[union-attr]
    with pytest.raises(ConflictAlreadyResolved):
        resolve_conflict(world.hub, entry.id, keep, actor=STAFF)


def test_a_set_value_is_checked_before_it_is_written(world: World) -> None:
    _a, _b, citizen = _conflict(world)
    other = world.hub_citizen()
    with world.hub.read_sessions() as session:
        (entry,) = list_conflicts(session).items

    with pytest.raises(InvalidRequest):
        resolve_conflict(
            world.hub,
            entry.id,
            ConflictResolution(action=ConflictAction.SET, value="", note="blank"),
            actor=STAFF,
        )
    view = resolve_conflict(
        world.hub,
        entry.id,
        ConflictResolution(action=ConflictAction.SET, value=" Janjić ", note="birth certificate"),
        actor=STAFF,
    )
    assert view.current_value == "Janjić"
    # A JMBG conflict cannot be settled with another citizen's number.
    with world.hub.sessions() as session, session.begin():
        from central.db import ConflictLog

        session.add(
            ConflictLog(
                citizen_id=citizen.id,
                field_name="jmbg",
                kept_value=citizen.jmbg,
                kept_hlc=citizen.hlc,
                kept_origin_site_id=None,
                lost_value=other.jmbg,
                lost_hlc=citizen.hlc,
                lost_origin_site_id=None,
                detected_at=world.clock.now(),
            )
        )
    with world.hub.read_sessions() as session:
        (jmbg_entry,) = list_conflicts(session).items
    with pytest.raises(JmbgInUse):
        resolve_conflict(
            world.hub,
            jmbg_entry.id,
            ConflictResolution(action=ConflictAction.RESTORE, note="typo?"),
            actor=STAFF,
        )


def _local_only_citizen(site: SiteClient) -> uuid.UUID:
    """A citizen in the site's store that never went to the hub (no outbox row)."""
    citizen_id = uuid7()
    template = next(iter(site.local_ids(LocalCitizen)))
    with session_scope(site.store) as session:
        source = session.get(LocalCitizen, template)
        assert source is not None
        values = {c.key: getattr(source, c.key) for c in sa.inspect(LocalCitizen).column_attrs}
        values.update(id=citizen_id, jmbg="0101990710006")
        session.add(LocalCitizen(**values))
    return citizen_id


def test_a_dose_quarantined_for_an_unknown_citizen_applies_on_retry(world: World) -> None:
    a = world.add_site("RV-03")
    known = world.hub_citizen()
    world.book(known.id, a)
    a.sync()
    stranger = _local_only_citizen(a)
    dose_id = a.record_dose(stranger)
    report = a.sync()
    assert report.quarantined
    with world.hub.read_sessions() as session:
        (item,) = list_quarantined(session).items
    assert (item.site_code, item.kind, item.reason_code) == (
        "RV-03",
        "dose_record",
        "unknown_citizen",
    )
    assert item.record_id == str(dose_id)
    assert item.retryable

    # Still nothing to apply it to: the entry stays open and says why.
    assert retry_one(world.hub, item.id, actor=STAFF).status is RetryStatus.STILL_QUARANTINED
    world.hub_citizen(id=stranger, jmbg="0101990710006", birth_date=date(1990, 1, 1))
    result = retry_one(world.hub, item.id, actor=STAFF)

    assert result.status is RetryStatus.APPLIED
    assert world.hub_count(DoseRecord, id=dose_id) == 1
    with world.hub.read_sessions() as session:
        assert list_quarantined(session).items == []
        closed = session.get(Quarantine, item.id)
        assert closed is not None
        assert closed.resolution == "applied on retry"
    with pytest.raises(QuarantineClosed):
        retry_one(world.hub, item.id, actor=STAFF)
    # The site that pushed it is told through its pull like any applied dose.
    a.sync()
    assert dose_id in a.local_ids(LocalDose)


def test_retry_by_reason_leaves_what_cannot_apply_and_dismiss_closes_it(world: World) -> None:
    a = world.add_site("RV-04")
    known = world.hub_citizen()
    world.book(known.id, a)
    a.sync()
    stranger = _local_only_citizen(a)
    a.record_dose(stranger)
    a.sync()

    report = retry_matching(world.hub, RetryFilter(reason_code="unknown_citizen"), actor=STAFF)

    assert [r.status for r in report.items] == [RetryStatus.STILL_QUARANTINED]
    assert report.items[0].reason_code == "unknown_citizen"
    view = dismiss(
        world.hub,
        report.items[0].id,
        Dismissal(note="test record, entered by mistake"),
        actor=STAFF,
    )
    assert view.resolution == "dismissed: test record, entered by mistake"
    with world.hub.read_sessions() as session:
        assert list_quarantined(session).items == []
        assert len(list_quarantined(session, open_only=False).items) == 1


def test_the_cli_lists_and_resolves(world: World, central_db_url: str) -> None:
    _conflict(world)
    runner = CliRunner()

    listed = runner.invoke(hub_cli, ["conflicts", "list", "--db", central_db_url])
    assert listed.exit_code == 0, listed.output
    assert "last_name_latin" in listed.output
    assert "OPEN" in listed.output
    conflict_id = listed.output.split()[0]

    both = runner.invoke(
        hub_cli,
        ["conflicts", "resolve", conflict_id, "--keep", "--restore", "--note", "x"],
    )
    assert both.exit_code == 2
    done = runner.invoke(
        hub_cli,
        [
            "conflicts",
            "resolve",
            conflict_id,
            "--restore",
            "--note",
            "checked",
            "--db",
            central_db_url,
        ],
    )
    assert done.exit_code == 0, done.output
    assert "is now 'Jovanović'" in done.output
    again = runner.invoke(
        hub_cli,
        ["conflicts", "resolve", conflict_id, "--keep", "--note", "x", "--db", central_db_url],
    )
    assert again.exit_code == 1
    assert "already resolved" in again.output

    empty = runner.invoke(hub_cli, ["quarantine", "list", "--db", central_db_url])
    assert empty.exit_code == 0
    assert "nothing in quarantine" in empty.output
