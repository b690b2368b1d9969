"""Names of stock locations, as stored in ``stock_movements`` (see `central.db.models.stock`).

``unaccounted`` is where vials come from or go to when nobody can say where:
extras found in a delivery, a stock count higher or lower than the books. A
non-zero position there is a question for a person, never silently zero.
"""

from __future__ import annotations

import uuid
from typing import Final

SUPPLIER: Final = "supplier"
WAREHOUSE: Final = "warehouse"
WASTE: Final = "waste"
ADMINISTERED: Final = "administered"
UNACCOUNTED: Final = "unaccounted"
SITE_PREFIX: Final = "site:"
TRANSIT_PREFIX: Final = "transit:"


def site_location(site_id: uuid.UUID) -> str:
    """The stock location of a site's fridge."""
    return f"{SITE_PREFIX}{site_id}"


def transit_location(shipment_id: uuid.UUID) -> str:
    """The stock location of vials on the road in one shipment."""
    return f"{TRANSIT_PREFIX}{shipment_id}"


def site_of(location: str) -> uuid.UUID | None:
    """The site id of a ``site:<uuid>`` location, None for any other location."""
    if not location.startswith(SITE_PREFIX):
        return None
    return uuid.UUID(location.removeprefix(SITE_PREFIX))
