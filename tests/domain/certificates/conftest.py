"""A signing hierarchy and a certificate to test with.

Keys are made once per session (P-256 generation is fast, but a hundred tests
need not each wait for it); everything time-dependent uses `NOW`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from domain.certificates.payload import PersonName, Vaccination, build_payload
from domain.certificates.pki import (
    Csca,
    DocumentSigner,
    create_csca,
    create_signer_csr,
    create_signer_key,
    issue_signer_certificate,
)
from domain.certificates.uvci import make_uvci

NOW = datetime(2021, 6, 1, 9, 30, tzinfo=UTC)
COMIRNATY = {"vaccine": "1119349007", "product": "EU/1/20/1528", "manufacturer": "ORG-100030215"}


@dataclass(frozen=True)
class Site:
    """An enrolled site: its key, its DSC and the signer made of them."""

    key: ec.EllipticCurvePrivateKey
    certificate_der: bytes
    signer: DocumentSigner


def enrol(csca: Csca, site_code: str, *, now: datetime = NOW, valid_days: int = 730) -> Site:
    key = create_signer_key()
    csr = create_signer_csr(key, site_code=site_code)
    der = issue_signer_certificate(
        csr, csca, site_code=site_code, now=now - timedelta(days=1), valid_days=valid_days
    )
    return Site(key=key, certificate_der=der, signer=DocumentSigner.create(key, der))


def vaccination(uvci: str, *, dose: int = 2, total: int = 2) -> Vaccination:
    return Vaccination(
        dose_number=dose, total_doses=total, date=date(2021, 5, 31), uvci=uvci, **COMIRNATY
    )


def hcert_for(name: PersonName, *, certificate_id: int = 1) -> dict[str, Any]:
    uvci = make_uvci("NS01", uuid.UUID(int=certificate_id))
    return build_payload(name, date(1961, 3, 14), vaccination(uvci))


@pytest.fixture(scope="session")
def csca() -> Csca:
    return create_csca(now=NOW - timedelta(days=365))


@pytest.fixture(scope="session")
def site(csca: Csca) -> Site:
    return enrol(csca, "NS01")


@pytest.fixture(scope="session")
def other_site(csca: Csca) -> Site:
    return enrol(csca, "BG07")


@pytest.fixture
def hcert() -> dict[str, Any]:
    return hcert_for(PersonName("Ђорђевић", "Милица"))
