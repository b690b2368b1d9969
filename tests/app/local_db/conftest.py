from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.local_db.engine import open_site_store


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "site.sqlite"


@pytest.fixture
def engine(store_path: Path) -> Iterator[Engine]:
    """A fresh store, migrated to head."""
    engine = open_site_store(store_path)
    yield engine
    engine.dispose()
