"""The demo's vaccination sites: where they stand, when they open, what they hold.

Sites go to places in proportion to population by the Sainte-Laguë method
(the most proportional of the usual seat allocations; D'Hondt would give
Belgrade half of 40 sites), so Belgrade gets several and small towns one or
none; when there are at least as many sites as places, every place first
gets one. The first site of a place is its
health centre ("Dom zdravlja <place>") at the place's coordinates, further
ones stand within a few kilometres. Belgrade, Novi Sad, Niš and Kragujevac
have their real mass-vaccination halls and Belgrade its municipal health
centres, named as people knew them.

Three kinds of site, with assumptions typical of Serbia in 2021:

============  ================================  =====  ============  =======================
kind          opening hours                     slot   vaccinators   products
============  ================================  =====  ============  =======================
hall          every day 08:00-20:00             10     12-24         all in use
town (50k+)   Mon-Fri 07:00-20:00, Sat 08-15,   15/10  4-8           Sputnik V 90 %,
              Sun 08-13 at 30 %                                      BBIBP, Comirnaty 50 %,
                                                                     Vaxzevria 50 %
small town    Mon-Fri 07-19 or 08-15,           15/10  2-4           Sputnik V 80 %, BBIBP,
              Sat 08-12 at half                                      Vaxzevria 30 %
============  ================================  =====  ============  =======================

Comirnaty needs an ultra-cold chain (-70 °C), which only halls and larger
towns' centres had, so most sites store Sputnik V and BBIBP-CorV; a site
storing Sputnik V stores both components. Spikevax was not in use. Slots
are 15 minutes (10 at a fifth of the centres and at halls).

Addresses are street-like, not real: a street named the way Serbian towns
name their main streets, a house number and the place (``Karađorđeva 17,
Čačak``), drawn from their own random stream so adding them changed no
other draw.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from central.demo.places import Place, load_places
from central.demo.seeded import stream
from domain.catalogue import Catalogue

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TOWN_POPULATION: Final = 50_000
"""Places from this size on have town health centres with a cold chain for Comirnaty."""

_WORKDAYS: Final = WEEKDAYS[:5]
_STREETS: Final = (
    "Karađorđeva",
    "Kralja Petra I",
    "Kneza Miloša",
    "Njegoševa",
    "Svetog Save",
    "Vuka Karadžića",
    "Cara Dušana",
    "Vojvode Mišića",
    "Nemanjina",
    "Kralja Aleksandra",
    "Bulevar oslobođenja",
    "Dositejeva",
    "Jovana Cvijića",
    "Železnička",
    "Zdravstvena",
)
_SERBIAN_NAME: Final = {"Belgrade": "Beograd"}  # the places file names the capital in English
_NAMED: Final[Mapping[str, tuple[tuple[str, bool], ...]]] = {
    "Belgrade": (
        ("Beogradski sajam", True),
        ("Dom zdravlja Vračar", False),
        ("Dom zdravlja Novi Beograd", False),
        ("Dom zdravlja Stari grad", False),
        ("Dom zdravlja Palilula", False),
        ("Dom zdravlja Zvezdara", False),
        ("Dom zdravlja Voždovac", False),
        ("Dom zdravlja Čukarica", False),
        ("Dom zdravlja Rakovica", False),
        ("Dom zdravlja Savski venac", False),
        ("Štark arena", True),
        ("Sava centar", True),
    ),
    "Novi Sad": (("Dom zdravlja Novi Sad", False), ("Novosadski sajam", True), ("SPENS", True)),
    "Niš": (("Dom zdravlja Niš", False), ("Hala Čair", True)),
    "Kragujevac": (("Dom zdravlja Kragujevac", False), ("Hala Jezero", True)),
}


@dataclass(frozen=True)
class SitePlan:
    """One demo site, with everything its row needs.

    `opening_hours` is ``((weekday, ((opens, closes), ...)), ...)`` in local
    time, Monday first, days without hours left out.
    """

    code: str
    name: str
    place: str
    municipality: str
    latitude: float
    longitude: float
    opening_hours: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    slot_minutes: int
    vaccinators: int
    products: tuple[str, ...]
    hall: bool
    address: str

    def opening_hours_json(self) -> dict[str, list[list[str]]]:
        """Opening hours as the sites table stores them (``{"mon": [["08:00", "20:00"]]}``)."""
        return {
            day: [[opens, closes] for opens, closes in spans] for day, spans in self.opening_hours
        }

    def capacity(self, weekday: str) -> int:
        """People the site can vaccinate on `weekday` (slots times vaccinators)."""
        slots = sum(
            (_minutes(closes) - _minutes(opens)) // self.slot_minutes
            for day, spans in self.opening_hours
            if day == weekday
            for opens, closes in spans
        )
        return slots * self.vaccinators


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def sites_per_place(places: Sequence[Place], count: int) -> list[int]:
    """How many of `count` sites each place gets (Sainte-Laguë by population).

    With at least as many sites as places every place gets one first. Ties
    go to the place listed first.
    """
    if count < 0:
        raise ValueError(f"the number of sites must not be negative, got {count}")
    seats = [1 if count >= len(places) else 0 for _ in places]
    queue = [(-p.population / (2 * seats[i] + 1), i) for i, p in enumerate(places)]
    heapq.heapify(queue)
    for _ in range(count - sum(seats)):
        _, i = heapq.heappop(queue)
        seats[i] += 1
        heapq.heappush(queue, (-places[i].population / (2 * seats[i] + 1), i))
    return seats


def plan_sites(count: int, seed: int, catalogue: Catalogue) -> tuple[SitePlan, ...]:
    """`count` sites over Serbia, deterministic for (`count`, `seed`).

    Only products that `catalogue` lists are stored.
    """
    places = load_places()
    rng = stream(seed, "sites.layout")
    streets = stream(seed, "sites.address")
    known = {p.id for p in catalogue.products}
    order = [p.id for p in catalogue.products]
    plans: list[SitePlan] = []
    for place, seats in zip(places, sites_per_place(places, count), strict=True):
        local_name = _SERBIAN_NAME.get(place.name, place.name)
        named = _NAMED.get(place.name, ((f"Dom zdravlja {local_name}", False),))
        for k in range(seats):
            name, hall = (
                named[k] if k < len(named) else (f"Dom zdravlja {local_name}, punkt {k + 1}", False)
            )
            if k == 0:
                latitude, longitude = place.lat, place.lng
            else:
                latitude = round(place.lat + float(rng.normal(0, 0.015)), 5)
                longitude = round(place.lng + float(rng.normal(0, 0.02)), 5)
            town = place.population >= TOWN_POPULATION
            hours, slot, vaccinators, products = _equipment(rng, hall, town)
            plans.append(
                SitePlan(
                    code=f"S{len(plans) + 1:04d}",
                    name=name,
                    place=place.name,
                    municipality=place.municipality,
                    latitude=latitude,
                    longitude=longitude,
                    opening_hours=hours,
                    slot_minutes=slot,
                    vaccinators=vaccinators,
                    products=tuple(p for p in order if p in products and p in known),
                    hall=hall,
                    address=_address(streets, local_name),
                )
            )
    return tuple(plans)


def _address(rng: np.random.Generator, place: str) -> str:
    """A street-like address in `place` (``Njegoševa 12, Kraljevo``)."""
    street = _STREETS[int(rng.integers(len(_STREETS)))]
    return f"{street} {int(rng.integers(1, 120))}, {place}"


def _equipment(
    rng: np.random.Generator, hall: bool, town: bool
) -> tuple[tuple[tuple[str, tuple[tuple[str, str], ...]], ...], int, int, set[str]]:
    """Opening hours, slot minutes, vaccinators and products for one site."""
    draws = rng.random(6)
    sputnik = {"sputnik-v-1", "sputnik-v-2"}
    if hall:
        every_day = tuple((day, (("08:00", "20:00"),)) for day in WEEKDAYS)
        products = {"comirnaty", "vaxzevria", "bbibp", *sputnik}
        return every_day, 10, int(rng.integers(12, 25)), products
    spans: dict[str, tuple[tuple[str, str], ...]]
    if town:
        spans = dict.fromkeys(_WORKDAYS, (("07:00", "20:00"),))
        spans["sat"] = (("08:00", "15:00"),)
        if draws[0] < 0.3:
            spans["sun"] = (("08:00", "13:00"),)
        vaccinators = int(rng.integers(4, 9))
        products = {"bbibp"}
        products |= sputnik if draws[1] < 0.9 else set()
        products |= {"comirnaty"} if draws[2] < 0.5 else set()
        products |= {"vaxzevria"} if draws[3] < 0.5 else set()
    else:
        weekday = ("07:00", "19:00") if draws[0] < 0.5 else ("08:00", "15:00")
        spans = dict.fromkeys(_WORKDAYS, (weekday,))
        if draws[1] < 0.5:
            spans["sat"] = (("08:00", "12:00"),)
        vaccinators = int(rng.integers(2, 5))
        products = {"bbibp"}
        products |= sputnik if draws[2] < 0.8 else set()
        products |= {"vaxzevria"} if draws[3] < 0.3 else set()
    slot = 10 if draws[4] < 0.2 else 15
    hours = tuple((day, spans[day]) for day in WEEKDAYS if day in spans)
    return hours, slot, vaccinators, products


def site_row_values(plan: SitePlan) -> dict[str, Any]:
    """The columns of the sites table that come from the plan."""
    return {
        "code": plan.code,
        "name": plan.name,
        "municipality": plan.municipality,
        "address": plan.address,
        "latitude": plan.latitude,
        "longitude": plan.longitude,
        "timezone": "Europe/Belgrade",
        "opening_hours": plan.opening_hours_json(),
        "slot_minutes": plan.slot_minutes,
        "vaccinators": plan.vaccinators,
        "products": list(plan.products),
        "active": True,
    }
