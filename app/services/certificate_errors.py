"""Errors of issuing and verifying certificates at the site, worded for the nurse.

Serbian Latin templates: ``domain/locale/site_certificates.sr-Latn.json``.
"""

from __future__ import annotations

from typing import ClassVar

from domain.errors import DomainError

__all__ = [
    "CertificateServiceError",
    "CitizenNotHere",
    "ListsNotAvailable",
    "NoDosesToCertify",
    "NotEnrolledForCertificates",
    "ProductNotInCatalogue",
    "SignerOfAnotherSite",
]


class CertificateServiceError(DomainError):
    """Root of the site's certificate service errors."""

    code: ClassVar[str] = "site_certificates.error"
    template: ClassVar[str] = "The certificate could not be issued."


class NotEnrolledForCertificates(CertificateServiceError):
    code: ClassVar[str] = "site_certificates.not_enrolled"
    template: ClassVar[str] = (
        "This computer is not enrolled with the hub, so it cannot sign certificates. "
        "Ask the site manager to enrol it."
    )


class SignerOfAnotherSite(CertificateServiceError):
    code: ClassVar[str] = "site_certificates.signer_of_another_site"
    template: ClassVar[str] = (
        "The signing key on this computer does not belong to this site ({site}). "
        "Do not print certificates; call the hub's support line."
    )


class CitizenNotHere(CertificateServiceError):
    code: ClassVar[str] = "site_certificates.citizen_not_here"
    template: ClassVar[str] = (
        "This person is not in this site's records. Find them by JMBG and try again."
    )


class NoDosesToCertify(CertificateServiceError):
    code: ClassVar[str] = "site_certificates.no_doses"
    template: ClassVar[str] = (
        "{name} has no recorded dose, so there is nothing to certify. Record the dose first."
    )


class ProductNotInCatalogue(CertificateServiceError):
    code: ClassVar[str] = "site_certificates.unknown_product"
    template: ClassVar[str] = (
        "The vaccine '{product}' of this dose is not in the catalogue, so no certificate "
        "can be made. Update the client, or call the hub's support line."
    )


class ListsNotAvailable(CertificateServiceError):
    code: ClassVar[str] = "site_certificates.no_lists"
    template: ClassVar[str] = (
        "This computer has no trust list yet, so it cannot check certificates. "
        "Connect to the network and synchronise once."
    )
