"""The ``site_user`` kind both ways, on both engines: a site's users, and only its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import argon2
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.local_db.models.site import LocalUser, Role
from app.local_db.unit_of_work import session_scope
from app.services import accounts
from app.sync.outbox import record_change
from app.sync.site_users import KIND
from central.auth import PasswordHasher
from central.db import DoseRecord, Quarantine, SiteUser
from central.services.site_users import SiteUsernameTaken, add_site_user, list_site_users
from central.services.sync.site_users import role_from_wire, role_to_wire
from domain.ids import uuid7
from domain.site_accounts import SiteRole
from tests.app.sync.world import SiteClient, World

FAST = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture
def world(central_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(central_db_url, tmp_path)
    w.hub.passwords = PasswordHasher(FAST)
    yield w
    w.close()


def _local_users(site: SiteClient) -> dict[str, LocalUser]:
    with session_scope(site.store, write=False) as session:
        return {u.username: u for u in session.scalars(sa.select(LocalUser))}


def _manager_at(site: SiteClient, world: World) -> uuid.UUID:
    """A manager created at the hub and pulled by the site."""
    user = add_site_user(
        world.hub, site.code, username=f"sef-{site.code.lower()}", full_name="Šef Punkta",
        role=SiteRole.MANAGER, password="manager password", actor="test",
    )  # fmt: skip
    site.sync()
    return user.id


def test_a_user_created_at_the_hub_reaches_its_site_only_and_can_log_in_offline(
    world: World,
) -> None:
    a, b = world.add_site("SU-01"), world.add_site("SU-02")
    user = add_site_user(
        world.hub, "SU-01", username="Ana", full_name="Ana Anić", role=SiteRole.NURSE,
        password="nurse password", actor="test",
    )  # fmt: skip
    assert user.username == "ana"
    a.sync()
    b.sync()
    assert "ana" in _local_users(a)
    assert "ana" not in _local_users(b)
    signed = accounts.login(a.store, "ana", "nurse password", a.clock, hasher=FAST)
    assert signed.id == user.id
    assert signed.role is SiteRole.NURSE
    with pytest.raises(SiteUsernameTaken):
        add_site_user(
            world.hub, "SU-01", username="ana", full_name="Ana Druga", role=SiteRole.NURSE,
            password="nurse password", actor="test",
        )  # fmt: skip
    assert "ana" in [u.username for u in list_site_users(world.hub, "SU-01")]
    assert "ana" not in [u.username for u in list_site_users(world.hub, "SU-02")]


def test_a_nurse_created_at_the_site_gets_her_dose_applied_at_the_hub(world: World) -> None:
    site = world.add_site("SU-03")
    manager = _manager_at(site, world)
    nurse = accounts.create_user(
        site.store, manager, username="jelena", full_name="Jelena Jelić", role=SiteRole.NURSE,
        password="nurse password", clock=site.clock, hasher=FAST,
    )  # fmt: skip
    citizen = world.hub_citizen()
    world.book(citizen.id, site)
    site.sync()
    site.nurse_id = accounts.login(
        site.store, "jelena", "nurse password", site.clock, hasher=FAST
    ).id
    dose_id = site.record_dose(citizen.id)
    report = site.sync()
    assert report.quarantined == []
    with world.hub.read_sessions() as session:
        hub_user = session.get_one(SiteUser, nurse.id)
        assert hub_user.site_id == site.site_id
        assert hub_user.role == "nurse"
        assert hub_user.origin_site_id == site.site_id
        dose = session.get_one(DoseRecord, dose_id)
        assert dose.nurse_id == nurse.id


def test_the_later_write_wins_whichever_end_made_it(world: World) -> None:
    site = world.add_site("SU-04")
    manager = _manager_at(site, world)
    nurse = accounts.create_user(
        site.store, manager, username="mila", full_name="Mila M", role=SiteRole.NURSE,
        password="nurse password", clock=site.clock, hasher=FAST,
    )  # fmt: skip
    site.sync()
    # The hub switches her off later than the site's last write: the site takes it.
    world.clock.advance(timedelta(minutes=5))
    with world.hub.sessions() as session, session.begin():
        from central.services.records import announce
        from central.services.sync.site_users import announce_change

        row = session.get_one(SiteUser, nurse.id)
        row.active = False
        row.updated_at = world.clock.now()
        announce(session, [announce_change(row, origin_site_id=None)], world.clock.now())
    site.sync()
    assert not _local_users(site)["mila"].active
    # An older write from the site (its clock behind) does not undo it at the hub.
    stale = dict(_payload(site, nurse.id), active=True)
    with session_scope(site.store) as session:
        record_change(session, KIND, nurse.id, stale, now=site.clock.now())
    report = site.sync()
    assert report.quarantined == []
    with world.hub.read_sessions() as session:
        assert not session.get_one(SiteUser, nurse.id).active
    # A newer one does, and the full name travels with it.
    site.clock.advance(timedelta(minutes=10))
    accounts.reactivate_user(site.store, manager, nurse.id, clock=site.clock)
    site.sync()
    with world.hub.read_sessions() as session:
        assert session.get_one(SiteUser, nurse.id).active


def _payload(site: SiteClient, user_id: uuid.UUID) -> dict[str, object]:
    from app.sync.site_users import site_user_payload

    with session_scope(site.store, write=False) as session:
        return site_user_payload(session.get_one(LocalUser, user_id))


def test_a_site_may_not_push_another_sites_user_nor_take_a_username(world: World) -> None:
    a, b = world.add_site("SU-05"), world.add_site("SU-06")
    victim = add_site_user(
        world.hub, "SU-05", username="vesna", full_name="Vesna V", role=SiteRole.MANAGER,
        password="manager password", actor="test",
    )  # fmt: skip
    a.sync()
    hijack = dict(_payload(a, victim.id), password_hash=FAST.hash("stolen password"))
    hijack["updated_at"] = (b.clock.now() + timedelta(days=1)).isoformat()
    clash_id = uuid7()
    clash = dict(hijack, id=str(clash_id), username="vesna")
    with session_scope(b.store) as session:
        record_change(session, KIND, victim.id, hijack, now=b.clock.now())
    report = b.sync()
    assert [line.split(": ")[-1] for line in report.quarantined] == ["other_site_user"]
    with world.hub.read_sessions() as session:
        assert FAST.verify(session.get_one(SiteUser, victim.id).password_hash, "manager password")
    with session_scope(a.store) as session:
        record_change(session, KIND, clash_id, clash, now=a.clock.now())
    report = a.sync()
    assert [line.split(": ")[-1] for line in report.quarantined] == ["username_taken"]
    with world.hub.read_sessions() as session:
        reasons = set(session.scalars(sa.select(Quarantine.reason_code)))
    assert {"other_site_user", "username_taken"} <= reasons


def test_roles_translate_between_the_hub_and_the_wire() -> None:
    assert role_from_wire("manager") == "site_manager"
    assert role_to_wire("site_manager") == "manager"
    assert role_to_wire(role_from_wire("nurse")) == "nurse"
    assert Role("manager").value == SiteRole.MANAGER.value


def test_the_hub_command_adds_a_site_user(world: World, central_db_url: str) -> None:
    from central.cli import app

    world.add_site("SU-07")
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["site-users", "add", "SU-07", "demo", "--role", "nurse", "--full-name", "Demo Sestra",
         "--password-stdin", "--db", central_db_url],
        input="demo password\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "demo" in result.stdout
    listed = runner.invoke(app, ["site-users", "list", "SU-07", "--json", "--db", central_db_url])
    assert '"username": "demo"' in listed.stdout
    short = runner.invoke(
        app,
        ["site-users", "add", "SU-07", "kratko", "--role", "nurse", "--full-name", "K",
         "--password-stdin", "--db", central_db_url],
        input="short\n",
    )  # fmt: skip
    assert short.exit_code == 1
    assert "too short" in short.output


def test_the_same_username_made_at_both_ends_is_reported_at_both_ends(world: World) -> None:
    site = world.add_site("SU-08")
    manager = _manager_at(site, world)
    local = accounts.create_user(
        site.store, manager, username="ivana", full_name="Ivana (site)", role=SiteRole.NURSE,
        password="nurse password", clock=site.clock, hasher=FAST,
    )  # fmt: skip
    hub_made = add_site_user(
        world.hub, "SU-08", username="ivana", full_name="Ivana (hub)", role=SiteRole.NURSE,
        password="other password", actor="test",
    )  # fmt: skip
    report = site.sync()
    assert [line.split(": ")[-1] for line in report.quarantined] == ["username_taken"]
    assert len(report.skipped) == 1
    assert "ivana" in report.skipped[0]
    assert _local_users(site)["ivana"].id == local.id
    with world.hub.read_sessions() as session:
        assert session.get(SiteUser, local.id) is None
        assert session.get_one(SiteUser, hub_made.id).full_name == "Ivana (hub)"
