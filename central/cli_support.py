"""What every ``imuno-hub`` command shares: the options, the hub it opens, the operator.

- `DbOption` / `JsonOption` / `PasswordStdinOption`: the ``--db``,
  ``--json`` and ``--password-stdin`` options, spelled and explained once;
  `UsernameArgument` / `FullNameOption` for the commands that add a person;
- `hub_settings`: the hub settings for ``--db`` plus a command's overrides;
- `open_hub`: the database brought to the current schema and a `Hub` open
  on it for one command; an error a person can fix prints one line per
  problem to stderr and exits with status 1, never a traceback;
- `operator`: who ran the command, for the audit trail;
- `read_password`: a new password, prompted twice (hidden) or one line from
  standard input (for scripts);
- `print_json` / `print_accounts`: a list for a script or for a person.

The database layer is imported inside `open_hub`, so that ``--help``
answers at once. This module imports no command module, so every command
module (and `central.cli`, which gathers them) can import it.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from central.settings import HubSettings

if TYPE_CHECKING:
    from central.services.context import Hub

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $IMUNO_HUB_DATABASE_URL, else sqlite:///var/central.sqlite).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
UsernameArgument = Annotated[str, typer.Argument(help="Login name (lower case).")]
FullNameOption = Annotated[str, typer.Option(help="The person's full name.")]
PasswordStdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


def hub_settings(db: str | None, **overrides: Any) -> HubSettings:
    """The hub settings from the environment, with ``--db`` and any override that is set."""
    values = {k: v for k, v in overrides.items() if v is not None}
    if db is not None:
        values["database_url"] = db
    return HubSettings(**values)


def operator() -> str:
    """``operator:<login name>`` of whoever runs the command (``operator:unknown`` if unknown)."""
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):
        return "operator:unknown"


def fail(text: str) -> None:
    """Print one line for a person to stderr (the caller decides the exit status)."""
    typer.echo(f"imuno-hub: {text}", err=True)


@contextmanager
def open_hub(db: str | None) -> Iterator[Hub]:
    """A migrated hub for one command; errors for a person become exit status 1."""
    from central.db import upgrade_to_head
    from central.services.context import Hub
    from central.services.errors import InvalidRequest
    from domain.errors import DomainError

    settings = hub_settings(db)
    hub: Hub | None = None
    try:
        folder = settings.sqlite_folder()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        upgrade_to_head(settings.database_url)
        hub = Hub.open(settings)
        yield hub
    except InvalidRequest as error:
        for problem in error.problems:
            fail(f"{problem.field}: {problem.error}")
        raise typer.Exit(1) from None
    except DomainError as error:
        fail(str(error))
        raise typer.Exit(1) from None
    finally:
        if hub is not None:
            hub.close()


def read_password(from_stdin: bool) -> str:
    """One line of standard input with `from_stdin`, else a hidden prompt typed twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def print_json(rows: Sequence[Mapping[str, Any]]) -> None:
    """`rows` as indented JSON, non-ASCII letters kept as they are."""
    typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))


def print_accounts(rows: Sequence[Mapping[str, Any]], *, role_width: int) -> None:
    """One line per account: username, role, full name, and whether it is switched off."""
    for row in rows:
        state = "" if row["active"] else "  (switched off)"
        typer.echo(f"{row['username']:<24} {row['role']:<{role_width}} {row['full_name']}{state}")
