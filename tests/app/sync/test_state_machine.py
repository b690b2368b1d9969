"""Model-based test of sync: several sites, one real hub in process, random edits and faults.

Sites record doses, void some of their doses, record vial events and edit
citizens' names offline; syncs fail in every way
the network and the machines can fail: a request dropped before or after the
hub committed it, the hub failing in the middle of its transaction, old
batches delivered again out of order, clocks jumping by days and years, a
workstation restored from an old backup. Invariants:

- no dose is ever stored twice at the hub, and the hub holds no dose, void or
  vial event nobody created (checked after every step);
- after the network heals, two rounds per site make every dose ever created
  (and not destroyed with a restored laptop before it left it) reach the hub
  exactly once, and so does every dose void and vial event, and every
  replica agree with the hub: the doses it should hold, the voids of those
  doses, and the citizens' names;
- the conflict log holds only pairs of concurrent edits with different
  values, and every pair of edits of the same value by two writers that
  had seen neither the other is in it.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from app.local_db.engine import open_site_store
from app.local_db.models.citizens import Citizen as LocalCitizen
from app.local_db.models.doses import DoseRecord as LocalDose
from app.local_db.models.doses import DoseVoid as LocalVoid
from app.local_db.models.stock import VialEvent as LocalVialEvent
from app.local_db.models.stock import VialEventKind
from app.local_db.models.sync import OutboxEntry
from app.local_db.unit_of_work import session_scope
from app.sync.citizen_writes import write_fields
from app.sync.errors import HubUnreachable, SyncError
from app.sync.transport import Transport
from central.db import (
    Citizen,
    ConflictLog,
    DoseRecord,
    DoseVoid,
    Quarantine,
    VialEvent,
    upgrade_to_head,
)
from central.services.sync import push as push_service
from central.services.sync import verify as verify_service
from central.services.sync.errors import SequenceGap
from central.services.sync.in_process import InProcessTransport
from domain.sync_wire import (
    FetchResponse,
    IdList,
    PullPage,
    PushRequest,
    PushResponse,
    VerifyResponse,
)
from tests.app.sync.facts import new_vial, vial_event, void_dose
from tests.app.sync.world import SiteClient, World

FAULTS = (
    "none",
    "drop_before",
    "drop_after",
    "hub_crash",
    "duplicate",
    "pull_lost",
)
SURNAMES = ("Jovanović", "Janković", "Petrović", "Nikolić")


class _Templates:
    """A migrated hub database and site store, copied for each example (migrating costs ~1 s)."""

    folder: Path | None = None

    @classmethod
    def get(cls) -> Path:
        if cls.folder is None:
            folder = Path(tempfile.mkdtemp(prefix="imuno-sync-tpl-"))
            atexit.register(shutil.rmtree, folder, True)
            upgrade_to_head(f"sqlite:///{folder / 'central.sqlite'}")
            open_site_store(folder / "site.sqlite").dispose()
            cls.folder = folder
        return cls.folder


@dataclass
class FaultyTransport:
    """The in-process transport with one scheduled fault per push."""

    inner: InProcessTransport
    fault: str = "none"
    sent: list[PushRequest] = field(default_factory=list)

    def push(self, request: PushRequest) -> PushResponse:
        if self.fault == "pull_lost":
            return self.inner.push(request)
        fault, self.fault = self.fault, "none"
        self.sent.append(request)
        if fault == "drop_before":
            raise HubUnreachable(detail="connection refused")
        if fault == "hub_crash":
            self._crash_mid_transaction(request)
            raise HubUnreachable(detail="HTTP 500")
        answer = self.inner.push(request)
        if fault == "drop_after":
            raise HubUnreachable(detail="connection reset after the hub committed")
        if fault == "duplicate":
            again = self.inner.push(request)
            assert again.results == answer.results
        return answer

    def _crash_mid_transaction(self, request: PushRequest) -> None:
        """The hub applies the batch, then dies before committing: all rolled back."""
        hub = self.inner.hub
        session = hub.sessions()
        try:
            session.begin()
            with contextlib.suppress(SequenceGap):
                push_service.push_batch(session, self.inner.site_id, request, now=hub.clock.now())
        finally:
            session.rollback()
            session.close()

    def pull(self, cursor: str | None, limit: int) -> PullPage:
        page = self.inner.pull(cursor, limit)
        if self.fault == "pull_lost":
            self.fault = "none"
            raise HubUnreachable(detail="read timeout")
        return page

    def verify(self) -> VerifyResponse:
        return self.inner.verify()

    def ids(self, table: str) -> IdList:
        return self.inner.ids(table)

    def fetch(self, table: str, ids: list[uuid.UUID]) -> FetchResponse:
        return self.inner.fetch(table, ids)


@dataclass(frozen=True)
class Edit:
    """An identity edit made at a site: its timestamp, the one it replaced, its value."""

    site: str
    outbox_id: uuid.UUID
    citizen_id: uuid.UUID
    stamp: str
    base: str | None
    value: str


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="imuno-sync-sm-"))
        templates = _Templates.get()
        shutil.copy2(templates / "central.sqlite", self.folder / "central.sqlite")
        self.world = World(
            f"sqlite:///{self.folder / 'central.sqlite'}",
            self.folder,
            site_template=templates / "site.sqlite",
            migrate=False,
        )
        self.sites: list[SiteClient] = []
        self.transports: dict[str, FaultyTransport] = {}
        self.citizens: dict[str, list[uuid.UUID]] = {}
        self.dose_numbers: dict[uuid.UUID, int] = {}
        self.created: set[uuid.UUID] = set()
        self.own_doses: dict[str, list[uuid.UUID]] = {}
        self.voids: set[uuid.UUID] = set()
        self.vial_events: set[uuid.UUID] = set()
        self.serials = 0
        self.edits: list[Edit] = []
        self.pending: list[Edit] = []  # not yet acknowledged by the hub
        self.backups: dict[str, Path] = {}

    def teardown(self) -> None:
        try:
            if self.sites:
                self.heal_and_check()
        finally:
            self.world.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    def _outbox_ids(self, site: SiteClient) -> set[uuid.UUID]:
        with session_scope(site.store, write=False) as session:
            return set(session.scalars(sa.select(OutboxEntry.id)))

    def _note_delivered(self, site: SiteClient) -> None:
        """Edits whose outbox rows left the outbox were acknowledged by the hub."""
        waiting = self._outbox_ids(site)
        for edit in [e for e in self.pending if e.site == site.code]:
            if edit.outbox_id not in waiting:
                self.pending.remove(edit)
                self.edits.append(edit)

    @initialize(count=st.integers(3, 8), shared=st.integers(1, 3))
    def setup(self, count: int, shared: int) -> None:
        for n in range(count):
            site = self.world.add_site(f"SM-{n:02d}")
            transport = FaultyTransport(site.engine.transport)  # type: ignore[arg-type]
            site.engine.transport = transport
            self.transports[site.code] = transport
            self.sites.append(site)
            self.citizens[site.code] = []
            self.own_doses[site.code] = []
        # Each site has two citizens of its own; `shared` more are booked at every site.
        for site in self.sites:
            for _ in range(2):
                citizen = self.world.hub_citizen()
                self.world.book(citizen.id, site)
                self.citizens[site.code].append(citizen.id)
        for _ in range(shared):
            citizen = self.world.hub_citizen()
            for site in self.sites:
                self.world.book(citizen.id, site)
                self.citizens[site.code].append(citizen.id)
        for site in self.sites:
            site.sync()
            self._record_dose(site, self.citizens[site.code][0])

    # -- work at the sites -------------------------------------------------------------

    def _record_dose(self, site: SiteClient, citizen_id: uuid.UUID) -> None:
        number = self.dose_numbers.get(citizen_id, 0) + 1
        if number > 20:
            return
        with session_scope(site.store, write=False) as session:
            if session.get(LocalCitizen, citizen_id) is None:
                return  # not pulled yet (the site was offline when it was booked)
        self.dose_numbers[citizen_id] = number
        dose_id = site.record_dose(citizen_id, dose_number=number)
        self.created.add(dose_id)
        self.own_doses[site.code].append(dose_id)

    @rule(data=st.data())
    def void_a_dose(self, data: st.DataObject) -> None:
        """A nurse voids a dose given at her site that nobody has voided yet."""
        site = data.draw(st.sampled_from(self.sites))
        with self.world.hub.read_sessions() as session:
            voided_at_hub = set(session.scalars(sa.select(DoseVoid.dose_id)))
        with session_scope(site.store, write=False) as session:
            voided_here = set(session.scalars(sa.select(LocalVoid.dose_id)))
            held = set(session.scalars(sa.select(LocalDose.id)))
        candidates = [
            d
            for d in self.own_doses[site.code]
            if d in held and d not in voided_here and d not in voided_at_hub
        ]
        if candidates:
            self.voids.add(void_dose(site, data.draw(st.sampled_from(candidates))))

    @rule(data=st.data(), kinds=st.integers(1, 3), discard=st.booleans())
    def use_a_vial(self, data: st.DataObject, kinds: int, discard: bool) -> None:
        """A new vial is received and used at a site (one to three events)."""
        site = data.draw(st.sampled_from(self.sites))
        self.serials += 1
        vial_id = new_vial(site, f"SM{self.serials:06d}")
        steps = [VialEventKind.RECEIVED, VialEventKind.OPENED, VialEventKind.DOSE_DRAWN][:kinds]
        for kind in steps:
            self.vial_events.add(vial_event(site, vial_id, kind))
        if discard:
            self.vial_events.add(
                vial_event(site, vial_id, VialEventKind.DISCARDED, reason="open too long")
            )

    @rule(data=st.data(), count=st.integers(1, 3))
    def record_doses(self, data: st.DataObject, count: int) -> None:
        site = data.draw(st.sampled_from(self.sites))
        for _ in range(count):
            self._record_dose(site, data.draw(st.sampled_from(self.citizens[site.code])))

    @rule(data=st.data(), surname=st.sampled_from(SURNAMES))
    def edit_surname(self, data: st.DataObject, surname: str) -> None:
        site = data.draw(st.sampled_from(self.sites))
        citizen_id = data.draw(st.sampled_from(self.citizens[site.code]))
        with session_scope(site.store) as session:
            citizen = session.get(LocalCitizen, citizen_id)
            if citizen is None or citizen.family_name_latin == surname:
                return
            base = (citizen.field_hlc or {}).get("family_name_latin")
            entry = write_fields(
                session,
                citizen,
                {"family_name_latin": surname},
                clock=site.hlc,
                now=site.clock.now(),
            )
            session.flush()
            stamp = citizen.field_hlc["family_name_latin"]
            self.pending.append(Edit(site.code, entry.id, citizen_id, stamp, base, surname))

    # -- the network and the machines --------------------------------------------------

    @rule(data=st.data(), fault=st.sampled_from(FAULTS))
    def sync(self, data: st.DataObject, fault: str) -> None:
        site = data.draw(st.sampled_from(self.sites))
        self.transports[site.code].fault = fault
        with contextlib.suppress(HubUnreachable):
            site.sync()
        self._note_delivered(site)

    @rule(data=st.data())
    def deliver_an_old_batch_again(self, data: st.DataObject) -> None:
        site = data.draw(st.sampled_from(self.sites))
        sent = self.transports[site.code].sent
        if not sent:
            return
        request = data.draw(st.sampled_from(sent))
        # A restore gap or a refusal here is the site's next round's business.
        with contextlib.suppress(SyncError):
            self.transports[site.code].inner.push(request)

    @rule(data=st.data(), days=st.sampled_from([-400, -3, 2, 5, 730]))
    def clock_jumps(self, data: st.DataObject, days: int) -> None:
        site = data.draw(st.sampled_from(self.sites))
        site.clock.advance(timedelta(days=days))

    @rule(data=st.data())
    def take_backup(self, data: st.DataObject) -> None:
        site = data.draw(st.sampled_from(self.sites))
        self.backups[site.code] = site.backup(self.folder / f"{site.code}-backup.sqlite")
        site.restore(self.backups[site.code])  # reopen the same file

    @precondition(lambda self: bool(self.backups))
    @rule(data=st.data())
    def restore_backup(self, data: st.DataObject) -> None:
        code = data.draw(st.sampled_from(sorted(self.backups)))
        site = next(s for s in self.sites if s.code == code)
        # Doses recorded since the backup that never left the laptop go with it.
        local_before = site.local_ids(LocalDose)
        local_before_voids = site.local_ids(LocalVoid)
        local_before_events = site.local_ids(LocalVialEvent)
        site.restore(self.backups[code])
        local_after = site.local_ids(LocalDose)
        with self.world.hub.read_sessions() as session:
            at_hub = set(session.scalars(sa.select(DoseRecord.id)))
        self.created -= (local_before - local_after) - at_hub
        self._forget_lost(site, local_before_voids, local_before_events)
        # Edits still waiting whose outbox rows the backup lacks are lost too.
        waiting = self._outbox_ids(site)
        self.pending = [e for e in self.pending if e.site != code or e.outbox_id in waiting]

    def _forget_lost(
        self, site: SiteClient, voids_before: set[uuid.UUID], events_before: set[uuid.UUID]
    ) -> None:
        """Voids and vial events the restored copy lacks and the hub never got are gone."""
        with self.world.hub.read_sessions() as session:
            voids_at_hub = set(session.scalars(sa.select(DoseVoid.id)))
            events_at_hub = set(session.scalars(sa.select(VialEvent.id)))
        self.voids -= (voids_before - site.local_ids(LocalVoid)) - voids_at_hub
        self.vial_events -= (events_before - site.local_ids(LocalVialEvent)) - events_at_hub

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def no_dose_twice_and_none_invented(self) -> None:
        with self.world.hub.read_sessions() as session:
            ids = list(session.scalars(sa.select(DoseRecord.id)))
            voids = list(session.scalars(sa.select(DoseVoid.id)))
            events = list(session.scalars(sa.select(VialEvent.id)))
        assert len(ids) == len(set(ids))
        assert set(ids) <= self.created
        assert set(voids) <= self.voids
        assert set(events) <= self.vial_events

    @rule()
    def heal_and_check(self) -> None:
        for transport in self.transports.values():
            transport.fault = "none"
        for _round in range(2):
            for site in self.sites:
                site.sync()
        for site in self.sites:
            self._note_delivered(site)
        assert not self.pending, "edits still waiting after the network healed"
        with self.world.hub.read_sessions() as session:
            hub_doses = list(session.scalars(sa.select(DoseRecord.id)))
            conflicts = session.scalars(sa.select(ConflictLog)).all()
            names = dict(session.execute(sa.select(Citizen.id, Citizen.last_name_latin)).all())
            hub_voids = dict(session.execute(sa.select(DoseVoid.id, DoseVoid.dose_id)).all())
            hub_events = list(session.scalars(sa.select(VialEvent.id)))
            refused = list(
                session.scalars(
                    sa.select(Quarantine.reason_code).where(
                        Quarantine.table_name.in_(["dose_voids", "vial_events"])
                    )
                )
            )
            expected_by_site = {
                site.code: set(
                    verify_service.replica_ids(session, site.site_id, "dose_records").ids
                )
                for site in self.sites
            }
        assert sorted(hub_doses) == sorted(self.created), "a dose was lost or duplicated"
        assert set(hub_voids) == self.voids, "a dose void was lost"
        assert sorted(hub_events) == sorted(self.vial_events), "a vial event was lost"
        assert not refused, refused
        for site in self.sites:
            assert site.local_ids(LocalDose) == expected_by_site[site.code], site.code
            with session_scope(site.store, write=False) as session:
                query = sa.select(LocalVoid.id, LocalVoid.dose_id)
                local_voids = dict(session.execute(query).all())
            held = expected_by_site[site.code]
            assert local_voids == {v: d for v, d in hub_voids.items() if d in held}, site.code
            with session_scope(site.store, write=False) as session:
                for citizen in session.scalars(sa.select(LocalCitizen)):
                    assert citizen.family_name_latin == names[citizen.id], site.code
        self._check_conflicts(conflicts)

    def _check_conflicts(self, conflicts: Any) -> None:
        by_stamp = {edit.stamp: edit for edit in self.edits}

        def ancestors(stamp: str | None) -> set[str]:
            seen: set[str] = set()
            while stamp is not None and stamp in by_stamp and stamp not in seen:
                seen.add(stamp)
                stamp = by_stamp[stamp].base
            if stamp is not None:
                seen.add(stamp)
            return seen

        logged = set()
        for conflict in conflicts:
            assert conflict.field_name == "last_name_latin"
            assert conflict.kept_value != conflict.lost_value
            kept, lost = conflict.kept_hlc, conflict.lost_hlc
            assert kept > lost  # the greater timestamp is kept
            assert lost not in ancestors(kept), "not concurrent"
            assert kept not in ancestors(lost), "not concurrent"
            logged.update({(conflict.citizen_id, kept), (conflict.citizen_id, lost)})
        siblings: dict[tuple[uuid.UUID, str | None], list[Edit]] = {}
        for edit in self.edits:
            siblings.setdefault((edit.citizen_id, edit.base), []).append(edit)
        for (citizen_id, _base), group in siblings.items():
            values = {edit.value for edit in group}
            if len(values) > 1:
                assert any((citizen_id, edit.stamp) in logged for edit in group), (
                    "concurrent identity edits missing from the conflict log"
                )


def _is_a_transport(transport: FaultyTransport) -> Transport:
    return transport  # mypy checks that the fault injector has the Transport interface


def test_sync_state_machine() -> None:
    """A representative short run: a few examples of 25 steps (about 20 s)."""
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=6,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


@pytest.mark.slow
def test_sync_state_machine_long() -> None:
    """Many long runs (minutes)."""
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
