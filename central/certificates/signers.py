"""Revoking a document signer: for a site key that leaked or a workstation that was stolen.

A revoked DSC leaves the next trust list, so every certificate it signed stops
verifying at once, genuine ones included: the site's people need their
certificates issued again (``imuno-hub cert issue``). Key ids are accepted as
the hex a verifier prints (16 digits) or the base64 the database stores.
"""

from __future__ import annotations

import base64

from sqlalchemy import select

from central.certificates.errors import SignerAlreadyRevoked, UnknownSigner
from central.db import SignerCertificate
from central.services.context import Hub
from central.services.records import audit


def revoke_signer(hub: Hub, key_id: str, *, reason: str, actor: str) -> SignerCertificate:
    """Revoke the DSC with `key_id`. Raises `UnknownSigner` or `SignerAlreadyRevoked`."""
    stored = _stored_key_id(key_id.strip())
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        row = session.scalar(select(SignerCertificate).where(SignerCertificate.key_id == stored))
        if row is None:
            raise UnknownSigner(key_id=key_id)
        if row.revoked_at is not None:
            raise SignerAlreadyRevoked(
                key_id=key_id,
                revoked_on=row.revoked_at.date().isoformat(),
                reason=row.revocation_reason,
            )
        row.revoked_at = now
        row.revocation_reason = reason
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="certificate.signer_revoked",
            entity=row,
            site_id=row.site_id,
            after={"key_id": row.key_id, "reason": reason},
        )
        return row


def _stored_key_id(text: str) -> str:
    """The base64 form of a key id given in hex (16 digits) or base64."""
    if len(text) == 16:
        try:
            return base64.b64encode(bytes.fromhex(text)).decode("ascii")
        except ValueError:
            pass  # not hex: 16 characters of base64 then, looked up as given
    return text
