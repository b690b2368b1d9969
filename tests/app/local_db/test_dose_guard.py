from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from app.local_db import models as m
from app.local_db.engine import open_site_store
from app.local_db.errors import DoubleDose, ReplacementNotVoided
from app.local_db.unit_of_work import session_scope
from tests.app.local_db import factories as f


@pytest.fixture
def enrolled(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        f.enrol(session)
    return engine


def _new_citizen(engine: Engine) -> uuid.UUID:
    with session_scope(engine) as session:
        return f.citizen(session).id


def _record(engine: Engine, citizen_id: uuid.UUID, dose_number: int, **kw: object) -> uuid.UUID:
    with session_scope(engine) as session:
        return f.dose(session, citizen_id, dose_number, **kw).id


def _void(engine: Engine, dose_id: uuid.UUID) -> None:
    with session_scope(engine) as session:
        f.void(session, dose_id)


def _live_doses(engine: Engine, citizen_id: uuid.UUID) -> list[int]:
    voided = sa.select(m.DoseVoid.dose_id)
    with session_scope(engine, write=False) as session:
        return sorted(
            session.scalars(
                sa.select(m.DoseRecord.dose_number).where(
                    m.DoseRecord.citizen_id == citizen_id, m.DoseRecord.id.not_in(voided)
                )
            )
        )


def test_a_second_dose_one_is_refused(enrolled: Engine) -> None:
    citizen = _new_citizen(enrolled)
    _record(enrolled, citizen, 1)
    with pytest.raises(DoubleDose):
        _record(enrolled, citizen, 1, lot_number="OTHER")
    assert _live_doses(enrolled, citizen) == [1]


def test_the_next_dose_and_other_citizens_are_fine(enrolled: Engine) -> None:
    first, second = _new_citizen(enrolled), _new_citizen(enrolled)
    _record(enrolled, first, 1)
    _record(enrolled, first, 2)
    _record(enrolled, second, 1)
    assert _live_doses(enrolled, first) == [1, 2]
    assert _live_doses(enrolled, second) == [1]


def test_a_voided_dose_can_be_replaced_in_one_transaction(enrolled: Engine) -> None:
    citizen = _new_citizen(enrolled)
    wrong = _record(enrolled, citizen, 1, lot_number="WRONG")
    with session_scope(enrolled) as session:
        f.void(session, wrong)
        right = f.dose(session, citizen, 1, lot_number="EW2239", voids_dose_id=wrong).id
    assert _live_doses(enrolled, citizen) == [1]
    with session_scope(enrolled, write=False) as session:
        assert session.get_one(m.DoseRecord, right).voids_dose_id == wrong


def test_a_replacement_needs_the_void_first(enrolled: Engine) -> None:
    citizen = _new_citizen(enrolled)
    wrong = _record(enrolled, citizen, 1)
    other = _new_citizen(enrolled)
    with pytest.raises(ReplacementNotVoided):
        _record(enrolled, other, 1, voids_dose_id=wrong)


def test_a_dose_is_voided_once_and_replaced_once(enrolled: Engine) -> None:
    citizen = _new_citizen(enrolled)
    wrong = _record(enrolled, citizen, 1)
    _void(enrolled, wrong)
    with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"):
        _void(enrolled, wrong)
    _record(enrolled, citizen, 1, voids_dose_id=wrong)
    other = _new_citizen(enrolled)
    with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"):
        _record(enrolled, other, 1, voids_dose_id=wrong)


def test_a_void_without_replacement_frees_the_dose_number(enrolled: Engine) -> None:
    citizen = _new_citizen(enrolled)
    recorded_for_wrong_person = _record(enrolled, citizen, 1)
    _void(enrolled, recorded_for_wrong_person)
    assert _live_doses(enrolled, citizen) == []
    _record(enrolled, citizen, 1)
    assert _live_doses(enrolled, citizen) == [1]


def test_a_double_dose_from_another_site_is_stored_not_dropped(enrolled: Engine) -> None:
    # Both sites were offline and both gave dose 1: the world has two, and the
    # replica must show both rather than stop pulling.
    citizen = _new_citizen(enrolled)
    _record(enrolled, citizen, 1)
    _record(enrolled, citizen, 1, origin_site_id=f.ELSEWHERE)
    assert _live_doses(enrolled, citizen) == [1, 1]


def test_a_dose_given_elsewhere_blocks_the_same_dose_here(enrolled: Engine) -> None:
    citizen = _new_citizen(enrolled)
    _record(enrolled, citizen, 1, origin_site_id=f.ELSEWHERE)
    with pytest.raises(DoubleDose):
        _record(enrolled, citizen, 1)


def test_the_guard_holds_before_enrolment(engine: Engine) -> None:
    citizen = _new_citizen(engine)
    _record(engine, citizen, 1)
    with pytest.raises(DoubleDose):
        _record(engine, citizen, 1)


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = open_site_store(Path(tmp_path_factory.mktemp("guard")) / "site.sqlite")
    with session_scope(engine) as session:
        f.enrol(session)
    yield engine
    engine.dispose()


# An operation: record dose n (here or elsewhere), or void the k-th record made so far.
operations = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.integers(1, 3), st.booleans()),
        st.tuples(st.just("void"), st.integers(0, 20), st.booleans()),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(operations)
def test_the_store_accepts_a_dose_exactly_when_no_live_dose_has_its_number(
    shared_store: Engine, ops: list[tuple[str, int, bool]]
) -> None:
    citizen = _new_citizen(shared_store)
    records: list[tuple[uuid.UUID, int]] = []
    voided: set[uuid.UUID] = set()
    for kind, number, elsewhere in ops:
        if kind == "record":
            live = {n for dose_id, n in records if dose_id not in voided}
            origin = f.ELSEWHERE if elsewhere else f.HERE
            should_pass = elsewhere or number not in live
            try:
                dose_id = _record(shared_store, citizen, number, origin_site_id=origin)
            except DoubleDose:
                assert not should_pass
            else:
                assert should_pass
                records.append((dose_id, number))
        elif records:
            dose_id = records[number % len(records)][0]
            if dose_id in voided:
                with pytest.raises(sa.exc.IntegrityError):
                    _void(shared_store, dose_id)
            else:
                _void(shared_store, dose_id)
                voided.add(dose_id)
    expected = sorted(n for dose_id, n in records if dose_id not in voided)
    assert _live_doses(shared_store, citizen) == expected
