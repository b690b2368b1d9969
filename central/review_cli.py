"""``imuno-hub conflicts`` and ``imuno-hub quarantine``: review after sync, from the shell.

- ``conflicts list [--all] [--json]``: concurrent identity edits, newest first;
- ``conflicts resolve ID (--keep | --restore | --set VALUE) --note TEXT``;
- ``quarantine list [--all] [--site CODE] [--reason CODE] [--json]``;
- ``quarantine retry [ID] [--site CODE] [--reason CODE]``: one record, or
  every open retryable one that matches;
- ``quarantine dismiss ID --note TEXT``.

The same services back ``/v1/admin/conflicts`` and ``/v1/admin/quarantine``.
Errors a person can fix print one line to stderr and exit 1.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import typer

from central.cli_support import DbOption, JsonOption, fail, open_hub, operator, print_json

conflicts_app = typer.Typer(
    help="Concurrent identity edits the hub merged: list and resolve.", no_args_is_help=True
)
quarantine_app = typer.Typer(
    help="Pushed records the hub did not apply: list, retry, dismiss.", no_args_is_help=True
)

AllOption = Annotated[bool, typer.Option("--all", help="Resolved ones too.")]
NoteOption = Annotated[str, typer.Option("--note", help="Why (kept in the audit trail).")]
SiteFilter = Annotated[str | None, typer.Option("--site", help="One site's code.")]
ReasonFilter = Annotated[str | None, typer.Option("--reason", help="One reason code.")]
PAGE = 1000


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@conflicts_app.command("list")
def list_conflicts(
    all_: AllOption = False, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """List conflicts, newest first (open ones unless --all)."""
    from central.services.sync.conflicts import list_conflicts as read

    with open_hub(db) as hub, hub.read_sessions() as session:
        items = read(session, open_only=not all_, limit=PAGE).items
    if as_json:
        print_json([item.model_dump(mode="json") for item in items])
        return
    if not items:
        typer.echo("no open conflicts" if not all_ else "no conflicts")
    for item in items:
        state = f"resolved by {item.resolved_by}" if item.resolved_at else "OPEN"
        typer.echo(
            f"{item.id}  {item.jmbg} {item.citizen_name}  {item.field_name}: "
            f"kept {_value(item.kept_value)!r} ({item.kept_site or 'hub'}), "
            f"lost {_value(item.lost_value)!r} ({item.lost_site or 'hub'})  {state}"
        )


@conflicts_app.command("resolve")
def resolve(
    conflict_id: Annotated[uuid.UUID, typer.Argument(help="The conflict's id, from the list.")],
    note: NoteOption,
    keep: Annotated[bool, typer.Option("--keep", help="The merged value stands.")] = False,
    restore: Annotated[
        bool, typer.Option("--restore", help="Write the overwritten value back.")
    ] = False,
    set_value: Annotated[
        str | None, typer.Option("--set", help="Write this value instead of either.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Resolve one conflict; a restored or set value reaches every site holding the citizen."""
    from central.services.sync.conflicts import resolve_conflict
    from domain.review_wire import ConflictAction, ConflictResolution

    chosen = [keep, restore, set_value is not None]
    if sum(chosen) != 1:
        fail("choose exactly one of --keep, --restore and --set VALUE")
        raise typer.Exit(2)
    action = (
        ConflictAction.KEEP if keep else ConflictAction.RESTORE if restore else ConflictAction.SET
    )
    resolution = ConflictResolution(action=action, value=set_value, note=note)
    with open_hub(db) as hub:
        view = resolve_conflict(hub, conflict_id, resolution, actor=operator())
    now = _value(view.current_value)
    typer.echo(f"resolved {view.id}: {view.field_name} of {view.jmbg} is now {now!r}")


@quarantine_app.command("list")
def list_quarantine(
    all_: AllOption = False,
    site: SiteFilter = None,
    reason: ReasonFilter = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List quarantined records, newest first (open ones unless --all)."""
    from central.services.sync.quarantine import list_quarantined

    with open_hub(db) as hub, hub.read_sessions() as session:
        items = list_quarantined(
            session, open_only=not all_, site_code=site, reason_code=reason, limit=PAGE
        ).items
    if as_json:
        print_json([item.model_dump(mode="json") for item in items])
        return
    if not items:
        typer.echo("nothing in quarantine" if not all_ else "nothing was ever quarantined")
    for item in items:
        state = item.resolution if item.resolved_at else ("retryable" if item.retryable else "OPEN")
        typer.echo(
            f"{item.id}  {item.site_code} {item.kind} {item.record_id}  "
            f"{item.reason_code}: {item.detail[:80]}  [{state}]"
        )


@quarantine_app.command("retry")
def retry(
    quarantine_id: Annotated[
        uuid.UUID | None, typer.Argument(help="One record's id; without it, all that match.")
    ] = None,
    site: SiteFilter = None,
    reason: ReasonFilter = None,
    db: DbOption = None,
) -> None:
    """Apply quarantined records again, now that what they needed may be at the hub."""
    from central.services.sync.quarantine import retry_matching, retry_one
    from domain.review_wire import RetryFilter, RetryStatus

    with open_hub(db) as hub:
        if quarantine_id is not None:
            results = [retry_one(hub, quarantine_id, actor=operator())]
        else:
            wanted = RetryFilter(reason_code=reason, site_code=site)
            results = retry_matching(hub, wanted, actor=operator()).items
    for result in results:
        why = f" ({result.reason_code}: {result.detail})" if result.reason_code else ""
        typer.echo(f"{result.id}  {result.status.value}{why}")
    done = sum(r.status is not RetryStatus.STILL_QUARANTINED for r in results)
    typer.echo(f"{done} of {len(results)} applied or found at the hub")


@quarantine_app.command("dismiss")
def dismiss(
    quarantine_id: Annotated[uuid.UUID, typer.Argument(help="The record's id, from the list.")],
    note: NoteOption,
    db: DbOption = None,
) -> None:
    """Close one quarantined record without applying it, saying why."""
    from central.services.sync.quarantine import dismiss as close
    from domain.review_wire import Dismissal

    with open_hub(db) as hub:
        view = close(hub, quarantine_id, Dismissal(note=note), actor=operator())
    typer.echo(f"dismissed {view.id}: {view.resolution}")
