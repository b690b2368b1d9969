"""``imuno-hub site-users``: nurses and managers of a site, created by an operator.

- ``add SITE_CODE USERNAME --role nurse|manager --full-name TEXT
  [--password-stdin]``: create the user; the site receives it at its next
  sync and the person logs in there (offline too);
- ``list SITE_CODE [--json]``.

The password is prompted twice (hidden) unless ``--password-stdin`` reads one
line from standard input, for scripts such as ``make demo``. Errors a person
can fix print one line to stderr and exit 1.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Literal

import typer

if TYPE_CHECKING:
    from central.services.context import Hub

RoleName = Literal["nurse", "manager"]

site_users_app = typer.Typer(
    help="Nurses and managers who log in to a site's client.", no_args_is_help=True
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $IMUNO_HUB_DATABASE_URL, else sqlite:///var/central.sqlite).",
    ),
]


def _operator() -> str:
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):
        return "operator:unknown"


@contextmanager
def _hub(db: str | None) -> Iterator[Hub]:
    """A migrated hub for one command; errors for a person become exit status 1."""
    from central.db import upgrade_to_head
    from central.services.context import Hub
    from central.settings import HubSettings
    from domain.errors import DomainError

    settings = HubSettings() if db is None else HubSettings(database_url=db)
    hub: Hub | None = None
    try:
        folder = settings.sqlite_folder()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        upgrade_to_head(settings.database_url)
        hub = Hub.open(settings)
        yield hub
    except DomainError as error:
        typer.echo(f"imuno-hub: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        if hub is not None:
            hub.close()


@site_users_app.command("add")
def add(
    site_code: Annotated[str, typer.Argument(help="The site's code.")],
    username: Annotated[str, typer.Argument(help="Login name (lower case).")],
    role: Annotated[RoleName, typer.Option(help="nurse or manager.")],
    full_name: Annotated[str, typer.Option(help="The person's full name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Add a nurse or manager to a site; the site receives the account at its next sync."""
    from central.services.site_users import add_site_user
    from domain.site_accounts import SiteRole

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _hub(db) as hub:
        user = add_site_user(
            hub,
            site_code,
            username=username,
            full_name=full_name,
            role=SiteRole(role),
            password=password,
            actor=_operator(),
        )
    typer.echo(f"added {user.role} {user.username} ({user.full_name}) to site {user.site_code}")


@site_users_app.command("list")
def list_users(
    site_code: Annotated[str, typer.Argument(help="The site's code.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """List a site's users."""
    from central.services.site_users import list_site_users

    with _hub(db) as hub:
        users = list_site_users(hub, site_code)
    rows = [
        {
            "id": str(u.id),
            "username": u.username,
            "full_name": u.full_name,
            "role": u.role.value,
            "active": u.active,
        }
        for u in users
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        state = "" if row["active"] else "  (switched off)"
        typer.echo(f"{row['username']:<24} {row['role']:<8} {row['full_name']}{state}")
