"""``imuno-hub``: run the hub and administer it from the command line.

Every command takes ``--db URL`` (default: ``$IMUNO_HUB_DATABASE_URL``, else
the SQLite file ``./var/central.sqlite``) and brings that database to the
current schema before it does anything, so a fresh folder works at once.
Errors a person can fix print one line per problem to stderr and exit with
status 1, never a traceback; a usage mistake exits with 2.

Commands: ``serve``, ``migrate``, ``sites add|list|enrol-code|revoke|rotate``,
``users add|list``, ``conflicts list|resolve``, ``quarantine list|retry|dismiss``,
``notify send|status``.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from central.certificates.commands import cert_app
from central.cli_support import (
    DbOption,
    FullNameOption,
    JsonOption,
    PasswordStdinOption,
    UsernameArgument,
    fail,
    hub_settings,
    open_hub,
    operator,
    print_accounts,
    print_json,
    read_password,
)
from central.demo.cli import demo_data_command
from central.notify.cli import notify_app
from central.review_cli import conflicts_app, quarantine_app
from central.scheduling.cli import schedule as schedule_command
from central.services.sync.status_command import sites_status
from central.settings import LogLevel
from central.site_users_cli import site_users_app
from central.stock.cli import stock_app

if TYPE_CHECKING:
    from central.services.enrolment import IssuedCode

# The database layer (SQLAlchemy, Alembic) is imported inside the commands
# that use it, so that `imuno-hub --help` answers at once.

StaffRoleName = Literal["central_admin", "central_viewer"]

WORKER_HEALTHCHECK_S = 60
"""Seconds a uvicorn worker may take to answer its supervisor (see `serve`)."""

app = typer.Typer(
    name="imuno-hub",
    help="The imuno central hub: serve the API and administer sites and staff.",
    no_args_is_help=True,
    add_completion=False,
    # A traceback's locals could show a credential or a password: never print them.
    pretty_exceptions_show_locals=False,
)
sites_app = typer.Typer(help="Vaccination sites: add, list, enrol, revoke.", no_args_is_help=True)
users_app = typer.Typer(help="Central staff accounts.", no_args_is_help=True)
app.add_typer(sites_app, name="sites")
sites_app.command("status")(sites_status)
app.add_typer(users_app, name="users")
app.add_typer(cert_app, name="cert")
app.add_typer(site_users_app, name="site-users")
app.add_typer(stock_app, name="stock")
app.add_typer(conflicts_app, name="conflicts")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(notify_app, name="notify")
app.command("schedule")(schedule_command)
app.command("demo-data")(demo_data_command)


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on [127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [8080].")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [1].", min=1)] = None,
    log_level: Annotated[LogLevel | None, typer.Option(help="Log level [info].")] = None,
) -> None:
    """Run the hub's HTTP API with uvicorn (migrating the database first)."""
    import uvicorn

    from central.api.logs import uvicorn_log_config
    from central.api.metrics import MULTIPROC_ENV
    from central.db import upgrade_to_head
    from domain.errors import DomainError

    settings = hub_settings(db, host=host, port=port, workers=workers, log_level=log_level)
    folder = settings.sqlite_folder()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    try:
        upgrade_to_head(settings.database_url)
    except DomainError as error:
        fail(str(error))
        raise typer.Exit(1) from None
    # Workers read their settings from the environment (uvicorn's factory).
    os.environ.update(settings.as_environment())
    metrics_dir: tempfile.TemporaryDirectory[str] | None = None
    if settings.workers > 1 and not os.environ.get(MULTIPROC_ENV):
        metrics_dir = tempfile.TemporaryDirectory(prefix="imuno-hub-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir.name
    try:
        uvicorn.run(
            "central.api.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_config=uvicorn_log_config(settings.log_level),
            log_level=settings.log_level,
            access_log=False,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
            server_header=False,
            timeout_graceful_shutdown=10,
            # uvicorn kills a worker that does not answer its supervisor's ping in
            # time (5 s by default) and starts another. A worker still importing the
            # application on a busy machine misses that, and the hub then kills and
            # restarts its workers forever without serving a request.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        )
    finally:
        if metrics_dir is not None:
            metrics_dir.cleanup()


@app.command()
def migrate(db: DbOption = None) -> None:
    """Bring the database to the current schema (serve does this too)."""
    with open_hub(db) as hub:
        typer.echo(f"database at the current schema: {hub.engine.url.render_as_string()}")


@sites_app.command("add")
def sites_add(
    code: Annotated[str, typer.Argument(help="Site code, e.g. NS-001.")],
    name: Annotated[str, typer.Option(help="Site name.")],
    municipality: Annotated[str, typer.Option(help="Municipality.")],
    latitude: Annotated[float, typer.Option("--lat", help="Latitude (WGS 84).")],
    longitude: Annotated[float, typer.Option("--lon", help="Longitude (WGS 84).")],
    hours: Annotated[
        list[str],
        typer.Option(help="Opening hours, e.g. 'mon-fri 08:00-20:00'; repeat for more."),
    ],
    product: Annotated[
        list[str], typer.Option(help="A product code the site stores; repeat for more.")
    ],
    slot_minutes: Annotated[int, typer.Option(help="Slot length in minutes.")] = 10,
    vaccinators: Annotated[int, typer.Option(help="People vaccinating in parallel.")] = 2,
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Europe/Belgrade",
    address: Annotated[
        str | None, typer.Option(help="Street address shown in invitations.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Add a vaccination site."""
    from central.services.sites import NewSite, add_site, parse_opening_hours

    with open_hub(db) as hub:
        site = add_site(
            hub,
            NewSite(
                code=code,
                name=name,
                municipality=municipality,
                latitude=latitude,
                longitude=longitude,
                opening_hours=parse_opening_hours(hours),
                slot_minutes=slot_minutes,
                vaccinators=vaccinators,
                products=product,
                timezone=timezone,
                address=address,
            ),
            actor=operator(),
        )
        typer.echo(f"added site {site.code}: {site.name}")


@sites_app.command("list")
def sites_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List every site."""
    from central.services.sites import describe, list_sites_all

    with open_hub(db) as hub:
        rows = [describe(site) for site in list_sites_all(hub)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no sites yet: add one with 'imuno-hub sites add'")
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    typer.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        typer.echo("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())


def _print_code(issued: IssuedCode, as_json: bool) -> None:
    expires = issued.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "site_code": issued.site_code,
                    "code": issued.code,
                    "expires_at": issued.expires_at.isoformat(),
                }
            )
        )
        return
    typer.echo(f"Enrolment code for site {issued.site_code} (works once, until {expires}):")
    typer.echo("")
    typer.echo(f"    {issued.code}")
    typer.echo("")
    typer.echo("Type it into the site client's enrolment screen. It is shown only now.")


@sites_app.command("enrol-code")
def sites_enrol_code(
    code: Annotated[str, typer.Argument(help="The site's code.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a one-time enrolment code for a site, valid 24 hours."""
    from central.services.enrolment import issue_enrol_code

    with open_hub(db) as hub:
        issued = issue_enrol_code(hub, code, actor=operator())
    _print_code(issued, as_json)


@sites_app.command("revoke")
def sites_revoke(
    code: Annotated[str, typer.Argument(help="The site's code.")], db: DbOption = None
) -> None:
    """Revoke the site's credentials at once; it must enrol again to reconnect."""
    from central.services.enrolment import revoke_site

    with open_hub(db) as hub:
        revoked = revoke_site(hub, code, actor=operator())
    typer.echo(f"site {code}: {revoked} credential(s) revoked; unused enrolment codes voided")


@sites_app.command("rotate")
def sites_rotate(
    code: Annotated[str, typer.Argument(help="The site's code.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke the site's credentials at once and print a new enrolment code.

    For a credential that may have leaked: the site enrols again with the
    code and receives a new credential. (Sites rotate routinely by
    themselves through the API without losing service.)
    """
    from central.services.enrolment import reissue_site

    with open_hub(db) as hub:
        revoked, issued = reissue_site(hub, code, actor=operator())
    if not as_json:
        typer.echo(f"site {code}: {revoked} credential(s) revoked")
    _print_code(issued, as_json)


@users_app.command("add")
def users_add(
    username: UsernameArgument,
    full_name: FullNameOption,
    role: Annotated[StaffRoleName, typer.Option(help="central_admin or central_viewer.")],
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
) -> None:
    """Add a central staff account (argon2id password hash)."""
    from central.db import StaffRole
    from central.services.staff import add_user

    password = read_password(password_stdin)
    with open_hub(db) as hub:
        user = add_user(
            hub,
            username=username,
            full_name=full_name,
            role=StaffRole(role),
            password=password,
            actor=operator(),
        )
    typer.echo(f"added {user.role} {user.username} ({user.full_name})")


@users_app.command("list")
def users_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List central staff accounts."""
    from central.services.staff import list_users

    with open_hub(db) as hub:
        rows = [
            {"username": u.username, "full_name": u.full_name, "role": u.role, "active": u.active}
            for u in list_users(hub)
        ]
    if as_json:
        print_json(rows)
        return
    print_accounts(rows, role_width=16)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
