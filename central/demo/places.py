"""Serbian places for demo populations and site locations.

The packaged CSV (see data/README.md) has a population for 45 of its 156
places. The other 111 are municipality seats too small to be in the source's
ranked list, so they get one documented estimate rather than invented
precision: the median population of the known places under 50,000 people
(the known small and middle towns they resemble). Every place carries
`population_estimated` so reports can say which figures are estimates.
"""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

SMALL_TOWN_LIMIT: Final = 50_000


@dataclass(frozen=True, slots=True)
class Place:
    """A town or city: where citizens live and where sites stand."""

    name: str
    municipality: str
    lat: float
    lng: float
    population: int
    population_estimated: bool


@cache
def load_places() -> tuple[Place, ...]:
    """All places, in the file's order (known populations first, largest first)."""
    text = (resources.files("central.demo") / "data" / "serbia_places.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    known = [int(r["population"]) for r in rows if r["population"]]
    estimate = int(statistics.median(p for p in known if p < SMALL_TOWN_LIMIT))
    return tuple(
        Place(
            name=r["place"],
            municipality=r["municipality"],
            lat=float(r["lat"]),
            lng=float(r["lng"]),
            population=int(r["population"]) if r["population"] else estimate,
            population_estimated=not r["population"],
        )
        for r in rows
    )


def missing_population_estimate() -> int:
    """The population given to places the source has no figure for."""
    return next(p.population for p in load_places() if p.population_estimated)
