"""``imuno-hub``: the operator's commands, against a real database on both engines."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from central.cli import app
from central.services.context import Hub
from central.services.enrolment import enrol
from central.settings import HubSettings
from domain.wire import EnrolRequest

runner = CliRunner()

SITE = [
    "sites", "add", "NS-1", "--name", "Dom zdravlja Novi Sad", "--municipality", "Novi Sad",
    "--lat", "45.2671", "--lon", "19.8335", "--hours", "mon-fri 08:00-20:00",
    "--hours", "sat 08:00-12:00,13:00-16:00", "--product", "comirnaty", "--product", "spikevax",
    "--slot-minutes", "10", "--vaccinators", "4", "--address", "Futoška 121",
]  # fmt: skip


def run(db: str, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--db", db], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_the_installed_command_lists_its_commands() -> None:
    """The real ``imuno-hub --help``, in its own process."""
    result = subprocess.run(
        [sys.executable, "-m", "central.cli", "--help"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    for command in ("serve", "migrate", "sites", "users"):
        assert command in result.stdout


def test_help_lists_the_commands() -> None:
    top = runner.invoke(app, ["--help"]).stdout
    sites = runner.invoke(app, ["sites", "--help"]).stdout
    users = runner.invoke(app, ["users", "--help"]).stdout

    for command in ("serve", "migrate", "sites", "users"):
        assert command in top
    for command in ("add", "list", "enrol-code", "revoke", "rotate"):
        assert command in sites
    assert "add" in users


def test_add_and_list_sites(central_db_url: str) -> None:
    code, out, err = run(central_db_url, *SITE)
    assert code == 0, err
    assert "added site NS-1" in out

    code, out, _ = run(central_db_url, "sites", "list")
    assert code == 0
    assert "NS-1" in out
    assert "sat 08:00-12:00,13:00-16:00" in out

    code, out, _ = run(central_db_url, "sites", "list", "--json")
    listed = json.loads(out)
    assert listed[0]["code"] == "NS-1"
    assert listed[0]["vaccinators"] == 4
    assert listed[0]["products"] == "comirnaty,spikevax"
    assert listed[0]["address"] == "Futoška 121"


def test_mistakes_are_one_line_each_and_exit_1(central_db_url: str) -> None:
    run(central_db_url, *SITE)

    duplicate = run(central_db_url, *SITE)
    bad_hours = run(
        central_db_url,
        *[a if a != "sat 08:00-12:00,13:00-16:00" else "sat 12:00-08:00" for a in SITE],
    )
    bad_site = run(
        central_db_url, "sites", "add", "NS 2", "--name", "", "--municipality", "X",
        "--lat", "95", "--lon", "0", "--hours", "mon 08:00-09:00", "--product", "aspirin",
    )  # fmt: skip

    assert duplicate[0] == 1
    assert "already a site with code 'NS-1'" in duplicate[2]
    assert bad_hours[0] == 1
    assert "closes before it opens" in bad_hours[2]
    assert bad_site[0] == 1
    problems = bad_site[2].strip().splitlines()
    assert [p.split(":")[1].strip() for p in problems] == ["code", "name", "latitude", "products"]
    assert "Traceback" not in bad_site[2]


def test_enrol_code_prints_a_code_the_site_can_use_once(central_db_url: str) -> None:
    run(central_db_url, *SITE)

    code, out, err = run(central_db_url, "sites", "enrol-code", "NS-1", "--json")
    assert code == 0, err
    issued = json.loads(out)
    assert re.fullmatch(r"([A-Z2-9]{4}-){4}[A-Z2-9]{4}", issued["code"])

    text_code, text_out, _ = run(central_db_url, "sites", "enrol-code", "NS-1")
    assert text_code == 0
    assert "works once" in text_out
    printed = re.search(r"([A-Z2-9]{4}-){4}[A-Z2-9]{4}", text_out)
    assert printed is not None

    hub = Hub.open(HubSettings(database_url=central_db_url))
    try:
        response = enrol(hub, EnrolRequest(code=printed.group(0)))
    finally:
        hub.close()
    assert response.site.code == "NS-1"


def test_enrol_code_for_an_unknown_site_fails(central_db_url: str) -> None:
    code, _, err = run(central_db_url, "sites", "enrol-code", "NOPE")
    assert code == 1
    assert "no site with code 'NOPE'" in err


def test_revoke_and_rotate(central_db_url: str) -> None:
    run(central_db_url, *SITE)
    _, out, _ = run(central_db_url, "sites", "enrol-code", "NS-1", "--json")
    hub = Hub.open(HubSettings(database_url=central_db_url))
    try:
        enrol(hub, EnrolRequest(code=json.loads(out)["code"]))
    finally:
        hub.close()

    revoked = run(central_db_url, "sites", "revoke", "NS-1")
    rotated = run(central_db_url, "sites", "rotate", "NS-1", "--json")

    assert revoked[0] == 0
    assert "1 credential(s) revoked" in revoked[1]
    assert rotated[0] == 0
    assert json.loads(rotated[1])["site_code"] == "NS-1"


def test_users_add_with_password_on_stdin(central_db_url: str) -> None:
    code, out, err = run(
        central_db_url, "users", "add", "ana", "--full-name", "Ana Anić",
        "--role", "central_admin", "--password-stdin", input="a long enough secret\n",
    )  # fmt: skip
    assert code == 0, err
    assert "added central_admin ana" in out

    short = run(
        central_db_url, "users", "add", "bob", "--full-name", "Bob", "--role",
        "central_viewer", "--password-stdin", input="short\n",
    )  # fmt: skip
    assert short[0] == 1
    assert "at least 12 characters" in short[2]

    listed = run(central_db_url, "users", "list", "--json")
    assert [u["username"] for u in json.loads(listed[1])] == ["ana"]


@pytest.mark.parametrize("role", ["root", ""])
def test_unknown_roles_are_a_usage_error(role: str, sqlite_url: str) -> None:
    result = runner.invoke(
        app, ["users", "add", "x1", "--full-name", "X", "--role", role, "--db", sqlite_url]
    )
    assert result.exit_code == 2
