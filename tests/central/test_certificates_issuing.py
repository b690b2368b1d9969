"""``imuno-hub cert`` issues, re-issues and revokes; ``imuno-cert verify`` judges the result.

Runs on SQLite and PostgreSQL (``rows`` over ``central_db_url``); the
commands run in the test process through typer's runner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdfium2
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from central.cert_cli import app as cert_cli
from central.certificates.authority import CertificateAuthority
from central.certificates.lists import revocation_list, trust_list
from central.certificates.qr_input import read_qr_text
from central.certificates.settings import CertificateSettings
from central.cli import app as hub_cli
from central.db import Citizen, DoseRecord, IssuedCertificate, Lot, Site, SiteUser
from tests.central.conftest import Rows

runner = CliRunner()
sqlite_only = pytest.mark.parametrize("central_db_url", ["sqlite"], indirect=True)
"""For behaviour that does nothing engine-specific: SQLite alone keeps the suite quick."""


@dataclass
class World:
    db_url: str
    folder: Path
    sessions: sessionmaker[Session]
    jmbg: str
    rows: Rows
    second_dose: DoseRecord

    def hub(self, *args: str) -> str:
        result = runner.invoke(hub_cli, [*args, "--db", self.db_url])
        assert result.exit_code == 0, result.output
        return result.stdout

    def save_lists(self, name: str = "lists") -> Path:
        """The trust and revocation lists as a verifier would have saved them."""
        folder = self.folder / name
        folder.mkdir(exist_ok=True)
        authority = CertificateAuthority(_settings(self.folder))
        now = datetime.now(UTC)
        with self.sessions() as session, session.begin():
            (folder / "trust-list.cbor").write_bytes(trust_list(session, authority, now).data)
            (folder / "revocations.cbor").write_bytes(revocation_list(session, authority, now).data)
            csca = authority.csca(session, now, create=False).csca
        (folder / "csca.der").write_bytes(csca.certificate_der)
        return folder

    def verify(self, source: str, lists: Path, *extra: str) -> tuple[int, str]:
        result = runner.invoke(
            cert_cli,
            [
                "verify", source,
                "--trustlist", str(lists / "trust-list.cbor"),
                "--revocations", str(lists / "revocations.cbor"),
                "--csca", str(lists / "csca.der"),
                *extra,
            ],
        )  # fmt: skip
        return result.exit_code, result.output


def _settings(folder: Path) -> CertificateSettings:
    return CertificateSettings(
        csca_key=folder / "csca-key.pem", signer_key=folder / "hub-signer-key.pem"
    )


@pytest.fixture
def world(
    migrated_url: str,
    rows: Rows,
    db_sessions: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> World:
    monkeypatch.setenv("IMUNO_HUB_CSCA_KEY", str(tmp_path / "csca-key.pem"))
    monkeypatch.setenv("IMUNO_HUB_SIGNER_KEY", str(tmp_path / "hub-signer-key.pem"))
    site = rows.site(name="Dom zdravlja Novi Sad")
    nurse = rows.nurse(site)
    lot = rows.lot(lot_number="FA4598")
    citizen = rows.citizen()
    first = rows.dose(citizen, site, nurse, lot)
    second = rows.dose(
        citizen, site, nurse, lot, dose_number=2,
        administered_at=first.administered_at + timedelta(days=21),
    )  # fmt: skip
    rows.session.commit()
    return World(migrated_url, tmp_path, db_sessions, citizen.jmbg, rows, second)


def _issue(world: World, *extra: str) -> tuple[str, Path]:
    pdf = world.folder / f"cert-{len(list(world.folder.glob('cert-*')))}.pdf"
    out = world.hub("cert", "issue", world.jmbg, "--out", str(pdf), *extra)
    return out.strip().splitlines()[-1], pdf


def test_an_issued_pdf_verifies_and_is_not_valid_once_revoked(world: World) -> None:
    uvci, pdf = _issue(world)
    assert re.fullmatch(r"URN:UVCI:01:RS:HUB/[0-9A-Z]{25}#.", uvci)

    code, output = world.verify(str(pdf), world.save_lists("before"))
    assert code == 0, output
    assert output.rstrip().endswith("VALID")
    assert "Petrović Đorđe (PETROVIC<<DORDE)" in output
    assert "1950-01-01" in output
    assert "dose 2 of 2, Comirnaty (EU/1/20/1528), 2021-03-22" in output
    assert uvci in output

    assert "revoked" in world.hub("cert", "revoke", uvci, "--reason", "issued in error")
    code, output = world.verify(str(pdf), world.save_lists("after"), "--language", "sr-Latn")
    assert code == 1
    assert "NIJE VAŽEĆI" in output
    assert "opozvan" in output


def test_issuing_again_reprints_and_a_corrected_name_revokes_the_old_uvci(world: World) -> None:
    first, _ = _issue(world)
    reprint, _ = _issue(world, "--language", "sr-Cyrl")
    assert reprint == first

    with world.sessions() as session, session.begin():
        citizen = session.scalars(select(Citizen).where(Citizen.jmbg == world.jmbg)).one()
        citizen.last_name_latin, citizen.last_name_cyrillic = "Petrović-Jović", "Петровић-Јовић"
    corrected, pdf = _issue(world)

    assert corrected != first
    with world.sessions() as session:
        rows = {row.uvci: row for row in session.scalars(select(IssuedCertificate))}
    assert rows[first].revocation_reason == f"superseded by {corrected}"
    assert rows[corrected].revoked_at is None
    lists = world.save_lists()
    old_code, _ = world.verify(str(world.folder / "cert-0.pdf"), lists)
    new_code, output = world.verify(str(pdf), lists)
    assert (old_code, new_code) == (1, 0)
    assert "Petrović-Jović" in output


@sqlite_only
def test_an_image_of_the_qr_code_verifies_and_stale_lists_are_reported(world: World) -> None:
    _, pdf = _issue(world)
    document = pypdfium2.PdfDocument(pdf.read_bytes())
    image = world.folder / "photo.png"
    document[0].render(scale=2).to_pil().save(image)
    document.close()
    lists = world.save_lists()
    later = (datetime.now(UTC) + timedelta(days=3, hours=2)).isoformat()

    code, output = world.verify(str(image), lists, "--at", later)

    assert code == 0, output
    assert "Trust list #1" in output
    assert "3 days 2 h old" in output
    assert "WARNING: the trust list is older than 24 hours" in output


@sqlite_only
def test_tampered_qr_text_and_unusable_input(world: World) -> None:
    _, pdf = _issue(world)
    lists = world.save_lists()
    text = read_qr_text(str(pdf))
    position = len(text) // 2
    tampered = text[:position] + ("A" if text[position] != "A" else "B") + text[position + 1 :]

    code, output = world.verify(tampered, lists)
    missing, _ = world.verify(str(world.folder / "nope.png"), lists)
    no_lists = runner.invoke(cert_cli, ["verify", text])

    assert code == 1
    assert "NOT VALID" in output
    assert missing == 2
    assert no_lists.exit_code == 2


@sqlite_only
def test_init_csca_is_idempotent_and_refuses_a_lost_key(world: World) -> None:
    created = world.hub("cert", "init-csca")
    again = world.hub("cert", "init-csca")
    assert "CSCA created" in created
    assert "CSCA exists" in again
    assert created.splitlines()[1:] == again.splitlines()[1:]

    (world.folder / "csca-key.pem").unlink()
    result = runner.invoke(hub_cli, ["cert", "init-csca", "--db", world.db_url])
    assert result.exit_code == 1
    assert "missing" in result.output


@sqlite_only
def test_a_retracted_dose_revokes_its_certificate_and_the_earlier_dose_is_certified(
    world: World,
) -> None:
    for_second, _ = _issue(world)
    wrong = world.second_dose
    world.rows.dose(
        world.rows.session.get_one(Citizen, wrong.citizen_id),
        world.rows.session.get_one(Site, wrong.site_id),
        world.rows.session.get_one(SiteUser, wrong.nurse_id),
        world.rows.session.get_one(Lot, wrong.lot_id),
        kind="retraction", voids_dose_id=wrong.id, correction_reason="wrong person",
        dose_number=2, administered_at=wrong.administered_at,
    )  # fmt: skip
    world.rows.session.commit()

    for_first, pdf = _issue(world)
    code, output = world.verify(str(pdf), world.save_lists())

    assert for_first != for_second
    assert code == 0, output
    assert "dose 1 of 2" in output
    assert world.verify(str(world.folder / "cert-0.pdf"), world.save_lists("again"))[0] == 1


def test_a_revoked_signer_leaves_the_trust_list_and_its_certificates_fail(world: World) -> None:
    _, pdf = _issue(world)
    code, output = world.verify(str(pdf), world.save_lists("before"))
    assert code == 0, output
    kid = re.search(r"key id ([0-9a-f]{16})", output)
    assert kid is not None

    world.hub("cert", "revoke-signer", kid.group(1), "--reason", "workstation stolen")
    code, output = world.verify(str(pdf), world.save_lists("after"))

    assert code == 1
    assert "Trust list #2" in output
    assert "not on the trust list" in output
    again = runner.invoke(
        hub_cli, ["cert", "revoke-signer", kid.group(1), "--reason", "x", "--db", world.db_url]
    )
    assert again.exit_code == 1
    assert "already revoked" in again.output
    refused = runner.invoke(hub_cli, ["cert", "issue", world.jmbg, "--db", world.db_url])
    assert refused.exit_code == 1
    assert "revoked signer certificate" in refused.output

    (world.folder / "hub-signer-key.pem").rename(world.folder / "compromised.pem")
    _, reissued = _issue(world)
    code, output = world.verify(str(reissued), world.save_lists("renewed"))
    assert code == 0, output
    assert "Trust list #3" in output
