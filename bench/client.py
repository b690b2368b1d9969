"""Site client benchmark: cold start, scan to recorded dose, roster filtering.

    .venv/bin/python bench/client.py                    # 5,000 appointments today, 30 doses
    .venv/bin/python bench/client.py --rows 10000 --doses 50

Runs the real client window (`app.bootstrap.SiteClient`, offscreen) on a real
site store seeded with `--rows` appointments today, and prints:

* **cold start**: a fresh process (interpreter, imports, store opened and
  migrated-checked, window built) until the roster of `--rows` rows is
  shown and the window takes input; median of `--starts` processes;
* **warm start**: a second window in this process (modules imported, store
  opened again, roster read and shown);
* **scan to recorded dose** (target <= 50 ms median): for each of `--doses`
  people checked in at the desk, the vial's scanner burst is sent as raw key
  events and "Record dose" is clicked the moment the check comes back green;
  timed from the scan being recognised (the filter's ``scanned`` signal) to
  the dose committed and shown. The keyboard-wedge filter waits 30 ms after
  the last key to be sure the burst has ended; that wait is printed apart
  (last key to recorded dose);
* **filter** (target <= 50 ms): typing a search into the 5,000-row roster
  and switching the status filter, median over several searches.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BELGRADE = ZoneInfo("Europe/Belgrade")
TODAY = date(2021, 6, 15)
NOW = datetime.combine(TODAY, clock_time(9, 0), tzinfo=BELGRADE).astimezone(UTC)
SITE_ID = uuid.UUID("01900000-0000-7000-8000-000000000001")
NURSE_ID = uuid.UUID("01900000-0000-7000-8000-0000000000a1")
GTIN = "09520000100018"
FAMILY = ("Petrović", "Jovanović", "Nikolić", "Marković", "Đorđević", "Stojanović", "Ilić",
          "Stanković", "Pavlović", "Milošević", "Popović", "Živković", "Kovačević")  # fmt: skip
GIVEN = ("Ana", "Marko", "Jelena", "Nikola", "Milica", "Stefan", "Ivana", "Luka", "Dragana",
         "Miloš", "Snežana", "Đorđe", "Tijana", "Vuk", "Ljiljana", "Nemanja")  # fmt: skip


# -- the store ------------------------------------------------------------------------------


def seed(path: Path, key_path: Path, rows: int) -> None:
    """A site store with an enrolled site, a nurse, and `rows` people booked today."""
    from app.local_db.engine import open_site_store
    from app.local_db.models import Appointment, Citizen, LocalUser, Lot, Role, SiteIdentity
    from app.local_db.sealing import SecretBox
    from app.local_db.unit_of_work import session_scope
    from app.sync.identity import CREDENTIAL_PURPOSE
    from domain.jmbg import Sex, make_jmbg
    from domain.script import latin_to_cyrillic

    engine = open_site_store(path)
    box = SecretBox.load_or_create(key_path)
    citizens: list[Any] = []
    appointments: list[Any] = []
    serial = 0
    for n in range(rows):
        born = date(1940 + n % 60, 1 + n % 12, 1 + n % 28)
        sex = Sex.FEMALE if n % 2 else Sex.MALE
        while True:
            try:
                number = make_jmbg(born, 71, serial % 500, sex)
                break
            except ValueError:
                serial += 1
        serial += 1
        given, family = GIVEN[n % len(GIVEN)], FAMILY[(n // 3) % len(FAMILY)]
        citizen = Citizen(
            id=uuid.uuid4(), origin_site_id=None, created_at=NOW, created_by=None,
            jmbg=number, foreign_document=None, given_name_latin=given,
            family_name_latin=family, given_name_cyrillic=latin_to_cyrillic(given),
            family_name_cyrillic=latin_to_cyrillic(family), birth_date=born, sex=sex,
            municipality_code="80284", priority_group="general", conditions=[],
            preferences=["any"], field_hlc={}, hlc="0", walk_in=False,
        )  # fmt: skip
        start = datetime.combine(TODAY, clock_time(8, 0), tzinfo=BELGRADE) + timedelta(
            minutes=10 * (n // 40)
        )
        citizens.append(citizen)
        appointments.append(
            Appointment(
                id=uuid.uuid4(),
                origin_site_id=None,
                created_at=NOW,
                created_by=None,
                citizen_id=citizen.id,
                site_id=SITE_ID,
                day=TODAY,
                slot_start=start,
                slot_minutes=10,
                product_code="comirnaty",
                dose_number=1,
            )
        )
    with session_scope(engine) as session:
        session.add(
            SiteIdentity(
                id=1,
                site_id=SITE_ID,
                site_code="S0001",
                site_name="Dom zdravlja Novi Sad",
                municipality_code="80284",
                hub_url="http://127.0.0.1:9",
                credential_id="bench",
                credential_secret_sealed=box.seal(b"none", purpose=CREDENTIAL_PURPOSE),
                enrolled_at=NOW,
            )
        )
        session.add(
            LocalUser(
                id=NURSE_ID,
                username="nurse",
                full_name="Marija Sestra",
                role=Role.NURSE,
                password_hash="$argon2id$unused",
                active=True,
                failed_logins=0,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.add(
            Lot(
                id=uuid.uuid4(),
                created_at=NOW,
                product_code="comirnaty",
                gtin=GTIN,
                lot_number="FA4597",
                expiry_date=date(2021, 9, 30),
                manufacturer="BioNTech",
            )
        )
        session.add_all(citizens)
        session.flush()
        session.add_all(appointments)
    engine.dispose()


# -- the client -----------------------------------------------------------------------------


def open_client(path: Path, key_path: Path) -> tuple[Any, Any]:
    """The application and a started client window whose roster is shown (blocks until then)."""
    from PySide6.QtWidgets import QApplication

    from app.bootstrap import SiteClient
    from app.local_db.engine import open_site_store
    from app.local_db.sealing import SecretBox
    from app.services.accounts import SignedIn
    from domain.clock import FixedClock
    from domain.data import rules_in_force
    from domain.site_accounts import SiteRole

    app = QApplication.instance() or QApplication([])
    engine = open_site_store(path)
    box = SecretBox.load(key_path)
    user = SignedIn(NURSE_ID, "nurse", "Marija Sestra", SiteRole.NURSE, NOW)
    client = SiteClient(
        engine, box, user, clock=FixedClock(NOW), sync=False, rules=rules_in_force(TODAY),
        sound=lambda _ok: None, idle_lock=False,
    )  # fmt: skip
    shown: list[object] = []
    client.window.roster_shown.connect(shown.append)
    client.start()
    wait_for(app, lambda shown=shown: bool(shown))
    return app, client


def wait_for(app: Any, condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    """Run the event loop until `condition` holds."""
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the client did not answer in time")
        app.processEvents()
        time.sleep(0.0002)


def cold_start_child(path: Path, key_path: Path) -> None:
    """Child process: open the client, say READY once the roster is shown."""
    app, client = open_client(path, key_path)
    print(f"READY {client.window.roster_view.proxy.rowCount()}", flush=True)
    client.close()
    del app
    os._exit(0)  # see main(): skip PySide6's teardown


def cold_starts(path: Path, key_path: Path, count: int, cache: Path) -> list[float]:
    """Wall time of fresh processes until the roster is shown.

    Byte code is cached in `cache` (``-X pycache_prefix``) and one start warms it
    first, as an installed client has its modules compiled; nothing is written
    into the source tree.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-X", f"pycache_prefix={cache}", __file__, "--child"]
    subprocess.run([*command, str(path), str(key_path)], env=env, check=True,
                   capture_output=True)  # fmt: skip
    times = []
    for _ in range(count):
        started = time.perf_counter()
        child = subprocess.Popen(
            [*command, str(path), str(key_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert child.stdout is not None
        line = child.stdout.readline()
        elapsed = time.perf_counter() - started
        child.wait(timeout=60)
        if not line.startswith("READY"):
            raise RuntimeError(f"the child process did not start the client: {line!r}")
        times.append(elapsed)
    return times


# -- scan to dose ---------------------------------------------------------------------------


def scan_to_dose(app: Any, client: Any, doses: int) -> tuple[list[float], list[float]]:
    """Per dose: (scan recognised -> recorded, last key -> recorded), in seconds."""
    from app.scanning.scan import JmbgScan
    from domain.gs1 import encode_gs1
    from domain.jmbg import parse_jmbg
    from tests.app.ui.scanner import send_burst

    window = client.window
    rows = window.roster_view.model.rows[:doses]
    engine = client.engine
    from app.local_db.models import Citizen
    from app.local_db.unit_of_work import session_scope

    with session_scope(engine, write=False) as session:
        numbers = {c.id: c.jmbg for c in session.query(Citizen).filter(
            Citizen.id.in_([r.citizen_id for r in rows]))}  # fmt: skip
    recognised: list[float] = []
    from_last_key: list[float] = []
    state: dict[str, float] = {}
    window.vial_checked.connect(
        lambda check: window.vaccinate_panel.record_button.click() if check.ok else None
    )
    client.scanner.scanned.connect(lambda _scan: state.__setitem__("scanned", time.perf_counter()))
    done: list[object] = []
    window.dose_recorded.connect(done.append)
    window.activateWindow()
    for number, row in enumerate(rows):
        jmbg = parse_jmbg(numbers[row.citizen_id], today=TODAY)
        shown: list[object] = []
        window.candidate_shown.connect(shown.append)
        window.route_scan(JmbgScan(jmbg.value, jmbg))
        wait_for(app, lambda shown=shown: bool(shown))
        window.candidate_shown.disconnect(shown.append)
        checked: list[object] = []
        window.checked_in.connect(checked.append)
        window.check_in_panel.check_in_button.click()
        wait_for(app, lambda checked=checked: bool(checked))
        window.checked_in.disconnect(checked.append)
        before = len(done)
        label = encode_gs1(GTIN, date(2021, 9, 30), "FA4597", f"SN{number // 6:06d}")
        send_burst(label, window)
        last_key = time.perf_counter()
        wait_for(app, lambda before=before: len(done) > before)
        finished = time.perf_counter()
        recognised.append(finished - state["scanned"])
        from_last_key.append(finished - last_key)
    return recognised, from_last_key


# -- filtering ------------------------------------------------------------------------------


def filtering(client: Any) -> list[float]:
    from domain.appointment_status import AppointmentStatus

    proxy = client.window.roster_view.proxy
    times = []
    for text in ("p", "pe", "petr", "petrović ana", "ђорђ", "0101", "jel", "", "mil", "x"):
        started = time.perf_counter()
        proxy.set_search(text)
        proxy.rowCount()
        times.append(time.perf_counter() - started)
    for statuses in ((AppointmentStatus.CHECKED_IN,), None, (AppointmentStatus.DONE,), None):
        started = time.perf_counter()
        proxy.set_statuses(statuses)
        proxy.rowCount()
        times.append(time.perf_counter() - started)
    return times


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
    return (
        f"median {statistics.median(values) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms   "
        f"max {max(values) * 1000:7.1f} ms   (n={len(values)})"
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        cold_start_child(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5000, help="appointments today")
    parser.add_argument("--doses", type=int, default=30, help="doses recorded by scanning")
    parser.add_argument("--starts", type=int, default=3, help="cold-start processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path, key_path = Path(folder) / "site.sqlite", Path(folder) / "site-secrets.key"
        started = time.perf_counter()
        seed(path, key_path, args.rows)
        print(f"seeded {args.rows} appointments in {time.perf_counter() - started:.1f} s")

        cold = cold_starts(path, key_path, args.starts, Path(folder) / "pycache")
        print(f"cold start to interactive roster ({args.rows} rows):   {ms(cold)}")

        # Warm: modules already imported (a first window opened and closed in this process).
        _app, first = open_client(path, key_path)
        first.close()
        first.engine.dispose()
        started = time.perf_counter()
        app, client = open_client(path, key_path)
        warm = time.perf_counter() - started
        rows = client.window.roster_view.proxy.rowCount()
        assert rows == args.rows, rows
        print(f"warm start in process ({rows} rows):                  {warm * 1000:7.1f} ms")

        filter_times = filtering(client)
        print(f"filter {args.rows}-row roster (target <= 50 ms):         {ms(filter_times)}")

        recognised, from_last_key = scan_to_dose(app, client, args.doses)
        print(f"scan recognised -> dose recorded (target <= 50 ms): {ms(recognised)}")
        print(f"last key -> dose recorded (incl. 30 ms burst end):  {ms(from_last_key)}")
        client.close()
        client.engine.dispose()
    # PySide6 can crash while the interpreter tears down its objects ("bool_dealloc"),
    # after every figure is printed; leave without the teardown.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
