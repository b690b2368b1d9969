"""Portable column types: aware UTC instants, JSON, UUIDs and HLC text, on both engines."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from central.db import AuditLog, Citizen, NaiveDateTimeError
from domain.hlc import Timestamp
from tests.central.conftest import T0, Rows

BELGRADE_SUMMER = timezone(timedelta(hours=2))


def _audit(**fields: Any) -> AuditLog:
    values: dict[str, Any] = {
        "occurred_at": T0,
        "actor": "staff:test",
        "action": "test",
        "entity_table": "citizens",
    }
    return AuditLog(**{**values, **fields})


def test_datetimes_come_back_aware_in_utc(db_sessions: sessionmaker[Session]) -> None:
    local = datetime(2021, 6, 1, 10, 30, 15, 123456, tzinfo=BELGRADE_SUMMER)
    with db_sessions.begin() as session:
        row = _audit(occurred_at=local)
        session.add(row)
    with db_sessions() as session:
        stored = session.get_one(AuditLog, row.id)

        assert stored.occurred_at == local
        assert stored.occurred_at.tzinfo is UTC
        assert stored.occurred_at.hour == 8
        assert stored.occurred_at.microsecond == 123456


def test_naive_datetimes_are_refused(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions() as session:
        session.add(_audit(occurred_at=datetime(2021, 6, 1, 10, 30)))

        with pytest.raises(StatementError) as caught:
            session.flush()

    assert isinstance(caught.value.orig, NaiveDateTimeError)


def test_comparisons_in_sql_use_the_instant_not_the_wall_clock(
    db_sessions: sessionmaker[Session],
) -> None:
    # 09:00 in Belgrade is earlier than 08:00 UTC: ordering must follow time.
    early = datetime(2021, 6, 1, 9, 0, tzinfo=BELGRADE_SUMMER)
    late = datetime(2021, 6, 1, 8, 0, tzinfo=UTC)
    with db_sessions.begin() as session:
        session.add_all(
            [_audit(action="late", occurred_at=late), _audit(action="early", occurred_at=early)]
        )
    with db_sessions() as session:
        ordered = session.scalars(select(AuditLog.action).order_by(AuditLog.occurred_at)).all()
        after_seven_utc = session.scalars(
            select(AuditLog.action).where(
                AuditLog.occurred_at > datetime(2021, 6, 1, 9, 30, tzinfo=BELGRADE_SUMMER)
            )
        ).all()

    assert ordered == ["early", "late"]
    assert after_seven_utc == ["late"]


# PostgreSQL's jsonb cannot hold U+0000; nothing we store needs it.
json_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53), max_value=2**53) | json_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(json_text, children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=st.dictionaries(json_text, json_values, max_size=4))
def test_json_documents_round_trip(
    db_sessions: sessionmaker[Session], document: dict[str, Any]
) -> None:
    with db_sessions.begin() as session:
        row = _audit(after=document)
        session.add(row)
    with db_sessions() as session:
        assert session.get_one(AuditLog, row.id).after == document


def test_json_none_is_sql_null(db_sessions: sessionmaker[Session]) -> None:
    with db_sessions.begin() as session:
        row = _audit(before=None, after={"phone": "+381 60 123"})
        session.add(row)
    with db_sessions() as session:
        nulls = session.scalar(select(AuditLog.id).where(AuditLog.before.is_(None)))

    assert nulls == row.id


def test_cyrillic_and_json_lists_round_trip(rows: Rows) -> None:
    citizen = rows.citizen(
        last_name_cyrillic="Шћепановић",
        conditions=["diabetes", "copd"],
        vaccine_preferences=["sputnik-v-1", "comirnaty"],
    )
    rows.session.commit()
    rows.session.expunge_all()

    stored = rows.session.get_one(Citizen, citizen.id)

    assert stored.last_name_cyrillic == "Шћепановић"
    assert stored.vaccine_preferences == ["sputnik-v-1", "comirnaty"]
    assert stored.conditions == ["diabetes", "copd"]
    assert isinstance(stored.id, uuid.UUID)
    assert stored.id == citizen.id


def test_hlc_text_sorts_like_the_timestamps(rows: Rows, db_engine: Engine) -> None:
    stamps = [
        Timestamp(0x0177BA3C5F10, 0, "site-042"),
        Timestamp(0x0177BA3C5F10, 0, "site_042"),
        Timestamp(0x0177BA3C5F10, 0, "site042"),
        Timestamp(0x0177BA3C5F10, 1, "a"),
        Timestamp(0x0177BA3C5F0F, 0xFFFF, "zz"),
        Timestamp(0x0177BA3C5F10, 0, "SITE-042"),
    ]
    for n, stamp in enumerate(stamps):
        rows.citizen(jmbg=f"{n:013d}", hlc=stamp.encode())
    rows.session.commit()

    in_sql_order = rows.session.scalars(select(Citizen.hlc).order_by(Citizen.hlc)).all()

    assert [Timestamp.decode(value) for value in in_sql_order] == sorted(stamps)
    if db_engine.dialect.name == "postgresql":
        # Byte order must not depend on the server's default collation.
        with db_engine.connect() as connection:
            collation = connection.execute(
                text(
                    "SELECT collation_name FROM information_schema.columns "
                    "WHERE table_name = 'citizens' AND column_name = 'hlc'"
                )
            ).scalar()
        assert collation == "C"
