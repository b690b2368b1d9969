"""Site enrolment and credentials: one-time codes, enrolment, revocation, rotation.

The life of a site's credential:

1. An operator prints a one-time enrolment code (`issue_enrol_code`, valid
   24 hours by default). Issuing a code voids the site's earlier unused ones.
2. The site sends the code once (`enrol`) and receives its credential,
   shown once; the hub stores only its hash. Enrolling revokes every earlier
   credential of the site (a reinstalled workstation replaces the old one).
3. The site may rotate its credential itself (`rotate_credential`): the new
   one names the old, which keeps working until the new one is first used.
4. An operator can cut a site off at once (`revoke_site`), or revoke and
   hand out a new code in one step (`reissue_site`, the CLI's ``rotate``).

Extension point for signer certificates: `enrol` accepts a CSR and passes
it to a `CsrSigner`, inside the enrolment's transaction, so the credential,
the used code and the signer certificate are stored together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from central.auth import new_enrol_code, new_site_token, normalise_enrol_code, token_hash
from central.db import EnrolmentCode, Site, SiteCredential
from central.services.context import Hub
from central.services.errors import (
    AccountInactive,
    CsrNotSupported,
    EnrolmentCodeExpired,
    EnrolmentCodeUsed,
    EnrolmentRefused,
)
from central.services.principals import SitePrincipal
from central.services.records import audit
from central.services.sites import site_by_code, site_info
from domain.wire import PROTOCOL_VERSION, CredentialIssued, EnrolRequest, EnrolResponse


class CsrSigner(Protocol):
    """Certifies a site's document-signer key at enrolment (domain/certificates).

    `sign` checks `csr_pem` (a PKCS#10 request in PEM), stores the issued
    certificate in `session` (the enrolment's transaction) and returns it as
    PEM. It raises a `domain.errors.DomainError` (e.g. an
    `central.services.errors.InvalidRequest` on field ``csr_pem``) to refuse
    the request; the enrolment code then stays unused.
    """

    def sign(self, session: Session, site: Site, csr_pem: str, now: datetime) -> str: ...


@dataclass(frozen=True)
class IssuedCode:
    """A new enrolment code, to print once."""

    site_code: str
    code: str
    expires_at: datetime


def _void_open_codes(session: Session, site_id: object, now: datetime) -> None:
    session.execute(
        update(EnrolmentCode)
        .where(
            EnrolmentCode.site_id == site_id,
            EnrolmentCode.used_at.is_(None),
            EnrolmentCode.expires_at > now,
        )
        .values(expires_at=now)
    )


def _revoke_credentials(session: Session, site_id: object, now: datetime) -> int:
    result = session.execute(
        update(SiteCredential)
        .where(SiteCredential.site_id == site_id, SiteCredential.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _new_code(session: Session, site: Site, hub: Hub, now: datetime, actor: str) -> IssuedCode:
    code = new_enrol_code()
    expires_at = now + timedelta(hours=hub.settings.enrol_code_hours)
    row = EnrolmentCode(
        site_id=site.id,
        code_hash=token_hash(normalise_enrol_code(code)),
        expires_at=expires_at,
        used_at=None,
        created_at=now,
        created_by=actor,
    )
    session.add(row)
    audit(
        session,
        occurred_at=now,
        actor=actor,
        action="site.enrol_code",
        entity=row,
        site_id=site.id,
        after={"expires_at": expires_at},
    )
    return IssuedCode(site_code=site.code, code=code, expires_at=expires_at)


def issue_enrol_code(hub: Hub, site_code: str, *, actor: str) -> IssuedCode:
    """A new one-time enrolment code for the site; earlier unused codes stop working.

    Raises `central.services.sites.UnknownSite` or `AccountInactive`.
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        site = site_by_code(session, site_code)
        if not site.active:
            raise AccountInactive()
        _void_open_codes(session, site.id, now)
        return _new_code(session, site, hub, now, actor)


def enrol(
    hub: Hub,
    request: EnrolRequest,
    *,
    signer: CsrSigner | None = None,
    request_id: str | None = None,
) -> EnrolResponse:
    """Exchange a one-time code for the site's credential (and signer certificate).

    Raises `EnrolmentRefused` (unknown code), `EnrolmentCodeUsed`,
    `EnrolmentCodeExpired`, `CsrNotSupported` (a CSR but no signer) or
    `AccountInactive` (the site was switched off). Nothing is stored then.
    """
    now = hub.clock.now()
    hashed = token_hash(normalise_enrol_code(request.code))
    with hub.sessions() as session, session.begin():
        code = session.scalar(
            select(EnrolmentCode).where(EnrolmentCode.code_hash == hashed).with_for_update()
        )
        if code is None:
            raise EnrolmentRefused()
        if code.used_at is not None:
            raise EnrolmentCodeUsed()
        if code.expires_at <= now:
            raise EnrolmentCodeExpired(expired_at=code.expires_at.strftime("%Y-%m-%d %H:%M UTC"))
        site = session.get_one(Site, code.site_id)
        if not site.active:
            raise AccountInactive()
        if request.csr_pem is not None and signer is None:
            raise CsrNotSupported()
        code.used_at = now
        _revoke_credentials(session, site.id, now)
        token = new_site_token()
        credential = SiteCredential(
            site_id=site.id,
            token_hash=token_hash(token),
            revoked_at=None,
            rotated_from_id=None,
            created_at=now,
            created_by=f"enrolment:{code.id}",
        )
        session.add(credential)
        certificate = None
        if request.csr_pem is not None and signer is not None:
            certificate = signer.sign(session, site, request.csr_pem, now)
        actor = f"site:{site.id}"
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="site.enrol",
            entity=credential,
            site_id=site.id,
            after={"client_version": request.client_version},
            request_id=request_id,
        )
        return EnrolResponse(
            site=site_info(site),
            site_id=site.id,
            credential=CredentialIssued(
                credential=token, credential_id=credential.id, issued_at=now
            ),
            signer_certificate_pem=certificate,
            protocol_version=PROTOCOL_VERSION,
        )


def rotate_credential(
    hub: Hub, principal: SitePrincipal, *, request_id: str | None = None
) -> CredentialIssued:
    """A new credential for the calling site, replacing the one it called with.

    The calling credential keeps working until the new one is first used
    (see `central.services.principals`). Unused credentials from an earlier
    rotation of the same credential are revoked: only the newest counts.
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        session.execute(
            update(SiteCredential)
            .where(
                SiteCredential.rotated_from_id == principal.credential_id,
                SiteCredential.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        token = new_site_token()
        credential = SiteCredential(
            site_id=principal.site_id,
            token_hash=token_hash(token),
            revoked_at=None,
            rotated_from_id=principal.credential_id,
            created_at=now,
            created_by=principal.actor,
        )
        session.add(credential)
        audit(
            session,
            occurred_at=now,
            actor=principal.actor,
            action="site.rotate_credential",
            entity=credential,
            site_id=principal.site_id,
            request_id=request_id,
        )
        return CredentialIssued(credential=token, credential_id=credential.id, issued_at=now)


def revoke_site(hub: Hub, site_code: str, *, actor: str) -> int:
    """Revoke every credential of the site and void its unused codes, at once.

    Returns how many credentials were revoked. The site must enrol again with
    a new code. Raises `central.services.sites.UnknownSite`.
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        site = site_by_code(session, site_code)
        revoked = _revoke_credentials(session, site.id, now)
        _void_open_codes(session, site.id, now)
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="site.revoke",
            entity=site,
            site_id=site.id,
            after={"credentials_revoked": revoked},
        )
        return revoked


def reissue_site(hub: Hub, site_code: str, *, actor: str) -> tuple[int, IssuedCode]:
    """Revoke the site's credentials at once and issue a new enrolment code.

    For a credential that may have leaked: the old one stops working now and
    the site enrols again with the code. Returns (credentials revoked, code).
    """
    now = hub.clock.now()
    with hub.sessions() as session, session.begin():
        site = site_by_code(session, site_code)
        if not site.active:
            raise AccountInactive()
        revoked = _revoke_credentials(session, site.id, now)
        _void_open_codes(session, site.id, now)
        audit(
            session,
            occurred_at=now,
            actor=actor,
            action="site.revoke",
            entity=site,
            site_id=site.id,
            after={"credentials_revoked": revoked},
        )
        return revoked, _new_code(session, site, hub, now, actor)
