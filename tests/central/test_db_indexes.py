"""The hot queries are answered from indexes, not by scanning tables."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import Engine, text

HOT_QUERIES = {
    "roster of a site for a day": (
        "SELECT id FROM appointments WHERE site_id = :site AND day = :day ORDER BY slot_start"
    ),
    "a site's change-log page": (
        "SELECT seq FROM change_log WHERE audience_site_id = :site AND seq > :cursor "
        "ORDER BY seq LIMIT 500"
    ),
    "everyone's change-log page": (
        "SELECT seq FROM change_log WHERE audience_site_id IS NULL AND seq > :cursor "
        "ORDER BY seq LIMIT 500"
    ),
    "doses of a citizen": "SELECT id FROM dose_records WHERE citizen_id = :citizen",
    "doses from a recalled lot": "SELECT citizen_id FROM dose_records WHERE lot_id = :lot",
    "vials into a location by lot": (
        "SELECT lot_id, SUM(quantity_vials) FROM stock_movements "
        "WHERE to_location = :location GROUP BY lot_id"
    ),
    "vials out of a location by lot": (
        "SELECT lot_id, SUM(quantity_vials) FROM stock_movements "
        "WHERE from_location = :location GROUP BY lot_id"
    ),
    "one lot at a location": (
        "SELECT SUM(quantity_vials) FROM stock_movements "
        "WHERE to_location = :location AND lot_id = :lot"
    ),
    "a vial's history": "SELECT kind FROM vial_events WHERE vial_id = :vial ORDER BY occurred_at",
    "a citizen by JMBG": "SELECT id FROM citizens WHERE jmbg = :jmbg",
    "an appointment's events": (
        "SELECT kind FROM appointment_events WHERE appointment_id = :appointment "
        "ORDER BY occurred_at"
    ),
}

_IDS = ("site", "citizen", "lot", "vial", "appointment")


def _params(dialect: str) -> dict[str, object]:
    # Bound as the driver sees them: SQLite stores UUIDs as 32 hex digits.
    ids: dict[str, object] = {
        key: (uuid.UUID(int=n).hex if dialect == "sqlite" else uuid.UUID(int=n))
        for n, key in enumerate(_IDS, start=1)
    }
    day: object = "2021-03-01" if dialect == "sqlite" else date(2021, 3, 1)
    return {**ids, "day": day, "cursor": 0, "location": "warehouse", "jmbg": "0101950710008"}


@pytest.mark.parametrize("query", HOT_QUERIES.values(), ids=HOT_QUERIES.keys())
def test_hot_query_uses_an_index(db_engine: Engine, query: str) -> None:
    params = _params(db_engine.dialect.name)
    with db_engine.connect() as connection:
        if db_engine.dialect.name == "sqlite":
            steps = [
                row[3] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {query}"), params)
            ]
            assert not [step for step in steps if step.startswith("SCAN")], steps
        else:
            # The tables are empty: stop the planner from preferring a scan anyway.
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            steps = [row[0] for row in connection.execute(text(f"EXPLAIN {query}"), params)]
            assert any("Index" in step for step in steps), steps
            assert not [step for step in steps if "Seq Scan" in step], steps
