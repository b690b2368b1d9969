"""A site restored from an old backup: detected (409), keeps its outbox, gets its records back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.local_db.models.doses import DoseRecord as LocalDose
from central.db import DoseRecord
from tests.app.sync.world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(f"sqlite:///{tmp_path / 'central.sqlite'}", tmp_path)
    yield w
    w.close()


def test_restore_from_backup_loses_no_dose(world: World, tmp_path: Path) -> None:
    site = world.add_site("RS-01")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    site.sync()
    unsent_in_backup = site.record_dose(citizen.id, dose_number=1)
    backup = site.backup(tmp_path / "backup.sqlite")
    site.restore(backup)  # reopen on the same file: the backup is a copy of it
    pushed_after_backup = site.record_dose(citizen.id, dose_number=2)
    assert site.sync().pushed == 2

    site.restore(backup)  # last week's copy: dose 2 is gone locally, dose 1 unsent
    after_restore = site.record_dose(citizen.id, dose_number=3)
    report = site.sync()

    assert report.restored
    assert report.duplicates == 1
    assert report.applied_at_hub == 1
    assert site.local_ids(LocalDose) == {unsent_in_backup, pushed_after_backup, after_restore}
    for dose_id in (unsent_in_backup, pushed_after_backup, after_restore):
        assert world.hub_count(DoseRecord, id=dose_id) == 1
    assert report.verified
    following = site.sync()
    assert not following.restored
    assert following.pushed == 0
    assert following.verified


def test_restore_with_an_empty_outbox_is_noticed_on_pull(world: World, tmp_path: Path) -> None:
    site = world.add_site("RS-02")
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    site.sync()
    backup = site.backup(tmp_path / "backup.sqlite")
    site.restore(backup)
    dose_id = site.record_dose(citizen.id)
    site.sync()
    other = world.hub_citizen()
    world.book(other.id, site)
    site.sync()  # the hub now knows a later cursor

    site.restore(backup)
    report = site.sync()
    assert report.restored
    assert dose_id in site.local_ids(LocalDose)
