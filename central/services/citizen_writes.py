"""A write of citizen fields made at the hub (registration portal, central staff).

Each changed field is stamped with a hybrid-logical-clock timestamp later than
anything the row has seen, so the write wins the field-by-field merge at every
replica (sync rule 3) and travels to sites like any other citizen change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from central.db import Citizen
from central.services.context import Hub
from domain.hlc import Timestamp


def write_fields(hub: Hub, citizen: Citizen, values: dict[str, Any], now: datetime) -> bool:
    """Write the fields of `values` that differ from `citizen`'s; return whether any did."""
    changed = {k: v for k, v in values.items() if getattr(citizen, k) != v}
    if not changed:
        return False
    hub.hlc.receive(Timestamp.decode(citizen.hlc))
    stamp = hub.hlc.now().encode()
    field_hlc = dict(citizen.field_hlc)
    for name, value in changed.items():
        setattr(citizen, name, value)
        field_hlc[name] = stamp
    citizen.field_hlc = field_hlc
    citizen.hlc = stamp
    citizen.updated_at = now
    return True
