"""The verify screen: is this vaccination certificate genuine and in force?

Fed by the scanner (the main window routes every ``HC1:`` scan to
`VerifyView.verify_text`) or by a file (an image or the PDF a person brings,
"Open image or PDF..."). The check runs on the store thread through the
`TaskManager` (it reads the stored lists); the answer is a
`app.services.verification.VerificationReport`, shown as

- a banner: green "valid", red for revoked / tampered / unknown signer /
  expired / unreadable, each saying what to do;
- what the certificate says (name, ICAO name, date of birth, the dose, the
  UVCI, validity), headed "not trusted" unless the signature verified;
- how old the trust and revocation lists are, in amber when older than two
  days (a revocation made since is not known here).

Everything is rebuilt from the last report on a language switch. The view
receives its two verification functions ready-bound to the site store
(the composition root does that), so it holds no engine and no clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.services.verification import ListAge, Status, VerificationReport
from app.ui.tasks import TaskManager
from app.ui.text import language_changed, tr, translate_error
from app.ui.times import local
from domain.errors import DomainError

_GREEN = "background: #d9f2dd; color: #0d4d1a; padding: 10px; border-radius: 4px;"
_RED = "background: #fbdada; color: #7a0010; padding: 10px; border-radius: 4px;"
_AMBER = "color: #7a4a00;"
_PLAIN = "padding: 10px;"

VerifyText = Callable[[str], VerificationReport]
VerifyFile = Callable[[Path], VerificationReport]
ChooseFile = Callable[[QWidget], Path | None]


def status_text(status: Status) -> str:
    """The banner for a verdict, in the current language."""
    texts: dict[Status, Callable[[], str]] = {
        "valid": lambda: tr("ui.certs.status.valid", "Valid certificate"),
        "revoked": lambda: tr(
            "ui.certs.status.revoked",
            "Revoked: this certificate was withdrawn. Do not accept it; the person can get "
            "a new one at any vaccination site.",
        ),
        "expired": lambda: tr(
            "ui.certs.status.expired", "Expired: genuine, but no longer valid. Do not accept it."
        ),
        "not_yet_valid": lambda: tr(
            "ui.certs.status.not_yet_valid",
            "Not yet valid: issued in the future. Check this computer's date and time.",
        ),
        "unknown_signer": lambda: tr(
            "ui.certs.status.unknown_signer",
            "Unknown issuer: its signer is not on the trust list. Do not accept it; "
            "synchronise and check again if the list is old.",
        ),
        "tampered": lambda: tr(
            "ui.certs.status.tampered",
            "Forged or altered: the signature does not match. Do not accept it.",
        ),
        "signer_invalid": lambda: tr(
            "ui.certs.status.signer_invalid",
            "The issuer's signing certificate is not valid for this certificate. Do not accept it.",
        ),
        "invalid_content": lambda: tr(
            "ui.certs.status.invalid_content",
            "The certificate's content breaks the EU format. Do not accept it.",
        ),
        "unreadable": lambda: tr(
            "ui.certs.status.unreadable",
            "Not a readable certificate. Scan the QR code again.",
        ),
    }
    return texts[status]()


def _when(moment: datetime | None) -> str:
    return local(moment).strftime("%d.%m.%Y. %H:%M") if moment is not None else "-"


def _age(age: timedelta) -> str:
    if age < timedelta(hours=1):
        return tr("ui.certs.age.minutes", "{n} min", n=int(age.total_seconds() // 60))
    if age < timedelta(days=2):
        return tr("ui.certs.age.hours", "{n} h", n=int(age.total_seconds() // 3600))
    return tr("ui.certs.age.days", "{n} days", n=age.days)


def list_text(name: str, listed: ListAge | None) -> str:
    """One list's line: its number, when the hub signed it and how old it is."""
    if listed is None:
        return tr(
            "ui.certs.list.missing",
            "{name}: none yet. Synchronise with the hub before checking certificates.",
            name=name,
        )
    return tr(
        "ui.certs.list.age",
        "{name} no. {sequence}, signed {signed} ({age} old)",
        name=name,
        sequence=listed.sequence if listed.sequence is not None else "-",
        signed=_when(listed.issued_at),
        age=_age(listed.age),
    )


class VerifyView(QWidget):
    """Checks certificates from scans and files; see the module docstring."""

    #: A report is shown (tests wait on it).
    verified = Signal(object)

    def __init__(
        self,
        tasks: TaskManager,
        verify_text: VerifyText,
        verify_file: VerifyFile,
        *,
        choose_file: ChooseFile | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._check_text = verify_text
        self._check_file = verify_file
        self._choose_file = choose_file or _ask_for_file
        self._report: VerificationReport | None = None
        self._error: DomainError | None = None

        self._title = QLabel()
        self._title.setStyleSheet("font-size: 16pt; font-weight: bold;")
        self._hint = QLabel()
        self._hint.setWordWrap(True)
        self._open = QPushButton()
        self._open.clicked.connect(self._open_file)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(_PLAIN)
        # A wrapped label must grow to its text's height, never be squeezed.
        self.banner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self._trust_note = QLabel()
        self._trust_note.setStyleSheet("font-weight: bold;")
        self._labels: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        form = QFormLayout()
        for key in ("name", "icao", "dob", "dose", "uvci", "valid", "trust_list", "revocations"):
            label, value = QLabel(), QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._labels[key], self.values[key] = label, value
            form.addRow(label, value)
        top = QHBoxLayout()
        top.addWidget(self._title, 1)
        top.addWidget(self._open)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self._hint)
        layout.addWidget(self.banner)
        layout.addWidget(self._trust_note)
        layout.addLayout(form)
        layout.addStretch(1)
        language_changed.connect(self.retranslate)
        self.retranslate()

    # -- input ---------------------------------------------------------------------------

    def verify_text(self, qr_text: str) -> None:
        """Check a scanned certificate (the text of its QR code)."""
        verify = self._check_text
        self._tasks.run(lambda: verify(qr_text), self._show, self._fail)

    def verify_file(self, path: Path) -> None:
        """Check the certificate in an image or PDF file."""
        verify = self._check_file
        self._tasks.run(lambda: verify(path), self._show, self._fail)

    def _open_file(self) -> None:
        path = self._choose_file(self)
        if path is not None:
            self.verify_file(path)

    # -- output --------------------------------------------------------------------------

    def _show(self, report: VerificationReport) -> None:
        self._report, self._error = report, None
        self._render()
        self.verified.emit(report)

    def _fail(self, error: BaseException) -> None:
        if not isinstance(error, DomainError):
            raise error
        self._report, self._error = None, error
        self._render()
        self.verified.emit(None)

    def retranslate(self, _language: str | None = None) -> None:
        self._title.setText(tr("ui.certs.verify.title", "Check a certificate"))
        self._hint.setText(
            tr(
                "ui.certs.verify.hint",
                "Scan the QR code of a vaccination certificate, or open a picture or PDF of it.",
            )
        )
        self._open.setText(tr("ui.certs.verify.open", "Open image or PDF..."))
        for key, text in (
            ("name", tr("ui.certs.field.name", "Name")),
            ("icao", tr("ui.certs.field.icao", "Name as in passport (ICAO)")),
            ("dob", tr("ui.certs.field.dob", "Date of birth")),
            ("dose", tr("ui.certs.field.dose", "Vaccination")),
            ("uvci", tr("ui.certs.field.uvci", "Certificate identifier (UVCI)")),
            ("valid", tr("ui.certs.field.valid", "Valid")),
            ("trust_list", tr("ui.certs.field.trust_list", "Trust list")),
            ("revocations", tr("ui.certs.field.revocations", "Revocation list")),
        ):
            self._labels[key].setText(text)
        self._render()

    def _render(self) -> None:
        report = self._report
        if self._error is not None:
            self.banner.setText(translate_error(self._error))
            self.banner.setStyleSheet(_RED)
        elif report is None:
            self.banner.setText("")
            self.banner.setStyleSheet(_PLAIN)
        else:
            text = status_text(report.status)
            if report.status == "unreadable" and report.problem is not None:
                # The decoding stage's own message says what to do better than the status.
                text = translate_error(report.problem)
            elif report.problem is not None and report.status not in ("valid", "revoked"):
                text = f"{text}\n{translate_error(report.problem)}"
            self.banner.setText(text)
            self.banner.setStyleSheet(_GREEN if report.valid else _RED)
        self._render_fields(report)

    def _render_fields(self, report: VerificationReport | None) -> None:
        if report is None or report.status == "unreadable":
            self._trust_note.setText("")
            for value in self.values.values():
                value.setText("")
            if report is not None:
                self._render_lists(report)
            return
        self._trust_note.setText(
            ""
            if report.signature_valid
            else tr(
                "ui.certs.untrusted",
                "What the certificate claims (NOT confirmed by a valid signature):",
            )
        )
        self.values["name"].setText(f"{report.family_name}, {report.given_name}".strip(", "))
        self.values["icao"].setText(report.name_icao)
        self.values["dob"].setText(report.date_of_birth or "-")
        dose = report.dose
        self.values["dose"].setText(
            tr(
                "ui.certs.dose",
                "Dose {number}/{total}: {product}, {date}, {country}",
                number=dose.dose_number,
                total=dose.total_doses,
                product=dose.product,
                date=dose.given_on,
                country=dose.country,
            )
            if dose is not None
            else "-"
        )
        self.values["uvci"].setText(report.uvci or "-")
        self.values["valid"].setText(
            tr(
                "ui.certs.validity",
                "from {start} to {end}",
                start=_when(report.issued_at),
                end=_when(report.expires_at),
            )
        )
        self._render_lists(report)

    def _render_lists(self, report: VerificationReport) -> None:
        for key, listed, name in (
            ("trust_list", report.lists.trust_list, tr("ui.certs.list.trust", "Trust list")),
            (
                "revocations",
                report.lists.revocation_list,
                tr("ui.certs.list.revocations", "Revocation list"),
            ),
        ):
            value = self.values[key]
            value.setText(list_text(name, listed))
            value.setStyleSheet(_AMBER if listed is None or listed.stale else "")


def _ask_for_file(parent: QWidget) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(
        parent,
        tr("ui.certs.verify.open", "Open image or PDF..."),
        "",
        tr("ui.certs.verify.filter", "Certificates (*.pdf *.png *.jpg *.jpeg);;All files (*)"),
    )
    return Path(name) if name else None
