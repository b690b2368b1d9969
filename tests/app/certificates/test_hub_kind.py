"""The hub's ``certificate_issued`` handler: append-only, checked, never dropping a record."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from app.local_db.models.sync import OutboxEntry
from app.local_db.unit_of_work import session_scope
from app.services.certificates import issue_certificate
from central.db import IssuedCertificate
from central.services.sync import certificates_issued
from central.services.sync.kinds import ApplyContext, Outcome, registry
from domain.certificates import make_uvci
from domain.sync_wire import RecordStatus, WireRecord
from tests.app.certificates.conftest import CertWorld
from tests.app.sync.world import SiteClient


def _issued_payload(certs: CertWorld, site: SiteClient, signer: Any) -> dict[str, Any]:
    citizen = certs.world.hub_citizen(last_name_latin="Lazić", last_name_cyrillic="Лазић")
    certs.world.book(citizen.id, site)
    site.sync()
    site.record_dose(citizen.id)
    issue_certificate(site.store, signer, citizen.id, clock=site.clock, actor=site.nurse_id)
    with session_scope(site.store, write=False) as session:
        entry = session.scalars(
            sa.select(OutboxEntry).where(OutboxEntry.table_name == "certificate_issued")
        ).one()
        return dict(entry.payload)


def _apply(certs: CertWorld, site: SiteClient, payload: dict[str, Any]) -> Outcome:
    record = WireRecord(
        kind="certificate_issued", id=uuid.UUID(payload["id"]), outbox_seq=1, payload=payload
    )
    with certs.world.hub.sessions() as session, session.begin():
        return certificates_issued.apply(
            ApplyContext(session, site.site_id, certs.world.clock.now()), record
        )


def test_the_kind_is_registered_after_the_records_it_names() -> None:
    kind = registry()["certificate_issued"]
    assert kind.table == "issued_certificates"
    assert set(kind.after) == {"citizen", "dose_record"}


def test_a_resent_certificate_is_a_duplicate_and_a_changed_one_is_quarantined(
    certs: CertWorld,
) -> None:
    site, signer = certs.enrolled_site("HK-01")
    payload = _issued_payload(certs, site, signer)
    assert not site.sync().quarantined

    assert _apply(certs, site, payload).status is RecordStatus.DUPLICATE
    changed = {**payload, "issued_at": "2021-06-02T08:00:00+00:00"}
    outcome = _apply(certs, site, changed)
    assert (outcome.status, outcome.reason) == (RecordStatus.QUARANTINED, "conflicting_payload")
    reused = {**payload, "id": str(uuid.uuid4())}
    assert _apply(certs, site, reused).reason == "duplicate_uvci"


def test_malformed_or_foreign_certificates_are_quarantined_with_a_reason(
    certs: CertWorld,
) -> None:
    site, signer = certs.enrolled_site("HK-02")
    payload = _issued_payload(certs, site, signer)
    assert not site.sync().quarantined
    fresh = str(uuid.uuid4())
    cases = {
        "invalid_uvci": {"uvci": "URN:UVCI:01:RS:HK02/ABC#Q"},
        "unknown_dose": {"dose_record_id": str(uuid.uuid4())},
        "unknown_citizen": {"citizen_id": str(uuid.uuid4())},
        "invalid_payload": {"signer_kid": "not hex"},
        "unknown_signer": {"signer_kid": "00" * 8},
    }
    for reason, change in cases.items():
        record = {**payload, "id": fresh, "uvci": make_uvci("HK02", uuid.UUID(fresh)), **change}
        outcome = _apply(certs, site, record)
        assert (outcome.status, outcome.reason) == (RecordStatus.QUARANTINED, reason), reason
    assert certs.world.hub_count(IssuedCertificate) == 1  # the genuine one only


def test_only_the_same_citizens_certificates_are_revoked_when_superseded(
    certs: CertWorld,
) -> None:
    site, signer = certs.enrolled_site("HK-03")
    first = _issued_payload(certs, site, signer)
    site.clock.advance(timedelta(minutes=1))
    second = _issued_payload(certs, site, signer)  # another citizen
    assert not site.sync().quarantined
    new_id = uuid.uuid4()
    superseding = {
        **first,
        "id": str(new_id),
        "uvci": make_uvci("HK03", new_id),
        "supersedes": [first["uvci"], second["uvci"], "URN:UVCI:01:RS:HK03/UNKNOWN#A"],
    }

    outcome = _apply(certs, site, superseding)

    assert outcome.status is RecordStatus.APPLIED
    assert outcome.detail is not None
    assert second["uvci"] in outcome.detail
    with certs.world.hub.read_sessions() as session:
        revoked = dict(
            session.execute(sa.select(IssuedCertificate.uvci, IssuedCertificate.revoked_at)).all()
        )
    assert revoked[first["uvci"]] is not None
    assert revoked[second["uvci"]] is None
