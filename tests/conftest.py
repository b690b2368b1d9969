"""Suite-wide test configuration and the database fixtures every package uses.

Qt must see QT_QPA_PLATFORM before any QApplication exists, so it is set at
import time here, before pytest-qt creates one.

PostgreSQL: `make test` starts a throwaway cluster (scripts/test-postgres.sh) and
exports IMUNO_TEST_PG_URL. Run pytest by hand without it and the PostgreSQL
variants are skipped with that reason; with IMUNO_REQUIRE_PG=1 (set by `make
test`) they fail instead, so CI can never go green without PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _pg_admin_url() -> str | None:
    url = os.environ.get("IMUNO_TEST_PG_URL")
    if not url:
        if os.environ.get("IMUNO_REQUIRE_PG") == "1":
            pytest.fail("IMUNO_REQUIRE_PG=1 but IMUNO_TEST_PG_URL is not set")
        return None
    return url


def _fresh_pg_database() -> Iterator[str]:
    """Create an empty database on the test cluster, yield its URL, drop it."""
    import sqlalchemy as sa

    admin_url = _pg_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL not configured: set IMUNO_TEST_PG_URL (make test does)")
    name = f"imuno_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.make_url(admin_url).set(database=name)
        yield url.render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    yield from _fresh_pg_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a new SQLite file in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'central.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def central_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty central database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.sqlite'}"
    else:
        yield from _fresh_pg_database()
