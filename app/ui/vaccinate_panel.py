"""The vaccination panel: the scanned vial's check, in green or red, and recording the dose.

After a check-in the panel names the person and the dose due. A vial scan
ends up here as a `VialCheck` (`show_check`): product, lot, expiry, serial,
then either green ("go ahead", with any warnings to read out) or red, with
every refusal telling the nurse what to do. On green, Enter or one click on
"Record dose" emits ``record_requested(label, injection_site)``; the recorded
dose is shown (`show_recorded`) with a "Void" button for a site manager
(``void_requested(dose_id)``). Nothing here reads or writes the store.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.services.check_in import CheckInCandidate
from app.services.vaccinate import InjectionSite, RecordedDose, VialCheck
from app.services.voids import VoidedDose
from app.ui.text import current_language, language_changed, tr, translate_error
from app.ui.times import hm
from domain.gs1 import Gs1Label

_GREEN = "background: #d9f2dd; color: #0d4d1a; padding: 8px; border-radius: 4px;"
_RED = "background: #fbdada; color: #7a0010; padding: 8px; border-radius: 4px;"
_NEUTRAL = "padding: 8px;"


def injection_site_text(site: InjectionSite) -> str:
    return {
        InjectionSite.LEFT_DELTOID: lambda: tr("ui.main.site.left_deltoid", "Left upper arm"),
        InjectionSite.RIGHT_DELTOID: lambda: tr("ui.main.site.right_deltoid", "Right upper arm"),
        InjectionSite.LEFT_THIGH: lambda: tr("ui.main.site.left_thigh", "Left thigh"),
        InjectionSite.RIGHT_THIGH: lambda: tr("ui.main.site.right_thigh", "Right thigh"),
    }[site]()


class VaccinatePanel(QWidget):
    """Shows the vial check for the checked-in person and records the dose."""

    record_requested = Signal(object, str)
    void_requested = Signal(object)

    def __init__(
        self,
        *,
        can_void: bool,
        product_names: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._product_names = dict(product_names or {})
        self._can_void = can_void
        self._patient: CheckInCandidate | None = None
        self._check: VialCheck | None = None
        self._label: Gs1Label | None = None
        self._recorded: RecordedDose | None = None
        self._voided: VoidedDose | None = None
        self._error: str | None = None

        self.title = QLabel(self)
        self.title.setStyleSheet("font-size: 14pt; font-weight: bold;")
        self.patient_label = QLabel(self)
        self.patient_label.setObjectName("vaccinatePatient")
        self.result = QLabel(self)
        self.result.setObjectName("vialResult")
        self.result.setWordWrap(True)
        # The verdict is what the nurse must read: it takes the spare height, top-aligned,
        # so a long refusal is never cut to one line.
        self.result.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.result.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.site_label = QLabel(self)
        self.injection_site = QComboBox(self)
        self.injection_site.setObjectName("injectionSite")
        for site in InjectionSite:
            self.injection_site.addItem("", site.value)
        self.record_button = QPushButton(self)
        self.record_button.setObjectName("recordDose")
        # Enter on the focused button records: autoDefault is off outside dialogs.
        self.record_button.setAutoDefault(True)
        self.record_button.clicked.connect(self._record)
        self.void_button = QPushButton(self)
        self.void_button.setObjectName("voidDose")
        self.void_button.clicked.connect(self._void)

        site_row = QHBoxLayout()
        site_row.addWidget(self.site_label)
        site_row.addWidget(self.injection_site, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.void_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.patient_label)
        layout.addLayout(site_row)
        layout.addLayout(buttons)
        layout.addWidget(self.result, 1)
        language_changed.connect(self.retranslate)
        self.retranslate()

    # -- state -----------------------------------------------------------------------------

    @property
    def check(self) -> VialCheck | None:
        return self._check

    @property
    def recorded(self) -> RecordedDose | None:
        return self._recorded

    def set_can_void(self, can_void: bool) -> None:
        """Whether the person now logged in may void (a site manager)."""
        self._can_void = can_void
        self.retranslate()

    def set_patient(self, candidate: CheckInCandidate | None) -> None:
        """The person a vial scan is now for (None: nobody checked in)."""
        self._patient = candidate
        self._check = None
        self._label = None
        self._error = None
        if candidate is not None:
            self._recorded = None
            self._voided = None
        self.retranslate()

    def show_check(self, check: VialCheck, label: Gs1Label) -> None:
        self._check = check
        self._label = label
        self._error = None
        self.retranslate()
        if check.ok:
            self.record_button.setFocus()

    def show_error(self, message: str) -> None:
        self._error = message
        self._check = None
        self.retranslate()

    def show_recorded(self, recorded: RecordedDose) -> None:
        self._recorded = recorded
        self._voided = None
        self._check = None
        self._label = None
        self._error = None
        self.retranslate()

    def show_voided(self, voided: VoidedDose) -> None:
        self._voided = voided
        self.retranslate()

    def selected_site(self) -> InjectionSite:
        return InjectionSite(self.injection_site.currentData())

    # -- rendering -------------------------------------------------------------------------

    def retranslate(self, *_: object) -> None:
        self.title.setText(tr("ui.main.vaccinate.title", "Vaccination"))
        self.site_label.setText(tr("ui.main.vaccinate.injection_site", "Injection site:"))
        for number, site in enumerate(InjectionSite):
            self.injection_site.setItemText(number, injection_site_text(site))
        self.record_button.setText(tr("ui.main.vaccinate.record", "Record dose (Enter)"))
        self.void_button.setText(tr("ui.main.vaccinate.void", "Void this record…"))
        patient = self._patient
        if patient is not None and patient.appointment is not None:
            citizen = patient.citizen
            booked = patient.appointment
            self.patient_label.setText(
                tr(
                    "ui.main.vaccinate.for",
                    "For {name}: dose {dose} ({product}). Scan the vial.",
                    name=f"{citizen.family_name} {citizen.given_name}",
                    dose=booked.dose_number,
                    product=self._product_names.get(booked.product_code, booked.product_code),
                )
            )
        else:
            self.patient_label.setText(
                tr("ui.main.vaccinate.nobody", "Nobody is checked in. Check a person in first.")
            )
        ready = self._check is not None and self._check.ok and self._label is not None
        self.record_button.setEnabled(ready)
        self.injection_site.setEnabled(ready)
        can_void = self._can_void and self._recorded is not None and self._voided is None
        self.void_button.setVisible(can_void)
        if self._error is not None:
            self._set_result(self._error, _RED)
        elif self._check is not None:
            self._set_result(*self._check_text(self._check))
        elif self._recorded is not None:
            self._set_result(*self._recorded_text(self._recorded))
        else:
            self._set_result("", _NEUTRAL)

    def _check_text(self, check: VialCheck) -> tuple[str, str]:
        language = current_language()
        lines = [
            tr(
                "ui.main.vaccinate.label",
                "{product} · lot {lot} · expires {expiry} · serial {serial}",
                product=check.product_name or check.gtin,
                lot=check.lot_number or "—",
                expiry=f"{check.expiry_date:%d.%m.%Y}" if check.expiry_date else "—",
                serial=check.serial or "—",
            )
        ]
        if check.ok:
            lines.insert(0, tr("ui.main.vaccinate.ok", "✔ Right vial. Record the dose."))
            if check.warnings:
                lines.append(tr("ui.main.check_in.warnings", "Read out before vaccinating:"))
                lines.extend(f"• {reason.text(language)}" for reason in check.warnings)
            return "\n".join(lines), _GREEN
        lines.insert(0, tr("ui.main.vaccinate.refused", "✘ Do not use this vial:"))
        lines.extend(f"• {translate_error(refusal)}" for refusal in check.refusals)
        return "\n".join(lines), _RED

    def _recorded_text(self, recorded: RecordedDose) -> tuple[str, str]:
        text = tr(
            "ui.main.vaccinate.recorded",
            "✔ Recorded at {time}: dose {dose} of {product}, lot {lot}, {site}. "
            "Doses left in this vial: {left}.",
            time=hm(recorded.administered_at),
            dose=recorded.dose_number,
            product=recorded.product_name,
            lot=recorded.lot_number,
            site=injection_site_text(recorded.injection_site),
            left=recorded.vial_doses_left,
        )
        if recorded.vial_use_by is not None:
            text += " " + tr(
                "ui.main.vaccinate.use_by",
                "Use the vial by {time}.",
                time=hm(recorded.vial_use_by),
            )
        if self._voided is not None:
            text += "\n" + tr("ui.main.vaccinate.voided", "This record has been voided.")
        return text, _GREEN

    def _set_result(self, text: str, style: str) -> None:
        self.result.setText(text)
        self.result.setStyleSheet(style)

    # -- events ----------------------------------------------------------------------------

    def _record(self) -> None:
        if self._check is None or not self._check.ok or self._label is None:
            return
        self.record_button.setEnabled(False)
        self.record_requested.emit(self._label, self.selected_site().value)

    def _void(self) -> None:
        if self._recorded is not None:
            dose_id: uuid.UUID = self._recorded.dose_id
            self.void_requested.emit(dose_id)
