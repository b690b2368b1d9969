"""Bulk loading: fast enough for a million-citizen demo, and just as strict."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from central.db import Citizen, NaiveDateTimeError, Site, insert_rows
from central.db.bulk import insert_columns
from central.db.bulk_ids import HexUuids, Uuid7Blocks
from domain.clock import FixedClock
from domain.ids import uuid7_time
from tests.central.conftest import T0, Rows, citizen_row


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Citizen)) or 0


def test_bulk_rows_read_back_like_ordinary_rows(db_sessions: sessionmaker[Session]) -> None:
    source = [
        citizen_row(n) | {"conditions": ["copd"], "last_name_cyrillic": "Ђурић"}
        for n in range(1, 2001)
    ]
    with db_sessions.begin() as session:
        assert insert_rows(session, Citizen, iter(source), batch_size=300) == 2000

    assert _count(db_sessions) == 2000
    with db_sessions() as session:
        stored = session.get_one(Citizen, source[1234]["id"])
    assert {key: getattr(stored, key) for key in source[1234]} == source[1234]
    assert stored.registered_at.tzinfo is not None


def test_omitted_columns_get_their_defaults(rows: Rows) -> None:
    site = rows.site()
    row = {c.key: getattr(site, c.key) for c in Site.__table__.c if c.key not in ("id", "active")}

    insert_rows(rows.session, Site, [row | {"code": "BULK1"}, row | {"code": "BULK2"}])

    made = rows.session.scalars(select(Site).where(Site.code.like("BULK%")).order_by(Site.id)).all()
    assert [s.code for s in made] == ["BULK1", "BULK2"]
    assert all(s.active for s in made)
    assert all(s.id.version == 7 for s in made)


def test_bulk_rows_meet_every_constraint(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions() as session, pytest.raises(IntegrityError):
        insert_rows(
            session, Citizen, [citizen_row(1), citizen_row(2) | {"jmbg": citizen_row(1)["jmbg"]}]
        )

    with db_sessions() as session, pytest.raises(IntegrityError):
        insert_rows(session, Citizen, [citizen_row(1) | {"sex": "X"}])


def test_bulk_rows_refuse_naive_datetimes(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions() as session, pytest.raises(NaiveDateTimeError):
        insert_rows(session, Citizen, [citizen_row(1) | {"registered_at": datetime(2021, 3, 1, 8)}])


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        pytest.param([citizen_row(1) | {"shoe_size": 44}], "no column", id="unknown-column"),
        pytest.param(
            [citizen_row(1), {**citizen_row(2), "email": None, "extra": 1}],
            "exactly",
            id="extra-key",
        ),
        pytest.param(
            [citizen_row(1), {k: v for k, v in citizen_row(2).items() if k != "phone"} | {"x": 1}],
            "missing",
            id="missing-key",
        ),
    ],
)
def test_rows_must_share_known_keys(
    db_sessions: sessionmaker[Session], batch: list[dict[str, Any]], message: str
) -> None:
    with db_sessions() as session, pytest.raises(ValueError, match=message):
        insert_rows(session, Citizen, batch)
    assert _count(db_sessions) == 0


def _timed(load: Callable[[], object]) -> float:
    started = time.perf_counter()
    load()
    return time.perf_counter() - started


@pytest.mark.slow
def test_a_hundred_thousand_citizens_load_quickly(
    db_sessions: sessionmaker[Session], record_property: Callable[[str, object], None]
) -> None:
    # Reports rows/s (no timed assertion: the machine is shared). The demo needs
    # a million citizens in well under a minute.
    n = 100_000
    with db_sessions.begin() as session:
        seconds = _timed(lambda: insert_rows(session, Citizen, (citizen_row(i) for i in range(n))))
    # The plain ORM bulk insert, for comparison.
    plain = [citizen_row(i) for i in range(n, n + n // 4)]
    with db_sessions.begin() as session:
        plain_seconds = _timed(lambda: session.execute(insert(Citizen), plain))

    assert _count(db_sessions) == n + n // 4
    record_property("insert_rows_per_second", round(n / seconds))
    record_property("orm_insert_rows_per_second", round(len(plain) / plain_seconds))
    fast, orm = n / seconds, len(plain) / plain_seconds
    print(f"\ninsert_rows: {fast:,.0f} rows/s; ORM insert: {orm:,.0f} rows/s")


def _as_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {key: [row[key] for row in rows] for key in rows[0]}


def test_columns_read_back_like_rows(db_sessions: sessionmaker[Session]) -> None:
    belgrade = timezone(timedelta(hours=2))
    source = [
        citizen_row(n)
        | {
            "conditions": ["copd"] if n % 2 else [],
            # Equal instants in two zones: converted once, stored the same.
            "registered_at": T0 if n % 3 else T0.astimezone(belgrade),
            "updated_at": T0 + timedelta(seconds=n),
        }
        for n in range(1, 801)
    ]
    with db_sessions.begin() as session:
        assert insert_columns(session, Citizen, _as_columns(source), batch_size=300) == 800

    with db_sessions() as session:
        stored = {c.id: c for c in session.scalars(select(Citizen))}
    assert len(stored) == 800
    for row in source:
        citizen = stored[row["id"]]
        assert {key: getattr(citizen, key) for key in row} == row
        assert citizen.registered_at.tzinfo is not None


def test_ids_in_bulk_and_json_text_are_stored_as_given(db_sessions: sessionmaker[Session]) -> None:
    block = Uuid7Blocks().take(3)
    rows = [citizen_row(n) for n in range(1, 4)]
    columns: dict[str, Any] = _as_columns(rows)
    columns["id"] = block
    columns["field_hlc"] = ['{"phone": "x"}', '{"email":"y"}', "{}"]
    with db_sessions.begin() as session:
        insert_columns(session, Citizen, columns, json_text={"field_hlc"})
        insert_columns(
            session,
            Citizen,
            _as_columns([citizen_row(9)]) | {"id": HexUuids(["ff" + block.hex[0][2:]])},
        )

    with db_sessions() as session:
        stored = session.scalars(select(Citizen).order_by(Citizen.id)).all()
    assert [c.id for c in stored[:3]] == block.uuids
    assert [c.field_hlc for c in stored[:3]] == [{"phone": "x"}, {"email": "y"}, {}]
    assert stored[3].id.hex == "ff" + block.hex[0][2:]


@pytest.mark.parametrize(
    ("columns", "options", "message"),
    [
        pytest.param({"jmbg": ["1"], "sex": ["M", "F"]}, {}, "differ in length", id="lengths"),
        pytest.param({"shoe_size": [44]}, {}, "no column", id="unknown"),
        pytest.param({"jmbg": Uuid7Blocks().take(1)}, {}, "no UUIDs", id="block-for-text"),
        pytest.param({"id": HexUuids(["ABCDEF" * 5 + "12"])}, {}, "hex digits", id="upper-hex"),
        pytest.param({"id": HexUuids(["abc"])}, {}, "hex digits", id="short-hex"),
        pytest.param({"jmbg": ["1"]}, {"json_text": {"jmbg"}}, "JSON", id="json-text-of-text"),
    ],
)
def test_columns_must_fit_the_table(
    db_sessions: sessionmaker[Session],
    columns: dict[str, Any],
    options: dict[str, Any],
    message: str,
) -> None:
    with db_sessions() as session, pytest.raises(ValueError, match=message):
        insert_columns(session, Citizen, columns, **options)


def test_columns_refuse_naive_datetimes(db_sessions: sessionmaker[Session]) -> None:
    rows = [citizen_row(1), citizen_row(2) | {"registered_at": datetime(2021, 3, 1, 8)}]
    with db_sessions() as session, pytest.raises(NaiveDateTimeError):
        insert_columns(session, Citizen, _as_columns(rows))


def test_columns_meet_every_constraint(db_sessions: sessionmaker[Session]) -> None:
    rows = [citizen_row(1), citizen_row(2) | {"jmbg": citizen_row(1)["jmbg"]}]
    with db_sessions() as session, pytest.raises(IntegrityError):
        insert_columns(session, Citizen, _as_columns(rows))
    assert _count(db_sessions) == 0


@settings(deadline=None, max_examples=40)  # big blocks; the machine is shared
@given(sizes=st.lists(st.integers(min_value=0, max_value=9000), min_size=1, max_size=5),
       moves=st.lists(st.integers(min_value=-5, max_value=5), min_size=5, max_size=5))  # fmt: skip
def test_blocks_of_ids_are_uuid7_and_keep_increasing(sizes: list[int], moves: list[int]) -> None:
    start = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    clock = FixedClock(start)
    blocks = Uuid7Blocks(clock)
    made: list[uuid.UUID] = []
    for size, move in zip(sizes, moves, strict=False):
        block = blocks.take(size)
        assert len(block) == size
        assert block.hex == [u.hex for u in block.uuids]
        assert block.text == [str(u) for u in block.uuids]
        made += block.uuids
        # The clock stands still or runs back now and then.
        clock.set(clock.current + timedelta(milliseconds=move))
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in made)
    assert all(a < b and a.hex < b.hex for a, b in itertools.pairwise(made))
    if made:
        # Milliseconds are borrowed only as the 4,096 counter values per millisecond run out.
        first, last = uuid7_time(made[0]), uuid7_time(made[-1])
        assert first >= start - timedelta(milliseconds=5 * 5)
        assert last - first <= timedelta(milliseconds=len(made) / 4096 + 1 + 5 * 5)


def test_blocks_follow_the_clock() -> None:
    clock = FixedClock(datetime(2021, 6, 2, 8, 0, tzinfo=UTC))
    block = Uuid7Blocks(clock).take(10)
    assert {uuid7_time(u) for u in block.uuids} == {datetime(2021, 6, 2, 8, 0, tzinfo=UTC)}
    assert Uuid7Blocks().take(0).hex == []
    with pytest.raises(ValueError, match="negative"):
        Uuid7Blocks().take(-1)
