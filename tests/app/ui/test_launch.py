"""Launching the client: ``imuno-site`` without a display says so and exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.bootstrap import NO_DISPLAY_MESSAGE, display_available
from app.cli import app

REPO = Path(__file__).resolve().parents[3]


def test_display_detection() -> None:
    assert not display_available({}, "linux")
    assert display_available({"DISPLAY": ":0"}, "linux")
    assert display_available({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert display_available({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert display_available({}, "win32")


@pytest.mark.parametrize("args", [[], ["run"]])
def test_without_a_display_it_says_so_and_exits_0(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IMUNO_SITE_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == NO_DISPLAY_MESSAGE
    # Nothing was created: the store opens only when a window can.
    assert not (tmp_path / "site.sqlite").exists()


def test_the_console_script_does_the_same(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["IMUNO_SITE_DATA_DIR"] = str(tmp_path)
    env["PYTHONPATH"] = str(REPO)
    completed = subprocess.run(
        [sys.executable, "-m", "app.cli"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == NO_DISPLAY_MESSAGE
    assert "Traceback" not in completed.stderr


def test_other_commands_still_work(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["db", "info", "--db", str(tmp_path / "missing.sqlite")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
