"""What a demo-data run wrote, as a table a person reads in the terminal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class StockLine:
    """Vials of one product: delivered, and where they are now."""

    product_id: str
    product_name: str
    doses_per_vial: int
    vials_in_warehouse: int
    vials_at_sites: int

    @property
    def vials(self) -> int:
        return self.vials_in_warehouse + self.vials_at_sites

    @property
    def doses(self) -> int:
        return self.vials * self.doses_per_vial


@dataclass(frozen=True)
class DemoSummary:
    """Counts of what a run generated, and how long it took.

    Count tables are ``(label, count)`` pairs in the order shown.
    `capacity_per_day` is people per day over all sites, by weekday;
    `rows` is rows written per table.
    """

    seed: int
    start: date
    rules_version: str
    citizens: int
    by_priority: tuple[tuple[str, int], ...]
    by_preference: tuple[tuple[str, int], ...]
    top_municipalities: tuple[tuple[str, int], ...]
    sites: int
    halls: int
    sites_with_comirnaty: int
    capacity_per_day: tuple[tuple[str, int], ...]
    stock: tuple[StockLine, ...]
    rows: tuple[tuple[str, int], ...]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(count for _, count in self.rows)

    def render(self) -> str:
        """The summary as plain-text tables."""
        out: list[str] = [
            f"Demo data: {self.citizens:,} citizens, {self.sites:,} sites "
            f"(seed {self.seed}, start {self.start.isoformat()}, rules {self.rules_version})",
            "",
        ]
        out += _counts("Citizens by priority group", self.by_priority, self.citizens)
        out += _counts("Citizens by first vaccine preference", self.by_preference, self.citizens)
        out += _counts("Citizens by municipality (top 10)", self.top_municipalities, self.citizens)
        halls = f"{self.halls} hall" + ("" if self.halls == 1 else "s")
        out += [
            f"Sites: {self.sites:,} ({halls}, "
            f"{self.sites_with_comirnaty} with an ultra-cold chain for Comirnaty)",
            "",
        ]
        out += _table(
            "Site capacity (people per day, all sites)",
            ("day", "people"),
            [(day, f"{n:,}") for day, n in self.capacity_per_day],
        )
        out += _table(
            "Stock by product",
            ("product", "warehouse vials", "site vials", "vials", "doses"),
            [
                (
                    line.product_name,
                    f"{line.vials_in_warehouse:,}",
                    f"{line.vials_at_sites:,}",
                    f"{line.vials:,}",
                    f"{line.doses:,}",
                )
                for line in self.stock
            ],
        )
        rate = self.total_rows / self.seconds if self.seconds > 0 else 0.0
        out.append(f"Wrote {self.total_rows:,} rows in {self.seconds:.1f} s ({rate:,.0f} rows/s).")
        return "\n".join(out)


def _counts(title: str, counts: tuple[tuple[str, int], ...], total: int) -> list[str]:
    return _table(
        title,
        ("", "citizens", "share"),
        [(label, f"{n:,}", f"{100 * n / total:.1f} %" if total else "-") for label, n in counts],
    )


def _table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [title, line(header), rule, *(line(r) for r in rows), ""]
