"""What a run stores besides appointments: second-dose plans, standby lists
(announced to the site), and the site's street address on invitations."""

# The served-hub fixtures live in tests/central/api/conftest.py; they are imported
# below, so test arguments named after them "redefine" the imported names.
# ruff: noqa: F811

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, update
from typer.testing import CliRunner

from central.cli import app as cli_app
from central.db import NotificationOutbox, SecondDosePlan, Site, StandbyEntry
from central.demo.sites import plan_sites, site_row_values
from central.scheduling.run import run_schedule
from central.services.sites import parse_opening_hours
from domain.data import load_rules
from tests.central.api.conftest import (  # noqa: F401
    Api,
    _migrated_templates,
    api,
    api_factory,
    migrated_db_url,
)
from tests.central.test_scheduling_run import _stock

START = date(2021, 6, 2)
ADDRESS = "Bulevar oslobođenja 12, Novi Sad"


def _short_site(api: Api) -> tuple[str, Site]:
    """An enrolled site with 8 places on START (08:00-10:00, 15 min, 1 vaccinator),
    two Comirnaty vials (12 doses) and a street address."""
    token = api.enrolled_site(
        "NS-001",
        opening_hours=parse_opening_hours(["mon-sun 08:00-10:00"]),
        slot_minutes=15,
        vaccinators=1,
        address=f"  {ADDRESS} ",
    )
    with api.hub.sessions() as session:
        site = session.scalars(select(Site)).one()
    assert site.address == ADDRESS  # stored trimmed
    _stock(api, site, "comirnaty", 2)
    return token, site


def _health_workers(api: Api, count: int) -> None:
    for n in range(count):
        api.citizen(
            100 + n,
            priority_group="health-workers",
            vaccine_preferences=["comirnaty"],
            email=f"hw{n}@example.rs",
        )


def test_plans_and_standby_lists_are_stored_and_the_standby_list_reaches_the_site(
    api: Api,
) -> None:
    token, site = _short_site(api)
    _health_workers(api, 9)

    summary = run_schedule(api.hub, START, 1, actor="operator:test")

    # 8 places: 8 booked (a vial and a third), the ninth waits for capacity and
    # stands by for the 4 doses left in the second vial.
    assert summary.appointments == 8
    assert summary.unbooked == {"no_capacity": 1}
    with api.hub.sessions() as session:
        plans = session.scalars(select(SecondDosePlan)).all()
        standby = session.scalars(select(StandbyEntry)).all()
        emails = session.scalars(
            select(NotificationOutbox.body).where(NotificationOutbox.channel == "email")
        ).all()
        queued = session.scalar(select(func.count()).select_from(NotificationOutbox))
    assert summary.notifications == queued
    assert len(plans) == 8
    assert {(p.dose_number, p.product_id, p.site_id, p.run_id) for p in plans} == {
        (2, "comirnaty", site.id, summary.run_id)
    }
    rules = load_rules()
    rule = rules.catalogue.by_id("comirnaty").series
    assert rule is not None
    dose2 = rule.rule_for(2)
    assert dose2 is not None
    assert {p.earliest for p in plans} == {START + timedelta(days=dose2.min_days_after_previous)}
    assert all(p.latest >= p.earliest for p in plans)
    assert [(e.site_id, e.day, e.product_id, e.position) for e in standby] == [
        (site.id, START, "comirnaty", 1)
    ]
    (entry,) = standby
    assert entry.citizen_id not in {p.citizen_id for p in plans}
    assert (summary.plans[0].product, summary.plans[0].plans) == ("comirnaty", 8)
    assert (summary.standby[0].sessions, summary.standby[0].citizens) == (1, 1)
    assert len(emails) == 8
    assert all(f"Adresa: {ADDRESS}" in body for body in emails)

    pulled = api.client.get("/v1/sync/pull", headers=api.site_headers(token)).json()
    tables = [(c["table"], c["record_id"]) for c in pulled["changes"]]
    assert ("standby_entries", str(entry.id)) in tables
    # The site gets the standby citizen's record before the entry naming them.
    assert tables.index(("citizens", str(entry.citizen_id))) < tables.index(
        ("standby_entries", str(entry.id))
    )
    payload = next(c["payload"] for c in pulled["changes"] if c["record_id"] == str(entry.id))
    assert payload["position"] == 1
    assert payload["day"] == START.isoformat()
    assert payload["citizen_id"] == str(entry.citizen_id)


def test_the_command_prints_plans_and_standby_lists(api: Api) -> None:
    _short_site(api)
    _health_workers(api, 9)
    url = api.hub.engine.url.render_as_string(hide_password=False)

    result = CliRunner().invoke(
        cli_app, ["schedule", "--start", START.isoformat(), "--days", "1", "--db", url]
    )

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Second doses planned after the horizon:" in out
    assert "Standby lists for leftover vial doses:" in out
    plan_line = next(line for line in out.splitlines() if line.startswith("comirnaty  "))
    assert plan_line.split()[1:] == ["8", (START + timedelta(days=21)).isoformat()]


def test_an_invitation_names_the_municipality_when_the_site_has_no_address(api: Api) -> None:
    _short_site(api)
    with api.hub.sessions() as session, session.begin():
        session.execute(update(Site).values(address=None))
    _health_workers(api, 1)

    run_schedule(api.hub, START, 1, actor="operator:test")

    with api.hub.sessions() as session:
        (body,) = session.scalars(
            select(NotificationOutbox.body).where(NotificationOutbox.channel == "email")
        ).all()
    assert "Adresa: Novi Sad" in body


def test_demo_sites_have_street_addresses_in_their_place() -> None:
    plans = plan_sites(60, 7, load_rules().catalogue)

    assert all(p.address for p in plans)
    for p in plans:
        street, place = p.address.rsplit(", ", 1)
        assert street.split()[-1].isdigit()
        assert place in (p.place, "Beograd")
        assert site_row_values(p)["address"] == p.address
    assert len({p.address for p in plans}) == len(plans)
    # Deterministic for the seed, and the layout does not depend on addresses.
    again = plan_sites(60, 7, load_rules().catalogue)
    assert [p.address for p in again] == [p.address for p in plans]
