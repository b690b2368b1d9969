"""Pull pages: the site's entries and everyone's, merged in seq order, none skipped or repeated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from central.db import ChangeLog, ChangeOp, NewChange
from central.services.records import announce
from central.services.sync.pull import pull_page
from domain.ids import uuid7
from tests.app.sync.world import NOW, World


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    yield w
    w.close()


def test_pages_merge_the_sites_and_everyones_entries_in_order(world: World) -> None:
    site, other = world.add_site("PL-01"), world.add_site("PL-02")
    audiences = [site.site_id, None, other.site_id, site.site_id, site.site_id, None] * 6
    origins = [None, None, None, site.site_id, None, other.site_id] * 6  # own entries stay home
    with world.hub.sessions() as session, session.begin():
        announce(
            session,
            [
                NewChange("citizens", uuid7(), ChangeOp.UPSERT, {"n": n}, audience, origin)
                for n, (audience, origin) in enumerate(zip(audiences, origins, strict=True))
            ],
            NOW,
        )
    with world.hub.read_sessions() as session:
        expected = list(
            session.scalars(
                sa.select(ChangeLog.seq)
                .where(
                    sa.or_(
                        ChangeLog.audience_site_id == site.site_id,
                        ChangeLog.audience_site_id.is_(None),
                    ),
                    sa.or_(
                        ChangeLog.origin_site_id.is_(None),
                        ChangeLog.origin_site_id != site.site_id,
                    ),
                )
                .order_by(ChangeLog.seq)
            )
        )
        high = session.scalar(sa.select(sa.func.max(ChangeLog.seq)))
    served: list[int] = []
    cursor = None
    for _ in range(20):
        with world.hub.sessions() as session, session.begin():
            page = pull_page(session, site.site_id, cursor, limit=4, now=NOW)
        served += [change.seq for change in page.changes]
        cursor = page.next_cursor
        assert len(page.changes) <= 4
        if not page.has_more:
            break
    assert served == expected
    assert cursor == f"1.{high}.0"
