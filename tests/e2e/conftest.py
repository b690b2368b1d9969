"""The real hub for end-to-end tests: ``imuno-hub serve`` in a subprocess.

`start_hub(db_url, ...)` runs the hub exactly as production does (the
``imuno-hub serve`` command: migration, uvicorn, its workers) on a free
loopback port against the given database, waits until ``/healthz`` answers,
yields a `RunningHub` and stops the process (SIGTERM, then SIGKILL). Its
stdout and stderr (JSON log lines) go to ``RunningHub.log_path``.

`hub_cli(db_url, *args)` (and `RunningHub.cli`) runs any other
``imuno-hub`` command against the same database in its own process, as an
operator would; `RunningHub.admin` runs the same commands inside the test
process, for quick set-up (`RunningHub.add_site`, `RunningHub.enrol_code`).

Fixtures:

- ``hub_db_url``: a fresh database per test module, once on SQLite and once
  on PostgreSQL (skipped without IMUNO_TEST_PG_URL, like ``central_db_url``);
- ``live_hub``: a hub on ``hub_db_url`` shared by the tests of a module;
- ``hub_factory``: starts extra hubs with their own settings
  (``hub_factory(db_url, env={"IMUNO_HUB_RATE_LIMIT_SITE": "5"})``),
  stopped at the end of the test.

Later sync and site-client tests reuse these: start a hub, enrol a site
with ``hub.cli("sites", "enrol-code", code, "--json")``, point a client at
``hub.base_url``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import _fresh_pg_database

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(db_url: str, env: Mapping[str, str] | None) -> dict[str, str]:
    merged = {k: v for k, v in os.environ.items() if not k.startswith("IMUNO_HUB_")}
    merged["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    merged["IMUNO_HUB_DATABASE_URL"] = db_url
    merged.update(env or {})
    return merged


def hub_cli(
    db_url: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    check: bool = True,
    cwd: Path | None = None,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``imuno-hub ARGS`` against `db_url` and return the finished process.

    With `check` (the default) a non-zero exit fails the test, showing stderr.
    """
    completed = subprocess.run(
        [sys.executable, "-m", "central.cli", *args],
        env=_environment(db_url, env),
        input=input,
        capture_output=True,
        text=True,
        cwd=cwd or REPO_ROOT,
        timeout=timeout,
        check=False,
    )
    if check and completed.returncode != 0:
        pytest.fail(
            f"imuno-hub {' '.join(args)} exited {completed.returncode}:\n"
            f"{completed.stdout}\n{completed.stderr}"
        )
    return completed


@dataclass
class RunningHub:
    """A hub process serving on `base_url` over the database `db_url`."""

    base_url: str
    db_url: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def cli(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run an ``imuno-hub`` command against this hub's database and settings."""
        return hub_cli(self.db_url, *args, env=self.env, **kwargs)

    def admin(self, *args: str, input: str | None = None) -> str:
        """Run an ``imuno-hub`` command inside the test process; return its output.

        The same commands and database as `cli`, without starting a Python
        process each time (about 2 s): for setting up many sites or codes.
        """
        from typer.testing import CliRunner

        from central.cli import app

        result = CliRunner().invoke(app, [*args, "--db", self.db_url], input=input)
        if result.exit_code != 0:
            pytest.fail(f"imuno-hub {' '.join(args)} exited {result.exit_code}:\n{result.output}")
        return result.stdout

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client for this hub (close it, or use it in a ``with``)."""
        kwargs.setdefault("timeout", 30.0)
        return httpx.Client(base_url=self.base_url, **kwargs)

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (other lines are skipped).

        A line the hub is still writing (no newline yet) is left for later.
        """
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        complete = text[: text.rfind("\n") + 1]
        # Split on newlines only: str.splitlines also splits on U+2028 and the
        # like, which a JSON string may hold unescaped.
        return [json.loads(line) for line in complete.split("\n") if line.startswith("{")]

    def add_site(self, code: str, *extra: str) -> None:
        """Add a site with workable defaults (override with `extra` options)."""
        self.admin(
            "sites", "add", code,
            "--name", f"Dom zdravlja {code}",
            "--municipality", "Novi Sad",
            "--lat", "45.2671", "--lon", "19.8335",
            "--hours", "mon-sun 08:00-20:00",
            "--product", "comirnaty",
            *extra,
        )  # fmt: skip

    def enrol_code(self, site_code: str) -> str:
        """A fresh one-time enrolment code for the site."""
        code: str = json.loads(self.admin("sites", "enrol-code", site_code, "--json"))["code"]
        return code


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # The whole process group: uvicorn's worker processes too.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> bool:
    """True once /healthz answers 200; False if the process died (port taken?)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                if client.get("/healthz").status_code == 200:
                    return True
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
    _stop(process)
    pytest.fail(f"the hub did not become healthy in {STARTUP_TIMEOUT_S} s:\n{_tail(log_path)}")


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@contextmanager
def start_hub(
    db_url: str,
    work_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    workers: int = 1,
    extra_args: Sequence[str] = (),
) -> Iterator[RunningHub]:
    """Run ``imuno-hub serve`` on a free loopback port; yield once healthy; stop it.

    `env` adds or overrides ``IMUNO_HUB_*`` settings; `work_dir` is the
    process's working directory and holds its log file.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    environment = _environment(db_url, env)
    for attempt in range(3):
        port = free_port()
        log_path = work_dir / f"hub-{port}.log"
        command = [
            sys.executable, "-m", "central.cli", "serve",
            "--db", db_url, "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), *extra_args,
        ]  # fmt: skip
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=work_dir,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            if _wait_healthy(base_url, process, log_path):
                yield RunningHub(base_url, db_url, dict(env or {}), log_path, process)
                return
        finally:
            _stop(process)
        if "address already in use" not in _tail(log_path).lower() or attempt == 2:
            pytest.fail(f"the hub exited during start-up:\n{_tail(log_path)}")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def hub_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty central database for one test module, on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('hub-db') / 'central.sqlite'}"
    else:
        yield from _fresh_pg_database()


@pytest.fixture(scope="module")
def live_hub(hub_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """A hub with default settings on `hub_db_url`, shared by a test module."""
    with start_hub(hub_db_url, tmp_path_factory.mktemp("hub")) as hub:
        yield hub


@pytest.fixture
def hub_factory(tmp_path: Path) -> Iterator[Callable[..., RunningHub]]:
    """Start hubs with custom settings: ``hub_factory(db_url, env={...}, workers=2)``."""
    with ExitStack() as stack:
        count = 0

        def start(db_url: str, **kwargs: Any) -> RunningHub:
            nonlocal count
            count += 1
            return stack.enter_context(start_hub(db_url, tmp_path / f"hub{count}", **kwargs))

        yield start
