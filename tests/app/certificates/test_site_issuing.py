"""Certificates issued at a site with no network, then learned by the hub through sync."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import numpy as np
import pypdfium2
import pytest
import sqlalchemy as sa
import zxingcpp

from app.local_db.models.certificates import IssuedCertificate as LocalCertificate
from app.local_db.models.sync import OutboxEntry, SyncState
from app.local_db.unit_of_work import session_scope
from app.services.certificate_errors import NoDosesToCertify
from app.services.certificates import (
    certificates_of,
    correct_person,
    issue_certificate,
    render_pdf,
)
from app.services.verification import verify_text
from app.sync.errors import HubUnreachable
from central.certificates.issuing import revoke_certificate
from central.db import IssuedCertificate, Quarantine
from domain.certificates import parse_payload, parse_uvci, verify, verify_trust_list
from domain.certificates.uvci import issuer_code
from domain.hlc import HybridClock
from domain.sync_wire import (
    FetchResponse,
    IdList,
    PullPage,
    PushRequest,
    PushResponse,
    VerifyResponse,
)
from tests.app.certificates.conftest import CertWorld
from tests.app.sync.world import SiteClient


class OfflineTransport:
    """A transport whose every call fails as with the network cable pulled."""

    def push(self, request: PushRequest) -> PushResponse:
        raise HubUnreachable(detail="ConnectionError")

    def pull(self, cursor: str | None, limit: int) -> PullPage:
        raise HubUnreachable(detail="ConnectionError")

    def verify(self) -> VerifyResponse:
        raise HubUnreachable(detail="ConnectionError")

    def ids(self, table: str) -> IdList:
        raise HubUnreachable(detail="ConnectionError")

    def fetch(self, table: str, ids: list[uuid.UUID]) -> FetchResponse:
        raise HubUnreachable(detail="ConnectionError")


def _citizen_at_site(certs: CertWorld, site: SiteClient, **names: str) -> uuid.UUID:
    names = {"last_name_latin": "Petrović", "last_name_cyrillic": "Петровић", **names}
    citizen = certs.world.hub_citizen(**names)
    certs.world.book(citizen.id, site)
    assert not site.sync().skipped
    return citizen.id


def _qr_in_pdf(pdf: bytes) -> str:
    page = pypdfium2.PdfDocument(pdf)[0]
    bitmap = page.render(scale=200 / 72, grayscale=True).to_numpy()
    found = zxingcpp.read_barcodes(
        np.ascontiguousarray(bitmap), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    assert len(found) == 1
    return str(found[0].text)


def _outbox_kinds(site: SiteClient) -> list[str]:
    with session_scope(site.store, write=False) as session:
        return list(session.scalars(sa.select(OutboxEntry.table_name).order_by(OutboxEntry.seq)))


def test_issued_offline_its_pdf_qr_decodes_and_verifies_against_the_trust_list(
    certs: CertWorld,
) -> None:
    site, signer = certs.enrolled_site("NS-01")
    citizen_id = _citizen_at_site(
        certs,
        site,
        last_name_latin="Đorđević",
        first_name_latin="Milica",
        last_name_cyrillic="Ђорђевић",
        first_name_cyrillic="Милица",
    )
    site.record_dose(citizen_id)
    site.engine.transport = OfflineTransport()  # the network is gone from here on

    issued = issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)

    assert not issued.reprint
    uvci = parse_uvci(issued.uvci)
    assert uvci.segments[0] == issuer_code("NS-01") == "NS01"
    assert issued.family_name_cyrillic == "Ђорђевић"
    assert issued.name_icao == "DORDEVIC<<MILICA"
    trust = verify_trust_list(certs.lists.trust_list(), certs.lists.csca()).store()
    for language in ("sr-Latn", "sr-Cyrl", "en"):
        pdf = render_pdf(issued, language)
        qr_text = _qr_in_pdf(pdf)
        assert qr_text == issued.qr_text
        verified = verify(qr_text, trust, at=site.clock.now())
        assert verified.uvci == issued.uvci
        payload = parse_payload(verified.hcert)
        assert payload.name.family == "Đorđević"
        assert payload.family_icao == "DORDEVIC"
        assert payload.vaccination.dose_number == 1
        assert payload.vaccination.total_doses == 2
        assert payload.vaccination.product == "EU/1/20/1528"
    assert _outbox_kinds(site)[-2:] == ["dose_record", "certificate_issued"]


def test_the_same_certificate_again_is_a_reprint_with_the_same_uvci(certs: CertWorld) -> None:
    site, signer = certs.enrolled_site("NS-02")
    citizen_id = _citizen_at_site(certs, site)
    site.record_dose(citizen_id)
    first = issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)
    site.clock.advance(timedelta(minutes=3))

    again = issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)

    assert again.reprint
    assert (again.uvci, again.qr_text) == (first.uvci, first.qr_text)
    assert _outbox_kinds(site).count("certificate_issued") == 1


def test_a_second_dose_gets_its_own_certificate_and_the_first_stays_valid(
    certs: CertWorld,
) -> None:
    site, signer = certs.enrolled_site("NS-03")
    citizen_id = _citizen_at_site(certs, site)
    site.record_dose(citizen_id)
    first = issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)
    site.clock.advance(timedelta(days=21))
    site.record_dose(citizen_id, dose_number=2)

    second = issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)

    assert second.uvci != first.uvci
    assert second.superseded == ()
    assert [dose.dose_number for dose in second.doses] == [1, 2]
    assert verify_text(site.store, first.qr_text, clock=site.clock).status != "revoked"


def test_no_dose_means_no_certificate(certs: CertWorld) -> None:
    site, signer = certs.enrolled_site("NS-04")
    citizen_id = _citizen_at_site(certs, site)
    with pytest.raises(NoDosesToCertify):
        issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)


def test_hub_learns_the_site_issued_uvci_through_sync(certs: CertWorld) -> None:
    site, signer = certs.enrolled_site("NS-05")
    citizen_id = _citizen_at_site(certs, site)
    site.record_dose(citizen_id)
    issued = issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)

    report = site.sync()

    assert not report.quarantined, report.quarantined
    assert report.lists_error is None
    with session_scope(site.store, write=False) as session:
        state = session.get_one(SyncState, 1)
        assert (state.trust_list_version, state.revocation_list_version) == ("1", "0")
    assert certs.world.hub_count(IssuedCertificate, uvci=issued.uvci, origin_site_id=site.site_id)
    again = site.sync()
    assert again.pushed == 0


def test_correcting_the_name_reissues_and_the_old_uvci_is_revoked_here_then_at_the_hub(
    certs: CertWorld,
) -> None:
    site, signer = certs.enrolled_site("NS-06")
    citizen_id = _citizen_at_site(certs, site)
    site.record_dose(citizen_id)
    old = issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)
    site.sync()
    online = site.engine.transport
    site.engine.transport = OfflineTransport()
    site.clock.advance(timedelta(hours=1))

    correction = correct_person(
        site.store,
        signer,
        citizen_id,
        {"family_name_latin": "Petrović-Ilić", "family_name_cyrillic": "Петровић-Илић"},
        hlc=HybridClock("NS-06", site.clock),
        clock=site.clock,
        actor=None,
    )

    new = correction.reissued
    assert new is not None
    assert new.uvci != old.uvci
    assert new.superseded == (old.uvci,)
    assert new.name_icao.startswith("PETROVIC<ILIC<<")
    # Offline, the site's own verifier already refuses the superseded certificate.
    assert verify_text(site.store, old.qr_text, clock=site.clock).status == "revoked"
    assert verify_text(site.store, new.qr_text, clock=site.clock).valid
    summaries = certificates_of(site.store, citizen_id)
    assert [(s.uvci, s.superseded_by) for s in summaries] == [
        (old.uvci, new.uvci),
        (new.uvci, None),
    ]

    # Back online: the hub stores the new certificate and revokes the old one.
    site.engine.transport = online
    report = site.sync()
    assert not report.quarantined, report.quarantined
    with certs.world.hub.read_sessions() as session:
        rows = {row.uvci: row for row in session.scalars(sa.select(IssuedCertificate)).all()}
    assert rows[old.uvci].revoked_at is not None
    assert rows[old.uvci].revocation_reason == f"superseded by {new.uvci}"
    assert rows[new.uvci].revoked_at is None
    # The hub's revocation list (refreshed in that round) names it too.
    with session_scope(site.store) as session:
        session.execute(sa.delete(LocalCertificate).where(LocalCertificate.uvci == new.uvci))
    assert verify_text(site.store, old.qr_text, clock=site.clock).status == "revoked"


def test_a_certificate_signed_with_another_sites_key_is_quarantined_at_the_hub(
    certs: CertWorld,
) -> None:
    site, _ = certs.enrolled_site("NS-07")
    _, other_signer = certs.enrolled_site("NS-08")
    citizen_id = _citizen_at_site(certs, site)
    site.record_dose(citizen_id)
    issue_certificate(site.store, other_signer, citizen_id, clock=site.clock, actor=None)

    report = site.sync()

    assert [line.split(": ")[1] for line in report.quarantined] == ["unknown_signer"]
    assert certs.world.hub_count(Quarantine) == 1
    assert certs.world.hub_count(IssuedCertificate) == 0


def test_the_date_of_birth_is_printed_and_signed_as_recorded(certs: CertWorld) -> None:
    site, signer = certs.enrolled_site("NS-09")
    citizen_id = _citizen_at_site(certs, site)
    site.record_dose(citizen_id)
    correction = correct_person(
        site.store,
        signer,
        citizen_id,
        {"birth_date": date(1950, 1, 3)},
        hlc=HybridClock("NS-09", site.clock),
        clock=site.clock,
        actor=None,
    )
    assert correction.reissued is None  # no certificate yet: nothing to re-issue
    issued = issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)
    assert issued.date_of_birth == date(1950, 1, 3)
    report = verify_text(site.store, issued.qr_text, clock=site.clock)
    assert report.date_of_birth == "1950-01-03"


def test_a_certificate_the_hub_revoked_is_not_reprinted_but_issued_anew(
    certs: CertWorld,
) -> None:
    site, signer = certs.enrolled_site("NS-10")
    citizen_id = _citizen_at_site(certs, site)
    site.record_dose(citizen_id)
    old = issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)
    site.sync()
    revoke_certificate(certs.world.hub, old.uvci, reason="reported stolen", actor="staff:test")
    assert site.sync().lists_error is None
    assert verify_text(site.store, old.qr_text, clock=site.clock).status == "revoked"

    new = issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)

    assert not new.reprint
    assert new.uvci != old.uvci
    assert new.superseded == ()  # already revoked at the hub
    assert verify_text(site.store, new.qr_text, clock=site.clock).valid
