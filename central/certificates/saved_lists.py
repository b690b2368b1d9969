"""The hub's certificate lists as a verifier keeps them: fetched, checked, saved, aged.

``imuno-cert fetch --hub URL --out DIR`` saves three files in DIR:

=====================  ===================================================
``csca.pem``           the country signing CA certificate (pinned: once
                       present, a hub presenting another one is refused)
``trust-list.cbor``    the CSCA-signed trust list, bytes as served
``revocations.cbor``   the CSCA-signed revocation list, bytes as served
=====================  ===================================================

Lists are verified before they are saved, and a list older (by sequence)
than the one already saved is refused, so a replayed old list cannot undo a
revocation. Files are replaced atomically. The age a verifier prints is the
list's own signed ``issued_at``, so copying the files does not make them
look fresh.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from central.certificates.errors import CscaNotPinned, InputUnreadable, ListsUnavailable
from domain.certificates import (
    RevocationList,
    TrustList,
    verify_revocation_list,
    verify_trust_list,
)

CSCA_FILE: Final = "csca.pem"
TRUST_FILE: Final = "trust-list.cbor"
REVOCATION_FILE: Final = "revocations.cbor"
TIMEOUT_S: Final = 30.0


@dataclass(frozen=True)
class Lists:
    """Verified lists and the CSCA certificate (DER) they were checked with."""

    csca_der: bytes
    trust: TrustList
    revocations: RevocationList


def read_csca(path: Path) -> bytes:
    """The CSCA certificate in `path` (PEM or DER) as DER. Raises `InputUnreadable`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputUnreadable(input=str(path), problem=exc.strerror or str(exc)) from exc
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            certificate = x509.load_pem_x509_certificate(data)
        else:
            certificate = x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise InputUnreadable(input=str(path), problem="it is not an X.509 certificate") from exc
    return certificate.public_bytes(serialization.Encoding.DER)


def read_file(path: Path) -> bytes:
    """A saved list's bytes. Raises `InputUnreadable`."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputUnreadable(input=str(path), problem=exc.strerror or str(exc)) from exc


def download(hub_url: str) -> tuple[bytes, bytes, bytes]:
    """(CSCA DER, trust list, revocation list) as the hub serves them, unchecked.

    Raises `ListsUnavailable` when the hub cannot be reached or refuses.
    """
    try:
        with httpx.Client(base_url=hub_url.rstrip("/"), timeout=TIMEOUT_S) as client:
            parts = []
            for path in ("/v1/trustlist/csca", "/v1/trustlist", "/v1/revocations"):
                response = client.get(path)
                if response.status_code != httpx.codes.OK:
                    raise ListsUnavailable(
                        hub=hub_url, problem=f"GET {path} answered {response.status_code}"
                    )
                parts.append(response.content)
    except httpx.HTTPError as exc:
        raise ListsUnavailable(hub=hub_url, problem=str(exc) or type(exc).__name__) from exc
    return parts[0], parts[1], parts[2]


def fetch(hub_url: str, folder: Path, *, pinned_csca: bytes | None = None) -> Lists:
    """Download, verify and save the lists in `folder` (see the module docstring).

    The CSCA is `pinned_csca`, else the one saved in `folder`, else the
    hub's (trusted on first use and saved). Raises `ListsUnavailable`,
    `CscaNotPinned`, or a `SignedListInvalid` for a list that fails its checks
    or is older than the saved one (nothing is saved then).
    """
    served_csca, trust_data, revocation_data = download(hub_url)
    saved_csca_path = folder / CSCA_FILE
    pinned = pinned_csca
    if pinned is None and saved_csca_path.exists():
        pinned = read_csca(saved_csca_path)
    csca = pinned if pinned is not None else served_csca
    if pinned is not None and served_csca != pinned:
        raise CscaNotPinned(hub=hub_url, path=str(saved_csca_path))
    held = load_saved(folder, csca) if (folder / TRUST_FILE).exists() else None
    trust = verify_trust_list(trust_data, csca, min_sequence=held.trust.sequence if held else None)
    revocations = verify_revocation_list(
        revocation_data,
        csca,
        min_sequence=held.revocations.sequence if held else None,
    )
    folder.mkdir(parents=True, exist_ok=True)
    pem = x509.load_der_x509_certificate(csca).public_bytes(serialization.Encoding.PEM)
    _replace(saved_csca_path, pem)
    _replace(folder / TRUST_FILE, trust_data)
    _replace(folder / REVOCATION_FILE, revocation_data)
    return Lists(csca_der=csca, trust=trust, revocations=revocations)


def load_saved(folder: Path, csca_der: bytes) -> Lists:
    """The lists saved in `folder`, verified with `csca_der`."""
    return load_files(csca_der, folder / TRUST_FILE, folder / REVOCATION_FILE)


def load_files(csca_der: bytes, trust_path: Path, revocation_path: Path) -> Lists:
    """Lists from files, verified with `csca_der`. Raises `InputUnreadable` or
    `SignedListInvalid`."""
    trust = verify_trust_list(read_file(trust_path), csca_der)
    revocations = verify_revocation_list(read_file(revocation_path), csca_der)
    return Lists(csca_der=csca_der, trust=trust, revocations=revocations)


def describe_age(issued_at: datetime, now: datetime) -> str:
    """How old a list is, in English words (``3 days 4 hours``; ``in the future``)."""
    age = now - issued_at
    if age < timedelta(0):
        return "from the future: check this computer's clock"
    days, rest = divmod(int(age.total_seconds()), 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h old"
    if hours:
        return f"{hours} h {minutes} min old"
    return f"{minutes} min old"


def _replace(path: Path, content: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
