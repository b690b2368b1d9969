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

from typing import TYPE_CHECKING, Annotated, Literal

import typer

from central.cli_support import (
    DbOption,
    FullNameOption,
    JsonOption,
    PasswordStdinOption,
    UsernameArgument,
    open_hub,
    operator,
    print_accounts,
    print_json,
    read_password,
)

if TYPE_CHECKING:
    pass

RoleName = Literal["nurse", "manager"]

site_users_app = typer.Typer(
    help="Nurses and managers who log in to a site's client.", no_args_is_help=True
)


@site_users_app.command("add")
def add(
    site_code: Annotated[str, typer.Argument(help="The site's code.")],
    username: UsernameArgument,
    role: Annotated[RoleName, typer.Option(help="nurse or manager.")],
    full_name: FullNameOption,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
) -> None:
    """Add a nurse or manager to a site; the site receives the account at its next sync."""
    from central.services.site_users import add_site_user
    from domain.site_accounts import SiteRole

    password = read_password(password_stdin)
    with open_hub(db) as hub:
        user = add_site_user(
            hub,
            site_code,
            username=username,
            full_name=full_name,
            role=SiteRole(role),
            password=password,
            actor=operator(),
        )
    typer.echo(f"added {user.role} {user.username} ({user.full_name}) to site {user.site_code}")


@site_users_app.command("list")
def list_users(
    site_code: Annotated[str, typer.Argument(help="The site's code.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a site's users."""
    from central.services.site_users import list_site_users

    with open_hub(db) as hub:
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
        print_json(rows)
        return
    print_accounts(rows, role_width=8)
