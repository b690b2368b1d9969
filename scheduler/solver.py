"""`schedule`: the whole run, from a `Problem` to a `Schedule`.

Steps, each in its own module:

1. `prepared` indexes the input; `classes` sorts citizens into priority groups
   and interchangeable classes, and gives timing and eligibility reasons.
2. `network.solve_round` books the classes: lexicographic group counts by max
   flow, then closeness/preference and days by a certified min-cost flow, both
   on the network after an exact contraction (`contraction`, `certify`).
3. `vials.consolidate` merges partial vials; `assign` names who goes where.
4. `follow_up` books or plans the next dose of every series.
5. `diagnose` gives the remaining reasons, `assign.hand_out_slots` the slots,
   `standby` the lists for leftover doses.

Deterministic: every order is an explicit sort on input values (ties broken by
citizen id), and the flow solvers are deterministic for a given arc order.
Two sorts that depend on the input alone (registration order, members by
class) run on a second thread while the flows are solved; numpy releases the
GIL while sorting, so they use the machine's other core.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from scheduler.assign import hand_out_slots, members_by_class, place_members
from scheduler.classes import REASON_CODE, Classes, classify
from scheduler.config import Config
from scheduler.diagnose import profile_reasons
from scheduler.factorize import factorize, lexorder
from scheduler.follow_up import follow_ups
from scheduler.model import Problem
from scheduler.network import Demand, solve_round
from scheduler.prepared import I64, Prepared, prepare
from scheduler.reach import expand
from scheduler.reasons import Reason
from scheduler.result import Schedule
from scheduler.standby import standby_lists
from scheduler.vials import consolidate


def schedule(problem: Problem, config: Config | None = None) -> Schedule:
    """Book `problem`'s waiting citizens into its sessions (see the package docstring)."""
    cfg = config or Config()
    table = problem.citizens
    n = len(table)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The registration order, then the members of each class in that order,
        # depend on nothing the flows decide; numpy sorts without the GIL, so
        # they run on the second core while the network is built and solved.
        seniority_job = pool.submit(_seniority, table.ids, table.registered)
        prepared = prepare(problem, cfg)
        classes = classify(prepared)
        order_job = pool.submit(lambda: members_by_class(classes.row_class, seniority_job.result()))
        demand = _main_demand(prepared, classes)
        capacity = prepared.session_capacity
        outcome = solve_round(prepared, demand, capacity, prepared.stock_by_day)
        seniority, class_order = seniority_job.result(), order_job.result()
    if cfg.consolidate_vials:
        outcome = consolidate(prepared, outcome, capacity, prepared.stock_by_day)
    session_day = prepared.session_day.astype(np.int64)
    row_session = place_members(
        classes.row_class,
        classes.row_group,
        seniority,
        demand.class_profile,
        outcome,
        session_day,
        class_order,
    )

    main_booked = np.flatnonzero(row_session >= 0)
    dose = table.dose.astype(np.int64)
    municipality = prepared.citizen_municipality[table.municipality].astype(np.int64)
    booked_per_session = np.bincount(row_session[main_booked], minlength=len(capacity)).astype(
        np.int64
    )
    fu = follow_ups(
        prepared,
        row_session[main_booked],
        dose[main_booked],
        classes.row_group[main_booked],
        municipality[main_booked],
        seniority[main_booked],
        classes.n_groups,
        booked_per_session,
    )
    withdrawn_rows = main_booked[fu.withdrawn_index]
    row_session[withdrawn_rows] = -1
    booked_rows = np.flatnonzero(row_session >= 0)

    reasons = classes.row_reason.astype(np.int64)
    final_booked = np.bincount(
        np.concatenate([row_session[booked_rows], fu.booked_session]), minlength=len(capacity)
    ).astype(np.int64)
    per_profile = profile_reasons(prepared, demand, outcome, final_booked)
    waiting = np.flatnonzero((row_session < 0) & (classes.row_class >= 0))
    waiting_profile = demand.class_profile[classes.row_class[waiting]]
    reasons[waiting] = per_profile[waiting_profile]
    reasons[withdrawn_rows] = REASON_CODE[Reason.SECOND_DOSE_UNAVAILABLE]
    unbooked = np.flatnonzero(row_session < 0)

    fu_rows = main_booked[fu.booked_index]
    appt_row = np.concatenate([booked_rows, fu_rows])
    appt_dose = np.concatenate([dose[booked_rows], dose[fu_rows] + 1])
    appt_session = np.concatenate([row_session[booked_rows], fu.booked_session])
    appt_group = classes.row_group[appt_row]
    # Follow-ups belong to the "later doses" tier: they come first in their sessions.
    appt_group = np.where(appt_dose >= 2, appt_group - classes.n_groups, appt_group)
    appt_slot = hand_out_slots(prepared, appt_session, appt_group, seniority[appt_row])

    may = np.isin(reasons[waiting], [REASON_CODE[Reason.NO_CAPACITY], REASON_CODE[Reason.NO_STOCK]])
    can_stand_by = waiting[may]
    key = np.empty(0, dtype=np.int64)
    if len(can_stand_by):
        key = classes.row_group[can_stand_by] * (n + 1) + seniority[can_stand_by]
    standby_session, standby_row = standby_lists(
        prepared,
        outcome,
        demand.option_profile,
        waiting_profile[may],
        can_stand_by,
        key,
        final_booked,
    )

    plan_rows = main_booked[fu.plan_index]
    keep_plan = row_session[plan_rows] >= 0
    return Schedule(
        problem=problem,
        appointment_row=appt_row,
        appointment_dose=appt_dose,
        appointment_session=appt_session,
        appointment_slot=appt_slot,
        unbooked_row=unbooked,
        unbooked_reason=reasons[unbooked].astype(np.int8),
        plan_row=plan_rows[keep_plan],
        plan_dose=dose[plan_rows[keep_plan]] + 1,
        plan_product=fu.plan_product[keep_plan],
        plan_earliest=fu.plan_earliest[keep_plan],
        plan_latest=fu.plan_latest[keep_plan],
        plan_site=fu.plan_site[keep_plan],
        standby_session=standby_session,
        standby_row=standby_row,
        group_keys=classes.group_keys,
        group_booked=outcome.group_booked,
    )


def _seniority(ids: np.ndarray, registered: np.ndarray) -> I64:
    """Order of rows by registration time, ties by citizen id (0 = first)."""
    n = len(ids)
    id_rank = np.empty(n, dtype=np.int64)
    id_rank[np.argsort(ids, kind="stable")] = np.arange(n)
    order = lexorder([registered.astype(np.int64), id_rank])
    out = np.empty(n, dtype=np.int64)
    out[order] = np.arange(n)
    return out


def _main_demand(prepared: Prepared, classes: Classes) -> Demand:
    """The main round's demand: classes over profiles, product lists as options."""
    profile, first = factorize(
        [
            classes.municipality.astype(np.int64),
            classes.preferred_site,
            classes.product_list,
            classes.earliest,
            classes.latest,
        ]
    )
    lists = prepared.product_lists
    lengths = np.array([len(x) for x in lists], dtype=np.int64)
    flat = np.array([p for x in lists for p in x], dtype=np.int64)
    list_start = np.cumsum(lengths) - lengths
    plist = classes.product_list[first]
    counts = lengths[plist]
    pos = expand(list_start[plist], counts)
    return Demand(
        class_group=classes.group,
        class_profile=profile,
        class_size=classes.size,
        profile_municipality=classes.municipality[first].astype(np.int64),
        profile_earliest=classes.earliest[first],
        profile_latest=classes.latest[first],
        profile_preferred_site=classes.preferred_site[first],
        option_profile=np.repeat(np.arange(len(first), dtype=np.int64), counts),
        option_product=flat[pos] if len(pos) else np.zeros(0, dtype=np.int64),
        option_position=pos - np.repeat(list_start[plist], counts),
        n_groups=classes.n_groups,
    )
