"""Places, their JMBG areas and where sites go."""

from __future__ import annotations

from central.demo.places import load_places, missing_population_estimate
from central.demo.regions import JMBG_AREA_BY_MUNICIPALITY, SERBIAN_AREAS, jmbg_area
from central.demo.sites import TOWN_POPULATION, plan_sites, sites_per_place
from domain.data import load_rules
from domain.jmbg import REGIONS


def test_every_municipality_has_a_serbian_registration_area() -> None:
    for place in load_places():
        area = jmbg_area(place.municipality)
        assert area in REGIONS
        assert 71 <= area <= 89, place
    assert jmbg_area("Beograd") == 71
    assert jmbg_area("Novi Sad") == 80
    assert jmbg_area("Niš") == 73
    assert set(JMBG_AREA_BY_MUNICIPALITY.values()) == set(SERBIAN_AREAS)
    assert 83 not in SERBIAN_AREAS


def test_places_without_a_population_get_the_documented_estimate() -> None:
    places = load_places()
    estimated = [p for p in places if p.population_estimated]
    assert len(places) == 156
    assert len(estimated) == 111
    assert {p.population for p in estimated} == {missing_population_estimate()}


def test_sites_follow_population_and_belgrade_gets_several() -> None:
    places = load_places()
    few = sites_per_place(places, 40)
    assert sum(few) == 40
    belgrade = next(i for i, p in enumerate(places) if p.name == "Belgrade")
    assert few[belgrade] >= 5
    assert few[belgrade] == max(few)

    many = sites_per_place(places, 400)
    assert sum(many) == 400
    assert min(many) >= 1  # at least as many sites as places: one each first
    novi_sad = next(i for i, p in enumerate(places) if p.name == "Novi Sad")
    assert many[belgrade] > many[novi_sad] > many[belgrade] / 10


def test_site_plans_are_plausible() -> None:
    catalogue = load_rules().catalogue
    plans = plan_sites(400, 7, catalogue)
    places = {p.name: p for p in load_places()}

    assert len({p.code for p in plans}) == 400
    assert plans[0].name == "Beogradski sajam"
    assert any(p.name == "Dom zdravlja Niš" for p in plans)
    for plan in plans:
        assert plan.products, plan
        assert all(catalogue.get(product) is not None for product in plan.products)
        # Sputnik V's two components are stored together.
        assert ("sputnik-v-1" in plan.products) == ("sputnik-v-2" in plan.products)
        if "comirnaty" in plan.products:
            assert plan.hall or places[plan.place].population >= TOWN_POPULATION
        assert plan.slot_minutes in (10, 15)
        assert 2 <= plan.vaccinators <= 24
        assert plan.capacity("mon") > 0
        assert set(plan.opening_hours_json()) >= {"mon", "tue", "wed", "thu", "fri"}
    comirnaty = sum("comirnaty" in p.products for p in plans)
    assert 0 < comirnaty < len(plans) / 2
    assert sum("bbibp" in p.products for p in plans) == len(plans)


def test_capacity_is_slots_times_vaccinators() -> None:
    hall = plan_sites(1, 1, load_rules().catalogue)[0]
    assert hall.hall
    assert hall.opening_hours_json()["sun"] == [["08:00", "20:00"]]
    assert hall.capacity("sun") == 12 * 60 // hall.slot_minutes * hall.vaccinators
