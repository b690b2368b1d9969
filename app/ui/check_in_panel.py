"""The check-in panel: who is at the desk, their appointment today, and whether they may have it.

A scan (JMBG, ID card MRZ, invitation code) or a typed JMBG ends up here as a
`CheckInCandidate` (`show_candidate`), or as an error (`show_error`). The
panel shows the person, today's appointment and eligibility with every
reason (red: do not vaccinate; amber: read out first), and offers

* "Check in" for an open appointment (``check_in_requested(appointment_id)``),
* "Register walk-in" when the person has no appointment here today
  (``walk_in_requested(candidate or None)``).

Typing a JMBG and pressing Enter emits ``jmbg_entered(text)``. The panel
never reads the store itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.services.check_in import CheckedIn, CheckInCandidate
from app.ui.roster_model import status_text
from app.ui.text import current_language, language_changed, tr
from app.ui.times import hm
from domain.appointment_status import AppointmentStatus

_GREEN = "background: #d9f2dd; color: #0d4d1a; padding: 8px; border-radius: 4px;"
_RED = "background: #fbdada; color: #7a0010; padding: 8px; border-radius: 4px;"
_AMBER = "background: #fff4c2; color: #5c4600; padding: 8px; border-radius: 4px;"


class CheckInPanel(QWidget):
    """Find the person, show eligibility, check in or start a walk-in."""

    jmbg_entered = Signal(str)
    check_in_requested = Signal(object)
    walk_in_requested = Signal(object)

    def __init__(
        self, product_names: Mapping[str, str] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._product_names = dict(product_names or {})
        self._candidate: CheckInCandidate | None = None
        self._checked_in: CheckedIn | None = None
        self._error: str | None = None
        #: What the person typed or scanned when nobody was found (for the walk-in form).
        self.last_lookup: str | None = None

        self.title = QLabel(self)
        self.title.setStyleSheet("font-size: 14pt; font-weight: bold;")
        self.entry = QLineEdit(self)
        self.entry.setObjectName("checkInEntry")
        self.entry.setMaxLength(13)
        self.entry.returnPressed.connect(self._entered)
        self.find_button = QPushButton(self)
        self.find_button.setObjectName("checkInFind")
        self.find_button.clicked.connect(self._entered)

        self.person = QLabel(self)
        self.person.setObjectName("checkInPerson")
        self.person.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.appointment = QLabel(self)
        self.appointment.setObjectName("checkInAppointment")
        self.verdict = QLabel(self)
        self.verdict.setObjectName("checkInVerdict")
        self.verdict.setWordWrap(True)
        # Wrapped text must get its full height, not be squeezed to one line.
        self.verdict.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.check_in_button = QPushButton(self)
        self.check_in_button.setObjectName("checkInButton")
        self.check_in_button.clicked.connect(self._check_in)
        self.walk_in_button = QPushButton(self)
        self.walk_in_button.setObjectName("walkInButton")
        self.walk_in_button.clicked.connect(lambda: self.walk_in_requested.emit(self._candidate))

        entry_row = QHBoxLayout()
        entry_row.addWidget(self.entry, 1)
        entry_row.addWidget(self.find_button)
        self.details = QFormLayout()
        self._person_label = QLabel(self)
        self._appointment_label = QLabel(self)
        self.details.addRow(self._person_label, self.person)
        self.details.addRow(self._appointment_label, self.appointment)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_in_button)
        buttons.addWidget(self.walk_in_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(entry_row)
        layout.addLayout(self.details)
        layout.addWidget(self.verdict)
        layout.addLayout(buttons)
        language_changed.connect(self.retranslate)
        self.retranslate()

    # -- state -----------------------------------------------------------------------------

    @property
    def candidate(self) -> CheckInCandidate | None:
        return self._candidate

    @property
    def checked_in(self) -> CheckedIn | None:
        """The check-in done at this desk for the person shown, if any."""
        return self._checked_in

    def clear(self) -> None:
        self._candidate = None
        self._checked_in = None
        self._error = None
        self.last_lookup = None
        self.entry.clear()
        self.retranslate()

    def show_candidate(self, candidate: CheckInCandidate) -> None:
        self._candidate = candidate
        self._checked_in = None
        self._error = None
        self.retranslate()
        if self.check_in_button.isEnabled():
            self.check_in_button.setDefault(True)
            self.check_in_button.setFocus()

    def show_checked_in(self, checked_in: CheckedIn, candidate: CheckInCandidate) -> None:
        self._candidate = candidate
        self._checked_in = checked_in
        self._error = None
        self.retranslate()

    def show_error(self, message: str, *, offer_walk_in: bool = False) -> None:
        """Show why the look-up or check-in failed; optionally offer the walk-in flow."""
        self._candidate = None
        self._checked_in = None
        self._error = message
        self.retranslate()
        self.walk_in_button.setVisible(offer_walk_in)
        self.walk_in_button.setEnabled(offer_walk_in)

    # -- language and rendering ------------------------------------------------------------

    def retranslate(self, *_: object) -> None:
        self.title.setText(tr("ui.main.check_in.title", "Check-in"))
        self.entry.setPlaceholderText(
            tr("ui.main.check_in.entry", "Scan the ID card or invitation, or type the JMBG")
        )
        self.find_button.setText(tr("ui.main.check_in.find", "Find"))
        self._person_label.setText(tr("ui.main.check_in.person", "Person:"))
        self._appointment_label.setText(tr("ui.main.check_in.appointment", "Appointment:"))
        self.check_in_button.setText(tr("ui.main.check_in.button", "Check in"))
        self.walk_in_button.setText(tr("ui.main.check_in.walk_in", "Register walk-in"))
        candidate = self._candidate
        if candidate is None:
            self.person.setText("—")
            self.appointment.setText("—")
            self.check_in_button.setEnabled(False)
            self.walk_in_button.setVisible(False)
            if self._error:
                self._set_verdict(self._error, _RED)
            else:
                self._set_verdict(
                    tr("ui.main.check_in.waiting", "Scan the person's ID card or invitation."),
                    "",
                )
            return
        citizen = candidate.citizen
        cyrillic = current_language() == "sr-Cyrl"
        given = citizen.given_name_cyrillic if cyrillic else citizen.given_name
        family = citizen.family_name_cyrillic if cyrillic else citizen.family_name
        self.person.setText(
            f"{family} {given} · {citizen.jmbg_masked} · {citizen.birth_date:%d.%m.%Y}"
        )
        booked = candidate.appointment
        if booked is None:
            self.appointment.setText(
                tr("ui.main.check_in.no_appointment", "No appointment here today")
            )
            self.check_in_button.setEnabled(False)
            self.walk_in_button.setVisible(True)
            self.walk_in_button.setEnabled(True)
            self._set_verdict(
                tr(
                    "ui.main.check_in.offer_walk_in",
                    "This person has no appointment here today. Register them as a walk-in "
                    "if today has room.",
                ),
                _AMBER,
            )
            return
        self.walk_in_button.setVisible(False)
        self.appointment.setText(
            tr(
                "ui.main.check_in.appointment_line",
                "{time} · {product} · dose {dose} · {status}",
                time=hm(booked.slot_start),
                product=self._product_names.get(booked.product_code, booked.product_code),
                dose=booked.dose_number,
                status=status_text(booked.status),
            )
        )
        open_now = booked.status in (AppointmentStatus.SCHEDULED, AppointmentStatus.NO_SHOW)
        self.check_in_button.setEnabled(open_now and self._checked_in is None)
        self._set_verdict(*self._eligibility_text(candidate))

    def _eligibility_text(self, candidate: CheckInCandidate) -> tuple[str, str]:
        language = current_language()
        booked = candidate.appointment
        assert booked is not None
        lines: list[str] = []
        if self._checked_in is not None or booked.status is AppointmentStatus.CHECKED_IN:
            lines.append(tr("ui.main.check_in.done", "✔ Checked in. Scan the vial to vaccinate."))
        elif booked.status is AppointmentStatus.DONE:
            lines.append(tr("ui.main.check_in.already_done", "This appointment is already done."))
        elif booked.status in (AppointmentStatus.CANCELLED, AppointmentStatus.RESCHEDULED):
            lines.append(
                tr(
                    "ui.main.check_in.closed",
                    "This appointment was {status}: do not vaccinate on it.",
                    status=status_text(booked.status),
                )
            )
        eligibility = candidate.eligibility
        if eligibility is None:
            return "\n".join(lines), _AMBER
        if eligibility.blocking:
            lines.append(
                tr("ui.main.check_in.not_eligible", "✘ Not eligible today. Do not vaccinate:")
            )
            lines.extend(f"• {reason.text(language)}" for reason in eligibility.blocking)
        else:
            lines.append(tr("ui.main.check_in.eligible", "✔ Eligible for this dose today."))
        if eligibility.warnings:
            lines.append(tr("ui.main.check_in.warnings", "Read out before vaccinating:"))
            lines.extend(f"• {reason.text(language)}" for reason in eligibility.warnings)
        style = _RED if eligibility.blocking else (_AMBER if eligibility.warnings else _GREEN)
        return "\n".join(lines), style

    def _set_verdict(self, text: str, style: str) -> None:
        self.verdict.setText(text)
        self.verdict.setStyleSheet(style)

    # -- events ----------------------------------------------------------------------------

    def _entered(self) -> None:
        text = self.entry.text().strip()
        if text:
            self.last_lookup = text
            self.jmbg_entered.emit(text)

    def _check_in(self) -> None:
        candidate = self._candidate
        if candidate is None or candidate.appointment is None:
            return
        appointment_id: uuid.UUID = candidate.appointment.appointment_id
        self.check_in_button.setEnabled(False)
        self.check_in_requested.emit(appointment_id)
