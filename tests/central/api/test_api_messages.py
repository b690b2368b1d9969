"""Every refusal of the hub reads in Serbian too, in both scripts."""

from __future__ import annotations

import json
from importlib import resources

import central.api.deps
import central.api.errors
import central.services.appointments
import central.services.enrolment
import central.services.errors
import central.services.pagination
import central.services.registrations
import central.services.sites
import central.services.staff
from central.services.errors import HubError
from central.services.sites import UnknownSite
from domain.i18n import message


def _all_subclasses(cls: type[HubError]) -> set[type[HubError]]:
    found: set[type[HubError]] = set()
    pending = [cls]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return found


def test_every_hub_error_code_has_a_serbian_message() -> None:
    modules = (
        central.api.deps, central.api.errors, central.services.appointments,
        central.services.enrolment, central.services.errors, central.services.pagination,
        central.services.registrations, central.services.sites, central.services.staff,
    )  # fmt: skip
    assert modules  # imported for their error classes
    catalogue = json.loads(
        (resources.files("domain") / "locale" / "hub.sr-Latn.json").read_text(encoding="utf-8")
    )
    # Only this package's errors: other packages subclass HubError with their own catalogues.
    names = {module.__name__ for module in modules}
    codes = {cls.code for cls in _all_subclasses(HubError) | {HubError} if cls.__module__ in names}

    assert codes - catalogue.keys() == set()
    assert catalogue.keys() - codes == set()


def test_codes_and_names_stay_untransliterated_in_cyrillic() -> None:
    error = UnknownSite(site="NS-001")

    assert message(error, "sr-Cyrl") == "Не постоји пункт са кодом „NS-001”. Проверите код."
    assert message(error, "sr-Latn") == "Ne postoji punkt sa kodom „NS-001”. Proverite kod."
