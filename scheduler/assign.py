"""From booked counts to named citizens, sessions and slots.

The flow decides how many of each class take each product and how many of
each demand node go to each session; the units inside a class or a node are
interchangeable, so who gets what is a free choice made here:

- inside a class, citizens who registered earlier are booked first;
- inside a profile (classes of all groups sharing a product list, window and
  home), higher groups, then earlier registrations, get the products higher
  on the list;
- inside a demand node, higher groups, then earlier registrations, get the
  earlier days (objective 4 among interchangeable citizens);
- inside a session, slots are handed out in the same order, one slot per
  `vaccinators` citizens.
"""

from __future__ import annotations

import numpy as np

from scheduler.factorize import lexorder
from scheduler.network import Outcome
from scheduler.prepared import I64, Prepared


def place_members(
    member_class: I64,
    member_group: I64,
    member_seniority: I64,
    class_profile: I64,
    outcome: Outcome,
    session_day: I64,
    class_order: I64 | None = None,
) -> I64:
    """The session of each member (-1: not booked).

    `member_class` is the class of each member in the round's `Demand` (-1: not
    in the round); `member_seniority` orders members, lower first (registration
    time, then id). `class_order`, if given, is `members_by_class(member_class,
    member_seniority)`, computed ahead.
    """
    n = len(member_class)
    result = np.full(n, -1, dtype=np.int64)
    if not (member_class >= 0).any() or int(outcome.class_booked.sum()) == 0:
        return result

    # Members of each class in seniority order; the first `class_booked` are booked.
    if class_order is None:
        class_order = members_by_class(member_class, member_seniority)
    order = class_order
    cls_sorted = member_class[order]
    starts = np.searchsorted(cls_sorted, np.arange(len(outcome.class_booked)))
    position = np.arange(len(order)) - starts[cls_sorted]
    chosen = order[position < outcome.class_booked[cls_sorted]]

    # Inside a profile: higher group, then seniority, gets the preferred product.
    profile = class_profile[member_class[chosen]]
    m = lexorder([profile, member_group[chosen], member_seniority[chosen]])
    chosen = chosen[m]
    u = np.lexsort((outcome.pd_node, outcome.pd_position, outcome.pd_profile))
    unit_profile = np.repeat(outcome.pd_profile[u], outcome.pd_count[u])
    unit_dp = np.repeat(outcome.pd_node[u], outcome.pd_count[u])
    if not np.array_equal(unit_profile, profile[m]):
        raise AssertionError("profile bookings do not match the booked classes")

    # Inside a demand node: higher group, then seniority, gets the earlier day.
    k = lexorder([unit_dp, member_group[chosen], member_seniority[chosen]])
    members_by_dp = chosen[k]
    s = np.lexsort((outcome.ds_session, session_day[outcome.ds_session], outcome.ds_node))
    seat_dp = np.repeat(outcome.ds_node[s], outcome.ds_count[s])
    seat_session = np.repeat(outcome.ds_session[s], outcome.ds_count[s])
    if not np.array_equal(seat_dp, unit_dp[k]):
        raise AssertionError("demand node bookings do not match its members")
    result[members_by_dp] = seat_session
    return result


def members_by_class(member_class: I64, member_seniority: I64) -> I64:
    """Indices of the members with a class (`member_class` >= 0), by class, then seniority."""
    in_round = np.flatnonzero(member_class >= 0)
    return in_round[lexorder([member_class[in_round], member_seniority[in_round]])]


def hand_out_slots(
    prepared: Prepared,
    booking_session: I64,
    booking_group: I64,
    booking_seniority: I64,
) -> I64:
    """Slot index of each booking inside its session: by group, then seniority."""
    n = len(booking_session)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = lexorder([booking_session, booking_group, booking_seniority])
    sessions = booking_session[order]
    first = np.searchsorted(sessions, sessions, side="left")
    rank = np.arange(n) - first
    vaccinators = prepared.session_vaccinators[sessions]
    slots = np.empty(n, dtype=np.int64)
    slots[order] = rank // np.maximum(vaccinators, 1)
    if (slots[order] >= prepared.session_slots[sessions]).any():
        raise AssertionError("a session is booked beyond its slots")
    return slots
