"""Model-based test of sync: several sites, one real hub in process, random edits and faults.

Sites record doses, void some of their doses, record vial events and edit
citizens' names offline; syncs fail in every way the network and the
machines can fail: a request dropped before or after the hub committed it,
the hub failing in the middle of its transaction, the site's process killed
after committing its batch locally (before sending it, or after the hub
committed it but before the site stored the answer), batches delivered twice
and old batches delivered again out of order, clocks jumping by days and
years, a workstation restored from an old backup. Invariants:

- no dose is ever stored twice at the hub, and the hub holds no dose, void or
  vial event nobody created (checked after every step);
- after the network heals, two rounds per site make every dose ever created
  reach the hub exactly once (except one that never left a laptop restored
  from an older backup), and so does every dose void, vial event and name
  edit; every replica agrees with the hub: the doses it should hold, the
  voids of those doses, and the citizens' names;
- the conflict log holds exactly the concurrent identity edits: the hub's
  log equals, entry for entry, the conflicts `tests.app.sync.merge_model`
  derives from the order in which the hub first received each edit and
  from what each edit's writer had seen (its base), and each citizen ends
  with the name that reference keeps.

The model sees what the hub committed by watching every delivery that
returned (`FaultyTransport.deliver`), so an edit whose answer was lost, or
that was re-delivered from an old batch, is counted exactly when the hub
got it.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

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
from app.sync import replica
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
    RecordStatus,
    VerifyResponse,
    digest_lines,
)
from tests.app.sync.facts import new_vial, vial_event, void_dose
from tests.app.sync.merge_model import Conflict, Held, Key, Write, expected_conflicts
from tests.app.sync.world import SiteClient, World

FAULTS = (
    "none",
    "drop_before",
    "drop_after",
    "hub_crash",
    "duplicate",
    "pull_lost",
    "killed_before_send",
    "killed_before_ack",
)
SURNAMES = ("Jovanović", "Janković", "Petrović", "Nikolić")
NAME_FIELD = "last_name_latin"  # the wire name of the field the sites edit


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


class ClientKilled(BaseException):
    """The site's process died: nothing of the round after this point ran.

    A `BaseException`, like the `SystemExit` of a killed process, so that no
    handler of the sync engine runs on the way out.
    """


Committed = Callable[[PushRequest, PushResponse], None]


@dataclass
class FaultyTransport:
    """The in-process transport with one scheduled fault per push.

    Every delivery to the hub that returns (the hub committed the batch, or
    answered a batch it had already committed) goes through `deliver`, which
    tells the model what the hub now holds.
    """

    inner: InProcessTransport
    committed: Committed
    fault: str = "none"
    sent: list[PushRequest] = field(default_factory=list)

    def deliver(self, request: PushRequest) -> PushResponse:
        answer = self.inner.push(request)
        self.committed(request, answer)
        return answer

    def push(self, request: PushRequest) -> PushResponse:
        if self.fault == "pull_lost":
            return self.deliver(request)
        fault, self.fault = self.fault, "none"
        self.sent.append(request)
        if fault == "drop_before":
            raise HubUnreachable(detail="connection refused")
        if fault == "killed_before_send":
            raise ClientKilled()
        if fault == "hub_crash":
            self._crash_mid_transaction(request)
            raise HubUnreachable(detail="HTTP 500")
        answer = self.deliver(request)
        if fault == "drop_after":
            raise HubUnreachable(detail="connection reset after the hub committed")
        if fault == "killed_before_ack":
            raise ClientKilled()
        if fault == "duplicate":
            again = self.deliver(request)
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
    """A name edit made at a site: the write, and the outbox row that carries it."""

    site: str
    outbox_id: uuid.UUID
    write: Write


class SyncMachine(RuleBasedStateMachine):
    """The rules draw their arguments and call the `do_*` steps, which tests may call directly."""

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
        self.own_doses: dict[str, list[uuid.UUID]] = {}
        self.serials = 0
        # Records made at sites (never shrinks) and those a restore destroyed before
        # the hub had them; what the hub committed, as the deliveries reported it.
        self.created: set[uuid.UUID] = set()
        self.voids: set[uuid.UUID] = set()
        self.vial_events: set[uuid.UUID] = set()
        self.destroyed: set[uuid.UUID] = set()
        self.at_hub: set[uuid.UUID] = set()
        # Name edits: every one made, the order the hub first got them, the ones a
        # restore destroyed first, and the names the hub started with.
        self.edits: dict[Key, Edit] = {}
        self.arrivals: list[Key] = []
        self.lost_edits: set[Key] = set()
        self.initial_names: dict[uuid.UUID, Held] = {}
        self.backups: dict[str, Path] = {}

    def teardown(self) -> None:
        try:
            if self.sites:
                self.heal_and_check()
        finally:
            self.world.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    def _site(self, code: str) -> SiteClient:
        return next(site for site in self.sites if site.code == code)

    def _hub_committed(self, request: PushRequest, answer: PushResponse) -> None:
        """What a delivery that returned tells the model: these records are at the hub."""
        for record, result in zip(request.records, answer.results, strict=True):
            if result.status is RecordStatus.QUARANTINED:
                continue  # the refusal check after healing reports it
            if record.kind != "citizen":
                self.at_hub.add(record.id)
                continue
            key = (record.id, record.payload["field_hlc"][NAME_FIELD])
            if key not in self.arrivals:
                self.arrivals.append(key)

    # -- steps -------------------------------------------------------------------------

    def do_setup(self, count: int, shared: int) -> None:
        """`count` sites, two citizens booked at each, `shared` booked at all; one dose each."""
        for n in range(count):
            site = self.world.add_site(f"SM-{n:02d}")
            transport = FaultyTransport(site.engine.transport, self._hub_committed)  # type: ignore[arg-type]
            site.engine.transport = transport
            self.transports[site.code] = transport
            self.sites.append(site)
            self.citizens[site.code] = []
            self.own_doses[site.code] = []
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
        with self.world.hub.read_sessions() as session:
            rows = session.execute(
                sa.select(Citizen.id, Citizen.last_name_latin, Citizen.field_hlc)
            )
            self.initial_names = {cid: Held(hlc[NAME_FIELD], name) for cid, name, hlc in rows}
        for site in self.sites:
            site.sync()
            self.do_record_dose(site, self.citizens[site.code][0])

    def do_record_dose(self, site: SiteClient, citizen_id: uuid.UUID) -> None:
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

    def do_edit_surname(self, site: SiteClient, citizen_id: uuid.UUID, surname: str) -> None:
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
            write = Write(citizen_id, stamp, base, surname)
            self.edits[(citizen_id, stamp)] = Edit(site.code, entry.id, write)

    def do_sync(self, site: SiteClient, fault: str) -> None:
        self.transports[site.code].fault = fault
        try:
            site.sync()
        except HubUnreachable:
            pass
        except ClientKilled:
            site.restart()  # the process starts again on the same store

    def do_redeliver(self, site: SiteClient, request: PushRequest) -> None:
        """An old batch of the site reaches the hub again (the network reordered it)."""
        # A restore gap or a refusal here is the site's next round's business.
        with contextlib.suppress(SyncError):
            self.transports[site.code].deliver(request)

    def do_take_backup(self, site: SiteClient) -> None:
        self.backups[site.code] = site.backup(self.folder / f"{site.code}-backup.sqlite")
        site.restore(self.backups[site.code])  # reopen the same file

    def do_restore_backup(self, site: SiteClient) -> None:
        """The laptop goes back to its backup: what never left it since is gone."""
        before = {model: site.local_ids(model) for model in (LocalDose, LocalVoid, LocalVialEvent)}
        site.restore(self.backups[site.code])
        for model, ids in before.items():
            self.destroyed |= (ids - site.local_ids(model)) - self.at_hub
        with session_scope(site.store, write=False) as session:
            waiting = set(session.scalars(sa.select(OutboxEntry.id)))
        arrived = set(self.arrivals)
        self.lost_edits |= {
            key
            for key, edit in self.edits.items()
            if edit.site == site.code and edit.outbox_id not in waiting and key not in arrived
        }

    # -- rules -------------------------------------------------------------------------

    @initialize(count=st.integers(3, 8), shared=st.integers(1, 3))
    def setup(self, count: int, shared: int) -> None:
        self.do_setup(count, shared)

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
            self.do_record_dose(site, data.draw(st.sampled_from(self.citizens[site.code])))

    @rule(data=st.data(), surname=st.sampled_from(SURNAMES))
    def edit_surname(self, data: st.DataObject, surname: str) -> None:
        site = data.draw(st.sampled_from(self.sites))
        self.do_edit_surname(site, data.draw(st.sampled_from(self.citizens[site.code])), surname)

    @rule(data=st.data(), fault=st.sampled_from(FAULTS))
    def sync(self, data: st.DataObject, fault: str) -> None:
        self.do_sync(data.draw(st.sampled_from(self.sites)), fault)

    @rule(data=st.data())
    def deliver_an_old_batch_again(self, data: st.DataObject) -> None:
        site = data.draw(st.sampled_from(self.sites))
        sent = self.transports[site.code].sent
        if sent:
            self.do_redeliver(site, data.draw(st.sampled_from(sent)))

    @rule(data=st.data(), days=st.sampled_from([-400, -3, 2, 5, 730]))
    def clock_jumps(self, data: st.DataObject, days: int) -> None:
        site = data.draw(st.sampled_from(self.sites))
        site.clock.advance(timedelta(days=days))

    @rule(data=st.data())
    def take_backup(self, data: st.DataObject) -> None:
        self.do_take_backup(data.draw(st.sampled_from(self.sites)))

    @precondition(lambda self: bool(self.backups))
    @rule(data=st.data())
    def restore_backup(self, data: st.DataObject) -> None:
        self.do_restore_backup(self._site(data.draw(st.sampled_from(sorted(self.backups)))))

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

    def _due(self, made: set[uuid.UUID]) -> set[uuid.UUID]:
        """Of `made`, what must be at the hub: all but what a restore destroyed first.

        A destroyed record may still arrive later, from an old batch delivered again.
        """
        return {i for i in made if i not in self.destroyed or i in self.at_hub}

    @rule()
    def heal_and_check(self) -> None:
        for transport in self.transports.values():
            transport.fault = "none"
        for _round in range(2):
            for site in self.sites:
                site.sync()
        with self.world.hub.read_sessions() as session:
            hub_doses = list(session.scalars(sa.select(DoseRecord.id)))
            conflicts = session.scalars(sa.select(ConflictLog)).all()
            names = dict(session.execute(sa.select(Citizen.id, Citizen.last_name_latin)).all())
            hub_voids = dict(session.execute(sa.select(DoseVoid.id, DoseVoid.dose_id)).all())
            hub_events = list(session.scalars(sa.select(VialEvent.id)))
            refused = list(
                session.scalars(
                    sa.select(Quarantine.reason_code).where(
                        Quarantine.table_name.in_(["dose_voids", "vial_events", "citizens"])
                    )
                )
            )
            expected_by_site = {
                site.code: set(
                    verify_service.replica_ids(session, site.site_id, "dose_records").ids
                )
                for site in self.sites
            }
        assert sorted(hub_doses) == sorted(self._due(self.created)), "a dose lost or duplicated"
        assert set(hub_voids) == self._due(self.voids), "a dose void was lost"
        assert sorted(hub_events) == sorted(self._due(self.vial_events)), "a vial event lost"
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
        for site in self.sites:
            self._check_verified(site)
        waiting = set(self.edits) - self.lost_edits - set(self.arrivals)
        assert not waiting, "edits still waiting after the network healed"
        self._check_conflicts(conflicts, names)

    def _check_verified(self, site: SiteClient) -> None:
        """Trust but verify agrees: every table's count and digest match the hub's."""
        hub_view = self.transports[site.code].verify()
        for digest in [*hub_view.tables, *hub_view.replica_tables]:
            with session_scope(site.store, write=False) as session:
                lines = replica.held_lines(session, digest.table)
            assert (len(lines), digest_lines(lines)) == (digest.count, digest.digest), (
                f"{site.code}: {digest.table} differs from the hub after healing"
            )

    def _check_conflicts(
        self, conflicts: Sequence[ConflictLog], names: dict[uuid.UUID, str]
    ) -> None:
        expected, held = expected_conflicts(
            self.initial_names, [edit.write for edit in self.edits.values()], self.arrivals
        )
        for conflict in conflicts:
            assert conflict.field_name == NAME_FIELD
        logged = Counter(
            Conflict(c.citizen_id, c.kept_hlc, c.kept_value, c.lost_hlc, c.lost_value)
            for c in conflicts
        )
        assert logged == Counter(expected), (
            "the conflict log is not exactly the concurrent identity edits: "
            f"missing {sorted(map(str, Counter(expected) - logged))}, "
            f"unexpected {sorted(map(str, logged - Counter(expected)))}"
        )
        assert {cid: names[cid] for cid in held} == {cid: h.value for cid, h in held.items()}


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
@pytest.mark.timeout(1800)
def test_sync_state_machine_long() -> None:
    """Many long runs (4-10 minutes on a busy two-core machine: past the suite's 300 s limit)."""
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
