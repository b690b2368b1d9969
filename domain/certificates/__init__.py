"""EU Digital COVID Certificates: issuing, reading, verifying and printing them.

Pure code: keys and clocks are passed in; the only files read are the
package's own (the EU schema, the fonts).

Issuing at a site (offline)::

    signer = DocumentSigner.create(site_key, dsc_der)          # once, at start-up
    uvci = make_uvci(issuer_code("NS-01"), certificate_id)     # id born with the record
    hcert = build_payload(PersonName("Đorđević", "Milica"), date(1980, 4, 1),
                          Vaccination(vaccine=..., product=..., manufacturer=...,
                                      dose_number=2, total_doses=2,
                                      date=date(2021, 5, 1), uvci=uvci))
    qr_text = encode_certificate(hcert, signer, issued_at=clock.now())
    pdf = render_certificate_pdf(document, qr_text, "sr-Latn")

Verifying::

    trust = verify_trust_list(list_bytes, csca_der, min_sequence=held).store()
    result = verify(qr_text, trust, revoked_uvcis=revocations.uvcis)

Modules: `transliterate` (ICAO 9303 names), `uvci`, `payload` (the hcert map
and the EU JSON schema), `cose`, `codec` (the HC1 text), `verify`, `pki`
(CSCA, signer keys, CSRs, DSCs), `trust_list` (the hub's signed lists),
`pdf`, and `errors` (every error, in one hierarchy).
"""

from domain.certificates.codec import (
    CwtClaims,
    DecodedCertificate,
    decode_certificate,
    encode_certificate,
)
from domain.certificates.errors import (
    CertificateError,
    DecodeError,
    Expired,
    NotYetValid,
    Revoked,
    SchemaViolation,
    SignatureInvalid,
    SignerCertificateExpired,
    SignerCertificateNotYetValid,
    SignerCertificateRejected,
    SignerNotAuthorised,
    UnknownKeyId,
    VerificationError,
)
from domain.certificates.payload import (
    PersonName,
    Vaccination,
    VaccinationPayload,
    build_payload,
    parse_payload,
    validate_payload,
)
from domain.certificates.pdf import CertificateDocument, DoseLine, render_certificate_pdf
from domain.certificates.pki import (
    Csca,
    DocumentSigner,
    create_csca,
    create_signer_csr,
    create_signer_key,
    issue_signer_certificate,
    key_id,
    verify_signer_certificate,
)
from domain.certificates.transliterate import icao_transliterate
from domain.certificates.trust_list import (
    RevocationList,
    TrustList,
    TrustListEntry,
    sign_revocation_list,
    sign_trust_list,
    verify_revocation_list,
    verify_trust_list,
)
from domain.certificates.uvci import issuer_code, make_uvci, parse_uvci
from domain.certificates.verify import TrustStore, VerifiedCertificate, verify

__all__ = [
    "CertificateDocument",
    "CertificateError",
    "Csca",
    "CwtClaims",
    "DecodeError",
    "DecodedCertificate",
    "DocumentSigner",
    "DoseLine",
    "Expired",
    "NotYetValid",
    "PersonName",
    "RevocationList",
    "Revoked",
    "SchemaViolation",
    "SignatureInvalid",
    "SignerCertificateExpired",
    "SignerCertificateNotYetValid",
    "SignerCertificateRejected",
    "SignerNotAuthorised",
    "TrustList",
    "TrustListEntry",
    "TrustStore",
    "UnknownKeyId",
    "Vaccination",
    "VaccinationPayload",
    "VerificationError",
    "VerifiedCertificate",
    "build_payload",
    "create_csca",
    "create_signer_csr",
    "create_signer_key",
    "decode_certificate",
    "encode_certificate",
    "icao_transliterate",
    "issue_signer_certificate",
    "issuer_code",
    "key_id",
    "make_uvci",
    "parse_payload",
    "parse_uvci",
    "render_certificate_pdf",
    "sign_revocation_list",
    "sign_trust_list",
    "validate_payload",
    "verify",
    "verify_revocation_list",
    "verify_signer_certificate",
    "verify_trust_list",
]
