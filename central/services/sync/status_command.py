"""``imuno-hub sites status``: every site's sync health as a table (or JSON).

Registered on the hub CLI's ``sites`` group; reads the same data as
``GET /v1/admin/sync-status`` (`central.services.sync.status`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from central.settings import HubSettings
from domain.sync_wire import SiteSyncRow

COLUMNS = (
    "site",
    "last push",
    "last pull",
    "backlog",
    "clock offset",
    "quarantined",
    "conflicts",
    "client",
    "last error",
)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


def _offset(row: SiteSyncRow) -> str:
    if row.clock_offset_ms is None:
        return "-"
    text = f"{row.clock_offset_ms / 1000:+.0f} s"
    return f"{text} FLAGGED" if row.clock_flagged else text


def _cells(row: SiteSyncRow) -> tuple[str, ...]:
    return (
        row.site_code,
        _when(row.last_push_at),
        _when(row.last_pull_at),
        "-" if row.backlog is None else str(row.backlog),
        _offset(row),
        str(row.quarantined),
        str(row.open_conflicts),
        row.client_version or "-",
        (row.last_error or "")[:60],
    )


def render_table(rows: list[SiteSyncRow]) -> str:
    """The rows as an aligned text table with a header."""
    table = [COLUMNS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    )


def sites_status(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: $IMUNO_HUB_DATABASE_URL)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show every site's sync health: last push and pull, backlog, clock, errors."""
    # Imported here: the database layer loads only when a command needs it.
    from central.services.context import Hub
    from central.services.sync.status import sync_status

    settings = HubSettings(database_url=db) if db else HubSettings()
    hub = Hub.open(settings)
    try:
        status = sync_status(hub)
    finally:
        hub.close()
    if as_json:
        typer.echo(status.model_dump_json(indent=2))
    else:
        typer.echo(render_table(status.items))
