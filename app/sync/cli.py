"""``imuno-site sync``: one sync round, headless, printing what moved.

Exit status 0 when the round finished, 1 when it failed (the reason on
stderr, in words a manager can act on); the outbox is kept either way.
"""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli_options import DbOption, KeyOption, open_store, site_settings
from app.local_db.errors import SiteStoreError
from app.local_db.sealing import SecretBox
from app.sync.connect import connect
from app.sync.engine import RoundReport
from app.sync.errors import SyncError


def _print_report(report: RoundReport, bytes_sent: int, bytes_received: int) -> None:
    typer.echo(
        f"pushed {report.pushed} (applied {report.applied_at_hub}, duplicate "
        f"{report.duplicates}, quarantined {len(report.quarantined)})"
    )
    typer.echo(f"pulled {report.pulled} (applied here {report.applied_here})")
    typer.echo(f"waiting in outbox: {report.backlog}")
    verified = "yes" if report.verified else f"no, re-fetched {report.refetched}"
    typer.echo(f"verified with the hub: {verified}")
    if report.restored:
        typer.echo("restore from a backup detected: unsent records kept and re-sent")
    if report.hub_clock_offset_ms is not None and abs(report.hub_clock_offset_ms) > 60_000:
        typer.echo(f"warning: this computer's clock is off by {report.hub_clock_offset_ms} ms")
    for line in report.quarantined:
        typer.echo(f"quarantined at the hub: {line}")
    for line in report.skipped:
        typer.echo(f"not applied here: {line}")
    if report.lists_error:
        typer.echo(f"certificate lists not updated: {report.lists_error}")
    typer.echo(f"bytes sent {bytes_sent}, received {bytes_received}")


def sync(
    db: DbOption = None,
    key: KeyOption = None,
    hub_url: Annotated[
        str | None, typer.Option("--hub", help="Override the hub address stored at enrolment.")
    ] = None,
) -> None:
    """Run one sync round with the hub now: push the outbox, pull changes, verify."""
    settings = site_settings(db, key)
    engine = open_store(settings, create=False)
    try:
        with connect(engine, SecretBox.load(settings.secret_key_path), hub_url=hub_url) as link:
            report = link.engine.run_round()
            stats = link.transport.stats
    except (SyncError, SiteStoreError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    _print_report(report, stats.bytes_sent, stats.bytes_received)
