"""What central staff review after sync, on the wire: identity conflicts and quarantine.

- A *conflict* is a concurrent change of one identity field of a citizen
  (names, date of birth, JMBG) that the hub merged by hybrid logical clock
  (sync rule 3): ``kept`` is the value that won, ``lost`` the one it
  overwrote. A person resolves it by keeping the merged value, restoring the
  lost one, or setting the right one; the latter two are a new write at the
  hub that reaches every site expecting the citizen.
- A *quarantined* record is one a site pushed and the hub would not apply
  (sync rule 2: never dropped), with its reason. A person retries it once
  the cause is gone (the citizen or lot it needed has arrived, a duplicate
  identity was merged) or dismisses it with a note saying why.

Both lists are newest first, paginated by an opaque cursor.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

NOTE_MAX_LENGTH: Final = 500


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ConflictView(_Response):
    """One concurrent identity edit, as merged, with what the citizen holds now."""

    id: uuid.UUID
    citizen_id: uuid.UUID
    jmbg: str
    citizen_name: str
    field_name: str
    kept_value: Any
    kept_hlc: str
    kept_site: str | None = Field(description="Site code of the winning write; null: the hub.")
    lost_value: Any
    lost_hlc: str
    lost_site: str | None = Field(description="Site code of the overwritten write.")
    current_value: Any = Field(description="The field's value at the hub now.")
    detected_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None


class ConflictList(_Response):
    items: list[ConflictView]
    next_cursor: str | None


class ConflictAction(StrEnum):
    """How a person settles a conflict."""

    KEEP = "keep"  # the merged value stands
    RESTORE = "restore"  # the overwritten value is written back
    SET = "set"  # neither: the value given is written


class ConflictResolution(_Request):
    """A person's decision on one conflict."""

    action: ConflictAction
    value: Any = Field(default=None, description="The value to write (action 'set' only).")
    note: str = Field(min_length=1, max_length=NOTE_MAX_LENGTH)

    @model_validator(mode="after")
    def _value_only_to_set(self) -> ConflictResolution:
        if (self.action is ConflictAction.SET) != (self.value is not None):
            raise ValueError("a value is given with action 'set', and only then")
        return self


class QuarantineView(_Response):
    """One pushed record the hub did not apply, kept whole."""

    id: uuid.UUID
    site_code: str
    kind: str
    record_id: str | None
    reason_code: str
    detail: str
    received_at: datetime
    payload: Any
    retryable: bool = Field(description="Whether a retry can apply it once the cause is gone.")
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


class QuarantineList(_Response):
    items: list[QuarantineView]
    next_cursor: str | None


class RetryStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STILL_QUARANTINED = "still_quarantined"


class RetryResult(_Response):
    """What one retry of a quarantined record did."""

    id: uuid.UUID
    status: RetryStatus
    reason_code: str | None = Field(description="Why it is still quarantined.")
    detail: str | None


class RetryReport(_Response):
    items: list[RetryResult]


class RetryFilter(_Request):
    """Which open quarantined records to retry at once (all that match)."""

    reason_code: str | None = Field(default=None, max_length=64)
    site_code: str | None = Field(default=None, max_length=16)
    limit: int = Field(default=1000, ge=1, le=10_000)


class Dismissal(_Request):
    """Closing a quarantined record without applying it, and why."""

    note: str = Field(min_length=1, max_length=NOTE_MAX_LENGTH)
