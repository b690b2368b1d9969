"""The enrolment dialog over the real enrolment service: a down hub, then a real one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.local_db.engine import open_site_store
from app.local_db.sealing import SecretBox
from app.services.enrolment import EnrolmentResult, enrol_site, enrolment_status
from app.ui.enrolment_dialog import EnrolmentDialog
from app.ui.tasks import TaskManager
from app.ui.text import set_language
from central.api import create_app
from central.certificates.authority import CertificateAuthority
from central.certificates.csr_signer import HubCsrSigner
from central.certificates.settings import CertificateSettings
from central.db import upgrade_to_head
from central.services.context import Hub
from central.services.enrolment import issue_enrol_code
from central.services.sites import NewSite, add_site, parse_opening_hours
from central.settings import HubSettings
from domain.clock import FixedClock
from domain.errors import DomainError
from tests.app.ui.identity_fixtures import NOW, tasks
from tests.central.api.conftest import _Server, free_port

__all__ = ["tasks"]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Any, SecretBox]]:
    engine = open_site_store(tmp_path / "site.sqlite")
    yield engine, SecretBox.load_or_create(tmp_path / "site-secrets.key")
    engine.dispose()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Hub]]:
    folder = tmp_path_factory.mktemp("hub")
    url = f"sqlite:///{folder / 'central.sqlite'}"
    upgrade_to_head(url)
    settings = HubSettings(database_url=url)
    hub = Hub.open(settings, clock=FixedClock(NOW))
    add_site(
        hub,
        NewSite(
            code="UI-01", name="Dom zdravlja Zvezdara", municipality="Beograd",
            latitude=44.79, longitude=20.48,
            opening_hours=parse_opening_hours(["mon-sun 08:00-20:00"]),
            slot_minutes=10, vaccinators=2, products=["comirnaty"],
        ),
        actor="test",
    )  # fmt: skip
    authority = CertificateAuthority(
        CertificateSettings(csca_key=folder / "csca.pem", signer_key=folder / "signer.pem")
    )
    server = _Server(
        create_app(settings, hub=Hub.open(settings, clock=FixedClock(NOW)),
                   csr_signer=HubCsrSigner(authority))
    )  # fmt: skip
    base = server.__enter__()
    yield base, hub
    server.__exit__()
    hub.close()


def test_a_hub_that_cannot_be_reached_is_explained_and_the_person_can_retry(
    qtbot: Any, site: tuple[Any, SecretBox], tasks: TaskManager, artifacts_dir: Path
) -> None:
    engine, box = site

    def enrol(url: str, code: str) -> EnrolmentResult:
        return enrol_site(engine, box, url, code, FixedClock(NOW))

    dialog = EnrolmentDialog(enrol, tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.enrol_button, Qt.MouseButton.LeftButton)
    assert "Otkucajte adresu" in dialog.message.text()
    dialog.hub_url.setText(f"http://127.0.0.1:{free_port()}")
    dialog.code.setText("ABCD-EFGH-JKMN-PQRS-TVWX")
    with qtbot.waitSignal(tasks.idle, timeout=20_000):
        qtbot.mouseClick(dialog.enrol_button, Qt.MouseButton.LeftButton)
    assert "nije dostupan" in dialog.message.text()
    assert "Kod za prijavu nije iskorišćen" in dialog.message.text()
    set_language("sr-Cyrl")
    assert "није доступан" in dialog.message.text()
    assert dialog.enrol_button.text() == "Пријави рачунар"
    set_language("en")
    assert "could not be reached" in dialog.message.text()
    dialog.grab().save(str(artifacts_dir / "identity-enrolment-unreachable.png"))
    assert dialog.hub_url.isEnabled()
    assert dialog.enrolled is None
    assert not enrolment_status(engine).enrolled


def test_enrolment_with_a_real_hub_then_the_first_sync(
    qtbot: Any, site: tuple[Any, SecretBox], tasks: TaskManager, hub: tuple[str, Hub]
) -> None:
    engine, box = site
    base, central = hub
    code = issue_enrol_code(central, "UI-01", actor="test").code
    synced: list[str] = []

    def enrol(url: str, typed: str) -> EnrolmentResult:
        return enrol_site(engine, box, url, typed, FixedClock(NOW))

    dialog = EnrolmentDialog(enrol, tasks, first_sync=lambda: synced.append("round"))
    qtbot.addWidget(dialog)
    dialog.hub_url.setText(base)
    dialog.code.setText(code.lower())
    with qtbot.waitSignal(dialog.accepted, timeout=30_000):
        qtbot.keyClick(dialog.code, Qt.Key.Key_Return)
    assert dialog.enrolled is not None
    assert dialog.enrolled.site_code == "UI-01"
    assert synced == ["round"]
    assert enrolment_status(engine).site_code == "UI-01"


def test_a_failed_first_sync_keeps_the_enrolment_and_offers_to_continue(
    qtbot: Any, site: tuple[Any, SecretBox], tasks: TaskManager, hub: tuple[str, Hub]
) -> None:
    engine, box = site
    base, central = hub
    code = issue_enrol_code(central, "UI-01", actor="test").code

    class Offline(DomainError):
        code = "test.offline"
        template = "No network."

    def first_sync() -> None:
        raise Offline()

    dialog = EnrolmentDialog(
        lambda url, typed: enrol_site(engine, box, url, typed, FixedClock(NOW)),
        tasks, first_sync=first_sync, hub_url=base,
    )  # fmt: skip
    qtbot.addWidget(dialog)
    dialog.code.setText(code)
    with qtbot.waitSignal(tasks.idle, timeout=30_000):
        qtbot.mouseClick(dialog.enrol_button, Qt.MouseButton.LeftButton)
    assert "Prijavljen kao punkt UI-01" in dialog.message.text()
    assert "No network." in dialog.message.text()
    assert dialog.enrol_button.text() == "Nastavi"
    with qtbot.waitSignal(dialog.accepted, timeout=5_000):
        qtbot.mouseClick(dialog.enrol_button, Qt.MouseButton.LeftButton)
    assert enrolment_status(engine).enrolled
