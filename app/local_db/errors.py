"""Errors of the site's local store that a nurse, a manager or support may read.

Every error is a `DomainError` with a stable code (``site_store.*``) and an
English template; Serbian texts live in ``domain/locale/site_store.sr-Latn.json``.
The CLI prints them without a traceback; the UI shows them translated.
"""

from __future__ import annotations

from domain.errors import DomainError


class SiteStoreError(DomainError):
    """Root of the errors raised by `app.local_db`."""

    code = "site_store.error"
    template = "The site's local database cannot be used."


class StoreNotFound(SiteStoreError):
    """A command that needs an existing store was pointed at a missing file."""

    code = "site_store.not_found"
    template = (
        "No site database at {path}. Check the --db option or the IMUNO_SITE_DB setting, "
        "or start the site client once to create it."
    )


class StoreUnreadable(SiteStoreError):
    """The file exists but is not a usable SQLite database, or cannot be opened."""

    code = "site_store.unreadable"
    template = (
        "The site database at {path} cannot be opened ({reason}). Do not delete it: "
        "call support and restore from the latest backup if they ask you to."
    )


class StoreNewerThanCode(SiteStoreError):
    """The store was migrated by a newer client than the one running.

    A downgraded client must not write to a newer store: it does not know the
    newer tables' rules and could break records it cannot see.
    """

    code = "site_store.newer_than_code"
    template = (
        "The site database at {path} was upgraded by a newer version of the site client "
        "(schema {revision}). This older version will not open it, to protect the records. "
        "Install the current version of the site client."
    )


class WalUnavailable(SiteStoreError):
    """SQLite refused write-ahead logging (for instance on a network share)."""

    code = "site_store.wal_unavailable"
    template = (
        "The site database at {path} cannot use safe journaling (got journal mode "
        "'{mode}'). Keep the database on the computer's own disk, not on a network drive."
    )


class MigrationFailed(SiteStoreError):
    """Upgrading the schema failed; the store is left as it was before."""

    code = "site_store.migration_failed"
    template = (
        "Upgrading the site database at {path} failed ({reason}). Nothing was changed. "
        "Call support; the site client cannot start until this is fixed."
    )


class DoubleDose(SiteStoreError):
    """A dose number that this citizen already has, recorded at this site."""

    code = "site_store.double_dose"
    template = (
        "This citizen already has a dose with this number recorded. Check the citizen's "
        "record before vaccinating; to correct a wrong record, void it first."
    )


class ReplacementNotVoided(SiteStoreError):
    """A correcting dose record whose original has not been voided."""

    code = "site_store.replacement_not_voided"
    template = (
        "The dose record being corrected has not been voided. Void the wrong record "
        "first, giving the reason, then save the corrected one."
    )


class AppendOnlyViolation(SiteStoreError):
    """An attempt to change or delete a clinical fact that may only be added to."""

    code = "site_store.append_only"
    template = "Records in {table} cannot be changed or deleted. Record a correction instead."


class UnknownTable(SiteStoreError):
    """An export of a table that the site store does not have."""

    code = "site_store.unknown_table"
    template = "There is no table called '{table}' in the site database. Tables: {known}."


class UnsupportedFormat(SiteStoreError):
    """An export format other than csv or json."""

    code = "site_store.unsupported_format"
    template = "Export format '{fmt}' is not supported; use csv or json."


class BackupFailed(SiteStoreError):
    """The backup could not be written or did not verify."""

    code = "site_store.backup_failed"
    template = "The backup to {dest} failed ({reason}). The site database itself is unchanged."


class BackupTargetExists(SiteStoreError):
    """The backup file already exists and overwriting was not asked for."""

    code = "site_store.backup_exists"
    template = (
        "{dest} already exists. Choose a new file name for the backup, or ask to overwrite it."
    )


class SecretKeyMissing(SiteStoreError):
    """Sealed secrets exist but the key file that opens them is gone."""

    code = "site_store.secret_key_missing"
    template = (
        "The key file {path} that protects the site's credential is missing. The site must "
        "be enrolled again; call support."
    )


class SecretUnreadable(SiteStoreError):
    """A sealed secret failed authentication: wrong key, or the bytes were altered."""

    code = "site_store.secret_unreadable"
    template = (
        "The site's stored {purpose} cannot be opened with the key in {path}. The site "
        "must be enrolled again; call support."
    )
