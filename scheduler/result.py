"""The scheduler's output: appointments, reasons, second-dose plans, standby lists.

`Schedule` keeps everything as columns (row numbers into the input's
`CitizenTable`, positions into `Problem.sessions`), which is what a national
run needs; its methods give the same content as frozen values for callers that
handle a few thousand at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import numpy.typing as npt

from scheduler.classes import REASONS
from scheduler.model import Problem
from scheduler.prepared import I64
from scheduler.reasons import Reason


@dataclass(frozen=True)
class Appointment:
    """A booked dose: citizen, site, day, slot (and its start time), product, dose number."""

    citizen_id: str
    dose_number: int
    site_id: str
    day: date
    slot: int
    starts: time
    product_id: str


@dataclass(frozen=True)
class Unbooked:
    """A citizen left without an appointment, and why; `rule` names the eligibility rule."""

    citizen_id: str
    dose_number: int
    reason: Reason
    rule: str | None = None


@dataclass(frozen=True)
class SecondDosePlan:
    """The next dose of a series that this run did not book.

    Feed it back as a waiting citizen (dose `dose_number`, products
    (`product_id`,), window `earliest`..`latest`, preferred site `site_id`) in
    the run whose horizon reaches `earliest`.
    """

    citizen_id: str
    dose_number: int
    product_id: str
    earliest: date
    latest: date
    site_id: str


@dataclass(frozen=True)
class StandbyList:
    """Citizens to call, in order, for doses left in a session's last vial."""

    site_id: str
    day: date
    product_id: str
    citizen_ids: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Schedule:
    """Result of `scheduler.schedule`, as columns.

    - appointments: ``appointment_row`` (citizen row), ``appointment_dose``,
      ``appointment_session`` (position in ``problem.sessions``),
      ``appointment_slot``. A first dose and a second dose booked with it are
      two appointments of the same row.
    - unbooked: ``unbooked_row``, ``unbooked_reason`` (codes into `REASONS`).
    - second-dose plans: ``plan_row``, ``plan_dose``, ``plan_product`` (position),
      ``plan_earliest``/``plan_latest`` (day offsets from the horizon start, may
      lie beyond it), ``plan_site`` (position).
    - standby: ``standby_session``, ``standby_row``, in call order per session.
    - ``group_keys`` ((tier, rank) per effective group, tier 0 = later doses) and
      ``group_booked`` (appointments per group made by the lexicographic step).
    """

    problem: Problem
    appointment_row: I64
    appointment_dose: I64
    appointment_session: I64
    appointment_slot: I64
    unbooked_row: I64
    unbooked_reason: npt.NDArray[np.int8]
    plan_row: I64
    plan_dose: I64
    plan_product: I64
    plan_earliest: I64
    plan_latest: I64
    plan_site: I64
    standby_session: I64
    standby_row: I64
    group_keys: tuple[tuple[int, int], ...]
    group_booked: I64

    def _day(self, offset: int) -> date:
        return self.problem.start + timedelta(days=offset)

    def appointments(self) -> list[Appointment]:
        """Every appointment, in (site, day, slot, citizen) order."""
        table, sessions, sites = self.problem.citizens, self.problem.sessions, self.problem.sites
        out: list[Appointment] = []
        for row, dose, ses, slot in zip(
            self.appointment_row.tolist(),
            self.appointment_dose.tolist(),
            self.appointment_session.tolist(),
            self.appointment_slot.tolist(),
            strict=True,
        ):
            x = sessions[ses]
            starts = (
                datetime.combine(x.day, x.opens) + timedelta(minutes=slot * x.slot_minutes)
            ).time()
            out.append(
                Appointment(
                    citizen_id=table.citizen_id(row),
                    dose_number=dose,
                    site_id=x.site_id,
                    day=x.day,
                    slot=slot,
                    starts=starts,
                    product_id=x.product_id,
                )
            )
        site_order = {s.id: i for i, s in enumerate(sites)}
        out.sort(key=lambda a: (site_order[a.site_id], a.day, a.slot, a.citizen_id, a.dose_number))
        return out

    def unbooked(self) -> list[Unbooked]:
        """Every citizen without an appointment, in input order."""
        table = self.problem.citizens
        out: list[Unbooked] = []
        for row, code in sorted(
            zip(self.unbooked_row.tolist(), self.unbooked_reason.tolist(), strict=True)
        ):
            reason = REASONS[code]
            rule_code = int(table.ineligible[row])
            rule = table.ineligible_reasons[rule_code] if rule_code >= 0 else None
            out.append(
                Unbooked(
                    citizen_id=table.citizen_id(row),
                    dose_number=int(table.dose[row]),
                    reason=reason,
                    rule=rule if reason is Reason.INELIGIBLE else None,
                )
            )
        return out

    def second_dose_plans(self) -> list[SecondDosePlan]:
        """Next doses to schedule in later runs, in input order."""
        table, products, sites = self.problem.citizens, self.problem.products, self.problem.sites
        return [
            SecondDosePlan(
                citizen_id=table.citizen_id(row),
                dose_number=dose,
                product_id=products[p].id,
                earliest=self._day(e),
                latest=self._day(lo),
                site_id=sites[s].id,
            )
            for row, dose, p, e, lo, s in sorted(
                zip(
                    self.plan_row.tolist(),
                    self.plan_dose.tolist(),
                    self.plan_product.tolist(),
                    self.plan_earliest.tolist(),
                    self.plan_latest.tolist(),
                    self.plan_site.tolist(),
                    strict=True,
                )
            )
        ]

    def standby(self) -> list[StandbyList]:
        """Standby lists of every session that has one, in session order."""
        table, sessions = self.problem.citizens, self.problem.sessions
        grouped: dict[int, list[str]] = {}
        for ses, row in zip(self.standby_session.tolist(), self.standby_row.tolist(), strict=True):
            grouped.setdefault(ses, []).append(table.citizen_id(row))
        return [
            StandbyList(
                site_id=sessions[ses].site_id,
                day=sessions[ses].day,
                product_id=sessions[ses].product_id,
                citizen_ids=tuple(ids),
            )
            for ses, ids in sorted(grouped.items())
        ]

    def booked_per_session(self) -> I64:
        """Appointments per session (all doses)."""
        return np.bincount(self.appointment_session, minlength=len(self.problem.sessions)).astype(
            np.int64
        )
