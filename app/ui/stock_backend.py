"""What the stock screens ask of the rest of the client: one use case per method.

`StockBackend` is the port between the stock screens (receiving, vials,
stock count, recalls) and `app.services`; `StoreStockBackend` implements it
by binding the site store, the clock and the logged-in person to the service
functions, as `app.bootstrap.StoreBackend` does for the nurse's window. The
store is held as an opaque value and only handed to the services, so this
module imports no database code. Every method but `now`, `product_names` and
`product_of_gtin` may block on the disk: call it through
`app.ui.tasks.TaskManager.run`, never on the UI thread. Errors are the
services' `DomainError`s, shown with `app.ui.text.translate_error`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from app.services import recalls, receiving, stock_count, vials
from app.services.recalls import RecalledLot, StockWarnings
from app.services.receiving import CartonScan, ReceiptResult, ScanCheck, ShipmentNotice
from app.services.stock_count import CountedLot, CountResult, ExpectedStock
from app.services.vials import VialState
from app.ui.times import local_day
from domain.catalogue import UnknownProduct
from domain.clock import Clock
from domain.data import RuleSet, rules_in_force
from domain.gs1 import Gs1Label

#: Lists every vial registered at the site (the composition root supplies it).
VialLister = Callable[[], Sequence[VialState]]


class StockBackend(Protocol):
    """The site's stock use cases as the logged-in person performs them."""

    def now(self) -> datetime:
        """The time now (the vials' time left is measured from it); no I/O."""
        ...

    def product_names(self) -> Mapping[str, str]:
        """Product code -> name, for display."""
        ...

    def product_of_gtin(self, gtin: str) -> str:
        """The product code of a GTIN, or ``""`` for a GTIN of no known vaccine.

        Reads the rules in memory only: the stock count calls it on the UI thread.
        """
        ...

    def pending_shipments(self) -> Sequence[ShipmentNotice]:
        """Shipments to this site not received yet."""
        ...

    def check_carton(
        self, reference: str, label: Gs1Label, vials: int, before: Sequence[CartonScan]
    ) -> ScanCheck:
        """Check one scanned carton against the shipment; nothing written."""
        ...

    def receive_shipment(
        self, reference: str, cartons: Sequence[CartonScan], *, cold_chain_ok: bool
    ) -> ReceiptResult:
        """Record the receipt and every difference from the notice."""
        ...

    def site_vials(self) -> Sequence[VialState]:
        """Every vial registered at the site, in any state."""
        ...

    def open_vial(self, label: Gs1Label) -> VialState:
        """Open the vial (its time after opening starts now)."""
        ...

    def discard_vial(self, label: Gs1Label, reason: str) -> VialState:
        """Discard the vial with `reason`."""
        ...

    def stock_warnings(self) -> StockWarnings:
        """Lots expiring soon, opened vials near their limit."""
        ...

    def expected_stock(self) -> Sequence[ExpectedStock]:
        """What the books say is in the fridge, per lot."""
        ...

    def record_count(self, counted: Sequence[CountedLot], *, complete: bool) -> CountResult:
        """Record a stock count (site managers only)."""
        ...

    def recalled_lots(self) -> Sequence[RecalledLot]:
        """Recalls in force and what they mean here."""
        ...

    def quarantine_recalled(self, gtin: str, lot_number: str) -> int:
        """Discard every vial of the recalled lot still in use; how many."""
        ...


@dataclass
class StoreStockBackend:
    """`StockBackend` over the site store, as the person `actor()` returns.

    `engine` is the site store's engine, passed through to the services
    untouched. `actor` is called at each write, so a person who unlocks the
    screen acts as themselves from then on. `list_vials` lists the site's
    vials (the vials service's listing, bound to the engine).
    """

    engine: Any
    clock: Clock
    actor: Callable[[], uuid.UUID]
    list_vials: VialLister
    rules: RuleSet | None = None

    def now(self) -> datetime:
        return self.clock.now()

    def _rules(self) -> RuleSet:
        return self.rules or rules_in_force(local_day(self.clock.now()))

    def product_names(self) -> Mapping[str, str]:
        return {product.id: product.name for product in self._rules().catalogue.products}

    def product_of_gtin(self, gtin: str) -> str:
        try:
            return self._rules().catalogue.by_gtin(gtin).id
        except (UnknownProduct, ValueError):
            return ""

    def pending_shipments(self) -> Sequence[ShipmentNotice]:
        return receiving.pending_shipments(self.engine)

    def check_carton(
        self, reference: str, label: Gs1Label, vials: int, before: Sequence[CartonScan]
    ) -> ScanCheck:
        return receiving.check_scan(self.engine, self.clock, reference, label, vials, before)

    def receive_shipment(
        self, reference: str, cartons: Sequence[CartonScan], *, cold_chain_ok: bool
    ) -> ReceiptResult:
        return receiving.receive_shipment(
            self.engine, self.clock, self.actor(), reference, cartons, cold_chain_ok=cold_chain_ok
        )

    def site_vials(self) -> Sequence[VialState]:
        return self.list_vials()

    def open_vial(self, label: Gs1Label) -> VialState:
        return vials.open_vial(self.engine, self.clock, self.actor(), label, rules=self.rules)

    def discard_vial(self, label: Gs1Label, reason: str) -> VialState:
        return vials.discard_vial(
            self.engine, self.clock, self.actor(), label, reason, rules=self.rules
        )

    def stock_warnings(self) -> StockWarnings:
        return recalls.stock_warnings(self.engine, self.clock)

    def expected_stock(self) -> Sequence[ExpectedStock]:
        return stock_count.expected_stock(self.engine)

    def record_count(self, counted: Sequence[CountedLot], *, complete: bool) -> CountResult:
        return stock_count.record_count(
            self.engine, self.clock, self.actor(), counted, complete=complete
        )

    def recalled_lots(self) -> Sequence[RecalledLot]:
        return recalls.recalled_lots(self.engine)

    def quarantine_recalled(self, gtin: str, lot_number: str) -> int:
        return recalls.quarantine_recalled(self.engine, self.clock, self.actor(), gtin, lot_number)
