"""One sync round: push the outbox, pull the hub's changes, verify the replica.

`SyncEngine.run_round` does, in order, with short local transactions and all
network calls outside them (the store is never locked while waiting for the
hub):

1. push: claim a batch (committed before sending, so a crash keeps its key),
   send it, delete its rows once the hub answered for each; repeat until the
   outbox is empty. A `RestoreDetected` answer (the store was restored from a
   backup) renumbers the waiting rows from the sequence the hub expects and
   sets the cursor the hub gave, which brings back this site's own records;
2. pull: fetch pages after the stored cursor; each page and its cursor are
   stored in one transaction (a store that never pulled first fills itself
   from the hub's snapshot, `app.sync.snapshot`);
3. verify: compare per-table counts and digests (ids, with versions where
   rows change) with the hub's (`app.sync.replica`); on a mismatch fetch
   exactly the records missing or stale here (never a wipe), and queue again
   records born here that the hub lacks, sending them in the same round;
4. certificate lists (when given a `ListSource`): fetch, check against the
   pinned CSCA and store the trust and revocation lists
   (`app.sync.certificate_lists`). A refused or unreachable list does not
   fail the round (doses matter more); it is reported in ``lists_error``.

A failure ends the round with the error recorded (in `SyncState` and the
round's `SyncRound` row) and raised; nothing is lost, the next round resumes.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.local_db.models.sync import SyncOutcome, SyncRound, SyncState
from app.local_db.unit_of_work import session_scope
from app.sync import outbox, replica
from app.sync.apply import apply_changes
from app.sync.apply_chunks import apply_in_chunks
from app.sync.certificate_lists import ListSource, refresh_lists
from app.sync.errors import RestoreDetected, SyncError
from app.sync.snapshot import SnapshotSource, bootstrap
from app.sync.transport import Transport
from domain.clock import Clock, SystemClock
from domain.sync_wire import (
    MAX_BATCH_BYTES,
    MAX_BATCH_RECORDS,
    MAX_PULL_PAGE,
    PushRequest,
    RecordStatus,
    digest_lines,
)

log = logging.getLogger("imuno.site.sync")

CLIENT_VERSION = "imuno-site/0.1"
_MAX_RESTORES_PER_ROUND = 2
_FETCH_CHUNK = MAX_PULL_PAGE
_ABSENT = object()


@dataclass
class RoundReport:
    """What moved in one round."""

    pushed: int = 0
    applied_at_hub: int = 0
    duplicates: int = 0
    quarantined: list[str] = field(default_factory=list)
    pulled: int = 0
    applied_here: int = 0
    skipped: list[str] = field(default_factory=list)
    restored: bool = False
    verified: bool = False
    refetched: int = 0
    resent: int = 0
    unconfirmed: int = 0
    backlog: int = 0
    hub_clock_offset_ms: int | None = None
    error: str | None = None
    lists_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _state(session: Session) -> SyncState:
    state = session.get(SyncState, 1)
    if state is None:
        state = SyncState(id=1)
        session.add(state)
        session.flush()
    return state


class SyncEngine:
    """Runs sync rounds of one site store against one hub. Not thread-safe: one round at a time."""

    def __init__(
        self,
        engine: Engine,
        transport: Transport,
        *,
        clock: Clock | None = None,
        client_version: str = CLIENT_VERSION,
        page_size: int = MAX_PULL_PAGE,
        max_batch_records: int = MAX_BATCH_RECORDS,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        site_id: uuid.UUID,
        certificate_lists: ListSource | None = None,
    ) -> None:
        self.engine = engine
        self.transport = transport
        self.clock: Clock = clock or SystemClock()
        self.client_version = client_version
        self.page_size = page_size
        self.max_batch_records = max_batch_records
        self.max_batch_bytes = max_batch_bytes
        self.site_id = site_id
        self.certificate_lists = certificate_lists

    # -- the round ---------------------------------------------------------------------

    def run_round(self, *, verify: bool = True) -> RoundReport:
        """Push, pull, verify. Raises `SyncError` after recording it; returns what moved."""
        report = RoundReport()
        round_id = self._start_round()
        try:
            self._push_all(report)
            self._pull_all(report)
            if verify:
                self._verify(report)
        except SyncError as error:
            report.error = str(error)
            self._finish_round(round_id, report, SyncOutcome.FAILED)
            raise
        self._refresh_certificate_lists(report)
        self._finish_round(round_id, report, SyncOutcome.OK)
        return report

    def _refresh_certificate_lists(self, report: RoundReport) -> None:
        if self.certificate_lists is None:
            return
        try:
            refresh_lists(self.engine, self.certificate_lists, now=self.clock.now())
        except SyncError as error:
            report.lists_error = str(error)
            log.warning("certificate lists not refreshed: %s", error)

    def _start_round(self) -> uuid.UUID:
        with session_scope(self.engine) as session:
            state = _state(session)
            row = SyncRound(
                started_at=self.clock.now(),
                pushed=0,
                pulled=0,
                cursor_before=state.pull_cursor,
            )
            session.add(row)
            session.flush()
            return row.id

    def _finish_round(self, round_id: uuid.UUID, report: RoundReport, outcome: SyncOutcome) -> None:
        now = self.clock.now()
        with session_scope(self.engine) as session:
            state = _state(session)
            report.backlog = outbox.backlog(session)
            row = session.get(SyncRound, round_id)
            if row is not None:
                row.finished_at = now
                row.outcome = outcome
                row.pushed = report.pushed
                row.pulled = report.pulled
                row.cursor_after = state.pull_cursor
                row.hub_clock_offset_ms = report.hub_clock_offset_ms
                row.error = report.error[:2000] if report.error else None
            if report.error:
                state.last_error = report.error[:2000]
                state.last_error_at = now
            else:
                state.last_success_at = now
                state.last_error = None
            state.updated_at = now

    # -- push --------------------------------------------------------------------------

    def _push_all(self, report: RoundReport) -> None:
        restores = 0
        while True:
            now = self.clock.now()
            with session_scope(self.engine) as session:
                batch = outbox.claim_batch(
                    session,
                    now,
                    max_records=self.max_batch_records,
                    max_bytes=self.max_batch_bytes,
                )
                waiting = outbox.backlog(session)
                cursor = _state(session).pull_cursor
            if batch is None:
                return
            request = PushRequest(
                idempotency_key=batch.key,
                first_seq=batch.first_seq,
                last_seq=batch.last_seq,
                records=list(batch.records),
                sent_at=now,
                backlog=waiting,
                client_version=self.client_version,
                pull_cursor=cursor,
            )
            try:
                response = self.transport.push(request)
            except RestoreDetected as gap:
                restores += 1
                if restores > _MAX_RESTORES_PER_ROUND:
                    raise
                self._recover(gap)
                report.restored = True
                continue
            except SyncError as error:
                with session_scope(self.engine) as session:
                    outbox.note_failure(session, batch, str(error))
                raise
            with session_scope(self.engine) as session:
                outbox.acknowledge(session, batch)
                state = _state(session)
                state.last_push_at = self.clock.now()
                offset = int((response.hub_time - now).total_seconds() * 1000)
                state.hub_clock_offset_ms = offset
                report.hub_clock_offset_ms = offset
            for result in response.results:
                report.pushed += 1
                if result.status is RecordStatus.APPLIED:
                    report.applied_at_hub += 1
                elif result.status is RecordStatus.DUPLICATE:
                    report.duplicates += 1
                else:
                    report.quarantined.append(f"{result.kind} {result.id}: {result.reason}")
                    log.warning("hub quarantined %s %s: %s", result.kind, result.id, result.reason)

    def _recover(self, gap: RestoreDetected) -> None:
        """After a restore: keep the unsent rows, renumbered; re-pull our own records."""
        log.warning("restore from backup detected; hub expects outbox seq %s", gap.expected_seq)
        with session_scope(self.engine) as session:
            outbox.renumber_from(session, gap.expected_seq)
            state = _state(session)
            state.pull_cursor = gap.recovery_cursor
            state.updated_at = self.clock.now()

    # -- pull --------------------------------------------------------------------------

    def _pull_all(self, report: RoundReport) -> None:
        if isinstance(self.transport, SnapshotSource):
            # A store that never pulled starts from the hub's snapshot (app.sync.snapshot).
            booted = bootstrap(self.engine, self.transport, self.site_id, self.clock)
            if booted is not None:
                report.pulled += booted.applied + booted.unchanged + len(booted.skipped)
                report.applied_here += booted.applied
                report.skipped.extend(booted.skipped)
        restores = 0
        while True:
            with session_scope(self.engine, write=False) as session:
                state = session.get(SyncState, 1)
                cursor = state.pull_cursor if state else None
            try:
                page = self.transport.pull(cursor, self.page_size)
            except RestoreDetected as gap:
                restores += 1
                if restores > _MAX_RESTORES_PER_ROUND:
                    raise
                self._recover(gap)
                report.restored = True
                continue
            now = self.clock.now()
            with session_scope(self.engine) as session:
                applied = apply_in_chunks(session, self.site_id, page.changes, now)
                state = _state(session)
                state.pull_cursor = page.next_cursor
                state.last_pull_at = now
                state.updated_at = now
            report.pulled += len(page.changes)
            report.applied_here += applied.applied
            report.skipped.extend(applied.skipped)
            if not page.has_more:
                return

    # -- verify ------------------------------------------------------------------------

    def _verify(self, report: RoundReport) -> None:
        """Compare each verified table with the hub; repair what differs; send what was queued."""
        hub_view = self.transport.verify()
        all_match = True
        resent = 0
        for digest in [*hub_view.tables, *hub_view.replica_tables]:
            with session_scope(self.engine, write=False) as session:
                lines = replica.held_lines(session, digest.table)
            if len(lines) == digest.count and digest_lines(lines) == digest.digest:
                continue
            all_match = False
            with session_scope(self.engine, write=False) as session:
                local = replica.held(session, digest.table)
            resent += self._repair(digest.table, local, report)
        report.verified = all_match
        if resent:
            self._push_all(report)

    def _repair(self, table: str, local: dict[uuid.UUID, str | None], report: RoundReport) -> int:
        """Re-pull what differs from the hub's list; re-queue ours it lacks. Returns re-queued."""
        listed = self.transport.ids(table)
        versions = listed.versions or [None] * len(listed.ids)
        hub_rows = dict(zip(listed.ids, versions, strict=True))
        with session_scope(self.engine, write=False) as session:
            pending = replica.waiting(session, table)
        stale = sorted(
            (
                record_id
                for record_id, version in hub_rows.items()
                if record_id not in pending and local.get(record_id, _ABSENT) != version
            ),
            key=str,
        )
        for start in range(0, len(stale), _FETCH_CHUNK):
            fetched = self.transport.fetch(table, stale[start : start + _FETCH_CHUNK])
            with session_scope(self.engine) as session:
                applied = apply_changes(session, self.site_id, fetched.changes, self.clock.now())
            report.refetched += applied.applied
            report.skipped.extend(applied.skipped)
        unknown = set(local) - set(hub_rows)
        with session_scope(self.engine) as session:
            queued = replica.resend(
                session, table, unknown, site_id=self.site_id, now=self.clock.now()
            )
        report.unconfirmed += len(unknown) - queued
        report.resent += queued
        if queued:
            log.warning("%s: %d record(s) the hub lacks queued again", table, queued)
        return queued
