"""``imuno-cert``: check an EU Digital COVID Certificate, online or offline.

::

    imuno-cert fetch --hub https://hub.example --out lists/
    imuno-cert verify certificate.pdf --csca lists/csca.pem \\
        --trustlist lists/trust-list.cbor --revocations lists/revocations.cbor
    imuno-cert verify "HC1:..." --hub https://hub.example --csca lists/csca.pem

INPUT is the QR text (starting ``HC1:``), an image (PNG, JPEG) or a PDF
(`central.certificates.qr_input`). The lists come from saved files (offline)
or straight from a hub (``--hub``); either way they are checked against the
CSCA certificate (``--csca``; with ``--hub`` alone the hub's own is used and
a warning printed). Their age is printed, with a warning past a day.

Prints the holder, date of birth, the dose, the UVCI and the verdict,
``VALID`` or ``NOT VALID`` with the reason (``--language sr-Latn|sr-Cyrl|en``).
Exit status: 0 valid, 1 not valid, 2 a usage error or lists that cannot be
used (the certificate was not judged).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

import typer

from domain.i18n import Language, message, translate

if TYPE_CHECKING:
    from central.certificates.saved_lists import Lists
    from domain.certificates import RevocationList, TrustList

LanguageName = Literal["sr-Latn", "sr-Cyrl", "en"]
STALE_AFTER: Final = timedelta(hours=24)
EXIT_VALID: Final = 0
EXIT_NOT_VALID: Final = 1
EXIT_USAGE: Final = 2

app = typer.Typer(
    name="imuno-cert",
    help="Verify EU Digital COVID Certificates against the hub's signed lists.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

LanguageOption = Annotated[LanguageName, typer.Option("--language", help="Language of the output.")]


def _t(code: str, language: Language, default: str, **params: Any) -> str:
    return translate(f"cert_cli.{code}", language, default, **params)


def _usage(text: str) -> typer.Exit:
    typer.echo(f"imuno-cert: {text}", err=True)
    return typer.Exit(EXIT_USAGE)


def _moment(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            "use ISO 8601, e.g. 2021-06-01T08:00:00+02:00", param_hint="--at"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@app.command()
def fetch(
    hub: Annotated[str, typer.Option("--hub", help="The hub's address, e.g. http://host:8080.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to save the lists in.")],
    csca: Annotated[
        Path | None, typer.Option("--csca", help="Pinned CSCA certificate (PEM or DER).")
    ] = None,
) -> None:
    """Download the trust list and revocation list, check them, save them for offline use."""
    from central.certificates.saved_lists import fetch as fetch_lists
    from central.certificates.saved_lists import read_csca
    from domain.errors import DomainError

    try:
        pinned = read_csca(csca) if csca is not None else None
        lists = fetch_lists(hub, out, pinned_csca=pinned)
    except DomainError as error:
        raise _usage(str(error)) from None
    typer.echo(
        f"saved in {out}: trust list #{lists.trust.sequence} ({len(lists.trust.entries)} "
        f"signers), revocation list #{lists.revocations.sequence} "
        f"({len(lists.revocations.uvcis)} revoked)"
    )


@app.command()
def verify(
    source: Annotated[
        str, typer.Argument(metavar="INPUT", help="QR text (HC1:...), an image or a PDF.")
    ],
    trustlist: Annotated[
        Path | None, typer.Option("--trustlist", help="Saved trust list file.")
    ] = None,
    revocations: Annotated[
        Path | None, typer.Option("--revocations", help="Saved revocation list file.")
    ] = None,
    csca: Annotated[
        Path | None, typer.Option("--csca", help="The pinned CSCA certificate (PEM or DER).")
    ] = None,
    hub: Annotated[
        str | None, typer.Option("--hub", help="Fetch the lists from this hub instead.")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="Validation time, ISO 8601 [now].")] = None,
    language: LanguageOption = "en",
) -> None:
    """Check one certificate and print VALID or NOT VALID with the reason."""
    from central.certificates.errors import NoQrCode
    from central.certificates.qr_input import read_qr_text
    from domain.certificates import CertificateError
    from domain.certificates import verify as verify_certificate
    from domain.errors import DomainError

    when = _moment(at)
    lists = _lists(trustlist, revocations, csca, hub, language)
    _print_list_ages(lists, when, language)
    try:
        qr_text = read_qr_text(source)
    except NoQrCode as error:
        _verdict(False, message(error, language), language)
        raise typer.Exit(EXIT_NOT_VALID) from None
    except DomainError as error:
        raise _usage(message(error, language)) from None
    revoked = lists.revocations.uvcis
    try:
        verified = verify_certificate(qr_text, lists.trust.store(), at=when, revoked_uvcis=revoked)
    except CertificateError as error:
        decoded = getattr(error, "decoded", None)
        if decoded is not None:
            typer.echo(_t("untrusted", language, "As read (not trusted):"))
            _print_content(decoded.claims.hcert, language)
        _verdict(False, message(error, language), language)
        raise typer.Exit(EXIT_NOT_VALID) from None
    _print_content(verified.hcert, language)
    site = next((entry.site for entry in lists.trust.entries if entry.kid == verified.kid), "?")
    typer.echo(
        _t("signed_by", language, "Signed by:      {site} (key id {kid})", site=site,
           kid=verified.kid.hex())
    )  # fmt: skip
    _verdict(True, "", language)


def _lists(
    trustlist: Path | None,
    revocations: Path | None,
    csca: Path | None,
    hub: str | None,
    language: Language,
) -> Lists:
    from central.certificates.errors import CscaNotPinned
    from central.certificates.saved_lists import Lists, download, load_files, read_csca
    from domain.certificates import verify_revocation_list, verify_trust_list
    from domain.errors import DomainError

    try:
        pinned = read_csca(csca) if csca is not None else None
        if hub is not None:
            served_csca, trust_data, revocation_data = download(hub)
            if pinned is None:
                typer.echo(
                    _t(
                        "csca_not_pinned", language,
                        "WARNING: no --csca given: the hub's own CSCA certificate is trusted "
                        "as served. Pin it with --csca for a real check.",
                    ),
                    err=True,
                )  # fmt: skip
            elif served_csca != pinned:
                raise CscaNotPinned(hub=hub, path=str(csca))
            anchor = pinned or served_csca
            return Lists(
                csca_der=anchor,
                trust=verify_trust_list(trust_data, anchor),
                revocations=verify_revocation_list(revocation_data, anchor),
            )
        if trustlist is None or pinned is None or revocations is None:
            raise _usage(
                _t(
                    "lists_needed", language,
                    "give --hub URL, or --trustlist, --revocations and --csca files "
                    "(save them with 'imuno-cert fetch').",
                )
            )  # fmt: skip
        return load_files(pinned, trustlist, revocations)
    except DomainError as error:
        raise _usage(message(error, language)) from None


def _print_list_ages(lists: Lists, when: datetime, language: Language) -> None:
    from central.certificates.saved_lists import describe_age

    signed_lists: tuple[tuple[str, TrustList | RevocationList], ...] = (
        (_t("trust_list", language, "Trust list"), lists.trust),
        (_t("revocation_list", language, "Revocation list"), lists.revocations),
    )
    for name, signed in signed_lists:
        age = describe_age(signed.issued_at, when)
        typer.echo(
            _t(
                "list_age", language, "{name} #{sequence}: issued {issued} UTC, {age}",
                name=name, sequence=signed.sequence,
                issued=f"{signed.issued_at:%Y-%m-%d %H:%M}", age=age,
            )
        )  # fmt: skip
        if when - signed.issued_at > STALE_AFTER:
            typer.echo(
                _t(
                    "stale", language,
                    "WARNING: the {name} is older than {hours} hours: fetch fresh lists "
                    "(imuno-cert fetch) before relying on this check.",
                    name=name.lower(), hours=int(STALE_AFTER.total_seconds() // 3600),
                )
            )  # fmt: skip


def _print_content(hcert: Mapping[str, Any], language: Language) -> None:
    raw_name = hcert.get("nam")
    nam: Mapping[str, Any] = raw_name if isinstance(raw_name, dict) else {}
    name = " ".join(str(part) for part in (nam.get("fn"), nam.get("gn")) if part)
    icao = f"{nam.get('fnt', '')}<<{nam.get('gnt', '')}"
    typer.echo(_t("holder", language, "Holder:         {name} ({icao})", name=name, icao=icao))
    typer.echo(_t("birth", language, "Date of birth:  {dob}", dob=hcert.get("dob", "?")))
    entries = hcert.get("v")
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        entry = entries[0]
        typer.echo(
            _t(
                "dose", language,
                "Vaccination:    dose {dn} of {sd}, {product}, {date} ({country})",
                dn=entry.get("dn", "?"), sd=entry.get("sd", "?"),
                product=_product_name(str(entry.get("mp", "?"))),
                date=entry.get("dt", "?"), country=entry.get("co", "?"),
            )
        )  # fmt: skip
        typer.echo(_t("uvci", language, "UVCI:           {uvci}", uvci=entry.get("ci", "?")))
        typer.echo(_t("issuer", language, "Issuer:         {issuer}", issuer=entry.get("is", "?")))


def _product_name(code: str) -> str:
    from domain.data import available_versions, load_rules

    for version in reversed(available_versions()):
        for product in load_rules(version).catalogue.products:
            if product.dcc.mp == code:
                return f"{product.name} ({code})"
    return code


def _verdict(valid: bool, reason: str, language: Language) -> None:
    if valid:
        typer.echo(_t("valid", language, "VALID"))
    else:
        typer.echo(_t("not_valid", language, "NOT VALID: {reason}", reason=reason))


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
