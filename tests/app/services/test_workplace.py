"""Workplace: the site, its zone and the acting user, as every clinical use case reads them."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.local_db import models as m
from app.local_db.engine import open_site_store
from app.local_db.unit_of_work import session_scope
from app.services import errors
from app.services.workplace import (
    local_day,
    local_zone,
    site_and_zone,
    site_here,
    staff_member,
)
from app.sync.apply import TIMEZONE_SETTING
from domain.clock import FixedClock
from tests.app.services.site import MANAGER, NURSE, SITE_ID, ClinicSite


def test_site_and_zone_are_read_together(clinic: ClinicSite) -> None:
    with session_scope(clinic.engine, write=False) as session:
        site, zone = site_and_zone(session)
        assert site == site_here(session)
        assert local_zone(session) == zone
    assert site.site_id == SITE_ID
    assert site.site_code == "RS-BG-042"
    assert site.site_name == "Dom zdravlja Vračar"
    assert zone == ZoneInfo("Europe/Belgrade")


def test_the_zone_the_hub_sends_decides_the_local_day(clinic: ClinicSite) -> None:
    # 22:30 UTC on 1 June is already 2 June in Belgrade, still 1 June in Lisbon.
    clock = FixedClock(datetime(2021, 6, 1, 22, 30, tzinfo=UTC))
    with session_scope(clinic.engine, write=False) as session:
        assert local_day(session, clock) == date(2021, 6, 2)
    with session_scope(clinic.engine) as session:
        session.execute(
            sa.update(m.Setting)
            .where(m.Setting.key == TIMEZONE_SETTING)
            .values(value="Europe/Lisbon")
        )
    with session_scope(clinic.engine, write=False) as session:
        assert site_and_zone(session)[1] == ZoneInfo("Europe/Lisbon")
        assert local_day(session, clock) == date(2021, 6, 1)


def test_belgrade_until_the_hub_has_said(clinic: ClinicSite) -> None:
    with session_scope(clinic.engine) as session:
        session.execute(sa.delete(m.Setting).where(m.Setting.key == TIMEZONE_SETTING))
    with session_scope(clinic.engine, write=False) as session:
        assert local_zone(session) == ZoneInfo("Europe/Belgrade")
        assert site_and_zone(session)[1] == ZoneInfo("Europe/Belgrade")


def test_nothing_clinical_before_enrolment(tmp_path: Path, migrated_store: Path) -> None:
    path = tmp_path / "site.sqlite"
    shutil.copyfile(migrated_store, path)
    engine = open_site_store(path)
    try:
        with session_scope(engine, write=False) as session:
            with pytest.raises(errors.SiteNotEnrolled):
                site_and_zone(session)
            with pytest.raises(errors.SiteNotEnrolled):
                site_here(session)
            assert local_zone(session) == ZoneInfo("Europe/Belgrade")
    finally:
        engine.dispose()


def test_staff_member_is_an_active_local_user(clinic: ClinicSite) -> None:
    with session_scope(clinic.engine, write=False) as session:
        nurse = staff_member(session, NURSE)
        assert (nurse.user_id, nurse.full_name, nurse.role) == (NURSE, "Ana Petrović", m.Role.NURSE)
        assert not nurse.is_manager
        assert staff_member(session, MANAGER, manager=True).is_manager
        with pytest.raises(errors.ManagerRequired):
            staff_member(session, NURSE, manager=True)
        with pytest.raises(errors.UnknownUser):
            staff_member(session, uuid.uuid4())
    with session_scope(clinic.engine) as session:
        session.execute(sa.update(m.LocalUser).where(m.LocalUser.id == NURSE).values(active=False))
    with session_scope(clinic.engine, write=False) as session, pytest.raises(errors.UnknownUser):
        staff_member(session, NURSE)
