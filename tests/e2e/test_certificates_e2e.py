"""Certificates end to end: the real hub (``imuno-hub serve``), its operator commands
and the ``imuno-cert`` verifier, on SQLite and PostgreSQL.

A site enrols with a CSR and gets its signer certificate; an operator
creates the CSCA, issues a citizen's certificate and later revokes it; a
verifier fetches the lists over HTTP, then checks the PDF offline.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from central.cert_cli import app as cert_cli
from central.db import make_engine, session_factory
from domain.certificates import (
    DocumentSigner,
    PersonName,
    Vaccination,
    build_payload,
    create_signer_csr,
    create_signer_key,
    encode_certificate,
    make_uvci,
    verify,
    verify_trust_list,
)
from domain.ids import uuid7
from tests.central.conftest import Rows
from tests.e2e.conftest import REPO_ROOT, RunningHub

pytestmark = pytest.mark.e2e

PROTOCOL = {"Imuno-Protocol": "1"}


def _doses_at_the_hub(db_url: str) -> str:
    """A citizen with two doses, as site pushes would have stored them; their JMBG."""
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            rows = Rows(session)
            site = rows.site(code="E2E-DOSES", name="Dom zdravlja Čukarica")
            nurse = rows.nurse(site)
            lot = rows.lot(lot_number="EW2243")
            citizen = rows.citizen(jmbg="1705960715015")
            first = rows.dose(citizen, site, nurse, lot)
            rows.dose(
                citizen, site, nurse, lot, dose_number=2,
                administered_at=first.administered_at + timedelta(days=21),
            )  # fmt: skip
            session.commit()
            return citizen.jmbg
    finally:
        engine.dispose()


def _imuno_cert(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "central.cert_cli", *args],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False,
    )  # fmt: skip


def test_enrol_issue_fetch_verify_revoke(
    hub_db_url: str,
    hub_factory: Callable[..., RunningHub],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = {
        "IMUNO_HUB_CSCA_KEY": str(tmp_path / "keys" / "csca-key.pem"),
        "IMUNO_HUB_SIGNER_KEY": str(tmp_path / "keys" / "hub-signer-key.pem"),
    }
    for name, value in keys.items():  # for the commands run in this process (hub.admin)
        monkeypatch.setenv(name, value)
    hub = hub_factory(hub_db_url, env=keys)
    assert "CSCA created" in hub.admin("cert", "init-csca")

    # A site enrols with its own key and receives its document-signer certificate.
    hub.add_site("E2E-CERT")
    site_key = create_signer_key()
    csr = x509.load_der_x509_csr(create_signer_csr(site_key, site_code="E2E-CERT"))
    with hub.client() as client:
        enrolled = client.post(
            "/v1/enrol",
            json={
                "code": hub.enrol_code("E2E-CERT"),
                "csr_pem": csr.public_bytes(serialization.Encoding.PEM).decode(),
            },
            headers=PROTOCOL,
        )
    assert enrolled.status_code == 200, enrolled.text
    dsc = x509.load_pem_x509_certificate(enrolled.json()["signer_certificate_pem"].encode())
    site_signer = DocumentSigner.create(site_key, dsc.public_bytes(serialization.Encoding.DER))

    # The operator issues a citizen's certificate from the doses the hub holds.
    jmbg = _doses_at_the_hub(hub_db_url)
    pdf = tmp_path / "certificate.pdf"
    issued = hub.cli("cert", "issue", jmbg, "--out", str(pdf), "--language", "sr-Cyrl")
    uvci = issued.stdout.strip()

    # A verifier saves the lists, then checks offline.
    lists = tmp_path / "lists"
    fetched = _imuno_cert("fetch", "--hub", hub.base_url, "--out", str(lists))
    assert fetched.returncode == 0, fetched.stderr
    offline = [
        "--trustlist", str(lists / "trust-list.cbor"),
        "--revocations", str(lists / "revocations.cbor"),
        "--csca", str(lists / "csca.pem"),
    ]  # fmt: skip
    valid = CliRunner().invoke(cert_cli, ["verify", str(pdf), *offline])
    assert valid.exit_code == 0, valid.output
    assert uvci in valid.output
    assert "Signed by:      HUB" in valid.output

    # A certificate the site signs offline verifies against the same saved list.
    trust = verify_trust_list((lists / "trust-list.cbor").read_bytes(), _csca_der(lists))
    assert {entry.site for entry in trust.entries} == {"E2E-CERT", "HUB"}
    now = datetime.now(UTC)
    site_uvci = make_uvci("E2ECERT", uuid7())
    hcert = build_payload(
        PersonName("Jović", "Ana"), "1980-02-29",
        Vaccination(
            vaccine="1119349007", product="EU/1/20/1528", manufacturer="ORG-100030215",
            dose_number=1, total_doses=2, date=now.date(), uvci=site_uvci,
        ),
    )  # fmt: skip
    assert verify(encode_certificate(hcert, site_signer, issued_at=now), trust.store()).uvci == (
        site_uvci
    )

    # Revoked at the hub: once the verifier fetches again, the same PDF is not valid.
    hub.admin("cert", "revoke", uvci, "--reason", "issued in error")
    refetched = CliRunner().invoke(cert_cli, ["fetch", "--hub", hub.base_url, "--out", str(lists)])
    assert refetched.exit_code == 0, refetched.output
    revoked = CliRunner().invoke(cert_cli, ["verify", str(pdf), *offline])
    assert revoked.exit_code == 1
    assert "NOT VALID" in revoked.output
    assert "revoked" in revoked.output
    live = CliRunner().invoke(cert_cli, ["verify", str(pdf), "--hub", hub.base_url])
    assert live.exit_code == 1
    assert "WARNING: no --csca given" in live.output


def _csca_der(lists: Path) -> bytes:
    pem = (lists / "csca.pem").read_bytes()
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
