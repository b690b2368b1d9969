from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.local_db.engine import open_site_store
from tests.app.services.site import ClinicSite


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store migrated once; each test copies it rather than migrating again."""
    path = tmp_path_factory.mktemp("template") / "site.sqlite"
    open_site_store(path).dispose()
    return path


@pytest.fixture
def clinic(tmp_path: Path, migrated_store: Path) -> Iterator[ClinicSite]:
    """An enrolled site store with a nurse, a manager and the site's hours."""
    path = tmp_path / "site.sqlite"
    shutil.copyfile(migrated_store, path)
    site = ClinicSite.open(path)
    yield site
    site.engine.dispose()
