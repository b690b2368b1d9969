"""The hub's `central.services.enrolment.CsrSigner`: a site's key becomes a DSC.

At enrolment the site sends a PKCS#10 request for its own document-signer
key; the CSCA certifies it for that site (the subject comes from the enrolled
site, never from the request), the DSC is stored in ``signer_certificates``
with its key id and returned as PEM. It joins the trust list at once.

A site that enrols again (a reinstalled workstation) gets a new DSC; its
earlier ones stay on the trust list until they expire, because certificates
the site signed with them are still in people's hands. An operator who
believes a site key leaked revokes that DSC explicitly.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session

from central.certificates.authority import CertificateAuthority, store_signer_certificate
from central.db import Site
from central.services.errors import FieldProblem, InvalidRequest
from central.services.records import audit
from domain.certificates import issue_signer_certificate
from domain.certificates.errors import SignerCertificateRejected


class HubCsrSigner:
    """Issues site DSCs with the hub's CSCA (created on first need if allowed)."""

    def __init__(self, authority: CertificateAuthority | None = None) -> None:
        self.authority = authority or CertificateAuthority()

    def sign(self, session: Session, site: Site, csr_pem: str, now: datetime) -> str:
        """The DSC (PEM) for the key in `csr_pem`, recorded in `session`.

        Raises `InvalidRequest` on ``csr_pem`` for a request that is not a
        PEM PKCS#10, whose signature fails, or whose key is not P-256.
        """
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode("ascii", errors="replace"))
        except ValueError as exc:
            raise _refused("the signing request is not a PEM certificate request") from exc
        hub_csca = self.authority.csca(session, now)
        try:
            der = issue_signer_certificate(
                csr.public_bytes(serialization.Encoding.DER),
                hub_csca.csca,
                site_code=site.code,
                now=now,
            )
        except SignerCertificateRejected as exc:
            raise InvalidRequest([FieldProblem("csr_pem", exc)]) from exc
        row = store_signer_certificate(
            session, der, site_id=site.id, csca_id=hub_csca.row_id, now=now
        )
        audit(
            session,
            occurred_at=now,
            actor=f"site:{site.id}",
            action="certificate.signer_issued",
            entity=row,
            site_id=site.id,
            after={"key_id": row.key_id, "valid_to": row.valid_to},
        )
        pem: bytes = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
        return pem.decode("ascii")


def _refused(problem: str) -> InvalidRequest:
    return InvalidRequest([FieldProblem("csr_pem", SignerCertificateRejected(problem=problem))])
