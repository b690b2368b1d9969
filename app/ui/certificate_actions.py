"""The "Print certificate" action offered after a dose.

`CertificateActions.action` is a `QAction` the vaccination panel (or a
menu) shows once a person has a recorded dose (`set_person`). Triggered, it

1. issues the certificate on the store thread (`issue`, bound by the
   composition root to `app.services.certificates.issue_certificate` with the
   site's signer, store, clock and user: it writes the certificate and its
   outbox row, or finds the same certificate for a reprint);
2. draws the PDF in the current language on the background pool (`render`,
   no database), never on the UI thread;
3. saves it where the nurse chooses (`choose_path`) and, with ``print``,
   sends it to a printer (`print_pdf`).

Results come back as signals: ``saved(Path)``, ``printed()``, and
``failed(str)`` with the error in the current language. Prompts and the
printer are injected so tests run with no dialog.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QAction, QImage, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog, QWidget

from app.services.certificates import IssuedCertificateResult, render_pdf
from app.ui.tasks import TaskManager
from app.ui.text import current_language, language_changed, tr, translate_error
from domain.errors import DomainError
from domain.i18n import Language

Issue = Callable[[uuid.UUID], IssuedCertificateResult]
Render = Callable[[IssuedCertificateResult, Language], bytes]
ChoosePath = Callable[[QWidget | None, str], Path | None]
PrintPdf = Callable[[QWidget | None, bytes], bool]

PRINT_DPI = 300


class CertificateActions(QObject):
    """Issues, draws and saves or prints the certificate of the current person."""

    saved = Signal(object)
    printed = Signal()
    failed = Signal(str)

    def __init__(
        self,
        tasks: TaskManager,
        issue: Issue,
        *,
        render: Render = render_pdf,
        choose_path: ChoosePath | None = None,
        print_pdf: PrintPdf | None = None,
        parent_widget: QWidget | None = None,
    ) -> None:
        super().__init__(parent_widget)
        self._tasks = tasks
        self._issue = issue
        self._render = render
        self._choose_path = choose_path or _ask_where_to_save
        self._print_pdf = print_pdf or print_with_dialog
        self._widget = parent_widget
        self._person: uuid.UUID | None = None
        self.action = QAction(parent_widget)
        self.action.triggered.connect(lambda: self.run(printing=False))
        self.print_action = QAction(parent_widget)
        self.print_action.triggered.connect(lambda: self.run(printing=True))
        self.last: IssuedCertificateResult | None = None
        language_changed.connect(self.retranslate)
        self.retranslate()
        self.set_person(None)

    def set_person(self, citizen_id: uuid.UUID | None) -> None:
        """The person whose certificate the actions make (None: nobody, disabled)."""
        self._person = citizen_id
        self.action.setEnabled(citizen_id is not None)
        self.print_action.setEnabled(citizen_id is not None)

    def retranslate(self, _language: str | None = None) -> None:
        self.action.setText(tr("ui.certs.action.save", "Save certificate (PDF)..."))
        self.print_action.setText(tr("ui.certs.action.print", "Print certificate..."))

    def run(self, *, printing: bool) -> None:
        """Issue the current person's certificate, draw it, then save or print it."""
        person = self._person
        if person is None:
            return
        issue = self._issue
        self.action.setEnabled(False)
        self.print_action.setEnabled(False)
        self._tasks.run(
            lambda: issue(person), lambda issued: self._draw(issued, printing), self._fail
        )

    def _draw(self, issued: IssuedCertificateResult, printing: bool) -> None:
        self.last = issued
        render, language = self._render, current_language()
        self._tasks.run_background(
            lambda: render(issued, language),
            lambda pdf: self._deliver(issued, pdf, printing),
            self._fail,
        )

    def _deliver(self, issued: IssuedCertificateResult, pdf: bytes, printing: bool) -> None:
        self.set_person(self._person)
        if printing:
            if self._print_pdf(self._widget, pdf):
                self.printed.emit()
            return
        suggested = f"{issued.family_name_latin}-{issued.given_name_latin}-certificate.pdf"
        path = self._choose_path(self._widget, suggested.replace(" ", "-"))
        if path is None:
            return
        try:
            path.write_bytes(pdf)
        except OSError as exc:
            self.failed.emit(
                tr(
                    "ui.certs.save_failed",
                    "The certificate could not be saved to {path}: {problem}. "
                    "Choose another folder.",
                    path=str(path),
                    problem=exc.strerror or str(exc),
                )
            )
            return
        self.saved.emit(path)

    def _fail(self, error: BaseException) -> None:
        self.set_person(self._person)
        if not isinstance(error, DomainError):
            raise error
        self.failed.emit(translate_error(error))


def _ask_where_to_save(parent: QWidget | None, suggested: str) -> Path | None:
    name, _ = QFileDialog.getSaveFileName(
        parent, tr("ui.certs.action.save", "Save certificate (PDF)..."), suggested, "PDF (*.pdf)"
    )
    return Path(name) if name else None


def print_with_dialog(parent: QWidget | None, pdf: bytes) -> bool:
    """Ask for a printer and print `pdf`; False when the nurse cancelled."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if QPrintDialog(printer, parent).exec() != QPrintDialog.DialogCode.Accepted:
        return False
    print_pdf_to(printer, pdf)
    return True


def print_pdf_to(printer: QPrinter, pdf: bytes) -> None:
    """Paint each page of `pdf` (rasterised at `PRINT_DPI`) onto `printer`.

    Qt cannot print a PDF file; pdfium draws the pages, keeping the QR code's
    modules sharp at printer resolution.
    """
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    painter = QPainter()
    try:
        if not painter.begin(printer):
            raise OSError("the printer could not be started")
        for index, page in enumerate(document):
            if index:
                printer.newPage()
            bitmap = page.render(scale=PRINT_DPI / 72, grayscale=True)
            pixels = bitmap.to_numpy()
            height, width = pixels.shape[:2]
            image = QImage(
                pixels.tobytes(), width, height, bitmap.stride, QImage.Format.Format_Grayscale8
            )
            target = QRectF(painter.viewport())
            painter.drawImage(target, image)
    finally:
        if painter.isActive():
            painter.end()
        document.close()
