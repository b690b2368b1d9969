"""``imuno-site``: the site client's command line, for managers and support.

One top-level typer app; each area is a sub-app registered here (``db`` now;
``sync`` and ``run`` belong to their packages and are added with
``app.add_typer(...)`` or ``app.command(...)`` beside ``db``). Commands that
fail for a reason a person can fix print one clear line to stderr and exit
with status 1, never a traceback; a usage mistake exits with 2 (click's rule).

Run as ``imuno-site ...`` (console script) or ``python -m app.cli ...``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from app.cli_options import DbOption
from app.enrol_cli import enrol as enrol_command
from app.local_db.backup import backup
from app.local_db.engine import open_site_store
from app.local_db.errors import SiteStoreError
from app.local_db.export import ExportFormat, export_table
from app.local_db.info import SchemaState, store_info
from app.local_db.migrate import upgrade_to_head
from app.settings import SiteSettings
from app.sync.cli import sync as sync_command

app = typer.Typer(
    name="imuno-site",
    help="The imuno site client: maintenance of this vaccination site's workstation.",
    # No sub-command opens the client window (see `_open_client`).
    no_args_is_help=False,
    invoke_without_command=True,
    add_completion=False,
    # A traceback's locals could show a credential: never print them.
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(
    help="The site's local database: migrate, inspect, back up, export.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.command("sync")(sync_command)
app.command("enrol")(enrol_command)


def _store_path(db: Path | None) -> Path:
    return SiteSettings().with_db(db).db_path


@contextmanager
def _reported_errors() -> Iterator[None]:
    """Print errors meant for a person as one line and exit 1."""
    try:
        yield
    except SiteStoreError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        typer.echo(f"Error: {exc.strerror or exc}{where}.", err=True)
        raise typer.Exit(1) from exc


@db_app.command("migrate")
def db_migrate(db: DbOption = None) -> None:
    """Create the database if missing and upgrade it to this client's schema."""
    path = _store_path(db)
    with _reported_errors():
        engine = open_site_store(path, migrate=False)
        try:
            result = upgrade_to_head(engine, path)
        finally:
            engine.dispose()
    if not result.upgraded:
        typer.echo(f"{path} is up to date (schema {result.to_revision}).")
        return
    typer.echo(
        f"Upgraded {path} from schema {result.from_revision or 'none'} to {result.to_revision}."
    )
    if result.backup is not None:
        typer.echo(f"The database as it was before is saved in {result.backup}.")


@db_app.command("info")
def db_info(db: DbOption = None) -> None:
    """Show the database file, its schema revision, journal mode and row counts."""
    path = _store_path(db)
    with _reported_errors():
        info = store_info(path)
    notes = {
        SchemaState.CURRENT: "current",
        SchemaState.BEHIND: f"older than this client's {info.head}; the next start upgrades it",
        SchemaState.NEWER: f"NEWER than this client's {info.head}; this client will not open it",
        SchemaState.EMPTY: "never migrated",
    }
    typer.echo(f"path:          {info.path}")
    typer.echo(f"size:          {info.size_bytes} bytes")
    typer.echo(f"schema:        {info.revision or '-'} ({notes[info.state]})")
    typer.echo(f"journal mode:  {info.journal_mode}")
    typer.echo("rows:")
    width = max((len(name) for name in info.row_counts), default=0)
    for name, count in info.row_counts.items():
        typer.echo(f"  {name:<{width}}  {count}")


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup.", dir_okay=False)],
    db: DbOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace FILE if it exists.")] = False,
) -> None:
    """Copy the database to FILE while the site keeps working, and verify the copy."""
    path = _store_path(db)
    with _reported_errors():
        report = backup(path, file, overwrite=overwrite)
    typer.echo(
        f"Backed up {path} to {report.path}: {report.size_bytes} bytes, "
        f"schema {report.revision or '-'}, integrity check passed."
    )


@db_app.command("export")
def db_export(
    table: Annotated[str, typer.Argument(help="The table to export, e.g. dose_records.")],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExportFormat.CSV,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file instead of the screen.", dir_okay=False
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write one table as CSV or JSON (secret columns are never exported)."""
    path = _store_path(db)
    with _reported_errors():
        if output is None:
            export_table(path, table, fmt, sys.stdout)
            return
        partial = output.with_name(f".{output.name}.partial")
        try:
            # Exports hold personal data: readable by their owner only.
            with open(_private(partial), "w", encoding="utf-8", newline="") as out:
                count = export_table(path, table, fmt, out)
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
    typer.echo(f"Exported {count} rows of {table} to {output}.", err=True)


def _private(path: Path) -> Path:
    path.unlink(missing_ok=True)
    path.touch(mode=0o600)
    return path


@app.callback()
def _open_client(ctx: typer.Context) -> None:
    """The imuno site client. Without a command, opens the client window."""
    if ctx.invoked_subcommand is None:
        run_client()


@app.command("run")
def run_client(db: DbOption = None) -> None:
    """Open the client window (the nurse's screen); without a display, say so and exit."""
    # Imported here: Qt loads only for the window, not for maintenance commands.
    from app.bootstrap import run_gui

    raise typer.Exit(run_gui(db=db))


def main() -> None:
    """Entry point of the ``imuno-site`` console script."""
    app()


if __name__ == "__main__":
    main()
