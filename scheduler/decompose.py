"""Following each booked unit through the network to its session.

The min-cost flow gives amounts on arcs, not paths. Units are labelled with
the demand node their citizens belong to and followed through:

1. base nodes and previous-site nodes, where the labelled arrivals are matched
   to the node's entry arcs (into a forward chain at a first day, a backward
   chain at a last day, or a session directly);
2. the chains: a unit entering the forward chain at day e leaves at some day
   >= e, and one entering the backward chain at day l leaves at some day <= l.
   Matching entries and exits in day order always succeeds, because the chain
   flow is conserved day by day.

Any decomposition has the same cost, so the order here only has to be fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scheduler.prepared import I64


@dataclass(frozen=True, eq=False)
class Arrivals:
    """Units arriving at a node, labelled by their demand node."""

    node: I64
    label: I64
    count: I64


@dataclass(frozen=True, eq=False)
class Entries:
    """Flow on entry arcs; kind 0 forward chain, 1 backward chain, 2 session."""

    tail: I64
    kind: I64
    chain: I64
    day: I64
    session: I64
    count: I64


@dataclass(frozen=True, eq=False)
class Exits:
    """Flow from each chain day to its session, forward and backward chains."""

    chain: I64
    day: I64
    session: I64
    forward: I64
    backward: I64


def _pair_up(
    a_group: list[int], a_count: list[int], b_group: list[int], b_count: list[int]
) -> list[tuple[int, int, int]]:
    """Match two sequences sorted by group, amounts conserved per group.

    Returns (index in a, index in b, amount) triples.
    """
    out: list[tuple[int, int, int]] = []
    i = 0
    for j in range(len(b_group)):
        need = b_count[j]
        while need > 0:
            while a_count[i] == 0:
                i += 1
            if a_group[i] != b_group[j]:
                raise AssertionError("flow is not conserved at a node")
            take = min(need, a_count[i])
            out.append((i, j, take))
            a_count[i] -= take
            need -= take
    return out


def route(arrivals: Arrivals, entries: Entries, exits: Exits) -> tuple[I64, I64, I64]:
    """(label, session, count) triples: where each demand node's units were booked."""
    ao = np.lexsort((arrivals.label, arrivals.node))
    ao = ao[arrivals.count[ao] > 0]
    eo = np.lexsort((entries.session, entries.day, entries.chain, entries.kind, entries.tail))
    eo = eo[entries.count[eo] > 0]
    pairs = _pair_up(
        arrivals.node[ao].tolist(),
        arrivals.count[ao].tolist(),
        entries.tail[eo].tolist(),
        entries.count[eo].tolist(),
    )
    a_label = arrivals.label[ao].tolist()
    e_kind = entries.kind[eo].tolist()
    e_chain = entries.chain[eo].tolist()
    e_day = entries.day[eo].tolist()
    e_session = entries.session[eo].tolist()

    out_label: list[int] = []
    out_session: list[int] = []
    out_count: list[int] = []
    chained: dict[int, list[tuple[int, int, int, int]]] = {0: [], 1: []}
    for i, j, k in pairs:
        if e_kind[j] == 2:
            out_label.append(a_label[i])
            out_session.append(e_session[j])
            out_count.append(k)
        else:
            chained[e_kind[j]].append((e_chain[j], e_day[j], a_label[i], k))

    for kind, amounts in ((0, exits.forward), (1, exits.backward)):
        sign = 1 if kind == 0 else -1  # backward chains are walked from the last day
        units = sorted(chained[kind], key=lambda u: (u[0], sign * u[1], u[2]))
        used = amounts > 0
        xo = np.lexsort((sign * exits.day[used], exits.chain[used]))
        x_chain = exits.chain[used][xo].tolist()
        x_day = exits.day[used][xo].tolist()
        x_session = exits.session[used][xo].tolist()
        matched = _pair_up(
            [u[0] for u in units], [u[3] for u in units], x_chain, amounts[used][xo].tolist()
        )
        for i, j, k in matched:
            if sign * units[i][1] > sign * x_day[j]:
                raise AssertionError("a chain unit leaves outside its window")
            out_label.append(units[i][2])
            out_session.append(x_session[j])
            out_count.append(k)
    return (
        np.array(out_label, dtype=np.int64),
        np.array(out_session, dtype=np.int64),
        np.array(out_count, dtype=np.int64),
    )
