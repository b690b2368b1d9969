"""What a scheduling run did, as a value and as a printed table."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class BookedLine:
    """Appointments of one priority group and product."""

    group: str
    product: str
    appointments: int


@dataclass(frozen=True)
class PlanLine:
    """Second-dose plans of one product, and the first day any of them is due."""

    product: str
    plans: int
    first_due: date


@dataclass(frozen=True)
class StandbyLine:
    """Standby lists of one product: sessions that keep one, citizens on them."""

    product: str
    sessions: int
    citizens: int


@dataclass(frozen=True)
class RunSummary:
    """The outcome of one run.

    `place_bound` is the free places of every site over the horizon, the
    upper bound of what any schedule could book; `fill_rate` is appointments
    over that bound. `unbooked` counts citizens without an appointment by
    `scheduler.Reason` value. `plans` counts the next doses of series due
    after the horizon (stored as second-dose plans), `standby` the standby
    lists kept for leftover vial doses. `seconds` is the wall time of the run: in the
    returned value up to the commit, in the copy stored in the run's row up
    to the appending of the change log (the last step).
    """

    run_id: uuid.UUID
    rules_version: str
    start: date
    end: date
    waiting: int
    appointments: int
    booked: tuple[BookedLine, ...]
    place_bound: int
    stock_doses: int
    unbooked: dict[str, int]
    notifications: int
    seconds: float
    plans: tuple[PlanLine, ...] = ()
    standby: tuple[StandbyLine, ...] = ()

    @property
    def fill_rate(self) -> float:
        return self.appointments / self.place_bound if self.place_bound else 0.0

    def as_json(self) -> dict[str, Any]:
        """The summary stored in the run's row."""
        return {
            "waiting": self.waiting,
            "appointments": self.appointments,
            "booked": [
                {"group": b.group, "product": b.product, "appointments": b.appointments}
                for b in self.booked
            ],
            "place_bound": self.place_bound,
            "stock_doses": self.stock_doses,
            "fill_rate": round(self.fill_rate, 4),
            "unbooked": dict(sorted(self.unbooked.items())),
            "notifications": self.notifications,
            "second_dose_plans": [
                {"product": p.product, "plans": p.plans, "first_due": p.first_due.isoformat()}
                for p in self.plans
            ],
            "standby": [
                {"product": b.product, "sessions": b.sessions, "citizens": b.citizens}
                for b in self.standby
            ],
            "seconds": round(self.seconds, 3),
        }


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        cells = [
            c.rjust(w) if c[:1].isdigit() else c.ljust(w) for c, w in zip(row, widths, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def format_summary(summary: RunSummary) -> str:
    """The summary for a person at a terminal."""
    lines = [
        f"scheduler run {summary.run_id} (rules {summary.rules_version}), "
        f"{summary.start.isoformat()} .. {summary.end.isoformat()}",
        f"waiting citizens: {summary.waiting:,}; appointments: {summary.appointments:,}; "
        f"free places: {summary.place_bound:,}; fill rate: {summary.fill_rate:.1%}; "
        f"usable doses in stock: {summary.stock_doses:,}",
        "",
        "Booked per group and product:",
    ]
    lines += _table(
        ["GROUP", "PRODUCT", "APPOINTMENTS"],
        [[b.group, b.product, f"{b.appointments:,}"] for b in summary.booked],
    )
    lines += ["", "Not booked, by reason:"]
    lines += _table(
        ["REASON", "CITIZENS"],
        [[reason, f"{count:,}"] for reason, count in sorted(summary.unbooked.items())],
    )
    lines += ["", "Second doses planned after the horizon:"]
    lines += _table(
        ["PRODUCT", "PLANS", "FIRST DUE"],
        [[p.product, f"{p.plans:,}", p.first_due.isoformat()] for p in summary.plans],
    )
    lines += ["", "Standby lists for leftover vial doses:"]
    lines += _table(
        ["PRODUCT", "SESSIONS", "CITIZENS"],
        [[b.product, f"{b.sessions:,}", f"{b.citizens:,}"] for b in summary.standby],
    )
    lines += [
        "",
        f"invitations queued: {summary.notifications:,}; took {summary.seconds:.1f} s",
    ]
    return "\n".join(lines)
