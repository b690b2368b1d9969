"""The CSCA, site keys, signing requests and document-signer certificates."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from domain.certificates.errors import SignerCertificateRejected
from domain.certificates.pki import (
    EKU_VACCINATION,
    Csca,
    DocumentSigner,
    create_csca,
    create_signer_csr,
    create_signer_key,
    issue_signer_certificate,
    key_id,
    load_private_key,
    may_sign_vaccinations,
    private_key_pem,
    verify_signer_certificate,
)

from .conftest import NOW, Site


def test_the_csca_is_a_self_signed_ca(csca: Csca) -> None:
    certificate = csca.certificate
    certificate.verify_directly_issued_by(certificate)
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca
    assert constraints.path_length == 0
    assert certificate.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "RS"


def test_a_document_signer_certificate(csca: Csca, site: Site) -> None:
    certificate = x509.load_der_x509_certificate(site.certificate_der)
    certificate.verify_directly_issued_by(csca.certificate)
    assert certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == (
        x509.ExtendedKeyUsage([EKU_VACCINATION])
    )
    assert EKU_VACCINATION.dotted_string == "1.3.6.1.4.1.1847.2021.1.2"
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert certificate.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    subject = certificate.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "NS01"
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "RS"
    assert may_sign_vaccinations(certificate)
    assert verify_signer_certificate(site.certificate_der, csca.certificate_der, at=NOW)


def test_the_key_id_is_the_first_eight_bytes_of_the_sha256_of_the_der(site: Site) -> None:
    assert key_id(site.certificate_der) == hashlib.sha256(site.certificate_der).digest()[:8]
    assert site.signer.kid == key_id(site.certificate_der)


def test_the_subject_comes_from_the_hub_not_from_the_request(csca: Csca) -> None:
    key = create_signer_key()
    csr = create_signer_csr(key, site_code="CLAIMED")
    der = issue_signer_certificate(csr, csca, site_code="NS02", now=NOW)
    subject = x509.load_der_x509_certificate(der).subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "NS02"
    assert "CLAIMED" not in subject.rfc4514_string()


def test_a_signer_certificate_never_outlives_the_csca(csca: Csca) -> None:
    key = create_signer_key()
    der = issue_signer_certificate(
        create_signer_csr(key, site_code="X"), csca, site_code="X", now=NOW, valid_days=100_000
    )
    certificate = x509.load_der_x509_certificate(der)
    assert certificate.not_valid_after_utc == csca.certificate.not_valid_after_utc


def test_the_serial_number_can_be_chosen(csca: Csca) -> None:
    key = create_signer_key()
    der = issue_signer_certificate(
        create_signer_csr(key, site_code="X"), csca, site_code="X", now=NOW, serial=4242
    )
    assert x509.load_der_x509_certificate(der).serial_number == 4242


def test_a_request_with_a_broken_signature_is_refused(csca: Csca) -> None:
    key = create_signer_key()
    csr = bytearray(create_signer_csr(key, site_code="X"))
    csr[-5] ^= 0xFF  # inside the signature
    with pytest.raises(SignerCertificateRejected) as raised:
        issue_signer_certificate(bytes(csr), csca, site_code="X", now=NOW)
    assert (
        "signature" in raised.value.params["problem"]
        or "unreadable" in raised.value.params["problem"]
    )


def test_unreadable_requests_are_refused(csca: Csca) -> None:
    with pytest.raises(SignerCertificateRejected):
        issue_signer_certificate(b"not a request", csca, site_code="X", now=NOW)


@pytest.mark.parametrize(
    "key",
    [ec.generate_private_key(ec.SECP384R1()), rsa.generate_private_key(65537, 2048)],
    ids=["P-384", "RSA"],
)
def test_keys_other_than_p256_are_refused(csca: Csca, key: ec.EllipticCurvePrivateKey) -> None:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )
    with pytest.raises(SignerCertificateRejected, match="P-256"):
        issue_signer_certificate(csr, csca, site_code="X", now=NOW)


def test_a_certificate_from_another_csca_is_refused(site: Site) -> None:
    stranger = create_csca(now=NOW - timedelta(days=10))
    with pytest.raises(SignerCertificateRejected, match="not issued"):
        verify_signer_certificate(site.certificate_der, stranger.certificate_der, at=NOW)


def test_a_signer_certificate_is_checked_at_a_time(csca: Csca, site: Site) -> None:
    with pytest.raises(SignerCertificateRejected, match="expired"):
        verify_signer_certificate(
            site.certificate_der, csca.certificate_der, at=site.signer.not_after + timedelta(days=1)
        )
    with pytest.raises(SignerCertificateRejected, match="valid only from"):
        verify_signer_certificate(
            site.certificate_der,
            csca.certificate_der,
            at=site.signer.not_before - timedelta(days=1),
        )


def test_the_csca_itself_is_not_a_signer(csca: Csca) -> None:
    with pytest.raises(SignerCertificateRejected, match="CA certificate"):
        verify_signer_certificate(csca.certificate_der, csca.certificate_der, at=NOW)


def test_garbage_is_not_a_certificate(csca: Csca) -> None:
    with pytest.raises(SignerCertificateRejected, match="unreadable"):
        verify_signer_certificate(b"\x30\x03\x02\x01\x00", csca.certificate_der, at=NOW)


def test_a_signer_reads_its_certificate_once(site: Site) -> None:
    signer = DocumentSigner.create(site.key, site.certificate_der)
    assert signer.country == "RS"
    assert signer.not_before == NOW - timedelta(days=1)
    assert signer.may_sign_vaccinations
    assert "PrivateKey" not in repr(signer)


@pytest.mark.parametrize("password", [b"correct horse", None])
def test_a_site_key_survives_storage(password: bytes | None) -> None:
    key = create_signer_key()
    pem = private_key_pem(key, password)
    assert (b"ENCRYPTED" in pem) == (password is not None)
    assert load_private_key(pem, password).private_numbers() == key.private_numbers()
