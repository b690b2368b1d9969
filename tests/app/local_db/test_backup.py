from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.local_db import models as m
from app.local_db.backup import backup
from app.local_db.engine import open_site_store
from app.local_db.errors import BackupFailed, BackupTargetExists, StoreNotFound
from app.local_db.migrate import head_revision
from app.local_db.unit_of_work import session_scope
from tests.app.local_db import factories as f


def _audit_numbers(path: Path) -> list[int]:
    copy = sqlite3.connect(path)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return sorted(int(action) for (action,) in copy.execute("SELECT action FROM audit_log"))
    finally:
        copy.close()


def _committed(engine: Engine) -> int:
    with session_scope(engine, write=False) as session:
        return session.execute(sa.select(sa.func.count()).select_from(m.AuditEntry)).scalar_one()


def test_a_backup_under_concurrent_writes_is_a_consistent_prefix(
    engine: Engine, tmp_path: Path
) -> None:
    # A few megabytes first, so each backup overlaps many commits.
    with session_scope(engine) as session:
        for n in range(5000):
            f.audit(session, str(n), padding="x" * 500)
    written = 5000
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        nonlocal written
        try:
            while not stop.is_set():
                with session_scope(engine) as session:  # one commit per row, in order
                    f.audit(session, str(written))
                written += 1
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        bounds = []
        for i in range(4):
            before = _committed(engine)
            report = backup(engine, tmp_path / f"copy-{i}.sqlite")
            after = _committed(engine)
            bounds.append((before, report, after))
    finally:
        stop.set()
        thread.join(10)
    assert failures == []
    assert written > 5000 + 4, "the writer should have kept committing during the backups"
    for before, report, after in bounds:
        numbers = _audit_numbers(report.path)
        # Every row committed before the backup began, no row after it ended,
        # and no gaps: the copy is the store as it was at one moment.
        assert numbers == list(range(len(numbers)))
        assert before <= len(numbers) <= after
        assert report.revision == head_revision()
        assert report.size_bytes == report.path.stat().st_size


def test_the_backup_is_a_private_self_contained_store(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as session:
        citizen_id = f.citizen(session).id
    dest = tmp_path / "usb" / "site-backup.sqlite"
    report = backup(engine, dest)
    assert report.path == dest
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert not Path(f"{dest}-wal").exists()
    assert [p.name for p in dest.parent.iterdir()] == ["site-backup.sqlite"]  # no leftovers
    raw = sqlite3.connect(dest)
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    raw.close()
    restored = open_site_store(dest)  # a backup is restored by opening it as the store
    try:
        with session_scope(restored, write=False) as session:
            assert session.get(m.Citizen, citizen_id) is not None
    finally:
        restored.dispose()


def test_a_backup_from_a_path_while_the_client_runs(
    engine: Engine, store_path: Path, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        f.citizen(session)
    with session_scope(engine) as session:
        f.citizen(session)  # hold the write lock while backing up by path
        report = backup(store_path, tmp_path / "copy.sqlite")
    copy = sqlite3.connect(report.path)
    try:
        assert copy.execute("SELECT count(*) FROM citizens").fetchone() == (1,)
    finally:
        copy.close()


def test_an_existing_file_is_not_overwritten_unless_asked(engine: Engine, tmp_path: Path) -> None:
    dest = tmp_path / "copy.sqlite"
    dest.write_text("yesterday's notes")
    with pytest.raises(BackupTargetExists):
        backup(engine, dest)
    assert dest.read_text() == "yesterday's notes"
    backup(engine, dest, overwrite=True)
    assert _audit_numbers(dest) == []


def test_the_store_itself_is_never_the_target(engine: Engine, store_path: Path) -> None:
    with pytest.raises(BackupFailed, match="the database itself"):
        backup(engine, store_path, overwrite=True)
    assert _audit_numbers(store_path) == []


def test_a_missing_store_cannot_be_backed_up(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFound):
        backup(tmp_path / "nothing.sqlite", tmp_path / "copy.sqlite")
    assert not (tmp_path / "copy.sqlite").exists()


def test_an_unwritable_destination_fails_clearly(engine: Engine, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(BackupFailed, match="backup to"):
        backup(engine, blocker / "copy.sqlite")
