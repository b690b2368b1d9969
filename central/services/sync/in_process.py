"""The site engine's transport without HTTP: the hub's sync services called in process.

Structurally a `app.sync.transport.Transport` (push, pull, verify) and an
`app.sync.snapshot.SnapshotSource` (snapshot), over a
`Hub` and one site's id (what its credential would say). Used by the
model-based tests and the fleet benchmark to run many sites against one hub
quickly; the HTTP adapter (`central.api.routers.sync`) calls the same
functions. Errors come out as the HTTP transport raises them, through the
`errors` mapping the caller passes in (the hub may not import the site's
code).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from central.services.context import Hub
from central.services.sync import pull as pull_service
from central.services.sync import push as push_service
from central.services.sync import snapshot as snapshot_service
from central.services.sync import verify as verify_service
from central.services.sync.errors import SequenceGap
from domain.sync_wire import (
    FetchResponse,
    IdList,
    PullPage,
    PushRequest,
    PushResponse,
    SnapshotPage,
    VerifyResponse,
)
from domain.wire import PROTOCOL_VERSION

GapHandler = Callable[[SequenceGap], Exception]
"""Turns the hub's `SequenceGap` into the exception the site engine expects."""


@dataclass
class InProcessTransport:
    """A site's connection to a hub living in the same process."""

    hub: Hub
    site_id: uuid.UUID
    on_gap: GapHandler

    def push(self, request: PushRequest) -> PushResponse:
        try:
            return push_service.push(
                self.hub, self.site_id, request, protocol_version=PROTOCOL_VERSION
            )
        except SequenceGap as gap:
            raise self.on_gap(gap) from gap

    def pull(self, cursor: str | None, limit: int) -> PullPage:
        try:
            return pull_service.pull(self.hub, self.site_id, cursor, limit=limit)
        except SequenceGap as gap:
            raise self.on_gap(gap) from gap

    def snapshot(self, token: str | None, limit: int) -> SnapshotPage | None:
        return snapshot_service.snapshot(self.hub, self.site_id, token, limit=limit)

    def verify(self) -> VerifyResponse:
        return verify_service.verify(self.hub, self.site_id)

    def ids(self, table: str) -> IdList:
        with self.hub.read_sessions() as session:
            return verify_service.replica_ids(session, self.site_id, table)

    def fetch(self, table: str, ids: list[uuid.UUID]) -> FetchResponse:
        with self.hub.read_sessions() as session:
            return verify_service.fetch(session, self.site_id, table, ids)
