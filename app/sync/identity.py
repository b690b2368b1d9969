"""Who this site is to the hub: its id, code, hub address and credential, from the store.

The credential is stored sealed (`app.local_db.sealing.SecretBox`) under the
purpose `CREDENTIAL_PURPOSE`; whoever writes it at enrolment must seal it so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.engine import Engine

from app.local_db.models.site import SiteIdentity
from app.local_db.sealing import SecretBox
from app.local_db.unit_of_work import session_scope
from app.sync.errors import NotEnrolled

CREDENTIAL_PURPOSE: Final = "site credential"


@dataclass(frozen=True)
class HubConnection:
    """Enough to talk to the hub as this site."""

    site_id: uuid.UUID
    site_code: str
    hub_url: str
    credential: str = field(repr=False)


def load_connection(engine: Engine, box: SecretBox) -> HubConnection:
    """The site's connection details; `NotEnrolled` when the store has no identity yet."""
    with session_scope(engine, write=False) as session:
        identity = session.get(SiteIdentity, 1)
        if identity is None:
            raise NotEnrolled(detail="no site identity")
        sealed = identity.credential_secret_sealed
        site_id, code, url = identity.site_id, identity.site_code, identity.hub_url
    credential = box.unseal(sealed, purpose=CREDENTIAL_PURPOSE).decode("utf-8")
    return HubConnection(site_id, code, url, credential)
