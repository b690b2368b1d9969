"""An appointment's status, derived from its events whatever order they arrive in.

Events are append-only and reach each replica in a different order (a site
records ``done`` offline while the hub reschedules the slot), so the status
cannot be "the latest event": the same set of events must give the same
status on every replica. It is the event of highest precedence, and among
events of equal precedence the latest by clinical time, then id:

    done > checked_in > no_show > rescheduled = cancelled = rebook_requested > scheduled

so a pulled ``rescheduled`` never undoes a local ``done``, and a ``no_show``
recorded at the site stands against a central cancellation. Within the middle
tier the latest wins: staff may mark a cancelled appointment for rebooking,
then reschedule it.

`STATUS_PRECEDENCE` is the single table of ranks; the hub turns it into an SQL
ordering (`central.services.appointments.latest_kind`) and the site folds
events with `derive_status`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final


class AppointmentStatus(StrEnum):
    """What an appointment's events add up to (the names of the event kinds)."""

    SCHEDULED = "scheduled"
    CHECKED_IN = "checked_in"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    REBOOK_REQUESTED = "rebook_requested"


STATUS_PRECEDENCE: Final[Mapping[str, int]] = {
    AppointmentStatus.SCHEDULED.value: 0,
    AppointmentStatus.RESCHEDULED.value: 1,
    AppointmentStatus.CANCELLED.value: 1,
    AppointmentStatus.REBOOK_REQUESTED.value: 1,
    AppointmentStatus.NO_SHOW.value: 2,
    AppointmentStatus.CHECKED_IN.value: 3,
    AppointmentStatus.DONE.value: 4,
}
"""Event kind -> rank; the highest rank decides the status."""


@dataclass(frozen=True)
class StatusEvent:
    """What the fold needs of one event: its kind, clinical time and id (text)."""

    kind: str
    occurred_at: datetime
    id: str


def precedence(kind: str) -> int:
    """The rank of an event kind. Raises `ValueError` for a kind that is not one."""
    try:
        return STATUS_PRECEDENCE[str(kind)]
    except KeyError:
        raise ValueError(f"not an appointment event kind: {kind!r}") from None


def deciding_event(events: Iterable[StatusEvent]) -> StatusEvent | None:
    """The event that sets the status (None: no events)."""
    return max(
        events,
        key=lambda e: (precedence(e.kind), e.occurred_at, e.id),
        default=None,
    )


def derive_status(events: Iterable[StatusEvent]) -> AppointmentStatus:
    """The status the events give; ``scheduled`` when there are none."""
    event = deciding_event(events)
    return AppointmentStatus.SCHEDULED if event is None else AppointmentStatus(event.kind)
