"""The walk-in form: register a person who has no appointment here today, and book them.

The dialog collects what `app.services.walk_in.book_walk_in` needs: the
person (JMBG or foreign document, names, municipality, priority group) and
the product. It checks nothing clinical itself: the service enforces
eligibility and capacity and its refusal (with reasons) is shown by the main
window. A person the site already knows comes in pre-filled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.check_in import CheckInCandidate
from app.services.walk_in import WalkInPerson
from app.ui.text import current_language, language_changed, tr
from domain.conditions import LocalizedName


@dataclass(frozen=True)
class WalkInRequest:
    """The person and the product the desk asks to book today."""

    person: WalkInPerson
    product_id: str


@dataclass(frozen=True)
class WalkInChoices:
    """What the form offers: products (id, name) and priority groups (code, name)."""

    products: tuple[tuple[str, str], ...]
    groups: tuple[tuple[str, LocalizedName], ...]


class WalkInDialog(QDialog):
    """Fill in a walk-in; `request()` gives the `WalkInRequest` once accepted."""

    def __init__(
        self,
        candidate: CheckInCandidate | None,
        typed: str | None,
        choices: WalkInChoices,
        *,
        municipality_code: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._choices = choices
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.jmbg = QLineEdit(self)
        self.jmbg.setObjectName("walkInJmbg")
        self.jmbg.setMaxLength(13)
        self.foreign_document = QLineEdit(self)
        self.given_name = QLineEdit(self)
        self.given_name.setObjectName("walkInGivenName")
        self.family_name = QLineEdit(self)
        self.family_name.setObjectName("walkInFamilyName")
        self.municipality = QLineEdit(self)
        self.municipality.setObjectName("walkInMunicipality")
        self.municipality.setText(municipality_code)
        self.group = QComboBox(self)
        self.group.setObjectName("walkInGroup")
        for code, _name in choices.groups:
            self.group.addItem("", code)
        self.product = QComboBox(self)
        self.product.setObjectName("walkInProduct")
        for product_id, name in choices.products:
            self.product.addItem(name, product_id)
        self.phone = QLineEdit(self)

        if candidate is not None:
            citizen = candidate.citizen
            self.given_name.setText(citizen.given_name)
            self.family_name.setText(citizen.family_name)
            index = self.group.findData(citizen.priority_group)
            if index >= 0:
                self.group.setCurrentIndex(index)
        if typed and typed.isdigit():
            self.jmbg.setText(typed)

        self.form = QFormLayout()
        self._labels = [QLabel(self) for _ in range(8)]
        fields: list[QWidget] = [
            self.jmbg,
            self.foreign_document,
            self.given_name,
            self.family_name,
            self.municipality,
            self.group,
            self.product,
            self.phone,
        ]
        for label, field_widget in zip(self._labels, fields, strict=True):
            self.form.addRow(label, field_widget)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)
        language_changed.connect(self.retranslate)
        self.retranslate()

    def request(self) -> WalkInRequest:
        """The form as a booking request (the service validates it)."""
        person = WalkInPerson(
            given_name=self.given_name.text().strip(),
            family_name=self.family_name.text().strip(),
            municipality_code=self.municipality.text().strip(),
            priority_group=str(self.group.currentData() or ""),
            jmbg=self.jmbg.text().strip() or None,
            foreign_document=self.foreign_document.text().strip() or None,
            phone=self.phone.text().strip() or None,
        )
        return WalkInRequest(person, str(self.product.currentData() or ""))

    def retranslate(self, *_: object) -> None:
        language = current_language()
        self.setWindowTitle(tr("ui.main.walk_in.title", "Walk-in"))
        self.intro.setText(
            tr(
                "ui.main.walk_in.intro",
                "Register the person and book them into today's next free slot. Eligibility "
                "is checked when you confirm; the person is checked in at once.",
            )
        )
        labels: Sequence[str] = (
            tr("ui.main.walk_in.jmbg", "JMBG"),
            tr("ui.main.walk_in.foreign_document", "Foreign document (type:country:number)"),
            tr("ui.main.walk_in.given_name", "Given name"),
            tr("ui.main.walk_in.family_name", "Family name"),
            tr("ui.main.walk_in.municipality", "Municipality code"),
            tr("ui.main.walk_in.group", "Priority group"),
            tr("ui.main.walk_in.product", "Vaccine"),
            tr("ui.main.walk_in.phone", "Phone"),
        )
        for label, text in zip(self._labels, labels, strict=True):
            label.setText(text)
        for number, (_code, name) in enumerate(self._choices.groups):
            self.group.setItemText(number, name.in_language(language))
