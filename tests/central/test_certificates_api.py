"""The hub's certificate routes: signer certificates at enrolment, the signed lists.

Runs the served hub (`tests.central.api.conftest`) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import update

from central.certificates.authority import CertificateAuthority
from central.certificates.csr_signer import HubCsrSigner
from central.certificates.settings import CertificateSettings
from central.db import Csca as CscaRow
from domain.certificates import (
    DocumentSigner,
    PersonName,
    Vaccination,
    build_payload,
    create_signer_csr,
    create_signer_key,
    encode_certificate,
    key_id,
    make_uvci,
    verify,
    verify_revocation_list,
    verify_signer_certificate,
    verify_trust_list,
)
from domain.certificates.errors import UnknownKeyId
from domain.ids import uuid7
from domain.wire import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.central.api import conftest as served
from tests.central.api.conftest import NOW, Api

# The served-hub fixtures live beside the API tests; these tests use them too.
_migrated_templates = served._migrated_templates
migrated_db_url = served.migrated_db_url
api_factory = served.api_factory
api = served.api

PROTOCOL = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}


def _with_signer(api: Api, folder: Path) -> CertificateAuthority:
    authority = CertificateAuthority(
        CertificateSettings(
            csca_key=folder / "csca-key.pem", signer_key=folder / "hub-signer-key.pem"
        )
    )
    api.app.state.csr_signer = HubCsrSigner(authority)
    return authority


def _enrol_with_csr(api: Api, site_code: str) -> tuple[DocumentSigner, str]:
    api.add_site(site_code)
    key = create_signer_key()
    csr_pem = x509.load_der_x509_csr(create_signer_csr(key, site_code="CLAIMED")).public_bytes(
        serialization.Encoding.PEM
    )
    response = api.client.post(
        "/v1/enrol",
        json={"code": api.enrol_code(site_code), "csr_pem": csr_pem.decode()},
        headers=PROTOCOL,
    )
    assert response.status_code == 200, response.text
    pem = response.json()["signer_certificate_pem"]
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    return DocumentSigner.create(key, der), pem


def test_enrolment_with_a_csr_gives_a_signer_that_the_trust_list_vouches_for(
    api: Api, tmp_path: Path
) -> None:
    _with_signer(api, tmp_path)
    assert api.client.get("/v1/trustlist").status_code == 404  # no CSCA before it is needed

    signer, pem = _enrol_with_csr(api, "NS-1")
    csca = api.client.get("/v1/trustlist/csca")
    listed = api.client.get("/v1/trustlist")
    revocations = api.client.get("/v1/revocations")

    assert csca.headers["content-type"] == "application/pkix-cert"
    dsc = verify_signer_certificate(signer.certificate_der, csca.content, at=NOW)
    assert "NS-1" in dsc.subject.rfc4514_string()
    assert "CLAIMED" not in pem  # the subject comes from the enrolled site, not the request
    assert listed.headers["content-type"] == "application/vnd.imuno.dcc-trust-list+cbor"
    trust = verify_trust_list(listed.content, csca.content)
    assert [(entry.site, entry.kid) for entry in trust.entries] == [("NS-1", signer.kid)]
    assert listed.headers["Imuno-List-Sequence"] == str(trust.sequence) == "1"
    assert verify_revocation_list(revocations.content, csca.content).uvcis == frozenset()

    uvci = make_uvci("NS1", uuid7())
    hcert = build_payload(
        PersonName("Đorđević", "Ljubica"),
        date(1960, 5, 18),
        Vaccination(
            vaccine="1119349007", product="EU/1/20/1528", manufacturer="ORG-100030215",
            dose_number=1, total_doses=2, date=NOW.date(), uvci=uvci,
        ),
    )  # fmt: skip
    qr = encode_certificate(hcert, signer, issued_at=NOW)
    assert verify(qr, trust.store(), at=NOW + timedelta(hours=1)).uvci == uvci
    # A key the hub never certified is not on the list, however well-formed its certificate.
    stranger = _unenrolled_signer()
    with pytest.raises(UnknownKeyId):
        verify(encode_certificate(hcert, stranger, issued_at=NOW), trust.store(), at=NOW)


def _unenrolled_signer() -> DocumentSigner:
    from domain.certificates import create_csca, issue_signer_certificate

    key = create_signer_key()
    other_csca = create_csca(now=NOW - timedelta(days=1))
    der = issue_signer_certificate(
        create_signer_csr(key, site_code="NS-1"), other_csca, site_code="NS-1",
        now=NOW - timedelta(days=1),
    )  # fmt: skip
    return DocumentSigner.create(key, der)


def test_a_second_enrolment_adds_a_signer_and_raises_the_sequence(api: Api, tmp_path: Path) -> None:
    _with_signer(api, tmp_path)
    first, _ = _enrol_with_csr(api, "NS-1")
    second, _ = _enrol_with_csr(api, "BG-2")
    csca = api.client.get("/v1/trustlist/csca").content

    trust = verify_trust_list(api.client.get("/v1/trustlist").content, csca, min_sequence=2)

    assert {entry.kid for entry in trust.entries} == {first.kid, second.kid}
    assert trust.sequence == 2
    assert all(entry.kid == key_id(entry.certificate_der) for entry in trust.entries)


@pytest.mark.parametrize("migrated_db_url", ["sqlite"], indirect=True)
def test_a_malformed_csr_is_refused_and_the_code_stays_usable(api: Api, tmp_path: Path) -> None:
    _with_signer(api, tmp_path)
    api.add_site("NS-1")
    code = api.enrol_code("NS-1")

    refused = api.client.post(
        "/v1/enrol", json={"code": code, "csr_pem": "not a request"}, headers=PROTOCOL
    )
    again = api.client.post("/v1/enrol", json={"code": code}, headers=PROTOCOL)

    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["field"] == "csr_pem"
    assert again.status_code == 200


@pytest.mark.parametrize("migrated_db_url", ["sqlite"], indirect=True)
def test_the_csca_is_made_once_and_read_back_from_its_key_file(api: Api, tmp_path: Path) -> None:
    _with_signer(api, tmp_path)
    _enrol_with_csr(api, "NS-1")
    first = api.client.get("/v1/trustlist/csca").content
    # A fresh process (new authority) over the same key file and database.
    _with_signer(api, tmp_path)
    _enrol_with_csr(api, "NS-2")

    assert api.client.get("/v1/trustlist/csca").content == first
    assert (tmp_path / "csca-key.pem").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("migrated_db_url", ["sqlite"], indirect=True)
def test_fetch_saves_checked_lists_and_refuses_a_hub_with_another_csca(
    api: Api, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from central.cert_cli import app as cert_cli

    _with_signer(api, tmp_path / "keys")
    signer, _ = _enrol_with_csr(api, "NS-1")
    base_url = str(api.client.base_url)
    lists = tmp_path / "lists"

    saved = CliRunner().invoke(cert_cli, ["fetch", "--hub", base_url, "--out", str(lists)])
    assert saved.exit_code == 0, saved.output
    assert "trust list #1 (1 signers), revocation list #0 (0 revoked)" in saved.output
    trust = verify_trust_list(
        (lists / "trust-list.cbor").read_bytes(),
        x509.load_pem_x509_certificate((lists / "csca.pem").read_bytes()).public_bytes(
            serialization.Encoding.DER
        ),
    )
    assert [entry.kid for entry in trust.entries] == [signer.kid]

    # The same hub, now answering with a different CSCA (the old one retired): refused.
    with api.hub.sessions() as session, session.begin():
        session.execute(update(CscaRow).values(retired_at=NOW))
    _with_signer(api, tmp_path / "other-keys")
    _enrol_with_csr(api, "NS-2")
    before = (lists / "trust-list.cbor").read_bytes()
    refused = CliRunner().invoke(cert_cli, ["fetch", "--hub", base_url, "--out", str(lists)])
    assert refused.exit_code == 2
    assert "different country signing certificate" in refused.output
    assert (lists / "trust-list.cbor").read_bytes() == before
