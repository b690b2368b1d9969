"""``imuno-site enrol --hub URL --code CODE``: enrol this workstation from the command line.

The same use case as the enrolment dialog (`app.services.enrolment.enrol_site`):
the site's signer key is made here, the code is exchanged for the credential,
both are stored sealed. Then, unless ``--no-sync``, one sync round brings the
site's accounts and roster, so a nurse can log in at once. Exit status 0 when
enrolled (a failed first sync only warns: the client syncs again by itself),
1 with one line on stderr when not.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from app.cli_options import DbOption, KeyOption, open_store, site_settings
from app.local_db.sealing import SecretBox
from app.services.enrolment import enrol_site
from app.sync.connect import connect
from app.sync.errors import SyncError
from domain.clock import SystemClock
from domain.errors import DomainError


def enrol(
    hub: Annotated[str, typer.Option("--hub", help="The hub's address, e.g. https://hub.rs.")],
    code: Annotated[str, typer.Option("--code", help="The one-time enrolment code.")],
    db: DbOption = None,
    key: KeyOption = None,
    sync: Annotated[
        bool, typer.Option("--sync/--no-sync", help="Sync once after enrolling.")
    ] = True,
) -> None:
    """Enrol this workstation as a vaccination site with the hub's one-time code."""
    settings = site_settings(db, key)
    engine = open_store(settings)
    try:
        box = SecretBox.load_or_create(settings.secret_key_path)
        result = enrol_site(engine, box, hub, code, SystemClock())
        typer.echo(
            f"Enrolled as site {result.site_code} ({result.site_name}) with {result.hub_url}; "
            f"signer key id {result.signer_kid.hex()}, valid until "
            f"{result.signer_valid_until:%Y-%m-%d}."
        )
        if sync:
            _first_sync(engine, box)
    except DomainError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


def _first_sync(engine: Engine, box: SecretBox) -> None:
    try:
        with connect(engine, box) as link:
            report = link.engine.run_round()
    except SyncError as exc:
        typer.echo(f"Warning: the first sync did not finish: {exc}", err=True)
        return
    typer.echo(f"First sync: pulled {report.pulled} changes (applied {report.applied_here}).")
