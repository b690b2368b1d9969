"""Certificate lists for verifiers: the trust list, the revocation list, the CSCA.

Public: any EU DCC verifier (a site client, a border app, ``imuno-cert``)
may fetch them without a credential; they are counted against the caller's
address like other public routes. The lists are CSCA-signed COSE_Sign1
messages (format: `domain.certificates.trust_list`); a verifier checks them
with the CSCA certificate it pinned (from ``GET /v1/trustlist/csca`` once,
or delivered with the site client), so the transport need not be trusted.

Content types:

- ``GET /v1/trustlist``: ``application/vnd.imuno.dcc-trust-list+cbor``
- ``GET /v1/revocations``: ``application/vnd.imuno.dcc-revocation-list+cbor``
- ``GET /v1/trustlist/csca``: ``application/pkix-cert`` (DER, RFC 2585)

``Imuno-List-Sequence`` carries the list's sequence number. Before the hub
has a CSCA (``imuno-hub cert init-csca``, or the first enrolment with a CSR)
all three answer 404 ``cert_hub.no_csca``; reading never creates keys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from cryptography import x509
from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from central.api.deps import HubDep, anonymous
from central.api.errors import responses
from central.certificates.authority import CertificateAuthority
from central.certificates.csr_signer import HubCsrSigner
from central.certificates.lists import SignedList, revocation_list, trust_list
from central.services.context import Hub
from domain.certificates.trust_list import REVOCATION_LIST_CONTENT_TYPE, TRUST_LIST_CONTENT_TYPE

router = APIRouter(tags=["certificates"])

CSCA_CONTENT_TYPE: Final = "application/pkix-cert"
SEQUENCE_HEADER: Final = "Imuno-List-Sequence"
_CACHE: Final = "public, max-age=300"
_BINARY: Final = {"type": "string", "format": "binary"}
_SEQUENCE_DOC: Final = {
    SEQUENCE_HEADER: {
        "description": "The list's sequence number; it only grows.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}


def _binary(content_type: str, description: str, *, sequence: bool) -> dict[int | str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {content_type: {"schema": _BINARY}},
    }
    if sequence:
        answer["headers"] = _SEQUENCE_DOC
    return {200: answer, **responses(400, 404, 426)}


def authority_of(request: Request) -> CertificateAuthority:
    """The app's certificate authority: its CSR signer's, else one made from the environment."""
    state = request.app.state
    signer = getattr(state, "csr_signer", None)
    if isinstance(signer, HubCsrSigner):
        return signer.authority
    found = getattr(state, "certificate_authority", None)
    if not isinstance(found, CertificateAuthority):
        found = CertificateAuthority()
        state.certificate_authority = found
    return found


ListBuilder = Callable[[Session, CertificateAuthority, datetime], SignedList]


def _signed(hub: Hub, request: Request, build: ListBuilder, content_type: str) -> Response:
    authority = authority_of(request)
    with hub.sessions() as session, session.begin():
        signed = build(session, authority, hub.clock.now())
    return Response(
        signed.data,
        media_type=content_type,
        headers={SEQUENCE_HEADER: str(signed.sequence), "Cache-Control": _CACHE},
    )


@router.get(
    "/v1/trustlist",
    response_class=Response,
    dependencies=[Depends(anonymous)],
    responses=_binary(
        TRUST_LIST_CONTENT_TYPE, "The CSCA-signed list of trusted signers.", sequence=True
    ),
    summary="The signed trust list of document signers",
)
def get_trust_list(request: Request, hub: HubDep) -> Response:
    """Every document-signer certificate valid now and not revoked, signed by the CSCA."""
    return _signed(hub, request, trust_list, TRUST_LIST_CONTENT_TYPE)


@router.get(
    "/v1/revocations",
    response_class=Response,
    dependencies=[Depends(anonymous)],
    responses=_binary(
        REVOCATION_LIST_CONTENT_TYPE, "The CSCA-signed list of revoked UVCIs.", sequence=True
    ),
    summary="The signed list of revoked certificates",
)
def get_revocations(request: Request, hub: HubDep) -> Response:
    """The UVCIs of every revoked certificate, signed by the CSCA."""
    return _signed(hub, request, revocation_list, REVOCATION_LIST_CONTENT_TYPE)


@router.get(
    "/v1/trustlist/csca",
    response_class=Response,
    dependencies=[Depends(anonymous)],
    responses=_binary(CSCA_CONTENT_TYPE, "The CSCA certificate (DER).", sequence=False),
    summary="The country signing CA certificate, to pin",
)
def get_csca(request: Request, hub: HubDep) -> Response:
    """The certificate that signs the lists and every DSC. Pin it; compare its fingerprint
    with the one the ministry publishes."""
    authority = authority_of(request)
    with hub.sessions() as session, session.begin():
        csca = authority.csca(session, hub.clock.now(), create=False).csca
    certificate = x509.load_der_x509_certificate(csca.certificate_der)
    return Response(
        csca.certificate_der,
        media_type=CSCA_CONTENT_TYPE,
        headers={"Cache-Control": _CACHE, "ETag": f'"{certificate.serial_number:x}"'},
    )
