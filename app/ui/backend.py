"""What the main window asks of the rest of the client: one use case per method.

`SiteBackend` is the port between the Qt layer and `app.services`: the
composition root (`app.bootstrap.StoreBackend`) implements it by binding the
site store, the clock and the logged-in user to the service functions, so no
widget holds an engine or imports the database. Every method may block on the
disk: call it through `app.ui.tasks.TaskManager.run`, never on the UI thread.
Errors are the services' `DomainError`s, shown with `app.ui.text.translate_error`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Protocol

from app.services.check_in import CheckedIn, CheckInCandidate
from app.services.roster import Roster
from app.services.sync_status import SyncOverview, SyncRoundRow
from app.services.vaccinate import RecordedDose, VialCheck
from app.services.voids import VoidedDose
from app.services.walk_in import WalkInBooked
from app.ui.walk_in_dialog import WalkInChoices, WalkInRequest
from domain.gs1 import Gs1Label
from domain.i18n import Language
from domain.jmbg import Jmbg
from domain.mrz import MrzDocument


class SiteBackend(Protocol):
    """The site's use cases as the logged-in user performs them."""

    @property
    def user_name(self) -> str:
        """The logged-in person's full name."""
        ...

    @property
    def is_manager(self) -> bool:
        """True for a site manager (may void doses)."""
        ...

    def today(self) -> date:
        """Today's calendar day at the site."""
        ...

    def product_names(self) -> Mapping[str, str]:
        """Product code -> name, for display."""
        ...

    def roster(self, day: date) -> Roster:
        """The roster of `day`."""
        ...

    def find_by_jmbg(self, jmbg: Jmbg) -> CheckInCandidate: ...

    def find_by_mrz(self, document: MrzDocument) -> CheckInCandidate: ...

    def find_by_appointment(self, appointment_id: uuid.UUID) -> CheckInCandidate: ...

    def check_in(self, appointment_id: uuid.UUID) -> CheckedIn: ...

    def walk_in_choices(self) -> WalkInChoices:
        """Products and priority groups the walk-in form offers."""
        ...

    def site_municipality(self) -> str:
        """The site's municipality code (the walk-in form's default)."""
        ...

    def walk_in(self, request: WalkInRequest) -> WalkInBooked:
        """Register (if new), book today and check in; refuses the ineligible."""
        ...

    def check_vial(self, appointment_id: uuid.UUID, label: Gs1Label) -> VialCheck:
        """Every check of the scanned vial for this person's dose; nothing written."""
        ...

    def record_dose(
        self, appointment_id: uuid.UUID, label: Gs1Label, injection_site: str
    ) -> RecordedDose:
        """Record the dose (re-checking everything in the same transaction)."""
        ...

    def void_dose(self, dose_id: uuid.UUID, reason: str) -> VoidedDose:
        """A manager voids a wrong dose record with a reason."""
        ...

    def sync_overview(self) -> SyncOverview: ...

    def sync_history(self) -> tuple[SyncRoundRow, ...]: ...

    def print_roster(self, day: date, path: Path, language: Language) -> Path:
        """Write the roster of `day` as a PDF in `language` at `path`; returns the path."""
        ...

    def sync_now(self) -> None:
        """Ask the sync worker for a round now (returns at once)."""
        ...
