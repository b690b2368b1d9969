from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.local_db import models as m
from app.local_db.errors import DoubleDose
from app.local_db.unit_of_work import session_scope
from tests.app.local_db import factories as f


def _citizens(engine: Engine) -> int:
    with session_scope(engine, write=False) as session:
        return session.execute(sa.select(sa.func.count()).select_from(m.Citizen)).scalar_one()


def test_a_scope_commits_everything_together(engine: Engine) -> None:
    with session_scope(engine) as session:
        citizen = f.citizen(session)
        session.add(
            m.OutboxEntry(
                table_name="citizens",
                record_id=citizen.id,
                op=m.OutboxOp.INSERT,
                payload={"jmbg": citizen.jmbg},
                created_at=f.NOW,
            )
        )
    assert citizen.jmbg is not None  # still readable after the commit
    with session_scope(engine, write=False) as session:
        [entry] = session.scalars(sa.select(m.OutboxEntry)).all()
    assert (entry.record_id, entry.seq, entry.attempts) == (citizen.id, 1, 0)


def test_a_scope_that_raises_leaves_nothing_behind(engine: Engine) -> None:
    def use_case() -> None:
        with session_scope(engine) as session:
            f.citizen(session)
            session.add(
                m.OutboxEntry(
                    table_name="citizens",
                    record_id=f.ELSEWHERE,
                    op=m.OutboxOp.INSERT,
                    payload={},
                    created_at=f.NOW,
                )
            )
            session.flush()
            raise RuntimeError("printer jammed")

    with pytest.raises(RuntimeError, match="printer jammed"):
        use_case()
    assert _citizens(engine) == 0
    with session_scope(engine, write=False) as session:
        assert session.scalars(sa.select(m.OutboxEntry)).all() == []


def test_a_guard_refusal_rolls_back_the_whole_scope(engine: Engine) -> None:
    with session_scope(engine) as session:
        citizen_id = f.citizen(session).id
        f.dose(session, citizen_id)

    def use_case() -> None:
        with session_scope(engine) as session:
            f.citizen(session)  # part of the same use case: must not survive
            f.dose(session, citizen_id)

    with pytest.raises(DoubleDose):
        use_case()
    assert _citizens(engine) == 1


def test_outbox_order_survives_deletions(engine: Engine) -> None:
    def add() -> int:
        with session_scope(engine) as session:
            entry = m.OutboxEntry(
                table_name="citizens",
                record_id=f.HERE,
                op=m.OutboxOp.UPDATE,
                payload={},
                created_at=f.NOW,
            )
            session.add(entry)
            session.flush()
            return entry.seq

    first, second = add(), add()
    with session_scope(engine) as session:
        session.execute(sa.delete(m.OutboxEntry))  # acknowledged by the hub
    third = add()
    assert first < second < third  # never reused, so the hub can order by it
