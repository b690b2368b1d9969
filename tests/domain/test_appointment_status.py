"""The status fold: the same status whatever order the events arrive in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.appointment_status import (
    STATUS_PRECEDENCE,
    AppointmentStatus,
    StatusEvent,
    derive_status,
    precedence,
)

T0 = datetime(2021, 6, 1, 8, tzinfo=UTC)


def _event(kind: str, minutes: int, n: int = 0) -> StatusEvent:
    return StatusEvent(kind, T0 + timedelta(minutes=minutes), f"{n:032x}")


def test_no_events_is_scheduled() -> None:
    assert derive_status([]) is AppointmentStatus.SCHEDULED


@pytest.mark.parametrize(
    ("events", "status"),
    [
        # A reschedule pulled after a local "done" does not undo it.
        ([("scheduled", 0), ("done", 10), ("rescheduled", 20)], "done"),
        ([("scheduled", 0), ("checked_in", 5), ("cancelled", 6)], "checked_in"),
        ([("scheduled", 0), ("no_show", 60), ("cancelled", 70)], "no_show"),
        ([("checked_in", 5), ("no_show", 60)], "checked_in"),
        # Within one tier the latest wins: cancelled, then marked for rebooking.
        ([("scheduled", 0), ("cancelled", 5), ("rebook_requested", 9)], "rebook_requested"),
        ([("rebook_requested", 5), ("rescheduled", 9)], "rescheduled"),
        ([("scheduled", 0)], "scheduled"),
    ],
)
def test_precedence(events: list[tuple[str, int]], status: str) -> None:
    assert derive_status(_event(k, m, n) for n, (k, m) in enumerate(events)) == status


def test_every_event_kind_has_a_rank_and_nothing_else_does() -> None:
    assert set(STATUS_PRECEDENCE) == {s.value for s in AppointmentStatus}
    with pytest.raises(ValueError, match="not an appointment event kind"):
        precedence("vaccinated")


_events = st.lists(
    st.builds(
        _event,
        st.sampled_from(sorted(STATUS_PRECEDENCE)),
        st.integers(0, 10_000),
        st.integers(0, 10**6),
    ),
    max_size=8,
    unique_by=lambda e: e.id,
)


@given(events=_events, data=st.data())
def test_the_order_of_arrival_does_not_matter(
    events: list[StatusEvent], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(events))
    assert derive_status(shuffled) == derive_status(events)


@given(events=_events)
def test_a_done_appointment_stays_done(events: list[StatusEvent]) -> None:
    done = _event("done", 5_000, 10**7)
    assert derive_status([*events, done]) is AppointmentStatus.DONE
