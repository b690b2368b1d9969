"""``imuno-hub schedule``: run the scheduler over the hub database and print a summary.

Defined here and registered in `central.cli`; like every hub command it
imports the database layer only when it runs, so ``--help`` answers at once.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from central.cli_support import DbOption, JsonOption, open_hub, operator


def schedule(
    start: Annotated[
        datetime,
        typer.Option(formats=["%Y-%m-%d"], help="First day to book (YYYY-MM-DD)."),
    ],
    days: Annotated[int, typer.Option(help="Number of days to book.", min=1)] = 7,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Book waiting citizens into the coming days and queue their invitations.

    Writes the appointments (sites receive them with their next pull), an
    SMS and e-mail invitation per booking, and the reason for everyone not
    booked. Safe to run again: nobody is booked twice.
    """
    from central.scheduling.run import run_schedule
    from central.scheduling.summary import format_summary

    with open_hub(db) as hub:
        summary = run_schedule(hub, start.date(), days, actor=operator())
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "run_id": str(summary.run_id),
                    "rules_version": summary.rules_version,
                    "start": summary.start.isoformat(),
                    "end": summary.end.isoformat(),
                    **summary.as_json(),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    typer.echo(format_summary(summary))
