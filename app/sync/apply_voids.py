"""Applying pulled dose voids: a dose recorded somewhere turned out wrong.

A void reaches every site holding the citizen, so their double-dose guard
and certificates stop counting the voided dose. Append-only: an id already
held is a no-op. The voided dose must be in this replica (the hub announces
a dose before its void); a second void of the same dose is refused by the
store (one void per dose) and reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.local_db.models.doses import DoseRecord, DoseVoid
from domain.sync_wire import DoseVoidPayload, PulledChange

if TYPE_CHECKING:
    from app.sync.apply import ApplyContext


def apply_dose_void(ctx: ApplyContext, change: PulledChange, payload: Mapping[str, Any]) -> bool:
    """Insert the void if this replica lacks it."""
    from app.sync.apply import Skip  # apply imports this module for its table

    session = ctx.session
    if session.get(DoseVoid, change.record_id) is not None:
        return False
    void = DoseVoidPayload.model_validate(payload)
    if session.get(DoseRecord, void.dose_id) is None:
        raise Skip(f"dose void {void.id}: the voided dose is not in this replica")
    if change.origin_site_id is None:
        raise Skip(f"dose void {void.id}: the hub did not say which site voided the dose")
    session.add(
        DoseVoid(
            id=void.id,
            origin_site_id=change.origin_site_id,
            created_at=void.created_at,
            created_by=void.voided_by,
            dose_id=void.dose_id,
            reason=void.reason,
            voided_at=void.voided_at,
        )
    )
    return True
