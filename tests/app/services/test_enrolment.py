"""Enrolling a workstation against a real hub served over HTTP in the test process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import load_der_x509_certificate
from sqlalchemy.engine import Engine

from app.local_db.engine import open_site_store
from app.local_db.models.site import SiteIdentity
from app.local_db.sealing import SecretBox
from app.local_db.unit_of_work import session_scope
from app.services.enrolment import (
    AlreadyEnrolled,
    enrol_site,
    enrolment_status,
    load_document_signer,
)
from app.sync.enrolment import (
    EnrolmentClient,
    EnrolmentCodeExpired,
    EnrolmentCodeUsed,
    EnrolmentCodeWrong,
    EnrolmentHubUnreachable,
    HubAddressInvalid,
    HubCannotCertify,
    UnexpectedHubAnswer,
    normalise_hub_url,
)
from app.sync.errors import NotEnrolled
from app.sync.identity import load_connection
from central.certificates.authority import CertificateAuthority
from central.certificates.csr_signer import HubCsrSigner
from central.certificates.settings import CertificateSettings
from central.db import SignerCertificate, upgrade_to_head
from central.services.context import Hub
from central.services.enrolment import issue_enrol_code
from central.services.sites import NewSite, add_site, parse_opening_hours
from central.settings import HubSettings
from domain.clock import FixedClock
from domain.i18n import message
from domain.wire import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.central.api.conftest import NOW, _Server, free_port


@dataclass
class LiveHub:
    url: str
    hub: Hub
    clock: FixedClock

    def code(self, site: str = "NS-01") -> str:
        return issue_enrol_code(self.hub, site, actor="test").code


@pytest.fixture(scope="module")
def central_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('hub') / 'central.sqlite'}"
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="module")
def serve(
    central_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., LiveHub]]:
    """Serve the hub on `central_url`; with or without a signing authority."""
    from central.api import create_app

    keys = tmp_path_factory.mktemp("keys")
    servers: list[_Server] = []
    clock = FixedClock(NOW)
    settings = HubSettings(database_url=central_url)
    setup = Hub.open(settings, clock=clock)
    add_site(
        setup,
        NewSite(
            code="NS-01", name="Dom zdravlja Novi Sad", municipality="Novi Sad",
            latitude=45.2671, longitude=19.8335,
            opening_hours=parse_opening_hours(["mon-sun 08:00-20:00"]),
            slot_minutes=10, vaccinators=2, products=["comirnaty"],
        ),
        actor="test",
    )  # fmt: skip

    def start(*, certify: bool = True) -> LiveHub:
        hub = Hub.open(settings, clock=clock)
        signer = None
        if certify:
            authority = CertificateAuthority(
                CertificateSettings(csca_key=keys / "csca.pem", signer_key=keys / "signer.pem")
            )
            signer = HubCsrSigner(authority)
        server = _Server(create_app(settings, hub=hub, csr_signer=signer))
        servers.append(server)
        return LiveHub(server.__enter__(), setup, clock)

    yield start
    for server in servers:
        server.__exit__()
    setup.close()


@pytest.fixture(scope="module")
def live(serve: Callable[..., LiveHub]) -> LiveHub:
    return serve()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Engine]:
    engine = open_site_store(tmp_path / "site.sqlite")
    yield engine
    engine.dispose()


@pytest.fixture
def box(tmp_path: Path) -> SecretBox:
    return SecretBox.load_or_create(tmp_path / "site-secrets.key")


def test_enrolment_stores_a_working_sealed_credential_and_a_certified_signer(
    live: LiveHub, store: Engine, box: SecretBox, tmp_path: Path
) -> None:
    assert not enrolment_status(store).enrolled
    result = enrol_site(store, box, live.url + "/", live.code(), FixedClock(NOW))
    assert result.site_code == "NS-01"
    assert result.hub_url == live.url
    status = enrolment_status(store)
    assert status.enrolled
    assert status.site_code == "NS-01"

    connection = load_connection(store, box)
    assert connection.site_id == result.site_id
    own = httpx.get(
        f"{live.url}/v1/site",
        headers={
            "Authorization": f"Bearer {connection.credential}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        },
    )
    assert own.status_code == 200
    assert own.json()["code"] == "NS-01"

    signer = load_document_signer(store, box)
    assert signer.kid == result.signer_kid
    assert signer.may_sign_vaccinations
    with live.hub.read_sessions() as session:
        certificates = set(session.scalars(sa.select(SignerCertificate.certificate_der)))
    assert signer.certificate_der in certificates
    signature = signer.key.sign(b"dose", ec.ECDSA(hashes.SHA256()))
    public = load_der_x509_certificate(signer.certificate_der).public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(signature, b"dose", ec.ECDSA(hashes.SHA256()))

    # Neither secret is on disk in clear: the store file alone does not hold them.
    raw = (tmp_path / "site.sqlite").read_bytes() + _wal(tmp_path / "site.sqlite")
    assert connection.credential.encode() not in raw
    secret_scalar = signer.key.private_numbers().private_value.to_bytes(32, "big")
    assert secret_scalar not in raw


def _wal(path: Path) -> bytes:
    wal = Path(f"{path}-wal")
    return wal.read_bytes() if wal.exists() else b""


def test_a_second_enrolment_is_refused_before_the_code_is_spent(
    live: LiveHub, store: Engine, box: SecretBox, tmp_path: Path
) -> None:
    enrol_site(store, box, live.url, live.code(), FixedClock(NOW))
    code = live.code()
    with pytest.raises(AlreadyEnrolled) as refused:
        enrol_site(store, box, live.url, code, FixedClock(NOW))
    assert "NS-01" in str(refused.value)
    other = open_site_store(tmp_path / "other.sqlite")
    try:
        assert enrol_site(other, box, live.url, code, FixedClock(NOW)).site_code == "NS-01"
    finally:
        other.dispose()


def test_a_used_wrong_or_expired_code_is_refused_with_its_own_reason(
    live: LiveHub, box: SecretBox, tmp_path: Path
) -> None:
    stores = [open_site_store(tmp_path / f"s{n}.sqlite") for n in range(4)]
    try:
        code = live.code()
        enrol_site(stores[0], box, live.url, code, FixedClock(NOW))
        with pytest.raises(EnrolmentCodeUsed):
            enrol_site(stores[1], box, live.url, code, FixedClock(NOW))
        with pytest.raises(EnrolmentCodeWrong) as wrong:
            enrol_site(stores[1], box, live.url, "ABCD-EFGH-JKMN-PQRS-TVWX", FixedClock(NOW))
        assert "kod za prijavu" in message(wrong.value, "sr-Latn")
        with pytest.raises(EnrolmentCodeWrong):
            enrol_site(stores[1], box, live.url, "   ", FixedClock(NOW))
        late = live.code()
        live.clock.advance(timedelta(days=2))
        try:
            with pytest.raises(EnrolmentCodeExpired):
                enrol_site(stores[2], box, live.url, late, FixedClock(NOW))
        finally:
            live.clock.advance(timedelta(days=-2))
        for engine in stores[1:]:
            assert not enrolment_status(engine).enrolled
    finally:
        for engine in stores:
            engine.dispose()


def test_an_unreachable_hub_or_a_bad_address_says_what_to_check(
    store: Engine, box: SecretBox
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(EnrolmentHubUnreachable) as down:
        enrol_site(store, box, url, "ABCD-EFGH", FixedClock(NOW))
    assert "was not used" in str(down.value)
    assert "nije dostupan" in message(down.value, "sr-Latn")
    with pytest.raises(HubAddressInvalid):
        enrol_site(store, box, "ftp://hub.rs", "ABCD", FixedClock(NOW))
    with pytest.raises(HubAddressInvalid):
        normalise_hub_url("  ")
    assert normalise_hub_url("hub.example.rs/") == "https://hub.example.rs"
    assert not enrolment_status(store).enrolled


def test_a_server_that_is_not_the_hub_is_reported(
    live: LiveHub, store: Engine, box: SecretBox
) -> None:
    with pytest.raises(UnexpectedHubAnswer) as odd:
        enrol_site(store, box, live.url + "/not-the-hub", live.code(), FixedClock(NOW))
    assert "404" in str(odd.value)


def test_a_hub_without_a_signing_authority_leaves_the_code_unused(
    serve: Callable[..., LiveHub], live: LiveHub, store: Engine, box: SecretBox
) -> None:
    plain = serve(certify=False)
    code = plain.code()
    with pytest.raises(HubCannotCertify):
        enrol_site(store, box, plain.url, code, FixedClock(NOW))
    assert enrol_site(store, box, live.url, code, FixedClock(NOW)).site_code == "NS-01"


def test_the_signer_is_not_there_before_enrolment(store: Engine, box: SecretBox) -> None:
    with pytest.raises(NotEnrolled):
        load_document_signer(store, box)


def test_the_client_uses_connect_and_read_timeouts(live: LiveHub) -> None:
    client = EnrolmentClient(live.url, connect_timeout_s=0.5, read_timeout_s=2.0)
    assert client.hub_url == live.url
    client.close()


def test_only_the_right_key_file_opens_the_signer(
    live: LiveHub, store: Engine, box: SecretBox, tmp_path: Path
) -> None:
    from app.local_db.errors import SecretUnreadable

    enrol_site(store, box, live.url, live.code(), FixedClock(NOW))
    stranger = SecretBox.load_or_create(tmp_path / "another.key")
    with pytest.raises(SecretUnreadable):
        load_document_signer(store, stranger)
    with session_scope(store, write=False) as session:
        identity = session.get_one(SiteIdentity, 1)
        assert identity.signer_certificate is not None
