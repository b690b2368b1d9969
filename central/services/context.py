"""What every use case needs: the database, the clock, and the settings.

One `Hub` per process, built at start-up (`Hub.open`) and closed at exit.
It holds no request state: several processes with their own `Hub` over one
PostgreSQL database behave as one hub.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from central.auth import PasswordHasher
from central.db import make_engine, read_only, session_factory
from central.services.rate_limit import RateLimiter
from central.settings import HubSettings
from domain.clock import Clock, SystemClock
from domain.hlc import HybridClock

HUB_HLC_NODE = "hub"
"""The node name of the hub's hybrid logical clock (sites use their code)."""


@dataclass
class Hub:
    """The hub's long-lived resources.

    ``sessions`` begin write transactions; ``read_sessions`` are for requests
    that only read (on SQLite they do not queue for the write lock).
    """

    settings: HubSettings
    engine: Engine
    clock: Clock
    sessions: sessionmaker[Session] = field(init=False)
    read_sessions: sessionmaker[Session] = field(init=False)
    hlc: HybridClock = field(init=False)
    passwords: PasswordHasher = field(init=False)
    rate_limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = session_factory(self.engine)
        self.read_sessions = session_factory(read_only(self.engine))
        self.hlc = HybridClock(HUB_HLC_NODE, self.clock)
        self.passwords = PasswordHasher()
        self.rate_limiter = RateLimiter()

    @classmethod
    def open(cls, settings: HubSettings, *, clock: Clock | None = None, **engine_kw: Any) -> Hub:
        """Connect to the settings' database (already migrated) and prepare it.

        Creates the SQLite file's folder when needed. Extra keyword arguments
        go to `central.db.make_engine`.
        """
        folder = settings.sqlite_folder()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        if not settings.is_sqlite:
            engine_kw.setdefault("pool_size", settings.db_pool_size)
        engine = make_engine(settings.database_url, **engine_kw)
        return cls(settings=settings, engine=engine, clock=clock or SystemClock())

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
