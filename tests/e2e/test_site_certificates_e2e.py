"""Site-issued certificates end to end: a real hub (``imuno-hub serve``), a real site store.

The site enrols with a CSR over HTTP and keeps its signer certificate; a sync
round brings the roster and the signed lists; the site issues a certificate
with no network, then syncs and the hub knows the UVCI. A corrected name is
re-issued offline; the next round makes the hub revoke the old UVCI and
the revocation list the site receives names it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from app.local_db.models.site import SiteIdentity
from app.local_db.unit_of_work import session_scope
from app.services.certificates import correct_person, issue_certificate, render_pdf
from app.services.verification import verify_file, verify_text
from app.sync.certificate_lists import HttpListSource, pin_csca
from app.sync.engine import SyncEngine
from app.sync.transport import HttpTransport
from central.db import IssuedCertificate
from domain.certificates import (
    DocumentSigner,
    create_signer_csr,
    create_signer_key,
    verify_revocation_list,
)
from domain.clock import SystemClock
from domain.hlc import HybridClock
from domain.wire import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.app.sync.world import World
from tests.e2e.conftest import RunningHub

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(hub_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(hub_db_url, tmp_path)
    w.clock.set(datetime.now(UTC))
    yield w
    w.close()


def _hub_certificates(db_url: str) -> dict[str, IssuedCertificate]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(
                    IssuedCertificate.uvci,
                    IssuedCertificate.revoked_at,
                    IssuedCertificate.revocation_reason,
                    IssuedCertificate.origin_site_id,
                )
            ).all()
        return {row.uvci: row for row in rows}  # type: ignore[misc]
    finally:
        engine.dispose()


def test_site_issues_offline_and_the_hub_learns_and_revokes_on_correction(
    world: World,
    hub_db_url: str,
    hub_factory: Callable[..., RunningHub],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = {
        "IMUNO_HUB_CSCA_KEY": str(tmp_path / "keys" / "csca-key.pem"),
        "IMUNO_HUB_SIGNER_KEY": str(tmp_path / "keys" / "hub-signer-key.pem"),
    }
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    site = world.add_site("E2E-SITE")
    site.clock = SystemClock()  # type: ignore[assignment]
    citizen = world.hub_citizen(last_name_latin="Đurić", last_name_cyrillic="Ђурић")
    world.book(citizen.id, site)
    hub = hub_factory(hub_db_url, env=keys)
    hub.admin("cert", "init-csca")

    # Enrolment: the site's key never leaves it; the hub certifies it.
    key = create_signer_key()
    csr = x509.load_der_x509_csr(create_signer_csr(key, site_code=site.code))
    response = httpx.post(
        f"{hub.base_url}/v1/enrol",
        json={
            "code": hub.enrol_code(site.code),
            "csr_pem": csr.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        },
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    dsc = x509.load_pem_x509_certificate(body["signer_certificate_pem"].encode()).public_bytes(
        serialization.Encoding.DER
    )
    with session_scope(site.store) as session:
        session.add(
            SiteIdentity(
                site_id=site.site_id,
                site_code=site.code,
                site_name="Dom zdravlja Zvezdara",
                municipality_code="70092",
                hub_url=hub.base_url,
                credential_id=str(body["credential"]["credential_id"]),
                credential_secret_sealed=b"not used by this test",
                signer_certificate=dsc,
                signer_private_key_sealed=None,
                enrolled_at=datetime.now(UTC),
            )
        )
    lists = HttpListSource(hub.base_url)
    pin_csca(site.store, lists.csca(), now=datetime.now(UTC))
    signer = DocumentSigner.create(key, dsc)
    transport = HttpTransport(hub.base_url, body["credential"]["credential"])
    engine = SyncEngine(
        site.store, transport, site_id=site.site_id, certificate_lists=lists, clock=SystemClock()
    )
    first = engine.run_round()
    assert first.lists_error is None

    # Offline: dose, certificate, PDF; the site's verifier accepts it.
    site.record_dose(citizen.id)
    issued = issue_certificate(site.store, signer, citizen.id, clock=SystemClock(), actor=None)
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(render_pdf(issued, "sr-Latn"))
    assert verify_file(site.store, pdf, clock=SystemClock()).valid

    second = engine.run_round()
    assert not second.quarantined, second.quarantined
    at_hub = _hub_certificates(hub_db_url)
    assert at_hub[issued.uvci].origin_site_id == site.site_id
    assert at_hub[issued.uvci].revoked_at is None

    # A corrected name: re-issued offline, the old UVCI revoked by the hub on sync.
    correction = correct_person(
        site.store,
        signer,
        citizen.id,
        {"family_name_latin": "Đurić-Kostić", "family_name_cyrillic": "Ђурић-Костић"},
        hlc=HybridClock(site.code, SystemClock()),
        clock=SystemClock(),
        actor=None,
    )
    assert correction.reissued is not None
    third = engine.run_round()
    assert not third.quarantined, third.quarantined
    assert third.lists_error is None
    at_hub = _hub_certificates(hub_db_url)
    assert at_hub[issued.uvci].revocation_reason == f"superseded by {correction.reissued.uvci}"
    assert at_hub[correction.reissued.uvci].revoked_at is None
    revoked = verify_revocation_list(lists.revocation_list(), lists.csca())
    assert issued.uvci in revoked.uvcis
    assert verify_text(site.store, issued.qr_text, clock=SystemClock()).status == "revoked"
    assert verify_text(site.store, correction.reissued.qr_text, clock=SystemClock()).valid
    transport.close()
    lists.close()
