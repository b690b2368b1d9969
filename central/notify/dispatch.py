"""Draining the notification outbox through the configured gateways.

`dispatch` claims up to `limit` due rows (pending, and past their
``next_attempt_at``) of the channels it has a gateway for, oldest first, and
sends each. On PostgreSQL the claim skips rows another sender holds (``FOR
UPDATE SKIP LOCKED``), so several senders may run at once without sending a
message twice; SQLite serialises writers anyway. The outcome is written in
the claiming transaction:

- accepted: ``sent`` with ``sent_at``;
- refused for good (`DeliveryFailed.permanent`), or `MAX_ATTEMPTS` used:
  ``failed`` with the last error, for central staff to see;
- otherwise: still ``pending``, tried again after a backoff doubling from
  one minute up to six hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import func, or_, select

from central.db import NotificationOutbox
from central.db.enums import NotificationChannel, NotificationStatus
from central.notify.gateways import DeliveryFailed, Gateway, Message
from central.services.context import Hub

MAX_ATTEMPTS: Final = 8
FIRST_BACKOFF: Final = timedelta(minutes=1)
MAX_BACKOFF: Final = timedelta(hours=6)
DEFAULT_LIMIT: Final = 200


@dataclass(frozen=True)
class DispatchReport:
    """What one `dispatch` call did."""

    sent: int
    retry_later: int
    failed: int

    @property
    def claimed(self) -> int:
        return self.sent + self.retry_later + self.failed


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed tries (1 min, 2, 4, ... up to 6 h)."""
    delay: timedelta = FIRST_BACKOFF * (2 ** min(max(attempts - 1, 0), 20))
    return min(delay, MAX_BACKOFF)


def dispatch(
    hub: Hub,
    gateways: Mapping[NotificationChannel, Gateway],
    *,
    limit: int = DEFAULT_LIMIT,
    max_attempts: int = MAX_ATTEMPTS,
) -> DispatchReport:
    """Send up to `limit` due messages of the channels in `gateways`; commit the outcomes."""
    if not gateways:
        return DispatchReport(0, 0, 0)
    now = hub.clock.now()
    sent = retry = failed = 0
    with hub.sessions() as session, session.begin():
        rows = session.scalars(
            select(NotificationOutbox)
            .where(
                NotificationOutbox.status == NotificationStatus.PENDING,
                NotificationOutbox.channel.in_([c.value for c in gateways]),
                or_(
                    NotificationOutbox.next_attempt_at.is_(None),
                    NotificationOutbox.next_attempt_at <= now,
                ),
            )
            .order_by(NotificationOutbox.created_at, NotificationOutbox.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            channel = NotificationChannel(row.channel)
            message = Message(id=row.id, channel=channel, recipient=row.recipient, body=row.body)
            row.attempts += 1
            row.updated_at = now
            try:
                gateways[channel].send(message)
            except DeliveryFailed as exc:
                row.last_error = str(exc)[:2000]
                if exc.permanent or row.attempts >= max_attempts:
                    row.status = NotificationStatus.FAILED
                    row.next_attempt_at = None
                    failed += 1
                else:
                    row.next_attempt_at = now + backoff(row.attempts)
                    retry += 1
                continue
            row.status = NotificationStatus.SENT
            row.sent_at = now
            row.next_attempt_at = None
            row.last_error = None
            sent += 1
    return DispatchReport(sent=sent, retry_later=retry, failed=failed)


def outbox_counts(hub: Hub) -> dict[tuple[str, str], int]:
    """Messages by (channel, status)."""
    with hub.read_sessions() as session:
        rows = session.execute(
            select(NotificationOutbox.channel, NotificationOutbox.status, func.count()).group_by(
                NotificationOutbox.channel, NotificationOutbox.status
            )
        ).all()
    return {(channel, status): int(count) for channel, status, count in rows}
