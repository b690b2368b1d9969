"""Receiving a shipment at the site: scan cartons against the notice, record what differed.

The hub's shipment notice (pulled with its lines: GTIN, lot, expiry, vials)
is what was sent. The site manager scans each carton's GS1 DataMatrix and
says how many vials it holds and how many arrived broken; `differences`
compares the two, lot by lot:

- fewer vials of a shipped lot than sent: ``missing`` (expected = sent,
  received = arrived);
- more: ``extra`` (expected = sent, received = arrived);
- a lot the shipment did not list: ``wrong_lot`` (expected 0);
- broken vials: ``damaged`` (expected = arrived, received = usable), so that
  for every kind but ``extra`` and ``wrong_lot``, expected - received is the
  number of vials lost;
- the cold chain broken on the road: ``temperature_excursion``.

`receive_shipment` writes, in one local transaction, the `Receipt`, one
`ReceiptDiscrepancy` per difference, and for each vial scanned by its own
label (a serial and one vial) a `Vial` with a ``received`` event; every one
of them is queued for the hub with its wire form (`app.sync.wire_forms`).
Nothing is adjusted silently: a count that differs becomes a discrepancy.

Refused: a shipment already received (`ShipmentAlreadyReceived`), an unknown
shipment (`ShipmentNotFound`), a label without lot or expiry, a GTIN of no
known vaccine, and counts that make no sense (`CartonCountInvalid`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.logistics import (
    DiscrepancyKind,
    Receipt,
    ReceiptDiscrepancy,
    Shipment,
    ShipmentLine,
)
from app.local_db.models.stock import Recall, Vial, VialEvent, VialEventKind
from app.local_db.unit_of_work import session_scope
from app.services.errors import ClinicalError, LabelIncomplete, UnknownVaccine
from app.services.workplace import audit, local_day, site_here, staff_member
from app.sync.outbox import record_change
from app.sync.wire_forms import receipt_discrepancy_payload, receipt_payload, vial_event_payload
from domain.catalogue import UnknownProduct
from domain.clock import Clock
from domain.data import load_rules
from domain.gs1 import Gs1Label


class ReceivingError(ClinicalError):
    """Root of the receiving refusals."""

    code: ClassVar[str] = "receiving.error"
    template: ClassVar[str] = "The shipment could not be received."


class ShipmentNotFound(ReceivingError):
    code: ClassVar[str] = "receiving.shipment_not_found"
    template: ClassVar[str] = (
        "There is no shipment {reference} for this site. Check the delivery note's number; "
        "if it is right, synchronise and try again, or call the central warehouse."
    )


class ShipmentAlreadyReceived(ReceivingError):
    code: ClassVar[str] = "receiving.already_received"
    template: ClassVar[str] = (
        "Shipment {reference} was already received on {received_at}. Do not receive it "
        "twice: if something was found later, record it in a stock count."
    )


class CartonCountInvalid(ReceivingError):
    code: ClassVar[str] = "receiving.count_invalid"
    template: ClassVar[str] = (
        "A carton of lot {lot} cannot hold {vials} vials with {damaged} broken. Count the "
        "vials again: at least one, and no more broken than in the carton."
    )


@dataclass(frozen=True)
class ExpectedLine:
    """Vials of one lot the shipment notice lists."""

    product_code: str
    gtin: str
    lot_number: str
    expiry_date: date
    vials: int


@dataclass(frozen=True)
class ShipmentNotice:
    """A shipment to this site that has not been received."""

    shipment_id: uuid.UUID
    reference: str
    dispatched_at: datetime
    expected_on: date
    lines: tuple[ExpectedLine, ...]


@dataclass(frozen=True)
class CartonScan:
    """One scanned carton (or vial): its label, how many vials, how many broken."""

    label: Gs1Label
    vials: int = 1
    damaged_vials: int = 0


@dataclass(frozen=True)
class Difference:
    """One way what arrived differs from what was sent."""

    kind: DiscrepancyKind
    gtin: str | None
    lot_number: str | None
    expected_vials: int
    received_vials: int


@dataclass(frozen=True)
class ScanCheck:
    """What the site manager should know about a carton right after scanning it."""

    on_shipment: bool
    sent_vials: int
    scanned_vials: int  # of this lot so far, this carton included
    recalled_reason: str | None
    expired: bool


@dataclass(frozen=True)
class ReceiptResult:
    """What `receive_shipment` recorded."""

    receipt_id: uuid.UUID
    reference: str
    differences: tuple[Difference, ...]
    vials_registered: int


def _key(label: Gs1Label) -> tuple[str, str]:
    if label.lot is None:
        raise LabelIncomplete(missing="lot number")
    if label.expiry_date is None:
        raise LabelIncomplete(missing="expiry date")
    return label.gtin.zfill(14), label.lot


def _check_product(gtin: str) -> None:
    try:
        load_rules().catalogue.by_gtin(gtin)
    except UnknownProduct:
        raise UnknownVaccine(gtin=gtin) from None


def differences(
    lines: Sequence[ExpectedLine], scans: Sequence[CartonScan], *, cold_chain_ok: bool = True
) -> list[Difference]:
    """Compare the scanned cartons with the notice's lines, lot by lot (see the module).

    Raises `LabelIncomplete` for a label without lot or expiry and
    `CartonCountInvalid` for a carton of no vials or more broken than held.
    """
    sent: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        sent[(line.gtin, line.lot_number)] += line.vials
    arrived: dict[tuple[str, str], int] = defaultdict(int)
    broken: dict[tuple[str, str], int] = defaultdict(int)
    for scan in scans:
        key = _key(scan.label)
        if scan.vials < 1 or not 0 <= scan.damaged_vials <= scan.vials:
            raise CartonCountInvalid(lot=key[1], vials=scan.vials, damaged=scan.damaged_vials)
        arrived[key] += scan.vials
        broken[key] += scan.damaged_vials
    found: list[Difference] = []
    for key in sorted(set(sent) | set(arrived)):
        gtin, lot = key
        expected, got = sent.get(key, 0), arrived.get(key, 0)
        if expected == 0:
            found.append(Difference(DiscrepancyKind.WRONG_LOT, gtin, lot, 0, got))
        elif got < expected:
            found.append(Difference(DiscrepancyKind.MISSING, gtin, lot, expected, got))
        elif got > expected:
            found.append(Difference(DiscrepancyKind.EXTRA, gtin, lot, expected, got))
        if broken.get(key) and expected:
            found.append(Difference(DiscrepancyKind.DAMAGED, gtin, lot, got, got - broken[key]))
    if not cold_chain_ok:
        found.append(Difference(DiscrepancyKind.TEMPERATURE_EXCURSION, None, None, 0, 0))
    return found


def _notice(session: Session, shipment: Shipment) -> ShipmentNotice:
    lines = session.scalars(
        sa.select(ShipmentLine)
        .where(ShipmentLine.shipment_id == shipment.id)
        .order_by(ShipmentLine.expiry_date, ShipmentLine.lot_number)
    )
    return ShipmentNotice(
        shipment.id,
        shipment.reference,
        shipment.dispatched_at,
        shipment.expected_on,
        tuple(
            ExpectedLine(x.product_code, x.gtin, x.lot_number, x.expiry_date, x.vial_count)
            for x in lines
        ),
    )


def pending_shipments(engine: Engine) -> list[ShipmentNotice]:
    """Shipments to this site not received yet, the soonest expected first."""
    with session_scope(engine, write=False) as session:
        received = sa.select(Receipt.shipment_id).where(Receipt.shipment_id.is_not(None))
        rows = session.scalars(
            sa.select(Shipment)
            .where(Shipment.id.not_in(received))
            .order_by(Shipment.expected_on, Shipment.reference)
        ).all()
        return [_notice(session, row) for row in rows]


def _find(session: Session, reference: str) -> Shipment:
    shipment = session.scalar(sa.select(Shipment).where(Shipment.reference == reference))
    if shipment is None:
        raise ShipmentNotFound(reference=reference)
    return shipment


def check_scan(
    engine: Engine,
    clock: Clock,
    reference: str,
    label: Gs1Label,
    vials: int,
    scanned_before: Sequence[CartonScan] = (),
) -> ScanCheck:
    """Check one carton against the shipment as it is scanned.

    Raises `ShipmentNotFound`, `LabelIncomplete` or `UnknownVaccine`.
    """
    key = _key(label)
    _check_product(key[0])
    with session_scope(engine, write=False) as session:
        notice = _notice(session, _find(session, reference))
        sent = sum(x.vials for x in notice.lines if (x.gtin, x.lot_number) == key)
        so_far = sum(s.vials for s in scanned_before if _key(s.label) == key) + vials
        recall = session.scalar(
            sa.select(Recall).where(
                Recall.gtin == key[0], Recall.lot_number == key[1], Recall.lifted_at.is_(None)
            )
        )
        assert label.expiry_date is not None
        return ScanCheck(
            on_shipment=sent > 0,
            sent_vials=sent,
            scanned_vials=so_far,
            recalled_reason=recall.reason if recall is not None else None,
            expired=label.expiry_date < local_day(session, clock),
        )


def receive_shipment(
    engine: Engine,
    clock: Clock,
    actor: uuid.UUID,
    reference: str,
    scans: Sequence[CartonScan],
    *,
    cold_chain_ok: bool = True,
    note: str | None = None,
) -> ReceiptResult:
    """Record the receipt of shipment `reference` from the scanned cartons.

    Raises `ShipmentNotFound`, `ShipmentAlreadyReceived`, `LabelIncomplete`,
    `UnknownVaccine`, `CartonCountInvalid`, or the workplace's refusals
    (site not enrolled, unknown user).
    """
    for scan in scans:
        _check_product(_key(scan.label)[0])
    with session_scope(engine) as session:
        site = site_here(session)
        staff = staff_member(session, actor)
        shipment = _find(session, reference)
        earlier = session.scalar(sa.select(Receipt).where(Receipt.shipment_id == shipment.id))
        if earlier is not None:
            raise ShipmentAlreadyReceived(
                reference=reference, received_at=earlier.received_at.strftime("%d.%m.%Y. %H:%M")
            )
        notice = _notice(session, shipment)
        found = differences(notice.lines, scans, cold_chain_ok=cold_chain_ok)
        now = clock.now()
        receipt = Receipt(
            origin_site_id=site.site_id,
            created_at=now,
            created_by=actor,
            shipment_id=shipment.id,
            shipment_reference=shipment.reference,
            received_at=now,
            cold_chain_ok=cold_chain_ok,
            note=note,
        )
        session.add(receipt)
        session.flush()
        record_change(session, "receipt", receipt.id, receipt_payload(receipt), now=now)
        for difference in found:
            row = ReceiptDiscrepancy(
                origin_site_id=site.site_id,
                created_at=now,
                created_by=actor,
                receipt_id=receipt.id,
                kind=difference.kind,
                gtin=difference.gtin,
                lot_number=difference.lot_number,
                expected_vials=difference.expected_vials,
                received_vials=difference.received_vials,
                note=None,
            )
            session.add(row)
            session.flush()
            record_change(
                session, "receipt_discrepancy", row.id, receipt_discrepancy_payload(row), now=now
            )
        registered = _register_vials(session, scans, receipt, site.site_id, actor, now)
        audit(
            session, site, staff, now, "shipment.received", "receipts", receipt.id,
            reference=reference, differences=len(found),
        )  # fmt: skip
        return ReceiptResult(receipt.id, reference, tuple(found), registered)


def _register_vials(
    session: Session,
    scans: Sequence[CartonScan],
    receipt: Receipt,
    site_id: uuid.UUID,
    actor: uuid.UUID,
    now: datetime,
) -> int:
    """Register vials scanned one by one (serial, one vial, not broken), each with ``received``."""
    catalogue = load_rules().catalogue
    count = 0
    for scan in scans:
        label = scan.label
        if label.serial is None or scan.vials != 1 or scan.damaged_vials:
            continue
        gtin, lot = _key(label)
        assert label.expiry_date is not None
        known = session.scalar(
            sa.select(Vial).where(Vial.gtin == gtin, Vial.serial == label.serial)
        )
        if known is not None:
            continue  # scanned twice, or registered earlier: one vial, one record
        product = catalogue.by_gtin(gtin)
        vial = Vial(
            origin_site_id=site_id,
            created_at=now,
            created_by=actor,
            gtin=gtin,
            lot_number=lot,
            serial=label.serial,
            expiry_date=label.expiry_date,
            product_code=product.id,
            doses_per_vial=product.doses_per_vial,
            receipt_id=receipt.id,
        )
        session.add(vial)
        session.flush()
        event = VialEvent(
            origin_site_id=site_id,
            created_at=now,
            created_by=actor,
            vial_id=vial.id,
            kind=VialEventKind.RECEIVED,
            occurred_at=now,
            dose_record_id=None,
            reason=None,
        )
        session.add(event)
        session.flush()
        record_change(session, "vial_event", event.id, vial_event_payload(event, vial), now=now)
        count += 1
    return count
