"""The ``demo-data`` command, as the hub's CLI will run it."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from central.demo.cli import demo_data_command

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False)
    app.command("demo-data")(demo_data_command)

    @app.command()
    def other() -> None:  # a second command keeps "demo-data" a subcommand, as in imuno-hub
        """Unused."""

    return app


def test_help_explains_the_options() -> None:
    result = runner.invoke(_app(), ["demo-data", "--help"])

    assert result.exit_code == 0
    for option in ("--citizens", "--sites", "--seed", "--db", "--start", "--workers"):
        assert option in result.stdout
    assert "IMUNO_HUB_DATABASE_URL" in result.stdout


def test_fills_a_new_sqlite_file_and_prints_the_summary(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'central.sqlite'}"  # the folder is created
    args = ["demo-data", "--citizens", "500", "--sites", "6", "--seed", "3", "--db", url]

    result = runner.invoke(_app(), [*args, "--start", "2021-06-20"])

    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Demo data: 500 citizens, 6 sites (seed 3, start 2021-06-20, rules 2021.06)" in out
    for section in (
        "Citizens by priority group",
        "Citizens by first vaccine preference",
        "Citizens by municipality (top 10)",
        "Site capacity (people per day, all sites)",
        "Stock by product",
    ):
        assert section in out
    assert "Beograd" in out
    assert "Sputnik V (I)" in out
    assert "imuno-hub demo-data: done in" in result.stderr

    again = runner.invoke(_app(), args)
    assert again.exit_code == 1
    assert "already holds 500 citizens, 6 sites" in again.stderr


def test_a_bad_date_is_a_usage_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    result = runner.invoke(_app(), ["demo-data", "--db", url, "--start", "1.3.2021"])
    assert result.exit_code == 2
    assert not (tmp_path / "central.sqlite").exists()


def test_a_start_before_the_first_rules_is_explained(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    result = runner.invoke(_app(), ["demo-data", "--db", url, "--start", "2020-12-01"])
    assert result.exit_code == 1
    assert "No vaccination rules are in force on 2020-12-01" in result.stderr
