"""``imuno-hub sites status``: the sync health table central staff read."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from central.cli import app
from tests.app.sync.world import World


def test_sites_status_prints_every_site_with_its_sync_health(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    world = World(url, tmp_path)
    try:
        site = world.add_site("ST-01")
        world.add_site("ST-02")
        citizen = world.hub_citizen()
        world.book(citizen.id, site)
        site.sync()
        site.record_dose(citizen.id)
        site.sync()
    finally:
        world.close()
    table = CliRunner().invoke(app, ["sites", "status", "--db", url])
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["site", "last", "push"]
    st01 = next(line for line in lines if line.startswith("ST-01"))
    st02 = next(line for line in lines if line.startswith("ST-02"))
    assert "2021-06-01 08:00" in st01
    assert "imuno-site/0.1" in st01
    assert st02.split()[1:3] == ["never", "never"]
    as_json = CliRunner().invoke(app, ["sites", "status", "--db", url, "--json"])
    rows = {row["site_code"]: row for row in json.loads(as_json.stdout)["items"]}
    assert rows["ST-01"]["backlog"] == 0
    assert rows["ST-01"]["clock_offset_ms"] == 0
