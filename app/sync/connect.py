"""One way to reach the hub as this site: the sync engine with its transport and list source.

Every caller that syncs (``imuno-site sync``, ``imuno-site enrol``'s first
round, the GUI's background worker and its first-start round) builds the
same thing here, so each of them also refreshes the certificate trust and
revocation lists after a round (`app.sync.certificate_lists`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from sqlalchemy.engine import Engine

from app.local_db.sealing import SecretBox
from app.sync.certificate_lists import HttpListSource
from app.sync.engine import SyncEngine
from app.sync.identity import load_connection
from app.sync.transport import HttpTransport
from domain.clock import Clock


@dataclass
class HubLink:
    """A sync engine and the HTTP clients it owns; close it (or use ``with``) when done."""

    engine: SyncEngine
    transport: HttpTransport
    lists: HttpListSource

    def close(self) -> None:
        self.transport.close()
        self.lists.close()

    def __enter__(self) -> HubLink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def connect(
    store: Engine, box: SecretBox, *, clock: Clock | None = None, hub_url: str | None = None
) -> HubLink:
    """The enrolled site's link to its hub (`hub_url` overrides the enrolled address).

    Raises `app.sync.errors.NotEnrolled` when the store has no site identity,
    and `SecretUnreadable` when `box` cannot open the credential.
    """
    connection = load_connection(store, box)
    url = hub_url or connection.hub_url
    transport = HttpTransport(url, connection.credential)
    lists = HttpListSource(url)
    engine = SyncEngine(
        store, transport, clock=clock, site_id=connection.site_id, certificate_lists=lists
    )
    return HubLink(engine, transport, lists)
