"""Refusals of the sync endpoints."""

from __future__ import annotations

from central.services.errors import Conflict, HubError


class SequenceGap(Conflict):
    """The site sent an outbox range (or cursor) older than what the hub has (HTTP 409)."""

    code = "sync.sequence_gap"
    template = (
        "The hub already received this site's changes up to number {acknowledged}, but the "
        "site now sends older numbers: the workstation was probably restored from a backup. "
        "The site keeps its unsent records and re-sends them; nothing needs to be done by hand."
    )

    @property
    def expected(self) -> int:
        """The outbox sequence number the hub expects next."""
        return int(self.params["expected"])

    @property
    def recovery_cursor(self) -> str:
        """The pull cursor that gives the site back its own records."""
        return str(self.params["recovery_cursor"])


class KeyReused(Conflict):
    """The same idempotency key with a different batch (HTTP 409)."""

    code = "sync.key_reused"
    template = (
        "This site sent a batch under a key it already used for other records. "
        "This is a fault in the site client: report it to the central help desk."
    )


class BatchInvalid(HubError):
    """A push body the hub cannot read (HTTP 400)."""

    code = "sync.batch_invalid"
    template = "The hub could not read the batch this site sent: {detail}"


class BatchTooLarge(HubError):
    """A push body that decompresses to more than the limit (HTTP 413)."""

    code = "sync.batch_too_large"
    template = (
        "The batch this site sent unpacks to more than {limit} bytes. "
        "Update the site client: it sends batches too large."
    )
