"""Refusals of the hub's certificate use cases.

Each subclasses a `central.services.errors` kind, so the HTTP layer answers
with the right status (404 for `NotFound`, 409 for `Conflict`, 400 for the
rest) and the CLI prints the message. Serbian texts are in
``domain/locale/cert_hub.sr-Latn.json``.
"""

from __future__ import annotations

from typing import ClassVar

from central.services.errors import Conflict, HubError, NotFound


class NoCsca(NotFound):
    code: ClassVar[str] = "cert_hub.no_csca"
    template: ClassVar[str] = (
        "The hub has no country signing authority (CSCA) yet, so it cannot publish or sign "
        "certificate lists. An operator creates it with 'imuno-hub cert init-csca'."
    )


class CscaKeyMissing(HubError):
    code: ClassVar[str] = "cert_hub.csca_key_missing"
    template: ClassVar[str] = (
        "The hub's database names a country signing authority, but its private key file "
        "{path} is missing. Restore the key file from its backup (or point "
        "IMUNO_HUB_CSCA_KEY at it); do not create a new one, or every site must enrol again."
    )


class CscaKeyMismatch(HubError):
    code: ClassVar[str] = "cert_hub.csca_key_mismatch"
    template: ClassVar[str] = (
        "The key file {path} does not hold the country signing authority this hub's database "
        "uses (key id {expected}). Point IMUNO_HUB_CSCA_KEY at the right file."
    )


class KeyFileUnreadable(HubError):
    code: ClassVar[str] = "cert_hub.key_file_unreadable"
    template: ClassVar[str] = (
        "The key file {path} cannot be read: {problem}. Restore it from its backup."
    )


class UnknownCitizen(NotFound):
    code: ClassVar[str] = "cert_hub.unknown_citizen"
    template: ClassVar[str] = (
        "No citizen with the national id (JMBG) {jmbg} is registered at the hub. Check the "
        "number; a person vaccinated at a site appears here after the site has synchronised."
    )


class NoDoses(Conflict):
    code: ClassVar[str] = "cert_hub.no_doses"
    template: ClassVar[str] = (
        "The hub holds no dose for the citizen {jmbg}, so there is nothing to certify. If the "
        "person was vaccinated, the site must synchronise first."
    )


class UnknownUvci(NotFound):
    code: ClassVar[str] = "cert_hub.unknown_uvci"
    template: ClassVar[str] = (
        "No certificate with the identifier {uvci} was issued here. Check that it was typed "
        "or scanned completely."
    )


class AlreadyRevoked(Conflict):
    code: ClassVar[str] = "cert_hub.already_revoked"
    template: ClassVar[str] = (
        "The certificate {uvci} was already revoked on {revoked_on} ({reason})."
    )


class UnknownVaccine(HubError):
    code: ClassVar[str] = "cert_hub.unknown_vaccine"
    template: ClassVar[str] = (
        "The dose record names the vaccine '{product_id}', which no rule set of this release "
        "knows, so no EU certificate can be made for it. Call the central help desk."
    )


# --- the verifier (imuno-cert) ---------------------------------------------------------------


class InputUnreadable(HubError):
    code: ClassVar[str] = "cert_hub.input_unreadable"
    template: ClassVar[str] = (
        "'{input}' is neither a certificate's QR text (starting with HC1:) nor a readable "
        "file: {problem}."
    )


class NoQrCode(HubError):
    code: ClassVar[str] = "cert_hub.no_qr_code"
    template: ClassVar[str] = (
        "No QR code was found in {input}. Scan or photograph the certificate's QR code "
        "again, sharp and whole, or give the PDF the hub issued."
    )


class ListsUnavailable(HubError):
    code: ClassVar[str] = "cert_hub.lists_unavailable"
    template: ClassVar[str] = (
        "The certificate lists could not be fetched from {hub}: {problem}. Check the address "
        "and the network, or verify offline with saved lists (imuno-cert fetch)."
    )


class CscaNotPinned(HubError):
    code: ClassVar[str] = "cert_hub.csca_changed"
    template: ClassVar[str] = (
        "The hub at {hub} presents a different country signing certificate than the one "
        "pinned in {path}. Do not trust its lists; call the central help desk."
    )


class UnknownSigner(NotFound):
    code: ClassVar[str] = "cert_hub.unknown_signer"
    template: ClassVar[str] = (
        "No signer certificate has the key id {key_id}. Copy it from the verifier's output "
        "or the trust list."
    )


class SignerAlreadyRevoked(Conflict):
    code: ClassVar[str] = "cert_hub.signer_already_revoked"
    template: ClassVar[str] = (
        "The signer certificate {key_id} was already revoked on {revoked_on} ({reason})."
    )


class HubSignerKeyRevoked(HubError):
    code: ClassVar[str] = "cert_hub.hub_signer_revoked"
    template: ClassVar[str] = (
        "The hub's signing key in {path} belongs to a revoked signer certificate and must not "
        "sign again. Move that file away (keep it for the investigation); the hub then makes a "
        "new key and certificate."
    )
