"""Turning the store's trigger refusals into errors a nurse can read.

The triggers of migration 0001 abort with messages of the form
``imuno:<rule>[:<table>]``; `guard_error` maps such a database error to the
matching `SiteStoreError`, and `session_scope` raises that instead.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from app.local_db.errors import (
    AppendOnlyViolation,
    DoubleDose,
    ReplacementNotVoided,
    SiteStoreError,
)

_PREFIX: Final = "imuno:"


def guard_error(exc: sa.exc.DBAPIError) -> SiteStoreError | None:
    """The domain error behind a trigger's refusal, or None for any other failure."""
    message = str(exc.orig)
    if not message.startswith(_PREFIX):
        return None
    rule, _, table = message[len(_PREFIX) :].partition(":")
    if rule == "double_dose":
        return DoubleDose()
    if rule == "replacement_not_voided":
        return ReplacementNotVoided()
    if rule == "append_only":
        return AppendOnlyViolation(table=table)
    return None
