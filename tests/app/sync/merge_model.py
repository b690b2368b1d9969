"""The reference the sync tests hold the hub's citizen merge to: which writes conflict.

A write of one citizen field is made at a site on top of the value it saw
there (its *base*: the timestamp of the value it replaced). Writes therefore
form a tree per field, and write ``a`` *happened before* write ``b`` when
``a`` is on ``b``'s chain of bases (the writer of ``b`` had seen ``a``).

The hub merges writes one at a time, in the order they reach it: the value
with the greater hybrid-clock timestamp is kept. A write that reaches the
hub while it holds a value its writer had not seen (neither happened before
the other) is *concurrent* with that value; when the two values differ, one
of them is lost to the other, and that pair — kept and lost, with their
timestamps — is what the conflict log must hold, once. Nothing else is a
conflict: a write that replaces a value its writer had seen is an ordinary
edit, even if some earlier write of its own branch once differed from a
write of another branch (those earlier writes were superseded by their own
writers before the hub compared anything).

`expected_conflicts` replays the arrivals against this definition, with no
knowledge of how the hub stores timestamps, and returns the log it expects
and the value each citizen should end with.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Write:
    """One write of the field: its timestamp, the timestamp it replaced, its value."""

    citizen_id: uuid.UUID
    stamp: str
    base: str | None
    value: str


@dataclass(frozen=True)
class Conflict:
    """A conflict-log entry: the value kept and the concurrent value it beat."""

    citizen_id: uuid.UUID
    kept_hlc: str
    kept_value: str
    lost_hlc: str
    lost_value: str


@dataclass(frozen=True)
class Held:
    """The value the hub holds for a citizen, and its timestamp."""

    stamp: str
    value: str


Key = tuple[uuid.UUID, str]
"""A write's identity: its citizen and its timestamp (sites stamp each citizen apart)."""


def ancestry(citizen_id: uuid.UUID, stamp: str, writes: Mapping[Key, Write]) -> set[str]:
    """`stamp` and every timestamp on its chain of bases (what its writer had seen)."""
    seen: set[str] = set()
    current: str | None = stamp
    while current is not None and current not in seen:
        seen.add(current)
        write = writes.get((citizen_id, current))
        current = write.base if write is not None else None
    return seen


def expected_conflicts(
    initial: Mapping[uuid.UUID, Held],
    made: Iterable[Write],
    arrivals: Sequence[Key],
) -> tuple[list[Conflict], dict[uuid.UUID, Held]]:
    """The conflict log and final values after the hub received `arrivals` in that order.

    `initial` is what the hub held before any site wrote; `made` every write
    made anywhere (arrived or not: a base may name any of them); `arrivals`
    the writes in the order the hub first committed them (a write delivered
    again is not listed again).
    """
    writes = {(write.citizen_id, write.stamp): write for write in made}
    held = dict(initial)
    conflicts: list[Conflict] = []
    for key in arrivals:
        write = writes[key]
        stamp = write.stamp
        current = held[write.citizen_id]
        if current.stamp in ancestry(write.citizen_id, stamp, writes):
            # An edit of the value its writer saw: later on every clock, never a conflict.
            assert stamp > current.stamp, f"write {stamp} is not after the {current.stamp} it saw"
            held[write.citizen_id] = Held(stamp, write.value)
            continue
        if stamp in ancestry(write.citizen_id, current.stamp, writes):
            continue  # already superseded by a write made on top of it
        incoming = Held(stamp, write.value)
        kept, lost = (incoming, current) if stamp > current.stamp else (current, incoming)
        if kept.value != lost.value:
            conflicts.append(
                Conflict(write.citizen_id, kept.stamp, kept.value, lost.stamp, lost.value)
            )
        held[write.citizen_id] = kept
    return conflicts, held
