"""Settings of the hub, from the environment and the command line.

Every setting is read from an ``IMUNO_HUB_``-prefixed environment variable;
``imuno-hub serve`` flags (``--db``, ``--host``, ``--port``, ``--workers``)
override them by setting the same variables before the server (and each of
its worker processes) reads them, so every worker sees one configuration.

=====================================  ===========================================
``IMUNO_HUB_DATABASE_URL``             ``sqlite:///var/central.sqlite`` (embedded)
                                       or ``postgresql+psycopg://user:pw@host/db``
``IMUNO_HUB_HOST`` / ``_PORT``         ``127.0.0.1`` / ``8080``
``IMUNO_HUB_WORKERS``                  uvicorn worker processes (1)
``IMUNO_HUB_DB_POOL_SIZE``             PostgreSQL connections kept per worker (10)
``IMUNO_HUB_MAX_BODY_BYTES``           largest request body accepted (2 MiB)
``IMUNO_HUB_RATE_LIMIT_SITE``          requests per minute per site credential
``IMUNO_HUB_RATE_LIMIT_STAFF``         requests per minute per staff token
``IMUNO_HUB_RATE_LIMIT_ANONYMOUS``     requests per minute per client address
                                       without a credential (portal, enrolment)
``IMUNO_HUB_STAFF_TOKEN_HOURS``        lifetime of a staff log-in (8)
``IMUNO_HUB_ENROL_CODE_HOURS``         lifetime of an enrolment code (24)
``IMUNO_HUB_LOG_LEVEL``                ``info``
``IMUNO_HUB_FORWARDED_ALLOW_IPS``      proxies whose X-Forwarded-For is trusted
=====================================  ===========================================

A rate limit of 0 switches that limit off (benchmarks, a portal behind one
address that throttles by itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX: Final = "IMUNO_HUB_"
DEFAULT_DATABASE_URL: Final = "sqlite:///var/central.sqlite"

LogLevel = Literal["critical", "error", "warning", "info", "debug"]


class HubSettings(BaseSettings):
    """The hub's configuration. Immutable; make a changed copy with `model_copy`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    rate_limit_site: int = Field(default=600, ge=0)
    rate_limit_staff: int = Field(default=600, ge=0)
    rate_limit_anonymous: int = Field(default=300, ge=0)
    staff_token_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    enrol_code_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    log_level: LogLevel = "info"
    forwarded_allow_ips: str = "127.0.0.1"

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is an SQLite file (the embedded default)."""
        from sqlalchemy import make_url  # imported here: `imuno-hub --help` stays quick

        return make_url(self.database_url).get_backend_name() == "sqlite"

    def sqlite_folder(self) -> Path | None:
        """The folder of the SQLite file, to create before first use; None otherwise."""
        from sqlalchemy import make_url

        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database).parent

    def as_environment(self) -> dict[str, str]:
        """These settings as ``IMUNO_HUB_*`` variables, for worker processes."""
        return {
            f"{ENV_PREFIX}{name.upper()}": str(value) for name, value in self.model_dump().items()
        }
