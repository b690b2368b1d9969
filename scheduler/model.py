"""The scheduler's input: products, places, sessions, stock and waiting citizens.

All values are frozen. Citizens come either as `Citizen` values (small inputs,
tests, the hub's incremental runs) or as a columnar `CitizenTable` of numpy
arrays (national runs of millions); `CitizenTable.from_citizens` converts the
first into the second, and the solver only ever reads the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
import numpy.typing as npt

from scheduler.errors import DuplicateRecord, InvalidValue, UnknownReference

IntArray = npt.NDArray[np.integer[Any]]


@dataclass(frozen=True)
class Product:
    """A vaccine product as the scheduler sees it.

    `series_doses` is the length of the primary series; a dose numbered below it
    has a follow-up dose of `next_dose_product` (the same product when None:
    Sputnik V component I names component II here) given `min_interval_days` to
    `max_interval_days` after it.
    """

    id: str
    doses_per_vial: int = 1
    series_doses: int = 1
    next_dose_product: str | None = None
    min_interval_days: int = 0
    max_interval_days: int = 0

    def __post_init__(self) -> None:
        owner = f"product {self.id!r}"
        if self.doses_per_vial < 1:
            raise InvalidValue(
                owner=owner, field="doses_per_vial", value=self.doses_per_vial, rule="must be >= 1"
            )
        if self.series_doses < 1:
            raise InvalidValue(
                owner=owner, field="series_doses", value=self.series_doses, rule="must be >= 1"
            )
        if not 0 <= self.min_interval_days <= self.max_interval_days:
            raise InvalidValue(
                owner=owner,
                field="interval",
                value=(self.min_interval_days, self.max_interval_days),
                rule="it needs 0 <= min_interval_days <= max_interval_days",
            )

    @property
    def follow_up_product(self) -> str:
        """The product of the next dose in the series."""
        return self.next_dose_product or self.id


@dataclass(frozen=True)
class Municipality:
    """A home municipality; its centre measures the distance to sites."""

    id: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Site:
    """A vaccination site."""

    id: str
    municipality_id: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Session:
    """One product vaccinated at one site on one day.

    The session has its own vaccinators: ``slots = (closes - opens) // slot_minutes``
    and each slot takes `vaccinators` citizens. A site that gives two products on
    one day lists two sessions and splits its staff or hours between them; the
    scheduler does not move staff between products (vials are opened per
    session, so each product runs its own line).
    """

    site_id: str
    day: date
    product_id: str
    opens: time
    closes: time
    vaccinators: int
    slot_minutes: int = 15

    def __post_init__(self) -> None:
        owner = f"session {self.site_id}/{self.day.isoformat()}/{self.product_id}"
        if self.vaccinators < 0:
            raise InvalidValue(
                owner=owner, field="vaccinators", value=self.vaccinators, rule="must be >= 0"
            )
        if self.slot_minutes < 1:
            raise InvalidValue(
                owner=owner, field="slot_minutes", value=self.slot_minutes, rule="must be >= 1"
            )
        if self.closes < self.opens:
            raise InvalidValue(
                owner=owner, field="closes", value=self.closes.isoformat(), rule="is before opens"
            )

    @property
    def slots(self) -> int:
        """Number of whole slots between opening and closing."""
        minutes = (self.closes.hour - self.opens.hour) * 60 + self.closes.minute - self.opens.minute
        return minutes // self.slot_minutes

    @property
    def capacity(self) -> int:
        """Citizens the session can take."""
        return self.slots * self.vaccinators


@dataclass(frozen=True)
class Stock:
    """Doses of a product that a site holds, or will hold, from `available_from` on.

    Several records for one site and product add up (stock on hand plus planned
    deliveries); `available_from` None means on hand at the start of the horizon.
    Bookings of a product at a site up to any day never exceed the doses that
    arrived by that day.
    """

    site_id: str
    product_id: str
    doses: int
    available_from: date | None = None

    def __post_init__(self) -> None:
        if self.doses < 0:
            raise InvalidValue(
                owner=f"stock {self.site_id}/{self.product_id}",
                field="doses",
                value=self.doses,
                rule="must be >= 0",
            )


@dataclass(frozen=True)
class Citizen:
    """A citizen waiting for one dose.

    `products` are the products the eligibility rules allow for this dose, in the
    citizen's order of preference. An empty tuple with an `ineligible_reason`
    (the code of the rule that excluded every product) means the caller found
    the citizen ineligible; the scheduler only reports it. `earliest` and
    `latest` come from the series interval (`latest` None: no limit). For doses
    after the first, `preferred_site` is where the previous dose was given.
    `rank` is the priority group, 1 the highest. `registered` is when the citizen
    registered (timezone-aware, or naive UTC); earlier registrations go first.
    """

    id: str
    dose_number: int
    products: tuple[str, ...]
    earliest: date
    latest: date | None
    municipality_id: str
    rank: int
    registered: datetime
    preferred_site: str | None = None
    ineligible_reason: str | None = None


def _codes(values: Sequence[str | None]) -> tuple[IntArray, tuple[str, ...]]:
    vocabulary = tuple(sorted({v for v in values if v is not None}))
    position = {v: i for i, v in enumerate(vocabulary)}
    return (
        np.array([-1 if v is None else position[v] for v in values], dtype=np.int32),
        vocabulary,
    )


@dataclass(frozen=True, eq=False)
class CitizenTable:
    """Waiting citizens as columns; row ``i`` of every array is one citizen.

    Categorical columns hold codes into the vocabulary tuple beside them (-1:
    none). Dates are ``datetime64[D]``, `latest` is NaT for no limit,
    `registered` is ``datetime64[s]`` (UTC). `ids` may be of any dtype (int64 or
    str); ids are unique.
    """

    ids: npt.NDArray[Any]
    dose: IntArray
    rank: IntArray
    municipality: IntArray
    municipality_ids: tuple[str, ...]
    products: IntArray
    product_lists: tuple[tuple[str, ...], ...]
    earliest: npt.NDArray[np.datetime64]
    latest: npt.NDArray[np.datetime64]
    registered: npt.NDArray[np.datetime64]
    preferred_site: IntArray
    site_ids: tuple[str, ...]
    ineligible: IntArray
    ineligible_reasons: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.ids)
        columns = {
            "dose": self.dose,
            "rank": self.rank,
            "municipality": self.municipality,
            "products": self.products,
            "earliest": self.earliest,
            "latest": self.latest,
            "registered": self.registered,
            "preferred_site": self.preferred_site,
            "ineligible": self.ineligible,
        }
        for name, column in columns.items():
            if column.shape != (n,):
                raise InvalidValue(
                    owner="citizen table", field=name, value=column.shape, rule=f"must be ({n},)"
                )
        if n == 0:
            return
        _check_codes(
            "municipality", self.municipality, len(self.municipality_ids), allow_none=False
        )
        _check_codes("products", self.products, len(self.product_lists), allow_none=False)
        _check_codes("preferred_site", self.preferred_site, len(self.site_ids), allow_none=True)
        _check_codes("ineligible", self.ineligible, len(self.ineligible_reasons), allow_none=True)
        if int(self.dose.min()) < 1:
            raise InvalidValue(
                owner="citizen table", field="dose", value=int(self.dose.min()), rule="must be >= 1"
            )
        if int(self.rank.min()) < 1:
            raise InvalidValue(
                owner="citizen table", field="rank", value=int(self.rank.min()), rule="must be >= 1"
            )
        if np.isnat(self.earliest).any():
            raise InvalidValue(
                owner="citizen table", field="earliest", value="NaT", rule="every row needs one"
            )
        if len(np.unique(self.ids)) != n:
            values, counts = np.unique(self.ids, return_counts=True)
            duplicate = values[counts > 1][0]
            if isinstance(duplicate, np.generic):
                duplicate = duplicate.item()
            raise DuplicateRecord(what="citizen", key=repr(duplicate))

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_citizens(cls, citizens: Iterable[Citizen]) -> CitizenTable:
        """Columns from `Citizen` values, in the given order."""
        rows = list(citizens)
        municipality, municipality_ids = _codes([c.municipality_id for c in rows])
        preferred, site_ids = _codes([c.preferred_site for c in rows])
        ineligible, reasons = _codes([c.ineligible_reason for c in rows])
        lists = tuple(sorted({c.products for c in rows}))
        list_code = {p: i for i, p in enumerate(lists)}
        return cls(
            ids=np.array([c.id for c in rows], dtype=object),
            dose=np.array([c.dose_number for c in rows], dtype=np.int16),
            rank=np.array([c.rank for c in rows], dtype=np.int16),
            municipality=municipality,
            municipality_ids=municipality_ids,
            products=np.array([list_code[c.products] for c in rows], dtype=np.int32),
            product_lists=lists,
            earliest=np.array([c.earliest for c in rows], dtype="datetime64[D]"),
            latest=np.array(
                [np.datetime64("NaT") if c.latest is None else c.latest for c in rows],
                dtype="datetime64[D]",
            ),
            registered=np.array(
                [np.datetime64(_utc_naive(c.registered), "s") for c in rows],
                dtype="datetime64[s]",
            ),
            preferred_site=preferred,
            site_ids=site_ids,
            ineligible=ineligible,
            ineligible_reasons=reasons,
        )

    def citizen_id(self, row: int) -> str:
        """The id of row `row` as text."""
        return str(self.ids[row])


def _utc_naive(moment: datetime) -> datetime:
    """`moment` in UTC without tzinfo (naive values are taken as UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _check_codes(name: str, codes: IntArray, size: int, *, allow_none: bool) -> None:
    low = -1 if allow_none else 0
    if int(codes.min()) < low or int(codes.max()) >= size:
        raise InvalidValue(
            owner="citizen table",
            field=name,
            value=(int(codes.min()), int(codes.max())),
            rule=f"codes must lie in [{low}, {size - 1}]",
        )


@dataclass(frozen=True, eq=False)
class Problem:
    """Everything one scheduling run needs.

    The horizon is the `days` days from `start`; every session lies inside it.
    References between records are checked here, so a `Problem` that exists is
    consistent.
    """

    start: date
    days: int
    products: tuple[Product, ...]
    municipalities: tuple[Municipality, ...]
    sites: tuple[Site, ...]
    sessions: tuple[Session, ...]
    stock: tuple[Stock, ...]
    citizens: CitizenTable

    def __post_init__(self) -> None:
        if self.days < 1:
            raise InvalidValue(owner="horizon", field="days", value=self.days, rule="must be >= 1")
        products = _unique("product", [p.id for p in self.products])
        municipalities = _unique("municipality", [m.id for m in self.municipalities])
        sites = _unique("site", [s.id for s in self.sites])
        for p in self.products:
            if p.next_dose_product is not None and p.next_dose_product not in products:
                raise UnknownReference(
                    what="product", ref=p.next_dose_product, owner=f"product {p.id!r}"
                )
        for s in self.sites:
            if s.municipality_id not in municipalities:
                raise UnknownReference(
                    what="municipality", ref=s.municipality_id, owner=f"site {s.id!r}"
                )
        seen: set[tuple[str, date, str]] = set()
        for x in self.sessions:
            owner = f"session {x.site_id}/{x.day.isoformat()}/{x.product_id}"
            if x.site_id not in sites:
                raise UnknownReference(what="site", ref=x.site_id, owner=owner)
            if x.product_id not in products:
                raise UnknownReference(what="product", ref=x.product_id, owner=owner)
            offset = (x.day - self.start).days
            if not 0 <= offset < self.days:
                raise InvalidValue(
                    owner=owner, field="day", value=x.day.isoformat(), rule="is outside the horizon"
                )
            key = (x.site_id, x.day, x.product_id)
            if key in seen:
                raise DuplicateRecord(what="session", key=f"{x.site_id}/{x.day}/{x.product_id}")
            seen.add(key)
        for st in self.stock:
            owner = f"stock {st.site_id}/{st.product_id}"
            if st.site_id not in sites:
                raise UnknownReference(what="site", ref=st.site_id, owner=owner)
            if st.product_id not in products:
                raise UnknownReference(what="product", ref=st.product_id, owner=owner)
        table = self.citizens
        for m in table.municipality_ids:
            if m not in municipalities:
                raise UnknownReference(what="municipality", ref=m, owner="a waiting citizen")
        for s_id in table.site_ids:
            if s_id not in sites:
                raise UnknownReference(what="site", ref=s_id, owner="a waiting citizen")
        for plist in table.product_lists:
            if len(set(plist)) != len(plist):
                raise DuplicateRecord(what="product in a preference list", key=repr(plist))
            for p_id in plist:
                if p_id not in products:
                    raise UnknownReference(what="product", ref=p_id, owner="a waiting citizen")

    @property
    def end(self) -> date:
        """The last day of the horizon."""
        return date.fromordinal(self.start.toordinal() + self.days - 1)


def _unique(what: str, ids: Sequence[str]) -> dict[str, int]:
    position: dict[str, int] = {}
    for i, key in enumerate(ids):
        if key in position:
            raise DuplicateRecord(what=what, key=repr(key))
        position[key] = i
    return position
