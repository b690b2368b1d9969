"""Central stock: from the purchase order to the vial at the site.

One concept per module:

- `locations`: the text names of stock locations (warehouse, sites, transit, ...).
- `movements`: the one way vials move (append-only `StockMovement` rows).
- `positions`: how many vials of each lot are where, always summed from movements.
- `catalogue`, `lots`, `sites`: look-ups (products by GTIN, lots and recalls, sites).
- `purchase_orders`, `deliveries`: procurement into the central warehouse.
- `demand`, `availability`, `allocation_plan`, `allocations`: what the booked
  appointments need, what stock is free or already held, the
  first-expiry-first-out plan, and its review and approval by central staff.
- `shipments`: allocation shipments, transfers between sites, returns.
- `receipts`: a site's receipt and its discrepancies, booked as movements.
- `site_facts`: vial events and stock counts pushed by sites, booked as movements.
- `recalls`: withdrawing a lot everywhere.
- `reports`: doses vs vials, wastage, cover, lots near expiry.
- `cli`: ``imuno-hub stock ...``.

Lots, recalls and shipments reach the sites through the change log
(`central.services.sync.publish`). Errors a person can fix are in `errors`
(``stock.*`` codes, Serbian in ``domain/locale/stock.sr-Latn.json``).
"""
