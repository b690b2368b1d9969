"""The scheduler: waiting citizens + site capacity + stock -> appointments.

A pure library: it imports `domain` only, reads no database and speaks no
HTTP. The hub builds a `Problem`, calls `schedule`, and stores the `Schedule`.
Eligibility is the caller's business: each waiting citizen arrives with the
products the domain rules allow for the dose, so this package never reads the
rule engine.

Input (`scheduler.model`)
-------------------------
``Problem(start, days, products, municipalities, sites, sessions, stock, citizens)``

- `Product(id, doses_per_vial, series_doses, next_dose_product, min_interval_days,
  max_interval_days)`: what the scheduler needs of the catalogue. Sputnik V is
  two products, component I with ``next_dose_product`` = component II.
- `Municipality(id, lat, lon)`, `Site(id, municipality_id, lat, lon)`: a site is
  within reach of a citizen when it is in the home municipality or at most
  `Config.reach_km` from the municipality's centre.
- `Session(site_id, day, product_id, opens, closes, vaccinators, slot_minutes=15)`:
  one product at one site on one day; ``capacity = slots * vaccinators``.
- `Stock(site_id, product_id, doses, available_from=None)`: projected stock;
  bookings up to a day never exceed the doses arrived by that day.
- Waiting citizens, one row each: `Citizen(id, dose_number, products, earliest,
  latest, municipality_id, rank, registered, preferred_site, ineligible_reason)`
  values, or the same as numpy columns in a `CitizenTable`
  (`CitizenTable.from_citizens` converts). `products` is ordered by preference
  and already filtered by eligibility; empty with an `ineligible_reason` means
  ineligible. `rank` 1 is the highest priority group. `preferred_site` is where
  the previous dose was given.
- `Config`: reach, closeness units, preference and site-change costs, standby.

Output (`scheduler.result`)
---------------------------
`Schedule`, columnar, with value views:

- `Appointment(citizen_id, dose_number, site_id, day, slot, starts, product_id)`;
- `Unbooked(citizen_id, dose_number, reason, rule)` for everyone not booked,
  `reason` a `Reason` (ineligible with the rule's code, interval not reached or
  passed, no session in reach, no stock, no capacity, second dose unavailable);
- `SecondDosePlan(citizen_id, dose_number, product_id, earliest, latest, site_id)`
  for series doses due after the horizon;
- `StandbyList(site_id, day, product_id, citizen_ids)` for leftover vial doses.

Objectives, in strict order
---------------------------
Later doses (dose >= 2) form a tier above every priority group; within a tier,
rank 1 first. (1) No citizen of a higher group is left unbooked who could be
booked by moving lower groups, directly or through chains of moves: the
per-group counts are lexicographically maximal. (2) As many citizens as
capacity allows (implied by (1)). (3) Least closeness cost (distance, steps
down the preference list, a later dose away from the previous site).
(4) Earlier days, higher groups first among interchangeable citizens. (5)
Multi-dose products fill their open vials where that unbooks nobody; standby
lists cover the rest. See `scheduler.network` for the method and why it is
exact, `scheduler.follow_up` for series, `scheduler.vials` for waste.

`scheduler.check.check` verifies every hard constraint of a `Schedule`
independently of the solver.
"""

from scheduler.config import Config
from scheduler.errors import (
    DuplicateRecord,
    InvalidValue,
    SchedulerInputError,
    UnknownReference,
)
from scheduler.model import (
    Citizen,
    CitizenTable,
    Municipality,
    Problem,
    Product,
    Session,
    Site,
    Stock,
)
from scheduler.reasons import Reason
from scheduler.result import Appointment, Schedule, SecondDosePlan, StandbyList, Unbooked
from scheduler.solver import schedule

__all__ = [
    "Appointment",
    "Citizen",
    "CitizenTable",
    "Config",
    "DuplicateRecord",
    "InvalidValue",
    "Municipality",
    "Problem",
    "Product",
    "Reason",
    "Schedule",
    "SchedulerInputError",
    "SecondDosePlan",
    "Session",
    "Site",
    "StandbyList",
    "Stock",
    "Unbooked",
    "UnknownReference",
    "schedule",
]
