"""The ``imuno-site`` options every command spells alike, and what they resolve to.

`DbOption` (``--db``) and `KeyOption` (``--key``) override the store file
and the secrets key file that `app.settings.SiteSettings` reads from the
environment; `site_settings` applies them. `open_store` opens the store for
a command, turning a store a person must fix (missing, newer than this
client, unreadable) into one line on stderr and exit status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from app.local_db.engine import open_site_store
from app.local_db.errors import SiteStoreError
from app.settings import SiteSettings

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="The site database file (default: $IMUNO_SITE_DB, else ./var/site.sqlite).",
        dir_okay=False,
    ),
]
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key", help="The secrets key file (default: $IMUNO_SITE_SECRET_KEY).", dir_okay=False
    ),
]


def site_settings(db: Path | None, key: Path | None) -> SiteSettings:
    """The settings from the environment, with ``--db`` and ``--key`` when given."""
    settings = SiteSettings().with_db(db)
    return settings if key is None else settings.model_copy(update={"secret_key": key})


def open_store(settings: SiteSettings, *, create: bool = True) -> Engine:
    """`open_site_store` on the settings' store; its refusal ends the command with status 1."""
    try:
        return open_site_store(settings.db_path, create=create)
    except SiteStoreError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc
