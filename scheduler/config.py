"""Tunable policy of a scheduling run.

Costs are in "closeness units": one unit is `km_per_unit` kilometres from the
home municipality's centre to the site. A step down the preference list and a
second dose away from the first dose's site are priced in the same unit, so
the trade-off between distance and preference is one readable table.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.errors import InvalidValue


@dataclass(frozen=True)
class Config:
    """Policy knobs; the defaults are the campaign's.

    - `reach_km`: a site is within reach when it lies in the citizen's home
      municipality or at most this far from the municipality's centre.
    - `km_per_unit`: kilometres per closeness unit.
    - `preference_step`: units charged per step down the preference list
      (4 units = 20 km: a citizen drives 20 km further for their first choice).
    - `other_site_penalty`: units charged when a later dose is not booked where
      the previous dose was given.
    - `standby_factor`: a multi-dose session keeps ``ceil(factor * (doses_per_vial
      - 1))`` standby citizens for the doses left in its last vial.
    - `consolidate_vials`: move bookings between sessions to fill opened vials.
    """

    reach_km: float = 30.0
    km_per_unit: float = 5.0
    preference_step: int = 4
    other_site_penalty: int = 10
    standby_factor: float = 1.5
    consolidate_vials: bool = True

    def __post_init__(self) -> None:
        for name in ("reach_km", "km_per_unit", "standby_factor"):
            if getattr(self, name) < 0 or (name == "km_per_unit" and self.km_per_unit == 0):
                raise InvalidValue(
                    owner="scheduler config",
                    field=name,
                    value=getattr(self, name),
                    rule="must be positive",
                )
        for name in ("preference_step", "other_site_penalty"):
            if getattr(self, name) < 0:
                raise InvalidValue(
                    owner="scheduler config",
                    field=name,
                    value=getattr(self, name),
                    rule="must be >= 0",
                )
