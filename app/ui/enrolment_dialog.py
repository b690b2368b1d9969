"""First start: enrol this workstation with the hub address and a one-time code.

The dialog calls ``enrol(hub_url, code)`` (`app.services.enrolment.enrol_site`
bound to the store, key box and clock) on the store thread: it makes the
site's signing key, talks to the hub and stores the credential, which takes
a moment and must not freeze the window. A refusal (hub unreachable, wrong,
used or expired code) stays in the dialog, in the current language, and
follows a language switch; the person corrects the field and tries again.

With ``first_sync`` (one sync round), the dialog then fetches the site's
accounts and roster before it closes, so the login that follows has someone
to log in. A failed first sync does not undo the enrolment: the dialog says
so and "Continue" closes it (the client keeps syncing by itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPushButton, QWidget

from app.services.enrolment import EnrolmentResult
from app.ui.dialog_form import default_button, form_layout, message_label
from app.ui.login_dialog import describe_error
from app.ui.tasks import TaskManager
from app.ui.text import language_changed, tr

EnrolFn = Callable[[str, str], EnrolmentResult]
"""``enrol(hub_url, code)``: the enrolled site, or a `DomainError` saying why not."""


class EnrolmentDialog(QDialog):
    """Hub address and one-time code; accepted once enrolled, with `enrolled` set."""

    def __init__(
        self,
        enrol: EnrolFn,
        tasks: TaskManager,
        *,
        first_sync: Callable[[], Any] | None = None,
        hub_url: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._enrol = enrol
        self._tasks = tasks
        self._first_sync = first_sync
        self._error: BaseException | None = None
        self._state = "ready"  # ready | busy | syncing | sync_failed
        self.enrolled: EnrolmentResult | None = None

        self.intro = QLabel(self)
        self.intro.setObjectName("enrolIntro")
        self.intro.setWordWrap(True)
        self.hub_url = QLineEdit(self)
        self.hub_url.setObjectName("enrolHubUrl")
        self.hub_url.setText(hub_url)
        self.code = QLineEdit(self)
        self.code.setObjectName("enrolCode")
        self.code.setMaxLength(64)
        self.message = message_label(self, "enrolMessage")
        self.enrol_button = default_button(self, "enrolButton")
        self.cancel_button = QPushButton(self)
        self.cancel_button.setObjectName("enrolCancelButton")
        self._hub_label = QLabel(self)
        self._code_label = QLabel(self)
        form_layout(
            self,
            [(self._hub_label, self.hub_url), (self._code_label, self.code)],
            [None, self.cancel_button, self.enrol_button],
            above=self.intro,
            message=self.message,
        )

        self.enrol_button.clicked.connect(self.submit)
        self.code.returnPressed.connect(self.submit)
        self.hub_url.returnPressed.connect(self.code.setFocus)
        self.cancel_button.clicked.connect(self.reject)
        language_changed.connect(self.retranslate)
        self.retranslate()
        (self.code if hub_url else self.hub_url).setFocus()

    def submit(self) -> None:
        """Enrol with what is typed (or, after a failed first sync, continue)."""
        if self._state == "sync_failed":
            self.accept()
            return
        if self._state != "ready":
            return
        url, code = self.hub_url.text().strip(), self.code.text().strip()
        self._error = None
        if not url or not code:
            self.message.setText(
                tr(
                    "ui.identity.enrol.missing",
                    "Type the hub address and the one-time code from the enrolment sheet.",
                )
            )
            return
        self._set_state("busy")
        self._tasks.run(lambda: self._enrol(url, code), self._on_enrolled, self._on_refused)

    def _on_enrolled(self, result: EnrolmentResult) -> None:
        self.enrolled = result
        if self._first_sync is None:
            self.accept()
            return
        self._set_state("syncing")
        self._tasks.run(self._first_sync, lambda _report: self.accept(), self._on_sync_failed)

    def _on_refused(self, error: BaseException) -> None:
        self._error = error
        self._set_state("ready")
        self.code.setFocus()

    def _on_sync_failed(self, error: BaseException) -> None:
        self._error = error
        self._set_state("sync_failed")

    def _set_state(self, state: str) -> None:
        self._state = state
        editable = state == "ready"
        self.hub_url.setEnabled(editable)
        self.code.setEnabled(editable)
        self.enrol_button.setEnabled(state in ("ready", "sync_failed"))
        self.cancel_button.setEnabled(editable)
        self.retranslate()

    def retranslate(self, *_: object) -> None:
        self.setWindowTitle(tr("ui.identity.enrol.title", "Enrol this workstation"))
        self.intro.setText(
            tr(
                "ui.identity.enrol.intro",
                "This workstation is not enrolled yet. Type the hub address and the one-time "
                "code from the enrolment sheet the central help desk gave you.",
            )
        )
        self._hub_label.setText(tr("ui.identity.enrol.hub", "Hub address"))
        self._code_label.setText(tr("ui.identity.enrol.code", "Enrolment code"))
        self.cancel_button.setText(tr("ui.identity.cancel", "Cancel"))
        if self._state == "sync_failed":
            self.enrol_button.setText(tr("ui.identity.enrol.continue", "Continue"))
        else:
            self.enrol_button.setText(tr("ui.identity.enrol.button", "Enrol"))
        site = self.enrolled.site_code if self.enrolled is not None else ""
        if self._state == "busy":
            self.message.setText(tr("ui.identity.enrol.busy", "Enrolling with the hub…"))
        elif self._state == "syncing":
            self.message.setText(
                tr(
                    "ui.identity.enrol.syncing",
                    "Enrolled as site {site}. Fetching the site's accounts and roster…",
                    site=site,
                )
            )
        elif self._state == "sync_failed" and self._error is not None:
            self.message.setText(
                tr(
                    "ui.identity.enrol.sync_failed",
                    "Enrolled as site {site}, but the first sync did not finish: {reason} "
                    "Press Continue; the workstation keeps trying by itself.",
                    site=site,
                    reason=describe_error(self._error),
                )
            )
        elif self._error is not None:
            self.message.setText(describe_error(self._error))
        else:
            self.message.clear()
