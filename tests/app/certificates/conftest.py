"""A hub with a CSCA and a site holding its own document signer, in one process.

`CertSite` is a `tests.app.sync.world.SiteClient` enrolled for certificates
as the real enrolment does it: the site makes its key and CSR, the hub's
`HubCsrSigner` issues the DSC, the site stores its identity with the DSC.
`HubLists` serves the hub's signed lists the way ``GET /v1/trustlist`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from app.local_db.models.site import SiteIdentity
from app.local_db.unit_of_work import session_scope
from app.sync.certificate_lists import pin_csca
from central.certificates.authority import CertificateAuthority
from central.certificates.csr_signer import HubCsrSigner
from central.certificates.lists import revocation_list, trust_list
from central.certificates.settings import CertificateSettings
from central.db import Site
from domain.certificates import DocumentSigner, create_signer_csr, create_signer_key
from domain.clock import FixedClock
from tests.app.sync.world import NOW, SiteClient, World

#: The site's clock starts a little after the hub issued its signer certificate.
START = NOW + timedelta(minutes=5)


@dataclass
class HubLists:
    """The hub's public list endpoints, called in process."""

    world: World
    authority: CertificateAuthority

    def csca(self) -> bytes:
        with self.world.hub.sessions() as session, session.begin():
            der: bytes = self.authority.csca(session, self.world.clock.now()).csca.certificate_der
            return der

    def trust_list(self) -> bytes:
        with self.world.hub.sessions() as session, session.begin():
            return trust_list(session, self.authority, self.world.clock.now()).data

    def revocation_list(self) -> bytes:
        with self.world.hub.sessions() as session, session.begin():
            return revocation_list(session, self.authority, self.world.clock.now()).data


@dataclass
class CertWorld:
    world: World
    authority: CertificateAuthority
    lists: HubLists

    def enrolled_site(self, code: str, *, pin: bool = True) -> tuple[SiteClient, DocumentSigner]:
        """A site with its DSC issued by the hub and stored at the site (and the CSCA pinned)."""
        site = self.world.add_site(code, clock=FixedClock(START))
        key = create_signer_key()
        csr = x509.load_der_x509_csr(create_signer_csr(key, site_code=code))
        with self.world.hub.sessions() as session, session.begin():
            hub_site = session.get_one(Site, site.site_id)
            pem = HubCsrSigner(self.authority).sign(
                session,
                hub_site,
                csr.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                self.world.clock.now(),
            )
        der = x509.load_pem_x509_certificate(pem.encode("ascii")).public_bytes(
            serialization.Encoding.DER
        )
        with session_scope(site.store) as session:
            session.add(
                SiteIdentity(
                    site_id=site.site_id,
                    site_code=code,
                    site_name=f"Dom zdravlja {code}",
                    municipality_code="80438",
                    hub_url="http://hub.invalid",
                    credential_id=f"cred-{code}",
                    credential_secret_sealed=b"sealed",
                    signer_certificate=der,
                    signer_private_key_sealed=None,
                    enrolled_at=NOW,
                )
            )
        if pin:
            pin_csca(site.store, self.lists.csca(), now=START)
        site.engine.certificate_lists = self.lists
        return site, DocumentSigner.create(key, der)


@pytest.fixture
def certs(tmp_path: Path) -> Iterator[CertWorld]:
    world = World(f"sqlite:///{tmp_path / 'central.sqlite'}", tmp_path)
    authority = CertificateAuthority(
        CertificateSettings(
            csca_key=tmp_path / "keys" / "csca-key.pem",
            signer_key=tmp_path / "keys" / "hub-signer-key.pem",
            csca_auto_create=True,
        )
    )
    yield CertWorld(world, authority, HubLists(world, authority))
    world.close()
