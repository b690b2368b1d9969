"""Why a sync round did not finish, for the manager's sync screen and the CLI."""

from __future__ import annotations

from domain.errors import DomainError


class SyncError(DomainError):
    """Root of sync failures."""

    code = "sync.failed"
    template = "Synchronisation with the hub failed: {detail}"


class HubUnreachable(SyncError):
    """The network or the hub failed; retrying later is the remedy (retryable)."""

    code = "sync.unreachable"
    template = (
        "The hub could not be reached ({detail}). Work continues offline; the site "
        "synchronises again automatically when the network is back."
    )


class SyncRefused(SyncError):
    """The hub refused the request for a reason retrying does not fix."""

    code = "sync.refused"
    template = (
        "The hub refused the synchronisation ({status}: {detail}). Call the central help "
        "desk and quote this message."
    )


class RestoreDetected(SyncError):
    """The hub says this store went back in time (restored from a backup)."""

    code = "sync.restore_detected"
    template = (
        "The hub already has newer changes from this site than this computer holds "
        "(it was probably restored from a backup). Unsent records are kept and sent again; "
        "records the backup lacked are fetched back from the hub."
    )

    @property
    def expected_seq(self) -> int:
        return int(self.params["expected_seq"])

    @property
    def recovery_cursor(self) -> str:
        return str(self.params["recovery_cursor"])


class NotEnrolled(SyncError):
    """The store has no site identity: there is nothing to sync as."""

    code = "sync.not_enrolled"
    template = (
        "This workstation is not enrolled with the hub yet. Enrol it with the one-time "
        "code from the central help desk first."
    )
