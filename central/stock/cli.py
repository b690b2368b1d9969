"""``imuno-hub stock ...``: the supply chain from the command line.

Registered in `central.cli`. Like every hub command each one opens a
migrated hub (``--db``), and errors a person can fix print one line and exit
with status 1. Tables are plain text; report commands take ``--json``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from central.cli_support import open_hub, operator

if TYPE_CHECKING:
    pass

stock_app = typer.Typer(
    help="Central stock: orders, deliveries, allocation, shipments, recalls, reports.",
    no_args_is_help=True,
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $IMUNO_HUB_DATABASE_URL, else sqlite:///var/central.sqlite).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
DayOption = Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="A day (YYYY-MM-DD).")]


_hub = open_hub
_actor = operator


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as a plain-text table with a header line; numbers right-aligned."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if numeric[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def _json(values: Any) -> None:
    typer.echo(json.dumps(values, default=str, ensure_ascii=False, indent=2))


def _pair(text: str, what: str) -> tuple[str, int]:
    """``NAME=NUMBER`` (the number after the last ``=``)."""
    name, sep, number = text.rpartition("=")
    if not sep or not number.strip().lstrip("-").isdigit():
        raise typer.BadParameter(f"{text!r}: expected {what}=VIALS")
    return name, int(number)


@stock_app.command("order")
def order(
    number: Annotated[str, typer.Option(help="The purchase order's number.")],
    product: Annotated[list[str], typer.Option(help="PRODUCT=VIALS, repeatable.")],
    supplier: Annotated[str | None, typer.Option(help="Default: the manufacturer.")] = None,
    draft: Annotated[bool, typer.Option(help="Keep as a draft, not placed.")] = False,
    db: DbOption = None,
) -> None:
    """Create a purchase order of vials per product."""
    from central.stock.purchase_orders import OrderLine, create_purchase_order

    lines = [OrderLine(*_pair(p, "PRODUCT")) for p in product]
    with _hub(db) as hub:
        view = create_purchase_order(
            hub, number=number, lines=lines, supplier=supplier, place=not draft, actor=_actor()
        )
    typer.echo(f"{view.number} ({view.supplier}): {view.status}")


@stock_app.command("orders")
def orders(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List purchase orders with what was delivered of each line."""
    from central.stock.purchase_orders import list_purchase_orders

    with _hub(db) as hub:
        found = list_purchase_orders(hub)
    if as_json:
        _json([asdict(o) for o in found])
        return
    rows = [
        (o.number, o.supplier, o.status, line.product_id, line.ordered_vials, line.delivered_vials)
        for o in found
        for line in o.lines
    ]
    typer.echo(table(["order", "supplier", "status", "product", "ordered", "delivered"], rows))


@stock_app.command("deliver")
def deliver(
    carton: Annotated[
        list[str], typer.Option(help="SCANNED_LABEL=VIALS per carton (GS1 element string).")
    ],
    order_number: Annotated[str | None, typer.Option("--order", help="Purchase order.")] = None,
    note: Annotated[str | None, typer.Option(help="The delivery note's number.")] = None,
    db: DbOption = None,
) -> None:
    """Take scanned cartons into the central warehouse."""
    from central.stock.deliveries import carton_from_scan, receive_delivery

    cartons = [carton_from_scan(*_pair(c, "LABEL")) for c in carton]
    with _hub(db) as hub:
        view = receive_delivery(
            hub, cartons, purchase_order=order_number, note=note, actor=_actor()
        )
    rows = [(lot.product_id, lot.gtin, lot.lot_number, lot.expiry, lot.vials) for lot in view.lots]
    typer.echo(table(["product", "gtin", "lot", "expiry", "vials"], rows))


def _print_allocation(view: Any) -> None:
    state = f"{view.status}{', shipped' if view.shipped else ''}"
    typer.echo(
        f"allocation {view.id} ({state}): {view.horizon_start} +{view.horizon_days} days, "
        f"margin {view.safety_margin_percent}%"
    )
    needs = [
        (
            n.site_code,
            n.product_id,
            n.doses,
            n.vials_needed,
            n.vials_held,
            n.vials_planned,
            n.vials_short,
        )
        for n in view.needs
    ]
    if needs:
        typer.echo(table(["site", "product", "doses", "needed", "held", "planned", "short"], needs))
    lines = [
        (line.site_code, line.product_id, line.lot_number, line.expiry, line.first_day,
         line.proposed_vials, line.vials)
        for line in view.lines
    ]  # fmt: skip
    typer.echo(table(["site", "product", "lot", "expiry", "first day", "proposed", "vials"], lines))


@stock_app.command("propose")
def propose(
    start: DayOption,
    days: Annotated[int, typer.Option(help="Days of appointments to cover.", min=1)] = 7,
    margin: Annotated[int, typer.Option(help="Safety margin, per cent.")] = 10,
    db: DbOption = None,
) -> None:
    """Propose an allocation from the booked appointments of the coming days."""
    from central.stock.allocations import propose_allocation

    with _hub(db) as hub:
        view = propose_allocation(hub, start.date(), days, margin_percent=margin, actor=_actor())
    _print_allocation(view)


@stock_app.command("show")
def show(allocation: uuid.UUID, db: DbOption = None) -> None:
    """Show an allocation: each site's need and the planned lines."""
    from central.stock.allocations import allocation_view

    with _hub(db) as hub:
        _print_allocation(allocation_view(hub, allocation))


@stock_app.command("adjust")
def adjust(
    allocation: uuid.UUID,
    site: Annotated[str, typer.Option(help="Site code.")],
    lot: Annotated[str, typer.Option(help="Lot number.")],
    vials: Annotated[int, typer.Option(help="Vials to send (0 removes the line).")],
    gtin: Annotated[str | None, typer.Option(help="Only for an ambiguous lot number.")] = None,
    db: DbOption = None,
) -> None:
    """Set the vials of one lot a proposed allocation sends to a site."""
    from central.stock.allocations import adjust_allocation

    with _hub(db) as hub:
        view = adjust_allocation(
            hub, allocation, site_code=site, lot_number=lot, vials=vials, gtin=gtin, actor=_actor()
        )
    _print_allocation(view)


@stock_app.command("approve")
def approve(allocation: uuid.UUID, db: DbOption = None) -> None:
    """Approve a proposed allocation."""
    from central.stock.allocations import approve_allocation

    with _hub(db) as hub:
        view = approve_allocation(hub, allocation, actor=_actor())
    typer.echo(f"allocation {view.id} approved: {view.vials} vials")


@stock_app.command("cancel")
def cancel(allocation: uuid.UUID, db: DbOption = None) -> None:
    """Cancel an allocation that was not shipped."""
    from central.stock.allocations import cancel_allocation

    with _hub(db) as hub:
        view = cancel_allocation(hub, allocation, actor=_actor())
    typer.echo(f"allocation {view.id} cancelled")


def _print_shipments(views: Sequence[Any]) -> None:
    rows = [
        (s.reference, s.kind, s.from_site_code or "", s.site_code, line.lot_number, line.expiry,
         line.vials)
        for s in views
        for line in s.lines
    ]  # fmt: skip
    typer.echo(table(["reference", "kind", "from", "site", "lot", "expiry", "vials"], rows))


@stock_app.command("ship")
def ship(allocation: uuid.UUID, db: DbOption = None) -> None:
    """Make and dispatch the shipments of an approved allocation."""
    from central.stock.shipments import ship_allocation

    with _hub(db) as hub:
        views = ship_allocation(hub, allocation, actor=_actor())
    _print_shipments(views)


@stock_app.command("transfer")
def transfer(
    from_site: Annotated[str, typer.Option("--from", help="Sending site code.")],
    to_site: Annotated[str, typer.Option("--to", help="Receiving site code.")],
    lot: Annotated[list[str], typer.Option(help="LOT=VIALS, repeatable.")],
    db: DbOption = None,
) -> None:
    """Send vials from one site to another."""
    from central.stock.shipments import ShipLine, create_transfer

    lines = [ShipLine(*_pair(x, "LOT")) for x in lot]
    with _hub(db) as hub:
        view = create_transfer(
            hub, from_site_code=from_site, to_site_code=to_site, lines=lines, actor=_actor()
        )
    _print_shipments([view])


@stock_app.command("return")
def return_(
    site: Annotated[str, typer.Option(help="Returning site code.")],
    lot: Annotated[list[str], typer.Option(help="LOT=VIALS, repeatable.")],
    db: DbOption = None,
) -> None:
    """Send vials from a site back to the central warehouse."""
    from central.stock.shipments import ShipLine, create_return

    lines = [ShipLine(*_pair(x, "LOT")) for x in lot]
    with _hub(db) as hub:
        view = create_return(hub, site_code=site, lines=lines, actor=_actor())
    _print_shipments([view])


@stock_app.command("receive-return")
def receive_return_command(reference: str, db: DbOption = None) -> None:
    """Take a returned shipment into the central warehouse."""
    from central.stock.shipments import receive_return

    with _hub(db) as hub:
        view = receive_return(hub, reference, actor=_actor())
    _print_shipments([view])


@stock_app.command("shipments")
def shipments(
    site: Annotated[str | None, typer.Option(help="Only this site's.")] = None,
    db: DbOption = None,
) -> None:
    """List shipments, newest first."""
    from central.stock.shipments import list_shipments

    with _hub(db) as hub:
        _print_shipments(list_shipments(hub, site_code=site))


@stock_app.command("recall")
def recall(
    lot: str,
    reason: Annotated[str, typer.Option(help="Why, as sites will read it.")],
    gtin: Annotated[str | None, typer.Option(help="Only for an ambiguous lot number.")] = None,
    db: DbOption = None,
) -> None:
    """Recall a lot at every site."""
    from central.stock.recalls import recall_lot

    with _hub(db) as hub:
        view = recall_lot(hub, lot, reason=reason, gtin=gtin, actor=_actor())
    typer.echo(f"lot {view.lot_number} ({view.product_id}) recalled: {view.reason}")


@stock_app.command("lift-recall")
def lift(
    lot: str,
    gtin: Annotated[str | None, typer.Option(help="Only for an ambiguous lot number.")] = None,
    db: DbOption = None,
) -> None:
    """Lift a recall made by mistake."""
    from central.stock.recalls import lift_recall

    with _hub(db) as hub:
        view = lift_recall(hub, lot, gtin=gtin, actor=_actor())
    typer.echo(f"recall of lot {view.lot_number} lifted")


@stock_app.command("positions")
def positions_command(
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Vials of each lot at each location, summed from the movements."""
    from sqlalchemy import select

    from central.db import Lot, Site
    from central.stock.locations import site_location, site_of
    from central.stock.positions import position_list
    from central.stock.sites import find_site

    with _hub(db) as hub, hub.read_sessions() as session:
        location = site_location(find_site(session, site).id) if site else None
        found = position_list(session, location=location)
        lots = {lot.id: lot for lot in session.scalars(select(Lot))}
        codes = dict(session.execute(select(Site.id, Site.code)).all())
    rows = []
    for p in found:
        where = site_of(p.location)
        lot = lots[p.lot_id]
        name = codes.get(where, p.location) if where else p.location
        rows.append((name, lot.product_id, lot.lot_number, lot.expiry, p.vials))
    if as_json:
        _json(
            [
                dict(zip(["location", "product", "lot", "expiry", "vials"], r, strict=True))
                for r in rows
            ]
        )
        return
    typer.echo(table(["location", "product", "lot", "expiry", "vials"], rows))


def _report(rows: Sequence[Any], headers: Sequence[str], as_json: bool) -> None:
    if as_json:
        _json([asdict(r) for r in rows])
        return
    typer.echo(table(headers, [tuple(asdict(r).values()) for r in rows]))


@stock_app.command("usage")
def usage_command(
    from_day: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
    to_day: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"])],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Doses used vs vials opened per site, product and day."""
    from central.stock.reports import usage

    with _hub(db) as hub, hub.read_sessions() as session:
        rows = usage(session, from_day.date(), to_day.date())
    headers = ["site", "product", "day", "opened", "doses in them", "drawn", "recorded"]
    _report(rows, headers, as_json)


@stock_app.command("wastage")
def wastage_command(
    from_day: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
    to_day: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"])],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Vials discarded and doses lost per site, product and reason."""
    from central.stock.reports import wastage

    with _hub(db) as hub, hub.read_sessions() as session:
        rows = wastage(session, from_day.date(), to_day.date())
    _report(rows, ["site", "product", "reason", "vials", "doses lost"], as_json)


@stock_app.command("cover")
def cover_command(
    days: Annotated[int, typer.Option(help="Days of bookings to measure use by.", min=1)] = 7,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Usable stock and days of cover per site and product."""
    from central.stock.reports import cover

    with _hub(db) as hub, hub.read_sessions() as session:
        rows = cover(session, hub.clock.now(), days)
    _report(rows, ["site", "product", "vials", "doses", "booked", "days of cover"], as_json)


@stock_app.command("expiring")
def expiring_command(
    within: Annotated[int, typer.Option(help="Days ahead.", min=0)] = 30,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Lots with vials anywhere that expire within the coming days."""
    from central.stock.reports import near_expiry

    with _hub(db) as hub, hub.read_sessions() as session:
        rows = near_expiry(session, hub.clock.now(), within)
    headers = [
        "location",
        "site",
        "product",
        "gtin",
        "lot",
        "expiry",
        "days left",
        "vials",
        "recalled",
    ]
    _report(rows, headers, as_json)


@stock_app.command("settle")
def settle_command(db: DbOption = None) -> None:
    """Book sites' receipts, vial events and counts not yet booked as stock movements."""
    from central.stock.site_facts import settle

    with _hub(db) as hub, hub.sessions() as session, session.begin():
        done = settle(session, at=hub.clock.now())
    typer.echo(
        f"booked {done.receipts} receipts, {done.vial_events} vial events "
        f"and {done.stock_counts} stock counts"
    )
