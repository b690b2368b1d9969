"""Vials: what a scanned label says, and a vial's state as a fold over its events.

A vial is known by its GS1 DataMatrix (GTIN, lot, expiry, serial). It is
registered in the store the first time it is scanned here (or when a receipt
brings it in), and from then on its state is the fold of its append-only
events (`fold_vial`): received, opened (once), doses drawn (at most
``doses_per_vial``), discarded (once, with a reason). The use-by time of an
opened vial is its opening time plus the product's minutes usable after
opening, from the catalogue of the rules in force.

Refusals (each a `VialRefused` telling the nurse what to do): opening twice
(`VialAlreadyOpened`), drawing from an unopened (`VialNotOpened`), empty
(`VialEmpty`), discarded (`VialDiscarded`) or expired-after-opening
(`VialPastUseBy`) vial, discarding twice (`VialDiscarded`).

Engine-level use cases: `vial_status`, `open_vial`, `discard_vial`. The
session-level pieces (`find_vial`, `vial_facts`, `state_from`, `open_in`,
`draw_in`, `discard_in`, `label_product`, `lot_refusals`) are what
`app.services.vaccinate` composes into its single dose transaction. `open_in`,
`draw_in` and `discard_in` add their rows without flushing: they reach the
store at the use case's next query or at its commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.stock import Lot, Recall, Vial, VialEvent, VialEventKind
from app.local_db.unit_of_work import session_scope
from app.services.errors import (
    ClinicalError,
    DiscardReasonRequired,
    LabelIncomplete,
    LotExpired,
    LotRecalled,
    Term,
    Terms,
    UnknownVaccine,
    VialAlreadyOpened,
    VialDiscarded,
    VialEmpty,
    VialLabelMismatch,
    VialNotFound,
    VialNotOpened,
    VialPastUseBy,
)
from app.services.workplace import (
    SiteHere,
    audit,
    local_day,
    local_zone,
    site_here,
    staff_member,
)
from app.sync.outbox import record_change
from app.sync.wire_forms import vial_event_payload
from domain.catalogue import Product, UnknownProduct
from domain.clock import Clock
from domain.data import RuleSet, rules_in_force
from domain.gs1 import Gs1Label
from domain.gtin import is_valid_gtin
from domain.ids import uuid7

#: Longest discard reason the store keeps.
MAX_REASON = 500

#: How times appear in messages (local time at the site).
_SHOWN = "%d.%m.%Y. %H:%M"


@dataclass(frozen=True)
class VialLabel:
    """A label with everything a vial needs: GTIN-14, lot, expiry and serial."""

    gtin: str
    lot_number: str
    expiry_date: date
    serial: str


@dataclass(frozen=True)
class VialEventFact:
    """What the fold needs of one event."""

    kind: VialEventKind
    occurred_at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class VialState:
    """A vial as its events leave it.

    `use_by` is set once opened: the vial must not be drawn from after it.
    `doses_left` counts from ``doses_per_vial``; never negative.
    """

    vial_id: uuid.UUID
    gtin: str
    lot_number: str
    serial: str
    expiry_date: date
    product_code: str
    doses_per_vial: int
    received_at: datetime | None
    opened_at: datetime | None
    use_by: datetime | None
    doses_drawn: int
    discarded_at: datetime | None
    discard_reason: str | None

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    @property
    def is_discarded(self) -> bool:
        return self.discarded_at is not None

    @property
    def doses_left(self) -> int:
        return max(self.doses_per_vial - self.doses_drawn, 0)

    def past_use_by(self, now: datetime) -> bool:
        """True when the vial is open and `now` is after its use-by time."""
        return self.use_by is not None and now > self.use_by


def fold_vial(vial: Vial, events: Iterable[VialEventFact], minutes_usable: int) -> VialState:
    """The state of `vial` after `events` (any order: the fold sorts them by time).

    The first ``opened`` and the first ``discarded`` count; every
    ``dose_drawn`` counts once. `minutes_usable` is the product's minutes
    usable after opening.
    """
    received_at = opened_at = discarded_at = None
    discard_reason = None
    drawn = 0
    for event in sorted(events, key=lambda e: e.occurred_at):
        if event.kind is VialEventKind.RECEIVED and received_at is None:
            received_at = event.occurred_at
        elif event.kind is VialEventKind.OPENED and opened_at is None:
            opened_at = event.occurred_at
        elif event.kind is VialEventKind.DOSE_DRAWN:
            drawn += 1
        elif event.kind is VialEventKind.DISCARDED and discarded_at is None:
            discarded_at, discard_reason = event.occurred_at, event.reason
    use_by = None if opened_at is None else opened_at + timedelta(minutes=minutes_usable)
    return VialState(
        vial_id=vial.id,
        gtin=vial.gtin,
        lot_number=vial.lot_number,
        serial=vial.serial,
        expiry_date=vial.expiry_date,
        product_code=vial.product_code,
        doses_per_vial=vial.doses_per_vial,
        received_at=received_at,
        opened_at=opened_at,
        use_by=use_by,
        doses_drawn=drawn,
        discarded_at=discarded_at,
        discard_reason=discard_reason,
    )


# The lookups every scan makes (twice per recorded dose), built once with bound
# parameters: building a statement and its cache key costs more than SQLite
# takes to answer it. Each is an indexed lookup (GTIN and lot, GTIN and serial,
# vial id).
_LOT_FACTS = sa.select(
    # In force: the oldest recall not lifted.
    sa.select(Recall.reason)
    .where(
        Recall.gtin == sa.bindparam("gtin"),
        Recall.lot_number == sa.bindparam("lot_number"),
        Recall.lifted_at.is_(None),
    )
    .order_by(Recall.recalled_at)
    .limit(1)
    .scalar_subquery(),
    # The hub's expiry for the lot, if it has sent the lot.
    sa.select(Lot.expiry_date)
    .where(Lot.gtin == sa.bindparam("gtin"), Lot.lot_number == sa.bindparam("lot_number"))
    .scalar_subquery(),
)
_VIAL = sa.select(Vial).where(
    Vial.gtin == sa.bindparam("gtin"), Vial.serial == sa.bindparam("serial")
)
_VIAL_EVENTS = sa.select(VialEvent.kind, VialEvent.occurred_at, VialEvent.reason).where(
    VialEvent.vial_id == sa.bindparam("vial_id")
)


# -- labels and lots --------------------------------------------------------------------


def vial_label(label: Gs1Label) -> VialLabel:
    """The vial fields of a scanned label; `LabelIncomplete` names what is missing."""
    lot, expiry, serial = label.lot, label.expiry_date, label.serial
    if not lot or expiry is None or not serial:
        missing = [
            term
            for term, present in (
                (Term("clinical.field.lot", "lot number (10)"), bool(lot)),
                (Term("clinical.field.expiry", "expiry date (17)"), expiry is not None),
                (Term("clinical.field.serial", "serial number (21)"), bool(serial)),
            )
            if not present
        ]
        raise LabelIncomplete(missing=Terms(tuple(missing)))
    return VialLabel(label.gtin.zfill(14), lot, expiry, serial)


def label_product(gtin: str, rules: RuleSet) -> Product:
    """The catalogue product carrying `gtin`; `UnknownVaccine` for any other number."""
    if not is_valid_gtin(gtin):
        raise UnknownVaccine(gtin=gtin)
    try:
        return rules.catalogue.by_gtin(gtin)
    except UnknownProduct:
        raise UnknownVaccine(gtin=gtin.zfill(14)) from None


def lot_refusals(session: Session, label: VialLabel, today: date) -> list[ClinicalError]:
    """Why the lot must not be used today: recalled (in force) and/or expired.

    The expiry is the earlier of the label's and the hub's lot record's, when
    the hub's is known: a corrected expiry from the hub wins over the print.
    """
    reason, hub_expiry = session.execute(
        _LOT_FACTS, {"gtin": label.gtin, "lot_number": label.lot_number}
    ).one()
    refusals: list[ClinicalError] = []
    if reason is not None:
        refusals.append(LotRecalled(lot=label.lot_number, reason=reason))
    expiry = label.expiry_date
    if hub_expiry is not None and hub_expiry < expiry:
        expiry = hub_expiry
    if today > expiry:
        refusals.append(LotExpired(lot=label.lot_number, expiry=expiry.strftime("%d.%m.%Y.")))
    return refusals


# -- vials in the store ---------------------------------------------------------------------


def find_vial(session: Session, label: VialLabel) -> Vial | None:
    """The vial with this GTIN and serial, if registered here.

    Raises `VialLabelMismatch` when the serial is registered with another lot:
    a misprinted or counterfeit label, which must not be used.
    """
    vial = session.scalar(_VIAL, {"gtin": label.gtin, "serial": label.serial})
    if vial is not None and vial.lot_number != label.lot_number:
        raise VialLabelMismatch(known_lot=vial.lot_number, scanned_lot=label.lot_number)
    return vial


def state_of(
    session: Session, vial: Vial, product: Product, *, zone: ZoneInfo | None = None
) -> VialState:
    """The vial's current state, folded from its events, times in the site's zone.

    Pass `zone` when the caller already knows it, to spare the lookup.
    """
    return state_from(vial, vial_facts(session, vial.id), product, zone or local_zone(session))


def vial_facts(session: Session, vial_id: uuid.UUID) -> list[VialEventFact]:
    """What the fold needs of every event of the vial, in store order."""
    events = session.execute(_VIAL_EVENTS, {"vial_id": vial_id})
    return [VialEventFact(VialEventKind(kind), at, reason) for kind, at, reason in events]


def state_from(
    vial: Vial, facts: Iterable[VialEventFact], product: Product, zone: ZoneInfo
) -> VialState:
    """The state `facts` leave the vial in (see `fold_vial`), times at `zone`."""
    return _with_local_times(fold_vial(vial, facts, product.minutes_usable_after_opening), zone)


def register_vial(
    session: Session,
    label: VialLabel,
    product: Product,
    site: SiteHere,
    actor: uuid.UUID,
    now: datetime,
) -> Vial:
    """Add a vial first scanned here (no event: opening it is the first thing that happens)."""
    vial = Vial(
        origin_site_id=site.site_id,
        created_at=now,
        created_by=actor,
        gtin=label.gtin,
        lot_number=label.lot_number,
        serial=label.serial,
        expiry_date=label.expiry_date,
        product_code=product.id,
        doses_per_vial=product.doses_per_vial,
        receipt_id=None,
    )
    session.add(vial)
    session.flush()
    return vial


def _append(
    session: Session,
    vial: Vial,
    kind: VialEventKind,
    site: SiteHere,
    actor: uuid.UUID,
    now: datetime,
    *,
    dose_record_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> VialEvent:
    event = VialEvent(
        # Set here rather than at flush: the outbox payload needs it now, and the
        # event is written with the rest of the use case's rows at its one flush.
        id=uuid7(),
        origin_site_id=site.site_id,
        created_at=now,
        created_by=actor,
        vial_id=vial.id,
        kind=kind,
        occurred_at=now,
        dose_record_id=dose_record_id,
        reason=reason,
    )
    session.add(event)
    record_change(session, "vial_event", event.id, vial_event_payload(event, vial), now=now)
    return event


def use_refusals(state: VialState, now: datetime) -> list[ClinicalError]:
    """Why a dose must not be drawn from the vial now (an unopened vial is fine: it opens)."""
    if state.discarded_at is not None:
        return [
            VialDiscarded(
                discarded_at=state.discarded_at.strftime(_SHOWN),
                reason=state.discard_reason or "",
            )
        ]
    refusals: list[ClinicalError] = []
    if state.opened_at is not None and state.use_by is not None and state.past_use_by(now):
        refusals.append(
            VialPastUseBy(
                opened_at=state.opened_at.strftime(_SHOWN),
                use_by=state.use_by.strftime(_SHOWN),
            )
        )
    if state.doses_left <= 0:
        refusals.append(VialEmpty(doses=state.doses_per_vial))
    return refusals


def open_in(
    session: Session, vial: Vial, state: VialState, site: SiteHere, actor: uuid.UUID, now: datetime
) -> VialEvent:
    """Append ``opened``; refuses a discarded or already opened vial."""
    if state.discarded_at is not None:
        raise VialDiscarded(
            discarded_at=state.discarded_at.strftime(_SHOWN),
            reason=state.discard_reason or "",
        )
    if state.opened_at is not None:
        raise VialAlreadyOpened(opened_at=state.opened_at.strftime(_SHOWN))
    return _append(session, vial, VialEventKind.OPENED, site, actor, now)


def draw_in(
    session: Session,
    vial: Vial,
    state: VialState,
    site: SiteHere,
    actor: uuid.UUID,
    now: datetime,
    dose_record_id: uuid.UUID | None,
) -> VialEvent:
    """Append ``dose_drawn``; refuses an unopened, discarded, empty or past-use-by vial."""
    refusals = use_refusals(state, now)
    if refusals:
        raise refusals[0]
    if state.opened_at is None:
        raise VialNotOpened()
    return _append(
        session, vial, VialEventKind.DOSE_DRAWN, site, actor, now, dose_record_id=dose_record_id
    )


def discard_in(
    session: Session,
    vial: Vial,
    state: VialState,
    site: SiteHere,
    actor: uuid.UUID,
    now: datetime,
    reason: str,
) -> VialEvent:
    """Append ``discarded`` with `reason`; refuses a vial already discarded or no reason."""
    reason = " ".join(reason.split())[:MAX_REASON]
    if not reason:
        raise DiscardReasonRequired()
    if state.discarded_at is not None:
        raise VialDiscarded(
            discarded_at=state.discarded_at.strftime(_SHOWN),
            reason=state.discard_reason or "",
        )
    return _append(session, vial, VialEventKind.DISCARDED, site, actor, now, reason=reason)


def _with_local_times(state: VialState, zone: ZoneInfo) -> VialState:
    """The state with its times in the site's zone, as people read them."""

    def local(value: datetime | None) -> datetime | None:
        return None if value is None else value.astimezone(zone)

    return replace(
        state,
        received_at=local(state.received_at),
        opened_at=local(state.opened_at),
        use_by=local(state.use_by),
        discarded_at=local(state.discarded_at),
    )


# -- use cases ---------------------------------------------------------------------------------


def vial_status(
    engine: Engine, clock: Clock, label: Gs1Label, *, rules: RuleSet | None = None
) -> VialState | None:
    """The state of the scanned vial; None if it was never registered here."""
    with session_scope(engine, write=False) as session:
        ruleset = rules or rules_in_force(local_day(session, clock))
        scanned = vial_label(label)
        product = label_product(scanned.gtin, ruleset)
        vial = find_vial(session, scanned)
        if vial is None:
            return None
        return state_of(session, vial, product)


def open_vial(
    engine: Engine,
    clock: Clock,
    actor: uuid.UUID,
    label: Gs1Label,
    *,
    rules: RuleSet | None = None,
) -> VialState:
    """Open the scanned vial (registering it if new); its use-by time starts now.

    Refuses an unknown product, a recalled or expired lot, and a vial that is
    discarded or already opened.
    """
    with session_scope(engine) as session:
        site = site_here(session)
        staff = staff_member(session, actor)
        today = local_day(session, clock)
        ruleset = rules or rules_in_force(today)
        scanned = vial_label(label)
        product = label_product(scanned.gtin, ruleset)
        refusals = lot_refusals(session, scanned, today)
        if refusals:
            raise refusals[0]
        now = clock.now()
        vial = find_vial(session, scanned) or register_vial(
            session, scanned, product, site, actor, now
        )
        open_in(session, vial, state_of(session, vial, product), site, actor, now)
        audit(session, site, staff, now, "vial.opened", "vials", vial.id, serial=vial.serial)
        return state_of(session, vial, product)


def discard_vial(
    engine: Engine,
    clock: Clock,
    actor: uuid.UUID,
    label: Gs1Label,
    reason: str,
    *,
    rules: RuleSet | None = None,
) -> VialState:
    """Discard the scanned vial with `reason` (broken, open too long, recalled, ...).

    Raises `VialNotFound` for a vial never registered here, `VialDiscarded`
    for one already discarded, `DiscardReasonRequired` without a reason.
    """
    with session_scope(engine) as session:
        site = site_here(session)
        staff = staff_member(session, actor)
        ruleset = rules or rules_in_force(local_day(session, clock))
        scanned = vial_label(label)
        product = label_product(scanned.gtin, ruleset)
        vial = find_vial(session, scanned)
        if vial is None:
            raise VialNotFound(serial=scanned.serial)
        now = clock.now()
        event = discard_in(
            session, vial, state_of(session, vial, product), site, actor, now, reason
        )
        audit(session, site, staff, now, "vial.discarded", "vials", vial.id, reason=event.reason)
        return state_of(session, vial, product)


def site_vials(
    engine: Engine,
    clock: Clock,
    *,
    rules: RuleSet | None = None,
    finished_within: timedelta = timedelta(days=2),
) -> list[VialState]:
    """The vials a manager looks after: every vial in use, and those finished lately.

    A vial is finished when discarded or empty; finished vials pile up over a
    campaign, so only those finished within `finished_within` of now are
    listed. Two queries whatever the number of vials (vials, then all their
    events), ordered by lot then serial; times in the site's zone.
    """
    with session_scope(engine, write=False) as session:
        ruleset = rules or rules_in_force(local_day(session, clock))
        vials = list(session.scalars(sa.select(Vial).order_by(Vial.lot_number, Vial.serial)))
        facts: dict[uuid.UUID, list[VialEventFact]] = {vial.id: [] for vial in vials}
        rows = session.execute(
            sa.select(VialEvent.vial_id, VialEvent.kind, VialEvent.occurred_at, VialEvent.reason)
        )
        for vial_id, kind, at, reason in rows:
            if vial_id in facts:
                facts[vial_id].append(VialEventFact(VialEventKind(kind), at, reason))
        since = clock.now() - finished_within
        listed: list[VialState] = []
        zone = local_zone(session)
        for vial in vials:
            minutes = ruleset.catalogue.by_gtin(vial.gtin).minutes_usable_after_opening
            state = fold_vial(vial, facts[vial.id], minutes)
            finished_at = state.discarded_at or (
                _last_draw(facts[vial.id]) if state.doses_left == 0 else None
            )
            if finished_at is not None and finished_at < since:
                continue
            listed.append(_with_local_times(state, zone))
        return listed


def _last_draw(facts: list[VialEventFact]) -> datetime | None:
    draws = [fact.occurred_at for fact in facts if fact.kind is VialEventKind.DOSE_DRAWN]
    return max(draws, default=None)
