"""The change log's order: gap-free, in commit order, so a pull never skips a change."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from central.db import (
    ChangeLog,
    ChangeOp,
    NewChange,
    allocate_change_seqs,
    append_changes,
    read_only,
    session_factory,
)
from domain.ids import uuid7
from tests.central.conftest import T0

BLOCKED_FOR_SECONDS = 0.5


def _change(n: int = 0) -> NewChange:
    return NewChange(
        table_name="citizens",
        record_id=uuid7(),
        op=ChangeOp.UPSERT,
        payload={"n": n, "last_name_cyrillic": "Јовановић"},
        hlc="0177ba3c5f10.0000.hub",
    )


def _logged_seqs(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(ChangeLog.seq).order_by(ChangeLog.seq)))


def test_changes_get_consecutive_seqs_across_transactions(
    db_sessions: sessionmaker[Session],
) -> None:
    with db_sessions.begin() as session:
        first = append_changes(session, [_change(1), _change(2)], logged_at=T0)
    with db_sessions.begin() as session:
        second = append_changes(session, [_change(3)], logged_at=T0)

    assert list(first) == [1, 2]
    assert list(second) == [3]
    with db_sessions() as session:
        logged = session.scalars(select(ChangeLog).order_by(ChangeLog.seq)).all()
    assert [row.payload["n"] for row in logged if row.payload] == [1, 2, 3]
    assert {row.op for row in logged} == {"upsert"}
    assert logged[0].payload == {"n": 1, "last_name_cyrillic": "Јовановић"}


def test_a_rolled_back_transaction_gives_its_seqs_back(
    db_sessions: sessionmaker[Session],
) -> None:
    with db_sessions() as session:
        assert list(allocate_change_seqs(session, 5)) == [1, 2, 3, 4, 5]
        session.rollback()

    with db_sessions.begin() as session:
        assert list(append_changes(session, [_change()], logged_at=T0)) == [1]


def test_nothing_to_append_takes_no_seq(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions.begin() as session:
        assert list(append_changes(session, [], logged_at=T0)) == []
    with db_sessions() as session, pytest.raises(ValueError, match="at least 1"):
        allocate_change_seqs(session, 0)


def test_a_second_writer_waits_for_the_first_to_commit(
    db_sessions: sessionmaker[Session],
) -> None:
    second_done = threading.Event()
    second_seqs: list[int] = []
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with db_sessions.begin() as session:
                second_seqs.extend(append_changes(session, [_change()], logged_at=T0))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            second_done.set()

    with db_sessions() as first:
        first_seqs = list(append_changes(first, [_change(), _change()], logged_at=T0))
        thread = threading.Thread(target=second_writer)
        thread.start()

        # Holding seqs 1-2 uncommitted, the first writer must block the second:
        # if the second could commit seq 3 now, a site pulling in between would
        # move its cursor past 1 and 2 and never see them.
        assert not second_done.wait(BLOCKED_FOR_SECONDS)
        first.commit()

    thread.join()
    assert errors == []
    assert first_seqs == [1, 2]
    assert second_seqs == [3]


def test_concurrent_writers_never_let_a_puller_skip_a_change(
    db_sessions: sessionmaker[Session], db_engine: Engine
) -> None:
    writers, transactions, per_transaction = 3, 8, 3
    expected = writers * transactions * per_transaction
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(transactions):
                with db_sessions.begin() as session:
                    append_changes(session, [_change() for _ in range(per_transaction)], T0)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    pulled: list[int] = []
    readers = session_factory(read_only(db_engine))
    threads = [threading.Thread(target=write) for _ in range(writers)]

    def pull_until_done() -> None:
        # Pull as a site does, while the writers run, until they are done and
        # nothing new is left.
        cursor = 0
        while True:
            writers_done = not any(thread.is_alive() for thread in threads)
            with readers() as session:
                page = list(
                    session.scalars(
                        select(ChangeLog.seq)
                        .where(ChangeLog.seq > cursor)
                        .order_by(ChangeLog.seq)
                        .limit(10)
                    )
                )
            pulled.extend(page)
            if page:
                cursor = page[-1]
            elif writers_done:
                return

    puller = threading.Thread(target=pull_until_done)
    for thread in (*threads, puller):
        thread.start()
    for thread in (*threads, puller):
        thread.join()

    assert errors == []
    assert pulled == list(range(1, expected + 1))
    assert _logged_seqs(db_sessions) == pulled


def test_change_records_keep_their_identity(db_sessions: sessionmaker[Session]) -> None:
    site_less = _change()
    with db_sessions.begin() as session:
        append_changes(session, [site_less], logged_at=T0)
    with db_sessions() as session:
        row = session.scalars(select(ChangeLog)).one()

    assert isinstance(row.record_id, uuid.UUID)
    assert row.record_id == site_less.record_id
    assert row.audience_site_id is None
    assert row.logged_at == T0
