"""The look the identity dialogs share: fields in a form, a message line, buttons below.

The log-in, lock, change-password and enrolment dialogs are each a few
labelled fields, a word-wrapped line for what went wrong (or what is
happening), and a row of buttons ending in Cancel and the default action.
These helpers build those parts so every dialog lays them out alike; each
dialog still creates its widgets in its own order (that order is the Tab
order) and keeps its own behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def message_label(parent: QWidget, name: str) -> QLabel:
    """The word-wrapped line where the dialog says what went wrong or what it is doing."""
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    return label


def default_button(parent: QWidget, name: str) -> QPushButton:
    """The button Enter presses: the dialog's action."""
    button = QPushButton(parent)
    button.setObjectName(name)
    button.setDefault(True)
    return button


def form_layout(
    parent: QWidget,
    rows: Iterable[tuple[QLabel, QWidget]],
    buttons: Iterable[QWidget | None],
    *,
    above: QWidget | None = None,
    message: QLabel,
) -> QVBoxLayout:
    """Lay out `parent`: `above`, the labelled `rows`, `message`, then `buttons` in a row.

    In `buttons`, ``None`` is the stretch: what comes before it sits on the
    left, what comes after on the right (Cancel, then the default action).
    """
    form = QFormLayout()
    for label, field in rows:
        form.addRow(label, field)
    row = QHBoxLayout()
    for button in buttons:
        if button is None:
            row.addStretch(1)
        else:
            row.addWidget(button)
    layout = QVBoxLayout(parent)
    if above is not None:
        layout.addWidget(above)
    layout.addLayout(form)
    layout.addWidget(message)
    layout.addLayout(row)
    return layout
