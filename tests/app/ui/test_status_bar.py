"""The status bar: online or offline, last sync, records waiting, clock warning."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from app.services.sync_status import SyncOverview
from app.ui.status_bar import SyncStatusBar
from app.ui.sync_state import RoundOutcome
from app.ui.text import set_language

TODAY = date(2021, 6, 15)


def overview(offset_ms: int | None = None, waiting: int = 0) -> SyncOverview:
    return SyncOverview(
        last_success_at=datetime(2021, 6, 15, 7, 58, tzinfo=UTC),
        last_error=None,
        last_error_at=None,
        waiting=waiting,
        oldest_waiting_at=None,
        hub_clock_offset_ms=offset_ms,
    )


def test_shows_connection_last_sync_and_waiting(qtbot: Any) -> None:
    set_language("en")
    bar = SyncStatusBar(TODAY)
    qtbot.addWidget(bar)
    assert "Connecting" in bar.connection.text()
    bar.show_overview(overview(waiting=4))
    assert bar.last_sync.text() == "Last sync: 09:58"  # Belgrade time
    assert bar.waiting.text() == "Waiting to send: 4"
    bar.show_round(RoundOutcome(ok=False, offline=True))
    assert bar.online is False
    assert "Offline" in bar.connection.text()
    bar.show_round(RoundOutcome(ok=True, offline=False))
    assert "Online" in bar.connection.text()


def test_warns_when_the_clock_is_off(qtbot: Any) -> None:
    set_language("en")
    bar = SyncStatusBar(TODAY)
    qtbot.addWidget(bar)
    bar.show()
    bar.show_overview(overview(offset_ms=60_000))
    assert bar.clock.isHidden()
    bar.show_overview(overview(offset_ms=-7 * 60_000))
    assert not bar.clock.isHidden()
    assert "7 min" in bar.clock.text()
