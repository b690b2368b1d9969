"""The nurse's flows, driven the way she drives them: scanner bursts and clicks.

Each test starts the real client window (`app.bootstrap.SiteClient`) on a
real seeded store (see conftest), offline, and waits on the window's signals,
never on time. Screenshots of the main screens go to the artifacts folder.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.local_db.models import DoseRecord, DoseVoid
from app.local_db.unit_of_work import session_scope
from app.services.client_settings import client_settings
from app.services.walk_in import WalkInPerson
from app.ui.text import set_language
from app.ui.walk_in_dialog import WalkInRequest
from domain.appointment_status import AppointmentStatus
from tests.app.ui.conftest import (
    ANA,
    BOJAN,
    CHILD,
    CVETA,
    EXPIRED_LOT,
    GOOD_LOT,
    MANAGER_ID,
    RECALLED_LOT,
    ClientFactory,
    Recorder,
    vial,
)
from tests.app.ui.scanner import send_burst, send_typing

WAIT_MS = 10_000


def _doses(engine: Any) -> list[DoseRecord]:
    with session_scope(engine, write=False) as session:
        return list(session.scalars(sa.select(DoseRecord)))


def _scan(qtbot: Any, signal: Any, text: str) -> Any:
    """Scan `text` and return the argument of the window signal it ends in."""
    with qtbot.waitSignal(signal, timeout=WAIT_MS) as blocker:
        send_burst(text)
    return blocker.args[0]


def _check_in(qtbot: Any, client: Any, jmbg: str) -> None:
    window = client.window
    candidate = _scan(qtbot, window.candidate_shown, jmbg)
    assert candidate.appointment is not None
    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS):
        qtbot.mouseClick(window.check_in_panel.check_in_button, Qt.MouseButton.LeftButton)


def test_normal_check_in_and_dose(
    qtbot: Any,
    make_client: ClientFactory,
    store: Any,
    recorder: Recorder,
    artifacts_dir: Path,
) -> None:
    client = make_client()
    window = client.window
    assert window.roster_view.proxy.rowCount() == 3
    window.grab().save(str(artifacts_dir / "01-today-roster.png"))

    candidate = _scan(qtbot, window.candidate_shown, ANA)
    assert candidate.citizen.family_name == "Petrović"
    assert candidate.eligibility is not None
    assert candidate.eligibility.eligible
    assert window.check_in_panel.check_in_button.isEnabled()
    assert "Petrović" in window.check_in_panel.person.text()
    # The JMBG never shows in full on screen.
    assert ANA not in window.check_in_panel.person.text()

    with qtbot.waitSignal(window.checked_in, timeout=WAIT_MS):
        qtbot.mouseClick(window.check_in_panel.check_in_button, Qt.MouseButton.LeftButton)
    assert window.patient is not None
    qtbot.waitUntil(lambda: window.roster_view.model.rows[0].status is AppointmentStatus.CHECKED_IN)
    window.grab().save(str(artifacts_dir / "02-checked-in.png"))

    check = _scan(qtbot, window.vial_checked, vial(GOOD_LOT, date(2021, 9, 30), "SN0001"))
    assert check.ok, check.refusals
    assert "✔" in window.vaccinate_panel.result.text()
    assert window.vaccinate_panel.record_button.isEnabled()
    assert recorder.sounds[-1] is True
    window.grab().save(str(artifacts_dir / "03-vial-ok.png"))

    # Enter on the focused "Record dose" button records it.
    window.vaccinate_panel.injection_site.setCurrentIndex(1)
    window.vaccinate_panel.record_button.setFocus()
    with qtbot.waitSignal(window.dose_recorded, timeout=WAIT_MS) as recorded:
        qtbot.keyClick(window.vaccinate_panel.record_button, Qt.Key.Key_Return)
    dose = recorded.args[0]
    assert dose.lot_number == GOOD_LOT
    assert dose.injection_site.value == "right_deltoid"
    assert window.patient is None
    qtbot.waitUntil(lambda: window.roster_view.model.rows[0].status is AppointmentStatus.DONE)
    assert "1" in window.roster_view.counts.text()
    window.grab().save(str(artifacts_dir / "04-dose-recorded.png"))

    engine = store[0]
    stored = _doses(engine)
    mine = [d for d in stored if d.id == dose.dose_id]
    assert len(mine) == 1
    assert mine[0].vaccinator_name == "Marija Sestra"
    assert mine[0].lot_number == GOOD_LOT

    # The sync state now shows records waiting to be sent.
    qtbot.waitUntil(lambda: "Waiting to send: 0" not in window.status.waiting.text())


def test_wrong_product_vial_is_refused(
    qtbot: Any, make_client: ClientFactory, store: Any, artifacts_dir: Path
) -> None:
    client = make_client()
    window = client.window
    _check_in(qtbot, client, CVETA)  # booked for Spikevax
    check = _scan(qtbot, window.vial_checked, vial(GOOD_LOT, date(2021, 9, 30), "SN0002"))
    assert not check.ok
    assert any(r.code == "clinical.wrong_product" for r in check.refusals)
    assert "✘" in window.vaccinate_panel.result.text()
    assert not window.vaccinate_panel.record_button.isEnabled()
    window.grab().save(str(artifacts_dir / "05-wrong-product.png"))
    assert len(_doses(store[0])) == 1  # only Bojan's earlier dose


@pytest.mark.parametrize(
    ("lot", "expiry", "code"),
    [
        (EXPIRED_LOT, date(2021, 5, 31), "clinical.lot_expired"),
        (RECALLED_LOT, date(2021, 10, 31), "clinical.lot_recalled"),
    ],
)
def test_expired_and_recalled_lots_are_refused(
    qtbot: Any,
    make_client: ClientFactory,
    store: Any,
    recorder: Recorder,
    artifacts_dir: Path,
    lot: str,
    expiry: date,
    code: str,
) -> None:
    client = make_client()
    window = client.window
    _check_in(qtbot, client, ANA)
    check = _scan(qtbot, window.vial_checked, vial(lot, expiry, "SN0003"))
    assert [r.code for r in check.refusals] == [code]
    assert recorder.sounds[-1] is False
    text = window.vaccinate_panel.result.text()
    assert lot in text
    assert not window.vaccinate_panel.record_button.isEnabled()
    window.grab().save(str(artifacts_dir / f"06-{code.split('.')[-1]}.png"))
    assert len(_doses(store[0])) == 1


def test_second_attempt_at_the_same_dose_is_refused(
    qtbot: Any, make_client: ClientFactory, store: Any, artifacts_dir: Path
) -> None:
    client = make_client()
    window = client.window
    _check_in(qtbot, client, BOJAN)  # his dose 1 was given at another site
    check = _scan(qtbot, window.vial_checked, vial(GOOD_LOT, date(2021, 9, 30), "SN0004"))
    assert "clinical.dose_already_recorded" in [r.code for r in check.refusals]
    assert not window.vaccinate_panel.record_button.isEnabled()
    window.grab().save(str(artifacts_dir / "07-dose-already-recorded.png"))
    assert len(_doses(store[0])) == 1


def test_ineligible_walk_in_is_refused(
    qtbot: Any,
    make_client: ClientFactory,
    store: Any,
    recorder: Recorder,
    artifacts_dir: Path,
) -> None:
    client = make_client()
    window = client.window

    def form(candidate: Any, typed: str | None, choices: Any, municipality: str) -> WalkInRequest:
        assert typed == CHILD
        assert ("comirnaty", "Comirnaty") in choices.products
        person = WalkInPerson(
            given_name="Luka",
            family_name="Mali",
            municipality_code=municipality,
            priority_group="general",
            jmbg=typed,
        )
        return WalkInRequest(person, "comirnaty")

    recorder.walk_in = form
    message = _scan(qtbot, window.scan_refused, CHILD)
    assert CHILD[:7] + "******" in message  # masked, never the whole number
    assert window.check_in_panel.walk_in_button.isVisible()
    with qtbot.waitSignal(window.scan_refused, timeout=WAIT_MS) as refused:
        qtbot.mouseClick(window.check_in_panel.walk_in_button, Qt.MouseButton.LeftButton)
    assert "Comirnaty" in refused.args[0] or "comirnaty" in refused.args[0].lower()
    assert window.banner.isVisible()
    window.grab().save(str(artifacts_dir / "08-walk-in-not-eligible.png"))
    # Nothing was registered or booked.
    assert window.roster_view.proxy.rowCount() == 3


def test_vial_scan_without_anyone_checked_in_says_what_to_do(
    qtbot: Any, make_client: ClientFactory
) -> None:
    window = make_client().window
    set_language("en")
    message = _scan(qtbot, window.scan_refused, vial(GOOD_LOT, date(2021, 9, 30), "SN0005"))
    assert "check them in first" in message
    assert window.banner.text() == message


def test_manager_voids_a_dose_with_a_reason(
    qtbot: Any, make_client: ClientFactory, store: Any, recorder: Recorder
) -> None:
    client = make_client(MANAGER_ID)
    window = client.window
    _check_in(qtbot, client, ANA)
    _scan(qtbot, window.vial_checked, vial(GOOD_LOT, date(2021, 9, 30), "SN0006"))
    with qtbot.waitSignal(window.dose_recorded, timeout=WAIT_MS) as recorded:
        qtbot.mouseClick(window.vaccinate_panel.record_button, Qt.MouseButton.LeftButton)
    assert window.vaccinate_panel.void_button.isVisible()
    with qtbot.waitSignal(window.dose_voided, timeout=WAIT_MS) as voided:
        qtbot.mouseClick(window.vaccinate_panel.void_button, Qt.MouseButton.LeftButton)
    assert voided.args[0].dose_id == recorded.args[0].dose_id
    assert recorder.asked[-1] == "reason"
    with session_scope(store[0], write=False) as session:
        void = session.scalars(sa.select(DoseVoid)).one()
        assert void.dose_id == recorded.args[0].dose_id


def test_a_nurse_cannot_void(qtbot: Any, make_client: ClientFactory) -> None:
    client = make_client()
    window = client.window
    _check_in(qtbot, client, ANA)
    _scan(qtbot, window.vial_checked, vial(GOOD_LOT, date(2021, 9, 30), "SN0007"))
    with qtbot.waitSignal(window.dose_recorded, timeout=WAIT_MS):
        qtbot.mouseClick(window.vaccinate_panel.record_button, Qt.MouseButton.LeftButton)
    assert not window.vaccinate_panel.void_button.isVisible()


def test_language_switch_retranslates_live(
    qtbot: Any, make_client: ClientFactory, artifacts_dir: Path
) -> None:
    window = make_client().window
    switcher = window.language_switcher
    header = window.roster_view.model.headerData(1, Qt.Orientation.Horizontal)
    english_index = switcher.findData("en")
    switcher.setCurrentIndex(english_index)
    assert window.tabs.tabText(0) == "Today"
    assert window.roster_view.model.headerData(1, Qt.Orientation.Horizontal) == "Name"
    assert header == "Ime i prezime"
    set_language("sr-Cyrl")
    assert window.roster_view.model.headerData(1, Qt.Orientation.Horizontal) == "Име и презиме"
    assert window.tabs.tabText(0) == "Данас"
    assert switcher.currentData() == "sr-Cyrl"
    window.grab().save(str(artifacts_dir / "09-cyrillic.png"))


def test_search_and_filters(qtbot: Any, make_client: ClientFactory) -> None:
    window = make_client().window
    view = window.roster_view
    # A person's keys pass the scanner filter a few milliseconds late: wait for them.
    send_typing("petrovic", view.search)
    qtbot.waitUntil(lambda: view.search.text() == "petrovic")
    assert [r.family_name for r in view.proxy.visible_rows()] == ["Petrović"]
    view.search.clear()
    # QTest cannot type outside Latin-1 (it aborts): a Cyrillic keyboard's text is set.
    view.search.setText("Николић")
    assert [r.family_name for r in view.proxy.visible_rows()] == ["Nikolić"]
    view.search.clear()
    assert view.proxy.rowCount() == 3
    view.status_filter.setCurrentIndex(3)  # vaccinated
    assert view.proxy.rowCount() == 0
    view.status_filter.setCurrentIndex(0)
    with qtbot.waitSignal(window.roster_shown, timeout=WAIT_MS) as shown:
        qtbot.mouseClick(view.tomorrow_button, Qt.MouseButton.LeftButton)
    assert shown.args[0].day == date(2021, 6, 16)
    assert [r.family_name for r in view.proxy.visible_rows()] == ["Đorđević"]


def test_print_roster_writes_a_pdf(
    qtbot: Any, make_client: ClientFactory, recorder: Recorder
) -> None:
    window = make_client().window
    with qtbot.waitSignal(window.roster_printed, timeout=WAIT_MS) as printed:
        qtbot.mouseClick(window.print_button, Qt.MouseButton.LeftButton)
    path = printed.args[0]
    assert path == recorder.save_path
    assert path.read_bytes().startswith(b"%PDF")
    assert recorder.asked == ["path:roster-2021-06-15.pdf"]


def test_sync_panel_shows_the_state(
    qtbot: Any, make_client: ClientFactory, artifacts_dir: Path
) -> None:
    window = make_client().window
    qtbot.waitUntil(lambda: window.sync_panel.summary.text() != "")
    window.tabs.setCurrentWidget(window.sync_panel)
    assert "0" in window.sync_panel.summary.text()
    window.grab().save(str(artifacts_dir / "10-sync-panel.png"))


def test_a_certificate_scan_opens_the_verify_view(
    qtbot: Any, make_client: ClientFactory, artifacts_dir: Path
) -> None:
    window = make_client().window
    view = window.verify_view
    assert view is not None
    with qtbot.waitSignal(view.verified, timeout=WAIT_MS):
        send_burst("HC1:NCFOXN%TSMAHN-HISCXZ")
    assert window.tabs.currentWidget() is view
    window.grab().save(str(artifacts_dir / "13-verify-view.png"))


def test_the_chosen_language_is_kept_for_the_next_start(
    qtbot: Any, make_client: ClientFactory, store: Any
) -> None:
    first = make_client()
    first.window.language_switcher.setCurrentIndex(first.window.language_switcher.findData("en"))
    qtbot.waitUntil(lambda: client_settings(store[0]).language == "en", timeout=WAIT_MS)
    first.close()
    set_language("sr-Latn")
    second = make_client()
    assert second.window.tabs.tabText(0) == "Today"


def test_a_missing_camera_is_reported_and_the_scanner_keeps_working(
    qtbot: Any, make_client: ClientFactory
) -> None:
    window = make_client(camera_index=97).window
    set_language("en")
    assert window.camera_button.isVisible()
    with qtbot.waitSignal(window.scan_refused, timeout=WAIT_MS) as refused:
        qtbot.mouseClick(window.camera_button, Qt.MouseButton.LeftButton)
    assert "camera" in refused.args[0].lower()
    assert not window.camera_button.isChecked()
    candidate = _scan(qtbot, window.candidate_shown, ANA)
    assert candidate.citizen.family_name == "Petrović"


def test_stock_for_everyone_users_for_managers(
    qtbot: Any, make_client: ClientFactory, artifacts_dir: Path
) -> None:
    set_language("en")
    nurse = make_client().window
    titles = [nurse.tabs.tabText(i) for i in range(nurse.tabs.count())]
    assert titles == ["Today", "Synchronisation", "Check a certificate", "Stock"]
    manager = make_client(MANAGER_ID).window
    titles = [manager.tabs.tabText(i) for i in range(manager.tabs.count())]
    assert titles[-2:] == ["Stock", "Users"]
    manager.tabs.setCurrentIndex(3)
    manager.grab().save(str(artifacts_dir / "14-stock.png"))
