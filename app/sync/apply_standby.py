"""Applying pulled standby-list entries (the hub scheduler's ``standby_entries``).

The hub sends a site only the entries of its own sessions, after the record
of any citizen on them the site does not hold yet. An entry is the hub's and
never changes after its run wrote it, so applying one already held is a
no-op. Called by `app.sync.apply.apply_changes`, one entry per savepoint.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from app.local_db.models.citizens import Citizen
from app.local_db.models.standby import StandbyEntry
from domain.sync_wire import PulledChange

if TYPE_CHECKING:
    from app.sync.apply import ApplyContext


def apply_standby_entry(
    ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]
) -> bool:
    """Keep an entry of one of this site's standby lists (inserted once)."""
    from app.sync.apply import Skip

    if uuid.UUID(str(payload["site_id"])) != ctx.site_id:
        return False  # another site's list: nothing this replica keeps
    if ctx.session.get(StandbyEntry, change.record_id) is not None:
        return False
    citizen_id = uuid.UUID(str(payload["citizen_id"]))
    if ctx.session.get(Citizen, citizen_id) is None:
        raise Skip(f"standby entry {change.record_id}: its citizen is not in this replica")
    created_at = datetime.fromisoformat(str(payload["created_at"]))
    ctx.session.add(
        StandbyEntry(
            id=change.record_id,
            run_id=uuid.UUID(str(payload["run_id"])),
            day=date.fromisoformat(str(payload["day"])),
            product_code=str(payload["product_id"]),
            position=int(payload["position"]),
            citizen_id=citizen_id,
            created_at=created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC),
        )
    )
    return True
