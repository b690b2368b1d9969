"""``imuno-hub notify``: send the invitations waiting in the outbox, and count them.

- ``notify send [--smtp HOST:PORT --from ADDRESS [--starttls] [--smtp-user U]]
  [--sms-url URL] [--folder DIR] [--limit N] [--until-empty]``: one batch (or
  batches until nothing is due); a channel with no gateway waits. The SMTP
  password and the SMS gateway's token come from ``$IMUNO_SMTP_PASSWORD`` and
  ``$IMUNO_SMS_TOKEN``, never from the command line (it shows in ``ps``).
- ``notify status``: messages by channel and status.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from central.cli_support import DbOption, fail, open_hub

if TYPE_CHECKING:
    from central.db.enums import NotificationChannel
    from central.notify.gateways import Gateway

notify_app = typer.Typer(
    help="Invitations to citizens: send them, count them.", no_args_is_help=True
)

# Names of environment variables, not secrets.
SMTP_PASSWORD_ENV = "IMUNO_SMTP_PASSWORD"  # noqa: S105
SMS_TOKEN_ENV = "IMUNO_SMS_TOKEN"  # noqa: S105


def _gateways(
    smtp: str | None,
    sender: str | None,
    starttls: bool,
    smtp_user: str | None,
    sms_url: str | None,
    folder: Path | None,
) -> dict[NotificationChannel, Gateway]:
    from central.db.enums import NotificationChannel
    from central.notify.gateways import FolderGateway, HttpSmsGateway, SmtpEmailGateway

    gateways: dict[NotificationChannel, Gateway] = {}
    if folder is not None:
        for channel in NotificationChannel:
            gateways[channel] = FolderGateway(folder, channel)
    if smtp is not None:
        host, _, port = smtp.rpartition(":")
        if not host or not port.isdigit() or not sender:
            fail("--smtp takes HOST:PORT, and --from the sender's address")
            raise typer.Exit(2)
        gateways[NotificationChannel.EMAIL] = SmtpEmailGateway(
            host,
            int(port),
            sender,
            starttls=starttls,
            username=smtp_user,
            password=os.environ.get(SMTP_PASSWORD_ENV),
        )
    if sms_url is not None:
        gateways[NotificationChannel.SMS] = HttpSmsGateway(
            sms_url, token=os.environ.get(SMS_TOKEN_ENV)
        )
    return gateways


@notify_app.command("send")
def send(
    smtp: Annotated[str | None, typer.Option(help="SMTP server HOST:PORT for e-mail.")] = None,
    sender: Annotated[str | None, typer.Option("--from", help="E-mail sender address.")] = None,
    starttls: Annotated[bool, typer.Option(help="Use STARTTLS with the SMTP server.")] = False,
    smtp_user: Annotated[str | None, typer.Option(help="SMTP login name.")] = None,
    sms_url: Annotated[str | None, typer.Option(help="HTTP SMS gateway endpoint.")] = None,
    folder: Annotated[
        Path | None, typer.Option(help="Write every message into this folder instead.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Messages per batch.")] = 200,
    until_empty: Annotated[
        bool, typer.Option(help="Send batches until nothing is due now.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Send due invitations through the gateways given; a channel without one waits."""
    from central.notify.dispatch import dispatch

    gateways = _gateways(smtp, sender, starttls, smtp_user, sms_url, folder)
    if not gateways:
        fail("no gateway: give --smtp and --from, --sms-url, or --folder")
        raise typer.Exit(2)
    sent = retry = failed = 0
    with open_hub(db) as hub:
        while True:
            report = dispatch(hub, gateways, limit=limit)
            sent, retry, failed = (
                sent + report.sent,
                retry + report.retry_later,
                failed + report.failed,
            )
            if not until_empty or report.claimed < limit:
                break
    typer.echo(f"sent {sent}, to retry later {retry}, failed for good {failed}")


@notify_app.command("status")
def status(db: DbOption = None) -> None:
    """Count messages by channel and status."""
    from central.notify.dispatch import outbox_counts

    with open_hub(db) as hub:
        counts = outbox_counts(hub)
    if not counts:
        typer.echo("the notification outbox is empty")
    for (channel, state), count in sorted(counts.items()):
        typer.echo(f"{channel:<6} {state:<8} {count}")
