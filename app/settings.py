"""Settings of the site client that must be known before its database is open.

Everything else a site needs (its code, hub URL, language, camera, idle lock)
lives in the store itself (``site_identity``, ``settings`` tables). Here are only
the paths to find the store, read from the environment:

================================  ==========================================
``IMUNO_SITE_DATA_DIR``           folder of the site's files (default ``./var``)
``IMUNO_SITE_DB``                 the store file (default ``<data dir>/site.sqlite``)
``IMUNO_SITE_SECRET_KEY``         key file sealing the credential
                                  (default ``<data dir>/site-secrets.key``)
================================  ==========================================

Command-line options (``--db``) override the environment through `with_db`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class SiteSettings(BaseSettings):
    """Where the site client keeps its files."""

    model_config = SettingsConfigDict(env_prefix="IMUNO_SITE_", extra="ignore", frozen=True)

    data_dir: Path = Path("var")
    db: Path | None = None
    secret_key: Path | None = None

    @property
    def db_path(self) -> Path:
        """The site store file."""
        return self.db if self.db is not None else self.data_dir / "site.sqlite"

    @property
    def secret_key_path(self) -> Path:
        """The key file of `app.local_db.sealing.SecretBox`; never inside backups."""
        if self.secret_key is not None:
            return self.secret_key
        return self.data_dir / "site-secrets.key"

    def with_db(self, db: Path | None) -> SiteSettings:
        """These settings with the store at `db` instead, when given."""
        return self if db is None else self.model_copy(update={"db": db})
