"""A run's column-wise writes: the texts they build are exactly the records' wire
forms, and a run that fails on the way writes nothing."""

# The served-hub fixtures live in tests/central/api/conftest.py; they are imported
# below, so test arguments named after them "redefine" the imported names.
# ruff: noqa: F811

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from central.db import (
    Appointment,
    AppointmentEvent,
    AuditLog,
    Base,
    ChangeLog,
    Citizen,
    NotificationOutbox,
    SchedulerRun,
    SecondDosePlan,
    StandbyEntry,
)
from central.scheduling.json_text import JsonTemplate, fragment, quoted
from central.scheduling.run import UNBOOKED_ACTION, run_schedule
from central.services.appointments import event_payload
from central.services.records import row_payload
from domain.wire import canonical_json, payload_hash
from tests.central.api.conftest import (  # noqa: F401
    Api,
    _migrated_templates,
    api,
    api_factory,
    migrated_db_url,
)
from tests.central.test_scheduling_plans import START, _health_workers, _short_site

_texts = st.text(st.characters(blacklist_characters="\ue000"))  # the template's hole marker
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=6,
)
_documents = st.dictionaries(_texts, _json_values, min_size=1, max_size=6)


@given(document=_documents, data=st.data())
def test_a_filled_template_is_the_serialised_document(
    document: dict[str, Any], data: st.DataObject
) -> None:
    holes = data.draw(st.lists(st.sampled_from(sorted(document)), unique=True))
    values = {key: data.draw(_json_values) for key in holes}
    dumpers: list[Callable[[Any], str]] = [json.dumps, canonical_json]
    for dumps in dumpers:
        template = JsonTemplate(document, holes, dumps=dumps)
        filled = template.fill(*(dumps(values[key]) for key in holes))
        assert filled == dumps({**document, **values})


def test_fragments_keep_true_and_one_apart() -> None:
    dump = fragment()
    assert [dump(1), dump(True), dump(1.0), dump("1")] == ["1", "true", "1.0", '"1"']
    assert quoted("2021-06-02") == json.dumps("2021-06-02")


def test_a_template_needs_its_holes_in_the_document() -> None:
    with pytest.raises(ValueError, match="not keys"):
        JsonTemplate({"a": 1}, ["b"])
    with pytest.raises(ValueError, match="fragments"):
        JsonTemplate({"a": 1}, ["a"]).fill()


def _changes(api: Api, table: str) -> dict[str, tuple[Any, Any]]:
    with api.hub.read_sessions() as session:
        return {
            str(record_id): (audience, payload)
            for record_id, audience, payload in session.execute(
                select(ChangeLog.record_id, ChangeLog.audience_site_id, ChangeLog.payload).where(
                    ChangeLog.table_name == table
                )
            )
        }


def _stored(api: Api, model: type[Base]) -> list[Any]:
    with api.hub.read_sessions() as session:
        return list(session.scalars(select(model)))


def test_every_announced_record_carries_its_stored_wire_form(api: Api) -> None:
    _, site = _short_site(api)
    _health_workers(api, 10)  # 8 places: two are left over for the standby list

    summary = run_schedule(api.hub, START, 1, actor="operator:test")

    assert summary.appointments == 8
    for model in (Appointment, AppointmentEvent, StandbyEntry, Citizen):
        changes = _changes(api, model.__tablename__)
        stored = _stored(api, model)
        assert stored, model
        assert {str(r.id) for r in stored} == set(changes), model
        for record in stored:
            assert changes[str(record.id)] == (site.id, row_payload(record)), model
    for event in _stored(api, AppointmentEvent):
        assert event.payload_hash == payload_hash(event_payload(event))
    with api.hub.read_sessions() as session:
        entries = session.scalars(select(AuditLog).where(AuditLog.action == UNBOOKED_ACTION)).all()
    afters = [e.after for e in entries if e.after is not None]
    assert Counter(a["reason"] for a in afters) == summary.unbooked
    assert sum(summary.unbooked.values()) == len(entries) == len(afters) == 2
    for after in afters:
        assert after == {
            "run_id": str(summary.run_id),
            "dose_number": 1,
            "reason": after["reason"],
            "rule": None,
            "horizon_start": START.isoformat(),
            "horizon_end": START.isoformat(),
        }


class _Abort(Exception):
    pass


_WRITTEN = (
    Appointment,
    AppointmentEvent,
    NotificationOutbox,
    SecondDosePlan,
    StandbyEntry,
    AuditLog,
    ChangeLog,
)


def _counts(api: Api) -> dict[str, int]:
    with api.hub.read_sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in _WRITTEN
        }


@pytest.mark.parametrize("step", ["appointments", "invitations", "plans", "change_log"])
def test_a_run_that_fails_on_the_way_writes_nothing(api: Api, step: str) -> None:
    _short_site(api)
    _health_workers(api, 10)
    before = _counts(api)

    def fail_at(name: str) -> None:
        if name == step:
            raise _Abort(name)

    with pytest.raises(_Abort):
        run_schedule(api.hub, START, 1, actor="operator:test", phase=fail_at)

    assert _counts(api) == before
    with api.hub.read_sessions() as session:
        runs = session.execute(select(SchedulerRun.status, SchedulerRun.error)).all()
    assert [(status, error) for status, error in runs] == [("failed", f"_Abort: {step}")]
    # The next run books as if the failed one had never been.
    assert run_schedule(api.hub, START, 1, actor="operator:test").appointments == 8
