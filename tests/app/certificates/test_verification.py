"""Verifying certificates at the site, offline, with the lists the last sync brought."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from app.local_db.models.certificates import CertificateList, CertificateListKind
from app.local_db.models.trust import TrustedSigner
from app.local_db.unit_of_work import session_scope
from app.services.certificates import issue_certificate, render_pdf
from app.services.verification import (
    NoQrCodeFound,
    lists_status,
    read_qr_text,
    verify_file,
    verify_text,
)
from app.sync.certificate_lists import (
    CertificateListsRefused,
    CscaNotPinned,
    pin_csca,
    refresh_lists,
)
from domain.certificates import (
    DocumentSigner,
    PersonName,
    Vaccination,
    build_payload,
    create_csca,
    create_signer_csr,
    create_signer_key,
    encode_certificate,
    issue_signer_certificate,
    make_uvci,
    sign_revocation_list,
    sign_trust_list,
)
from domain.certificates.codec import decode_certificate
from domain.certificates.errors import Expired, SignatureInvalid, UnknownKeyId
from domain.clock import FixedClock
from tests.app.certificates.conftest import START, CertWorld
from tests.app.sync.world import SiteClient


def _issued_qr(certs: CertWorld, site: SiteClient, signer: DocumentSigner) -> str:
    citizen = certs.world.hub_citizen(last_name_latin="Šarić", last_name_cyrillic="Шарић")
    certs.world.book(citizen.id, site)
    site.sync()
    site.record_dose(citizen.id)
    return issue_certificate(site.store, signer, citizen.id, clock=site.clock, actor=None).qr_text


def test_a_valid_certificate_shows_the_person_the_dose_and_the_lists_age(
    certs: CertWorld,
) -> None:
    site, signer = certs.enrolled_site("VR-01")
    qr_text = _issued_qr(certs, site, signer)
    site.clock.advance(timedelta(hours=30))

    report = verify_text(site.store, qr_text, clock=site.clock)

    assert report.valid
    assert report.signature_valid
    assert report.problem is None
    assert (report.family_name, report.name_icao) == ("Šarić", "SARIC<<LJUBICA")
    assert report.dose is not None
    assert (report.dose.product, report.dose.dose_number, report.dose.total_doses) == (
        "Comirnaty",
        1,
        2,
    )
    assert report.signer_kid == signer.kid.hex()
    trust = report.lists.trust_list
    assert trust is not None
    assert report.lists.revocation_list is not None
    assert trust.age >= timedelta(hours=30)
    assert not trust.stale
    assert report.lists.signers == 1


def test_a_payload_changed_after_signing_is_reported_as_tampered(certs: CertWorld) -> None:
    site, signer = certs.enrolled_site("VR-02")
    qr_text = _issued_qr(certs, site, signer)
    decoded = decode_certificate(qr_text)
    hcert = dict(decoded.claims.hcert)
    hcert["dob"] = "1990-01-01"
    # Re-sign with an impostor key that claims the site's key id.
    impostor = DocumentSigner(
        key=create_signer_key(),
        certificate_der=signer.certificate_der,
        kid=signer.kid,
        country="RS",
        not_before=signer.not_before,
        not_after=signer.not_after,
        may_sign_vaccinations=True,
    )
    forged = encode_certificate(hcert, impostor, issued_at=site.clock.now())

    report = verify_text(site.store, forged, clock=site.clock)

    assert report.status == "tampered"
    assert isinstance(report.problem, SignatureInvalid)
    assert not report.signature_valid
    assert report.date_of_birth == "1990-01-01"  # shown, but marked as untrusted


def test_a_signer_not_on_the_trust_list_is_reported_as_unknown(certs: CertWorld) -> None:
    site, _ = certs.enrolled_site("VR-03")
    site.sync()
    csca = create_csca(now=START - timedelta(days=1))
    key = create_signer_key()
    der = issue_signer_certificate(
        create_signer_csr(key, site_code="XX"), csca, site_code="XX", now=START - timedelta(days=1)
    )
    hcert = build_payload(
        PersonName("Marković", "Ana"),
        date(1970, 1, 1),
        Vaccination("1119349007", "EU/1/20/1528", "ORG-100030215", 1, 2, date(2021, 6, 1),
                    make_uvci("XX", uuid.uuid4())),
    )  # fmt: skip
    qr_text = encode_certificate(hcert, DocumentSigner.create(key, der), issued_at=START)

    report = verify_text(site.store, qr_text, clock=site.clock)

    assert report.status == "unknown_signer"
    assert isinstance(report.problem, UnknownKeyId)


def test_an_expired_certificate_is_reported_as_expired(certs: CertWorld) -> None:
    site, signer = certs.enrolled_site("VR-04")
    qr_text = _issued_qr(certs, site, signer)

    report = verify_text(site.store, qr_text, clock=FixedClock(START + timedelta(days=400)))

    assert report.status == "expired"
    assert isinstance(report.problem, Expired)
    assert report.signature_valid
    assert report.lists.trust_list is not None
    assert report.lists.trust_list.stale


@pytest.mark.parametrize("text", ["HC1:", "HC1:NCF:::", "https://example.test", ""])
def test_garbage_is_reported_as_unreadable(certs: CertWorld, text: str) -> None:
    site, _ = certs.enrolled_site("VR-05", pin=False)
    report = verify_text(site.store, text, clock=site.clock)
    assert report.status == "unreadable"
    assert report.lists.trust_list is None


def test_a_pdf_and_a_photo_of_the_qr_verify_like_the_text(certs: CertWorld, tmp_path: Path) -> None:
    site, signer = certs.enrolled_site("VR-06")
    citizen = certs.world.hub_citizen(last_name_latin="Ilić", last_name_cyrillic="Илић")
    certs.world.book(citizen.id, site)
    site.sync()
    site.record_dose(citizen.id)
    issued = issue_certificate(site.store, signer, citizen.id, clock=site.clock, actor=None)
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(render_pdf(issued, "sr-Cyrl"))
    image = tmp_path / "qr.png"
    barcode = zxingcpp.create_barcode(issued.qr_text, zxingcpp.BarcodeFormat.QRCode, ec_level="Q")
    Image.fromarray(barcode.to_image(scale=4)).save(image)

    assert verify_file(site.store, pdf, clock=site.clock).uvci == issued.uvci
    assert verify_file(site.store, image, clock=site.clock).valid
    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, format="PNG")
    with pytest.raises(NoQrCodeFound):
        read_qr_text(blank.getvalue())


def test_lists_from_another_csca_or_older_than_held_are_refused(certs: CertWorld) -> None:
    site, _ = certs.enrolled_site("VR-07")
    site.sync()
    before = lists_status(site.store, clock=site.clock)
    assert before.trust_list is not None
    held_sequence = before.trust_list.sequence
    assert held_sequence is not None
    assert held_sequence >= 1
    rogue = create_csca(now=START - timedelta(days=1))

    class Rogue:
        def __init__(self, sequence: int, csca_der: bytes) -> None:
            self.sequence, self.csca_der = sequence, csca_der

        def csca(self) -> bytes:
            return self.csca_der

        def trust_list(self) -> bytes:
            return sign_trust_list([], rogue, sequence=self.sequence, issued_at=START)

        def revocation_list(self) -> bytes:
            return sign_revocation_list([], rogue, sequence=self.sequence, issued_at=START)

    with pytest.raises(CertificateListsRefused):
        refresh_lists(site.store, Rogue(held_sequence + 5, rogue.certificate_der), now=START)
    with session_scope(site.store, write=False) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TrustedSigner)) == 1
    # A rogue CSCA cannot be pinned: it did not issue this site's signer certificate.
    with pytest.raises(CscaNotPinned):
        pin_csca(site.store, rogue.certificate_der, now=START)


def test_an_unpinned_site_pins_the_csca_that_issued_its_signer_on_first_refresh(
    certs: CertWorld,
) -> None:
    site, _ = certs.enrolled_site("VR-08", pin=False)
    refreshed = refresh_lists(site.store, certs.lists, now=START)
    assert refreshed.signers == 1
    with session_scope(site.store, write=False) as session:
        pinned = session.get(CertificateList, CertificateListKind.CSCA)
        assert pinned is not None
        assert pinned.data == certs.lists.csca()
