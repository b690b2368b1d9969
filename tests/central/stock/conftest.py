"""Fixtures of the stock tests: a served hub on both engines (see tests/central/api)."""

# The served-hub fixtures are imported from the API tests' conftest.
# ruff: noqa: F401

from __future__ import annotations

from collections.abc import Iterator

import pytest

from central.services.context import Hub
from central.services.sites import NewSite, add_site, parse_opening_hours
from central.settings import HubSettings
from domain.clock import FixedClock
from tests.central.api.conftest import (
    NOW,
    _migrated_templates,
    api,
    api_factory,
    migrated_db_url,
)


@pytest.fixture
def hub(migrated_db_url: str) -> Iterator[Hub]:  # noqa: F811
    """A hub (not served) on a migrated database of either engine, its clock at NOW,
    with sites NS-001 and NS-002 storing Comirnaty and Spikevax."""
    hub = Hub.open(HubSettings(database_url=migrated_db_url), clock=FixedClock(NOW))
    for code in ("NS-001", "NS-002"):
        add_site(
            hub,
            NewSite(
                code=code,
                name=f"Dom zdravlja {code}",
                municipality="Novi Sad",
                latitude=45.2671,
                longitude=19.8335,
                opening_hours=parse_opening_hours(["mon-sun 08:00-20:00"]),
                slot_minutes=10,
                vaccinators=2,
                products=["comirnaty", "spikevax"],
            ),
            actor="test",
        )
    yield hub
    hub.close()
