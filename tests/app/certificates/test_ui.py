"""The verify screen and the print-certificate action, offscreen, over a real site store."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pypdfium2
import pytest
import zxingcpp
from PySide6.QtGui import QPageSize
from PySide6.QtPrintSupport import QPrinter
from pytestqt.qtbot import QtBot

from app.services.certificates import issue_certificate
from app.services.verification import verify_file, verify_text
from app.ui.certificate_actions import CertificateActions, print_pdf_to
from app.ui.tasks import TaskManager
from app.ui.text import set_language
from app.ui.verify_view import VerifyView
from tests.app.certificates.conftest import CertWorld
from tests.app.sync.world import SiteClient


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[TaskManager]:
    manager = TaskManager()
    yield manager
    manager.shutdown()
    set_language("sr-Latn")


def _person_with_dose(certs: CertWorld, site: SiteClient) -> uuid.UUID:
    citizen = certs.world.hub_citizen(last_name_latin="Nikolić", last_name_cyrillic="Николић")
    certs.world.book(citizen.id, site)
    site.sync()
    site.record_dose(citizen.id)
    return citizen.id


def _qr_texts(pdf: bytes) -> list[str]:
    page = pypdfium2.PdfDocument(pdf)[0]
    bitmap = np.ascontiguousarray(page.render(scale=150 / 72, grayscale=True).to_numpy())
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    return [str(found.text) for found in zxingcpp.read_barcodes(bitmap, formats=formats)]


def test_a_scanned_certificate_is_shown_valid_and_follows_the_language(
    certs: CertWorld, qtbot: QtBot, tasks: TaskManager
) -> None:
    site, signer = certs.enrolled_site("UI-01")
    citizen_id = _person_with_dose(certs, site)
    issued = issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)
    set_language("en")
    view = VerifyView(
        tasks,
        partial(verify_text, site.store, clock=site.clock),
        partial(verify_file, site.store, clock=site.clock),
    )
    qtbot.addWidget(view)

    with qtbot.waitSignal(view.verified) as shown:
        view.verify_text(issued.qr_text + "\r")

    assert shown.args[0].valid
    assert view.banner.text() == "Valid certificate"
    assert view.values["name"].text() == "Nikolić, Ljubica"
    assert view.values["icao"].text() == "NIKOLIC<<LJUBICA"
    assert "Dose 1/2: Comirnaty" in view.values["dose"].text()
    assert view.values["uvci"].text() == issued.uvci
    assert "Trust list no. " in view.values["trust_list"].text()
    set_language("sr-Cyrl")
    assert view.banner.text() == "Важећи сертификат"
    assert "Доза 1/2: Comirnaty" in view.values["dose"].text()


def test_a_forged_scan_is_red_and_its_claims_marked_untrusted(
    certs: CertWorld, qtbot: QtBot, tasks: TaskManager
) -> None:
    site, signer = certs.enrolled_site("UI-02")
    citizen_id = _person_with_dose(certs, site)
    issued = issue_certificate(site.store, signer, citizen_id, clock=site.clock, actor=None)
    other_site, _ = certs.enrolled_site("UI-03")
    set_language("en")
    view = VerifyView(
        tasks,
        partial(verify_text, other_site.store, clock=site.clock),
        partial(verify_file, other_site.store, clock=site.clock),
    )
    qtbot.addWidget(view)

    # UI-03 has never synced since UI-02 enrolled: UI-02's signer is unknown to it.
    with qtbot.waitSignal(view.verified):
        view.verify_text(issued.qr_text)
    assert view.banner.text().startswith("Unknown issuer")
    assert "NOT confirmed" in view._trust_note.text()

    with qtbot.waitSignal(view.verified):
        view.verify_text("HC1:not a certificate")
    assert view.banner.text().startswith("The certificate's QR code was read incompletely")
    assert view.values["name"].text() == ""


def test_a_pdf_opened_from_a_file_is_checked(
    certs: CertWorld, qtbot: QtBot, tasks: TaskManager, tmp_path: Path
) -> None:
    site, signer = certs.enrolled_site("UI-04")
    citizen_id = _person_with_dose(certs, site)
    actions = CertificateActions(
        tasks,
        partial(issue_certificate, site.store, signer, clock=site.clock, actor=None),
        choose_path=lambda _parent, suggested: tmp_path / suggested,
    )
    actions.set_person(citizen_id)
    set_language("sr-Cyrl")

    with qtbot.waitSignal(actions.saved, timeout=20_000) as saved:
        actions.action.trigger()

    path = saved.args[0]
    assert path == tmp_path / "Nikolić-Ljubica-certificate.pdf"
    assert actions.last is not None
    assert _qr_texts(path.read_bytes()) == [actions.last.qr_text]
    view = VerifyView(
        tasks,
        partial(verify_text, site.store, clock=site.clock),
        partial(verify_file, site.store, clock=site.clock),
        choose_file=lambda _parent: path,
    )
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.verified) as shown:
        view._open.click()
    assert shown.args[0].uvci == actions.last.uvci
    assert view.banner.text() == "Важећи сертификат"


def test_print_paints_the_page_with_a_readable_qr(
    certs: CertWorld, qtbot: QtBot, tasks: TaskManager, tmp_path: Path
) -> None:
    site, signer = certs.enrolled_site("UI-05")
    citizen_id = _person_with_dose(certs, site)
    target = tmp_path / "printed.pdf"

    def to_file(_parent: object, pdf: bytes) -> bool:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        print_pdf_to(printer, pdf)
        return True

    actions = CertificateActions(
        tasks,
        partial(issue_certificate, site.store, signer, clock=site.clock, actor=None),
        print_pdf=to_file,
    )
    actions.set_person(citizen_id)
    with qtbot.waitSignal(actions.printed, timeout=30_000):
        actions.print_action.trigger()
    assert actions.last is not None
    assert _qr_texts(target.read_bytes()) == [actions.last.qr_text]


def test_an_error_is_reported_in_the_current_language(
    certs: CertWorld, qtbot: QtBot, tasks: TaskManager
) -> None:
    site, signer = certs.enrolled_site("UI-06")
    citizen = certs.world.hub_citizen(last_name_latin="Bez", last_name_cyrillic="Без")
    certs.world.book(citizen.id, site)
    site.sync()
    actions = CertificateActions(
        tasks, partial(issue_certificate, site.store, signer, clock=site.clock, actor=None)
    )
    actions.set_person(citizen.id)
    set_language("sr-Latn")
    with qtbot.waitSignal(actions.failed) as failed:
        actions.action.trigger()
    assert failed.args[0] == "Ljubica Bez nema evidentiranu dozu, pa nema šta da se potvrdi. " + (
        "Prvo evidentirajte dozu."
    )
    assert actions.action.isEnabled()
