"""The pure parts of hub scheduling: invitations, slot grids, place splits, demand."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from central.db import Site
from central.scheduling.capacity import SlotBook, slot_grid, split_places
from central.scheduling.demand import Demand, DoseGiven
from central.scheduling.invitations import (
    SMS_LIMIT,
    Invitation,
    email_text,
    sms_text,
    without_diacritics,
)
from domain.data import rules_in_force

START = date(2021, 6, 2)
RULES = rules_in_force(START)
SITE_ID = uuid.UUID("01900000-0000-7000-8000-000000000001")


def _invitation(site_name: str) -> Invitation:
    return Invitation(
        appointment_id=uuid.UUID("01900000-0000-7000-8000-0000000000aa"),
        citizen_name="Đorđe Ćirić",
        day=date(2021, 6, 2),
        slot_start=time(8, 30),
        site_name=site_name,
        site_address="Čačak",
        vaccine="Comirnaty",
        dose_number=2,
    )


def test_serbian_letters_fold_to_ascii() -> None:
    assert without_diacritics("Đorđe Čačak Šabac Žabalj Ćuprija") == (
        "Djordje Cacak Sabac Zabalj Cuprija"
    )


def test_the_sms_names_day_time_site_vaccine_and_code() -> None:
    text = sms_text(_invitation("Dom zdravlja Čačak"))

    assert text == (
        "Termin za vakcinaciju 02.06.2021. u 08:30, Dom zdravlja Cacak. Vakcina: Comirnaty, "
        "doza 2. Sifra: 01900000-0000-7000-8000-0000000000aa"
    )


@given(st.text(alphabet="abcčćdđefghijklmnoprsštuvzž ĐŠČĆŽ", min_size=1, max_size=200))
def test_the_sms_fits_one_gsm_segment_whatever_the_site_name(name: str) -> None:
    text = sms_text(_invitation(name))

    assert len(text) <= SMS_LIMIT
    assert text.isascii()
    assert text.endswith("Sifra: 01900000-0000-7000-8000-0000000000aa")


def test_the_email_is_serbian_with_the_code() -> None:
    text = email_text(_invitation("Dom zdravlja Čačak"))

    assert text.startswith("Predmet: Vaš termin za vakcinaciju")
    assert "Poštovani/a Đorđe Ćirić" in text
    assert "Datum: 02.06.2021.\nVreme: 08:30\nMesto: Dom zdravlja Čačak\nAdresa: Čačak" in text
    assert "Šifra termina: 01900000-0000-7000-8000-0000000000aa" in text


def test_the_slot_grid_follows_the_opening_hours() -> None:
    site = Site(
        opening_hours={"wed": [["08:00", "10:00"], ["13:00", "14:10"]]},
        slot_minutes=20,
        vaccinators=2,
    )

    assert slot_grid(site, date(2021, 6, 2)) == [
        time(8, 0), time(8, 20), time(8, 40), time(9, 0), time(9, 20), time(9, 40),
        time(13, 0), time(13, 20), time(13, 40),
    ]  # fmt: skip
    assert slot_grid(site, date(2021, 6, 3)) == []  # closed on Thursdays


def test_a_slot_book_seats_in_time_order() -> None:
    book = SlotBook({time(9, 0): 1, time(8, 0): 0, time(8, 30): 2})

    assert [book.seat() for _ in range(3)] == [time(8, 30), time(8, 30), time(9, 0)]
    assert book.total() == 0


@given(
    st.integers(min_value=0, max_value=10_000),
    st.dictionaries(
        st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 1000), min_size=1, max_size=4
    ),
)
def test_places_split_exactly_and_in_proportion(total: int, weights: dict[str, int]) -> None:
    parts = split_places(total, weights)

    assert sum(parts.values()) == total
    assert set(parts) == set(weights)
    weight_sum = sum(weights.values()) or len(weights)
    for key, part in parts.items():
        share = total * (weights[key] if sum(weights.values()) else 1) / weight_sum
        assert abs(part - share) < 1


def test_a_first_dose_keeps_the_order_of_preference() -> None:
    answer = Demand(RULES, START).answer(
        date(1940, 1, 1), "general", (), ("spikevax", "comirnaty"), []
    )

    assert answer is not None
    assert (answer.dose_number, answer.products, answer.earliest) == (
        1, ("spikevax", "comirnaty"), START,
    )  # fmt: skip
    assert answer.rank == RULES.priority_groups.by_code("age-75-plus").rank
    assert answer.ineligible_rule is None


def test_a_second_dose_follows_the_series_and_its_interval() -> None:
    first = DoseGiven("comirnaty", 1, START - timedelta(days=10), SITE_ID)

    answer = Demand(RULES, START).answer(date(1940, 1, 1), "general", (), ("sputnik-v-1",), [first])

    assert answer is not None
    assert answer.dose_number == 2
    assert answer.products == ("comirnaty",)
    assert answer.earliest == first.given_on + timedelta(days=21)


def test_a_contraindication_is_named_as_the_rule() -> None:
    answer = Demand(RULES, START).answer(
        date(1940, 1, 1), "general", ("peg-allergy",), ("comirnaty",), []
    )

    assert answer is not None
    assert answer.products == ()
    assert answer.ineligible_rule == "eligibility.contraindicated"


def test_a_completed_series_waits_for_nothing() -> None:
    doses = [
        DoseGiven("comirnaty", 1, date(2021, 3, 1), SITE_ID),
        DoseGiven("comirnaty", 2, date(2021, 3, 25), SITE_ID),
    ]

    assert Demand(RULES, START).answer(date(1940, 1, 1), "general", (), ("any",), doses) is None
