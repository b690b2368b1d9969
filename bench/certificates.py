"""Certificate issuing benchmark: signed certificates + PDF pages per second, one core.

    .venv/bin/python bench/certificates.py                 # 1,000 certificates
    .venv/bin/python bench/certificates.py --count 5000
    .venv/bin/python bench/certificates.py --store         # through the site's service

Each iteration does what a site does when a nurse prints a certificate:
build and validate the DCC payload (ICAO transliteration, UVCI), sign it
(CWT, COSE_Sign1 ES256, zlib, base45) and render the A4 PDF page with its QR
code. The names alternate between Serbian Latin and Cyrillic. Keys, the
signer certificate and fonts are prepared before timing, as at a site that has
been running. The process is pinned to one CPU where the OS allows it, and
the time is CPU time of this process, so other load on the machine changes
the figure less. Also printed: the share of time in each step, and a check
that the last certificate verifies and its QR decodes from the rendered page
(outside the timing). Target: >= 200 certificates per second.

``--store`` times the site's whole use case instead
(`app.services.certificates.issue_certificate` + `render_pdf`): reading the
person and doses from a real site store, signing, writing the certificate and
its outbox row in one transaction (SQLite, WAL, ``synchronous=FULL``), then
the PDF. It reports CPU time and wall time: the commit waits for the disk.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.certificates import (
    CertificateDocument,
    DocumentSigner,
    DoseLine,
    PersonName,
    Vaccination,
    build_payload,
    create_csca,
    create_signer_csr,
    create_signer_key,
    encode_certificate,
    issue_signer_certificate,
    make_uvci,
    render_certificate_pdf,
    verify,
)

TARGET = 200.0
NAMES = (
    PersonName("Đorđević", "Milica"),
    PersonName("Јовановић", "Љубомир"),
    PersonName("Čolić-Šćekić", "Džeraldina Ana"),
    PersonName("Живковић", "Ђурђа"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--store", action="store_true", help="time the site's use case")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if args.store:
        return _store_bench(args.count)

    now = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
    csca = create_csca(now=now - timedelta(days=60))
    key = create_signer_key()
    dsc = issue_signer_certificate(
        create_signer_csr(key, site_code="NS01"),
        csca,
        site_code="NS01",
        now=now - timedelta(days=1),
    )
    signer = DocumentSigner.create(key, dsc)
    ids = [uuid.UUID(int=(0x0179B3D2C8007000 << 64) + n) for n in range(args.count)]

    def issue(n: int) -> tuple[str, bytes, float, float]:
        name = NAMES[n % len(NAMES)]
        start = time.process_time()
        uvci = make_uvci("NS01", ids[n])
        vaccination = Vaccination(
            vaccine="1119349007",
            product="EU/1/20/1528",
            manufacturer="ORG-100030215",
            dose_number=2,
            total_doses=2,
            date=date(2021, 5, 31),
            uvci=uvci,
        )
        hcert = build_payload(name, date(1961, 3, 14), vaccination)
        qr_text = encode_certificate(hcert, signer, issued_at=now)
        signed = time.process_time()
        document = CertificateDocument(
            family_name=name.family,
            given_name=name.given,
            name_icao=f"{name.family_icao}<<{name.given_icao}",
            date_of_birth=date(1961, 3, 14),
            doses=(
                DoseLine(1, 2, "Comirnaty", "EW2243", date(2021, 5, 10), "Dom zdravlja Novi Sad"),
                DoseLine(2, 2, "Comirnaty", "FA4597", date(2021, 5, 31), "Dom zdravlja Novi Sad"),
            ),
            uvci=uvci,
            issuer="Ministarstvo zdravlja Republike Srbije",
            issued_on=now.date(),
            valid_until=date(2022, 6, 1),
        )
        pdf = render_certificate_pdf(document, qr_text, "sr-Latn" if n % 2 else "sr-Cyrl")
        return qr_text, pdf, signed - start, time.process_time() - signed

    for n in range(min(20, args.count)):  # warm-up: font registration, schema compilation
        issue(n)
    signing = rendering = 0.0
    qr_text, pdf = "", b""
    for n in range(args.count):
        qr_text, pdf, sign_s, render_s = issue(n)
        signing += sign_s
        rendering += render_s
    total = signing + rendering
    rate = args.count / total

    verified = verify(qr_text, [dsc], at=now + timedelta(days=1))
    assert verified.uvci is not None
    page_check = _qr_from_pdf(pdf) == qr_text

    print(f"certificates: {args.count}, QR text {len(qr_text)} chars, PDF {len(pdf)} bytes")
    print(f"sign (payload, CWT, COSE, zlib, base45): {signing / args.count * 1000:.2f} ms each")
    print(f"render (QR, PDF page):                   {rendering / args.count * 1000:.2f} ms each")
    print(
        f"signed certificate + PDF page: {rate:.0f} per second on one core (target >= {TARGET:.0f})"
    )
    scanned = "yes" if page_check else "NO"
    print(f"last certificate verifies: yes; its QR decodes from the page: {scanned}")
    return 0 if page_check else 1


def _store_bench(count: int) -> int:
    import tempfile

    from app.local_db.engine import open_site_store
    from app.local_db.models import Citizen, DoseRecord, InjectionSite, Sex, SiteIdentity
    from app.local_db.unit_of_work import session_scope
    from app.services.certificates import issue_certificate, render_pdf
    from domain.clock import FixedClock
    from domain.ids import uuid7

    now = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
    csca = create_csca(now=now - timedelta(days=60))
    key = create_signer_key()
    site_id = uuid7()
    dsc = issue_signer_certificate(
        create_signer_csr(key, site_code="NS-01"), csca, site_code="NS-01", now=now
    )
    signer = DocumentSigner.create(key, dsc)
    with tempfile.TemporaryDirectory() as folder:
        store = open_site_store(Path(folder) / "site.sqlite")
        people: list[uuid.UUID] = []
        with session_scope(store) as session:
            session.add(
                SiteIdentity(
                    site_id=site_id, site_code="NS-01", site_name="Dom zdravlja Novi Sad",
                    municipality_code="80438", hub_url="http://hub.invalid", credential_id="c",
                    credential_secret_sealed=b"-", signer_certificate=dsc,
                    signer_private_key_sealed=None, enrolled_at=now,
                )
            )  # fmt: skip
            for n in range(count + 20):
                name = NAMES[n % len(NAMES)]
                citizen = Citizen(
                    jmbg=f"{n:013d}", given_name_latin="Milica", family_name_latin="Jović",
                    given_name_cyrillic=name.given, family_name_cyrillic=name.family,
                    birth_date=date(1961, 3, 14), sex=Sex.FEMALE, municipality_code="80438",
                    priority_group="general", hlc="0", origin_site_id=site_id, created_at=now,
                )  # fmt: skip
                session.add(citizen)
                session.flush()
                session.add(
                    DoseRecord(
                        citizen_id=citizen.id, product_code="comirnaty", gtin="09520000000011",
                        lot_number="EW2243", dose_number=1, administered_at=now,
                        injection_site=InjectionSite.LEFT_DELTOID, vaccinator_name="Sestra",
                        origin_site_id=site_id, created_at=now, created_by=None,
                    )
                )  # fmt: skip
                people.append(citizen.id)
        clock = FixedClock(now + timedelta(minutes=1))
        for person in people[:20]:  # warm-up
            render_pdf(issue_certificate(store, signer, person, clock=clock, actor=None), "sr-Latn")
        cpu, wall = time.process_time(), time.perf_counter()
        for n, person in enumerate(people[20:]):
            issued = issue_certificate(store, signer, person, clock=clock, actor=None)
            pdf = render_pdf(issued, "sr-Latn" if n % 2 else "sr-Cyrl")
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        store.dispose()
    print(f"site use case (store read, sign, certificate + outbox row committed, PDF): {count}")
    print(f"per second on one core: {count / cpu:.0f} by CPU time, {count / wall:.0f} by wall time")
    return 0 if _qr_from_pdf(pdf) == issued.qr_text else 1


def _qr_from_pdf(pdf: bytes) -> str | None:
    import numpy as np
    import pypdfium2
    import zxingcpp

    page = pypdfium2.PdfDocument(pdf)[0]
    bitmap = page.render(scale=300 / 72, grayscale=True).to_numpy()
    found = zxingcpp.read_barcodes(
        np.ascontiguousarray(bitmap), formats=zxingcpp.barcode_formats_from_str("QRCode")
    )
    return found[0].text if found else None


if __name__ == "__main__":
    raise SystemExit(main())
