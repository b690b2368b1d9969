"""The hub's snapshot pages: each record's last upsert up to a fixed point, from the stored JSON."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from central.db import ChangeLog, ChangeOp, NewChange
from central.services.records import announce
from central.services.sync import snapshot as snapshot_service
from central.services.sync.cursor import CursorInvalid
from central.services.sync.pull import pull_page
from central.services.sync.snapshot import SnapshotToken, snapshot_page, snapshot_page_json
from domain.ids import uuid7
from domain.sync_wire import SnapshotPage
from tests.app.sync.world import NOW, World


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    yield w
    w.close()


def _announce(world: World, changes: list[NewChange]) -> None:
    with world.hub.sessions() as session, session.begin():
        announce(session, changes, NOW)


def _all_pages(world: World, site_id: uuid.UUID, limit: int) -> list[SnapshotPage]:
    pages: list[SnapshotPage] = []
    token = None
    while True:
        with world.hub.sessions() as session, session.begin():
            pages.append(snapshot_page(session, site_id, token, limit=limit, now=NOW))
        token = pages[-1].next_token
        if token is None:
            return pages


def _expected(world: World, site_id: uuid.UUID) -> list[tuple[int, dict[str, Any] | None]]:
    """Each record's last upsert for the site, in first-appearance order, read with the ORM."""
    with world.hub.read_sessions() as session:
        entries = session.scalars(
            sa.select(ChangeLog)
            .where(
                sa.or_(ChangeLog.audience_site_id == site_id, ChangeLog.audience_site_id.is_(None)),
                ChangeLog.op == ChangeOp.UPSERT.value,
            )
            .order_by(ChangeLog.seq)
        ).all()
        first: dict[tuple[str, uuid.UUID], int] = {}
        last: dict[tuple[str, uuid.UUID], ChangeLog] = {}
        for entry in entries:
            key = (entry.table_name, entry.record_id)
            first.setdefault(key, entry.seq)
            last[key] = entry
        return [(last[key].seq, last[key].payload) for key in sorted(first, key=first.__getitem__)]


def test_pages_serve_each_records_last_upsert_in_first_appearance_order(world: World) -> None:
    site, other = world.add_site("SS-01"), world.add_site("SS-02")
    ids = [uuid7() for _ in range(9)]
    payloads = [
        {"n": n, "name": "Đorđe Петровић", "nested": {"list": [1, 2.5, None, True]}, "q": 'a"b\\c'}
        for n in range(9)
    ]
    _announce(
        world,
        [
            NewChange("citizens", ids[n], ChangeOp.UPSERT, payloads[n], site.site_id)
            for n in range(6)
        ]
        + [NewChange("appointments", ids[6], ChangeOp.UPSERT, payloads[6], None)]
        + [NewChange("citizens", ids[7], ChangeOp.UPSERT, payloads[7], other.site_id)]
        + [NewChange("doses", ids[8], ChangeOp.UPSERT, payloads[8], site.site_id, site.site_id)],
    )
    # Later versions of two records, a delete, and an entry for another site.
    _announce(
        world,
        [
            NewChange("citizens", ids[1], ChangeOp.UPSERT, {"n": 1, "v": 2}, site.site_id),
            NewChange("citizens", ids[4], ChangeOp.UPSERT, {"n": 4, "v": 2}, site.site_id),
            NewChange("citizens", ids[4], ChangeOp.UPSERT, {"n": 4, "v": 3}, site.site_id),
            NewChange("citizens", ids[2], ChangeOp.DELETE, None, site.site_id),
            NewChange("citizens", ids[7], ChangeOp.UPSERT, {"n": 7, "v": 2}, other.site_id),
        ],
    )
    expected = _expected(world, site.site_id)
    for limit in (1, 3, 100):
        pages = _all_pages(world, site.site_id, limit)
        served = [change for page in pages for change in page.changes]
        assert [(change.seq, change.payload) for change in served] == expected
        assert all(len(page.changes) <= limit for page in pages)
        assert {page.cursor for page in pages} == {pages[0].cursor}
    by_id = {change.record_id: change for change in served}
    assert ids[7] not in by_id  # another site's
    assert by_id[ids[4]].payload == {"n": 4, "v": 3}
    assert by_id[ids[0]].payload == payloads[0]  # non-ASCII, escapes, nesting survive
    assert by_id[ids[8]].origin_site_id == site.site_id  # the site's own records too
    assert by_id[ids[8]].table == "doses"
    assert by_id[ids[6]].op == "upsert"


def test_the_body_is_the_json_of_a_snapshot_page(world: World) -> None:
    site = world.add_site("SS-01")
    _announce(world, [NewChange("citizens", uuid7(), ChangeOp.UPSERT, {"a": 1}, site.site_id)])
    with world.hub.sessions() as session, session.begin():
        body = snapshot_page_json(session, site.site_id, None, limit=10, now=NOW)
    document = json.loads(body)
    assert set(document) == set(SnapshotPage.model_fields)
    assert document["next_token"] is None
    page = SnapshotPage.model_validate_json(body)
    assert page.hub_time == NOW
    assert json.loads(page.model_dump_json()) == document


def test_changes_after_the_first_page_wait_for_the_pulls(world: World) -> None:
    site = world.add_site("SS-01")
    first = [
        NewChange("citizens", uuid7(), ChangeOp.UPSERT, {"n": n}, site.site_id) for n in range(4)
    ]
    _announce(world, first)
    with world.hub.sessions() as session, session.begin():
        page = snapshot_page(session, site.site_id, None, limit=2, now=NOW)
    high = SnapshotToken.decode(page.next_token or "").high
    # Committed during the bootstrap: a new record and a new version of a served one.
    late = NewChange("citizens", uuid7(), ChangeOp.UPSERT, {"late": True}, site.site_id)
    _announce(
        world,
        [late, NewChange("citizens", first[0].record_id, ChangeOp.UPSERT, {"v": 2}, site.site_id)],
    )
    rest = _all_pages_from(world, site.site_id, page.next_token)
    served = [c.record_id for p in [page, *rest] for c in p.changes if c.table == "citizens"]
    assert served == [change.record_id for change in first]
    assert all(c.seq <= high for p in [page, *rest] for c in p.changes)
    assert rest[-1].cursor == page.cursor == f"1.{high}.0"
    with world.hub.sessions() as session, session.begin():
        pulled = pull_page(session, site.site_id, page.cursor, limit=100, now=NOW).changes
    assert [c.record_id for c in pulled if c.table == "citizens"] == [
        late.record_id,
        first[0].record_id,
    ]


def _all_pages_from(world: World, site_id: uuid.UUID, token: str | None) -> list[SnapshotPage]:
    pages: list[SnapshotPage] = []
    while token is not None:
        with world.hub.sessions() as session, session.begin():
            pages.append(snapshot_page(session, site_id, token, limit=2, now=NOW))
        token = pages[-1].next_token
    return pages


def test_a_token_serves_the_same_page_in_another_hub_process(world: World) -> None:
    site = world.add_site("SS-01")
    _announce(
        world,
        [NewChange("citizens", uuid7(), ChangeOp.UPSERT, {"n": n}, site.site_id) for n in range(5)],
    )
    with world.hub.sessions() as session, session.begin():
        first = snapshot_page(session, site.site_id, None, limit=2, now=NOW)
        again = snapshot_page(session, site.site_id, first.next_token, limit=2, now=NOW)
    snapshot_service._kept.clear()  # a restarted hub, or another worker
    with world.hub.sessions() as session, session.begin():
        fresh = snapshot_page(session, site.site_id, first.next_token, limit=2, now=NOW)
    assert fresh == again
    assert [c.seq for c in again.changes] != [c.seq for c in first.changes]


@pytest.mark.parametrize("token", ["s1.999999.0", "s1.1", "1.2.0", "s1.x.0"])
def test_a_token_the_hub_did_not_issue_is_refused(world: World, token: str) -> None:
    site = world.add_site("SS-01")
    with world.hub.sessions() as session, session.begin(), pytest.raises(CursorInvalid):
        snapshot_page(session, site.site_id, token, limit=2, now=NOW)
