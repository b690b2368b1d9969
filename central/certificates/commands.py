"""``imuno-hub cert``: the country signing CA, certificates issued at the hub, revocation.

Commands (each takes ``--db`` like every ``imuno-hub`` command and migrates
the database first):

- ``init-csca``: create the CSCA key and certificate unless they exist
  (idempotent) and print its key id and SHA-256 fingerprint, which the
  ministry publishes so verifiers can pin the certificate;
- ``issue JMBG [--out FILE.pdf] [--language ...]``: issue (or reprint) the
  citizen's certificate from the doses the hub holds, write the PDF, print
  the UVCI and any UVCIs it superseded (`central.certificates.issuing`);
- ``revoke UVCI --reason TEXT``;
- ``revoke-signer KEY_ID --reason TEXT``: take a document signer (a site's
  leaked key) off the trust list (`central.certificates.signers`).

Errors a person can fix print one line to stderr and exit 1; usage mistakes exit 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from central.cli_support import DbOption, open_hub, operator

if TYPE_CHECKING:
    pass

LanguageName = Literal["sr-Latn", "sr-Cyrl", "en"]

cert_app = typer.Typer(
    help="Vaccination certificates: the signing CA, issuing, revoking.", no_args_is_help=True
)


@cert_app.command("init-csca")
def init_csca(db: DbOption = None) -> None:
    """Create the country signing CA (key file + certificate) unless it exists."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    from central.certificates.authority import CertificateAuthority, kid_text

    authority = CertificateAuthority()
    existed = authority.settings.csca_key.exists()
    with open_hub(db) as hub, hub.sessions() as session, session.begin():
        csca = authority.csca(session, hub.clock.now(), create=True).csca
    certificate = x509.load_der_x509_certificate(csca.certificate_der)
    state = "exists" if existed else "created"
    typer.echo(f"CSCA {state}: {certificate.subject.rfc4514_string()}")
    typer.echo(f"  key id:      {kid_text(csca.certificate_der)}")
    typer.echo(f"  SHA-256:     {certificate.fingerprint(hashes.SHA256()).hex(':').upper()}")
    typer.echo(
        f"  valid:       {certificate.not_valid_before_utc:%Y-%m-%d} to "
        f"{certificate.not_valid_after_utc:%Y-%m-%d}"
    )
    typer.echo(f"  key file:    {authority.settings.csca_key} (keep a backup offline)")


@cert_app.command("issue")
def issue(
    jmbg: Annotated[str, typer.Argument(help="The citizen's national id (JMBG).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="PDF file to write [certificate-JMBG.pdf].")
    ] = None,
    language: Annotated[
        LanguageName, typer.Option("--language", help="Language of the PDF.")
    ] = "sr-Latn",
    db: DbOption = None,
) -> None:
    """Issue (or reprint) a citizen's certificate from the doses the hub holds."""
    from central.certificates.authority import CertificateAuthority
    from central.certificates.issuing import issue_certificate

    target = out or Path(f"certificate-{jmbg.strip()}.pdf")
    with open_hub(db) as hub:
        issued = issue_certificate(
            hub, CertificateAuthority(), jmbg, language=language, actor=operator()
        )
    target.write_bytes(issued.pdf)
    typer.echo(issued.uvci)
    kind = "reprinted" if issued.reprint else "issued"
    typer.echo(f"certificate {kind}: {target}", err=True)
    for uvci in issued.revoked:
        typer.echo(f"revoked (superseded): {uvci}", err=True)


@cert_app.command("revoke")
def revoke(
    uvci: Annotated[str, typer.Argument(help="The certificate's UVCI.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is revoked (recorded).")],
    db: DbOption = None,
) -> None:
    """Revoke a certificate; it is on the next revocation list."""
    from central.certificates.issuing import revoke_certificate

    if not reason.strip():
        raise typer.BadParameter("give a reason", param_hint="--reason")
    with open_hub(db) as hub:
        revoke_certificate(hub, uvci.strip(), reason=reason.strip(), actor=operator())
    typer.echo(f"revoked {uvci.strip()}")


@cert_app.command("revoke-signer")
def revoke_signer_command(
    key_id: Annotated[str, typer.Argument(help="The signer's key id (hex or base64).")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is revoked (recorded).")],
    db: DbOption = None,
) -> None:
    """Revoke a document signer: it leaves the trust list, and all it signed stops verifying."""
    from central.certificates.signers import revoke_signer

    if not reason.strip():
        raise typer.BadParameter("give a reason", param_hint="--reason")
    with open_hub(db) as hub:
        row = revoke_signer(hub, key_id, reason=reason.strip(), actor=operator())
    typer.echo(f"revoked signer {row.key_id}; certificates it signed no longer verify")
