"""How times are shown at the site: in Belgrade time, whatever the workstation's zone.

Stored times are UTC (see `app.local_db.models.base.UtcDateTime`); nurses read
wall-clock time where the site is. Windows workstations are often set to the
wrong zone, so the zone is fixed here rather than taken from the machine.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

SITE_ZONE: Final = ZoneInfo("Europe/Belgrade")


def local(when: datetime) -> datetime:
    """`when` (timezone-aware) in the site's zone."""
    return when.astimezone(SITE_ZONE)


def hm(when: datetime) -> str:
    """``14:05``: hours and minutes in the site's zone."""
    return local(when).strftime("%H:%M")


def day_hm(when: datetime, today: date) -> str:
    """``14:05`` for today, ``24.11. 14:05`` for another day (site's zone)."""
    moment = local(when)
    if moment.date() == today:
        return moment.strftime("%H:%M")
    return moment.strftime("%d.%m. %H:%M")


def local_day(when: datetime) -> date:
    """The site's calendar day at `when`."""
    return local(when).date()
