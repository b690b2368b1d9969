"""``imuno-hub demo-data``: fill an empty central database with demo data.

The hub's command-line app registers `demo_data_command`::

    app.command("demo-data")(demo_data_command)

Only Typer and the settings are imported here; the generator (numpy,
SQLAlchemy) is imported when the command runs, so ``imuno-hub --help``
stays quick.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from central.demo.limits import MAX_CITIZENS, MAX_SITES, MAX_WORKERS
from central.settings import DEFAULT_DATABASE_URL, ENV_PREFIX


def demo_data_command(
    citizens: Annotated[
        int,
        typer.Option(min=0, max=MAX_CITIZENS, help="How many citizens have registered interest."),
    ] = 10_000,
    sites: Annotated[
        int,
        typer.Option(min=1, max=MAX_SITES, help="How many vaccination sites there are."),
    ] = 40,
    seed: Annotated[
        int,
        typer.Option(min=0, help="Seed of every random choice: same seed, same data."),
    ] = 1,
    db: Annotated[
        str,
        typer.Option(
            "--db",
            envvar=f"{ENV_PREFIX}DATABASE_URL",
            help="Database URL: an SQLite file or an empty PostgreSQL database.",
        ),
    ] = DEFAULT_DATABASE_URL,
    start: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="First vaccination day, YYYY-MM-DD (default: today in Serbia). "
            "Give it to get the same data on another day.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_WORKERS,
            help="Processes writing citizens (default: 2 from 100,000 citizens on, else 1).",
        ),
    ] = None,
) -> None:
    """Fill an empty central database with a plausible population, sites and stock.

    Citizens aged 16-95 with valid JMBGs, names in Latin and Cyrillic, real
    Serbian municipalities, priority groups, health conditions, contacts and
    vaccine preferences in the shares of early 2021 (about 38 % Sputnik V,
    27 % Comirnaty, 32 % any), each with a registration of interest. Sites
    with opening hours, slot length, vaccinators and the products they store;
    lots delivered to the central warehouse and a first shipment to every
    site, all as stock movements.

    The database is migrated first. Demo data goes only into a database
    without citizens, sites or lots; nothing is written if anything fails.
    Prints a summary of what was generated.
    """
    from central.db import upgrade_to_head
    from central.demo.generate import generate_demo
    from central.demo.people import CAMPAIGN_TIMEZONE
    from central.settings import HubSettings
    from domain.errors import DomainError

    settings = HubSettings(database_url=db)
    folder = settings.sqlite_folder()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    first_day = start.date() if start is not None else datetime.now(CAMPAIGN_TIMEZONE).date()
    try:
        upgrade_to_head(settings.database_url)
        summary = generate_demo(
            settings.database_url,
            citizens=citizens,
            sites=sites,
            seed=seed,
            start=first_day,
            workers=workers,
            progress=lambda line: typer.echo(f"imuno-hub demo-data: {line}", err=True),
        )
    except DomainError as error:
        typer.echo(f"imuno-hub: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(summary.render())
