"""Stock: a site with none books nobody; deliveries open later days only."""

from __future__ import annotations

from scheduler import Reason, Stock
from tests.scheduler.factory import (
    booked,
    citizen,
    day,
    municipality,
    problem,
    reasons,
    session,
    solve,
)

WEST = municipality("W", -25)  # reaches XA (25 km) only, not XB (45 km)


def test_site_without_stock_books_nobody_and_says_why() -> None:
    citizens = [citizen("west", municipality_id="W"), citizen("home", municipality_id="A")]
    sessions = [session("XA", 0, "pfizer"), session("XB", 0, "pfizer")]
    stock = [Stock("XB", "pfizer", 100)]
    result = solve(problem(citizens, sessions, municipalities=[WEST], stock=stock))

    assert booked(result) == {("home", 1): ("XB", 0, "pfizer")}
    assert reasons(result) == {"west": Reason.NO_STOCK}


def test_stock_runs_out_before_places_do() -> None:
    citizens = [citizen(f"c{i}", registered=i) for i in range(4)]
    result = solve(
        problem(citizens, [session("XA", 0, "pfizer", slots=4)], stock=[Stock("XA", "pfizer", 2)])
    )

    assert set(booked(result)) == {("c0", 1), ("c1", 1)}
    assert reasons(result) == {"c2": Reason.NO_STOCK, "c3": Reason.NO_STOCK}


def test_delivery_opens_bookings_from_its_day_on() -> None:
    citizens = [citizen(f"c{i}", registered=i, products=("janssen",)) for i in range(3)]
    sessions = [session("XA", d, "janssen", slots=4) for d in range(5)]
    stock = [Stock("XA", "janssen", 1), Stock("XA", "janssen", 2, available_from=day(3))]
    result = solve(problem(citizens, sessions, stock=stock))

    days = sorted(d for (_, d, _) in booked(result).values())
    assert days == [0, 3, 3]


def test_stock_of_another_product_does_not_help() -> None:
    result = solve(
        problem(
            [citizen("c", products=("pfizer",))],
            [session("XA", 0, "pfizer")],
            stock=[Stock("XA", "astrazeneca", 50)],
        )
    )

    assert reasons(result) == {"c": Reason.NO_STOCK}
