"""Alembic environment of the site store.

Run through `app.local_db.migrate`, which passes an open connection (already
inside its ``BEGIN IMMEDIATE`` transaction) in ``config.attributes``. For
developer commands (autogenerating a revision) a ``sqlalchemy.url`` main
option is used instead; see `app.local_db.migrate.alembic_config`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection, make_url

from app.local_db.engine import create_site_engine
from app.local_db.models import Base, UtcDateTime

config = context.config


def _render_item(kind: str, obj: Any, _context: AutogenContext) -> str | Literal[False]:
    # Migrations are frozen history: they name plain SQLAlchemy types, never
    # the application's type classes, which may change or move later.
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime()"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("site store migrations need a connection or a sqlalchemy.url")
    database = make_url(url).database
    if not database:
        raise RuntimeError("the site store is always a file")
    engine = create_site_engine(Path(database))
    try:
        with engine.connect() as own, own.begin():
            _run(own)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("site store migrations run online only (batch mode needs the database)")
run_migrations_online()
