from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.local_db.engine import open_site_store
from app.local_db.migrate import head_revision
from app.local_db.unit_of_work import session_scope
from tests.app.local_db import factories as f

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "site.sqlite"
    engine = open_site_store(path)
    with session_scope(engine) as session:
        citizen = f.citizen(session, given_name_latin="Đorđe")
        f.dose(session, citizen.id)
    engine.dispose()
    return path


@pytest.fixture(autouse=True)
def _no_site_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("IMUNO_SITE_DB", "IMUNO_SITE_DATA_DIR", "IMUNO_SITE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_help_lists_the_db_commands() -> None:
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    assert "db" in top.output
    sub = runner.invoke(app, ["db", "--help"])
    assert sub.exit_code == 0
    for command in ("migrate", "info", "backup", "export"):
        assert command in sub.output


def test_migrate_creates_the_default_store_then_finds_it_current(tmp_path: Path) -> None:
    first = runner.invoke(app, ["db", "migrate"])
    assert first.exit_code == 0, first.output
    assert f"to {head_revision()}" in first.stdout
    assert (tmp_path / "var" / "site.sqlite").exists()
    second = runner.invoke(app, ["db", "migrate"])
    assert second.exit_code == 0
    assert "up to date" in second.stdout


def test_info_shows_revision_journal_mode_and_counts(store: Path) -> None:
    result = runner.invoke(app, ["db", "info", "--db", str(store)])
    assert result.exit_code == 0, result.output
    assert str(store) in result.stdout
    assert f"{head_revision()} (current)" in result.stdout
    assert "journal mode:  wal" in result.stdout
    counts = dict(line.split() for line in result.stdout.splitlines() if line.startswith("  "))
    assert counts["dose_records"] == "1"
    assert counts["citizens"] == "1"


def test_the_environment_chooses_the_store(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMUNO_SITE_DB", str(store))
    result = runner.invoke(app, ["db", "info"])
    assert result.exit_code == 0, result.output
    assert str(store) in result.stdout


def test_the_data_folder_setting_moves_the_default_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMUNO_SITE_DATA_DIR", str(tmp_path / "D"))
    result = runner.invoke(app, ["db", "migrate"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "D" / "site.sqlite").exists()
    assert not (tmp_path / "var").exists()


def test_the_db_option_overrides_the_environment(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMUNO_SITE_DB", str(tmp_path / "elsewhere.sqlite"))
    result = runner.invoke(app, ["db", "info", "--db", str(store)])
    assert result.exit_code == 0, result.output
    assert str(store) in result.stdout


def test_backup_writes_a_verified_copy(store: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backups" / "monday.sqlite"
    result = runner.invoke(app, ["db", "backup", str(dest), "--db", str(store)])
    assert result.exit_code == 0, result.output
    assert "integrity check passed" in result.stdout
    copy = sqlite3.connect(dest)
    assert copy.execute("SELECT count(*) FROM dose_records").fetchone() == (1,)
    copy.close()
    again = runner.invoke(app, ["db", "backup", str(dest), "--db", str(store)])
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    assert "Traceback" not in again.output
    forced = runner.invoke(app, ["db", "backup", str(dest), "--db", str(store), "--overwrite"])
    assert forced.exit_code == 0


def test_export_csv_to_the_screen(store: Path) -> None:
    result = runner.invoke(app, ["db", "export", "citizens", "--format", "csv", "--db", str(store)])
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["given_name_latin"] == "Đorđe"


def test_export_json_to_a_private_file(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "doses.json"
    result = runner.invoke(
        app, ["db", "export", "dose_records", "-f", "json", "-o", str(out), "--db", str(store)]
    )
    assert result.exit_code == 0, result.output
    assert "Exported 1 rows of dose_records" in result.stderr
    [row] = json.loads(out.read_text(encoding="utf-8"))
    assert row["lot_number"] == "EW2239"
    assert out.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_export_of_an_unknown_table_fails_clearly(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["db", "export", "patients", "-o", str(out), "--db", str(store)])
    assert result.exit_code == 1
    assert "no table called 'patients'" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_export_in_an_unknown_format_is_a_usage_error(store: Path) -> None:
    result = runner.invoke(app, ["db", "export", "citizens", "--format", "xml", "--db", str(store)])
    assert result.exit_code == 2
    assert "xml" in result.output


def test_a_missing_store_is_reported_without_creating_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "site.sqlite"
    for args in (["db", "info"], ["db", "export", "citizens"], ["db", "backup", "x.sqlite"]):
        result = runner.invoke(app, [*args, "--db", str(missing)])
        assert result.exit_code == 1, args
        assert "No site database at" in result.stderr
    assert not missing.parent.exists()


def test_a_store_from_a_newer_client_is_refused(store: Path) -> None:
    raw = sqlite3.connect(store)
    with raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999_future'")
    raw.close()
    migrate = runner.invoke(app, ["db", "migrate", "--db", str(store)])
    assert migrate.exit_code == 1
    assert "newer version of the site client" in migrate.stderr
    info = runner.invoke(app, ["db", "info", "--db", str(store)])
    assert info.exit_code == 0
    assert "NEWER" in info.stdout


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMUNO_SITE_")}
    return subprocess.run(
        args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=60, check=False
    )


def test_the_console_script_runs() -> None:
    script = Path(sys.executable).with_name("imuno-site")
    if not script.exists():
        pytest.skip("console script not installed (run `uv sync`); `python -m` is tested below")
    result = _run(str(script), "--help")
    assert result.returncode == 0, result.stderr
    assert "db" in result.stdout


def test_python_dash_m_reports_errors_without_a_traceback(tmp_path: Path) -> None:
    result = _run(sys.executable, "-m", "app.cli", "db", "info", "--db", str(tmp_path / "no.db"))
    assert result.returncode == 1
    assert "No site database at" in result.stderr
    assert "Traceback" not in result.stderr
