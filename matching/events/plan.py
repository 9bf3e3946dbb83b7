"""Job-dating planner: assign young people to firms' interview slots, with mixité floors.

One binary variable per reachable (youth, firm) pair; an integer program solved by HiGHS
through :func:`scipy.optimize.milp` maximises the total fit under

* hard limits: each firm's capacity (``slots * seats``), at most ``max_meetings`` per youth,
  only firms within the youth's mobility radius;
* floors, hard whenever they can be met: every youth with a reachable firm meets at least one
  (``coverage``); no firm meets only one gender group when its reachable pool holds two or more
  (``firm_mix``; groups ``F``, ``M``, ``X``, ``not_stated``); every youth who agreed meets at
  least one firm whose trade lies outside the gender band of their wishes (``non_traditional``).

Floors that cannot apply (a firm whose pool holds one group, a youth without a reachable firm)
are left out up front and named in the notes. Floors that can each apply but not all together
(capacity, competition for the same youths) are relaxed as few as possible: a first solve
minimises the number of relaxed floors (one 0/1 slack each), a second maximises the fit with no
more relaxations than that. Times are given afterwards by a bipartite edge colouring (König:
as many times as the longest firm has slots always suffice), so nobody is in two places at once.
:func:`~matching.events.report.greedy_meetings` is the baseline: floors first, then best fit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from matching.errors import OutOfRange
from matching.events.inputs import EventInstance
from matching.events.report import (
    FLOORS,
    GROUP_CODES,
    ConstraintCheck,
    Note,
    Rows,
    applicable_floors,
    check_constraints,
    floor_notes,
    greedy_meetings,
)


@dataclass(frozen=True)
class Meeting:
    """One interview: ``slot`` is the 1-based time slot of the event."""

    firm_id: str
    slot: int
    youth_id: str
    fit: float
    distance_km: float


@dataclass(frozen=True)
class EventPlan:
    """The schedule (sorted by firm, slot), its total fit, the greedy baseline and the report.

    ``status`` is ``optimal``, ``time_limit`` (best found in time) or ``greedy`` (the solver
    found nothing better than the baseline, which is then the schedule).
    """

    meetings: tuple[Meeting, ...]
    total_fit: float
    greedy_total_fit: float
    constraints: tuple[ConstraintCheck, ...]
    greedy_constraints: tuple[ConstraintCheck, ...]
    notes: tuple[Note, ...]
    status: str
    n_slots: int
    max_meetings: int
    seconds: float


def assign_slots(youth_rows: Rows, firm_rows: Rows, seats: Rows, n_slots: int) -> Rows:
    """Give each meeting a 1-based time so that nobody is in two places at once.

    A firm's meetings are dealt round-robin to its ``seats`` tables; youths and tables form a
    bipartite graph coloured with ``n_slots`` colours by alternating-path swaps (König's
    theorem), which always succeeds when no youth nor table has more than ``n_slots`` meetings.

    Raises:
        ValueError: a youth or a table has more than ``n_slots`` meetings.
    """
    order = np.lexsort((youth_rows, firm_rows))
    offsets = np.concatenate([[0], np.cumsum(seats)])
    tables = np.empty(len(order), dtype=np.int64)
    dealt = np.zeros(len(seats), dtype=np.int64)
    for edge in order:
        firm = firm_rows[edge]
        tables[edge] = offsets[firm] + dealt[firm] % seats[firm]
        dealt[firm] += 1
    n_youths = int(youth_rows.max()) + 1 if len(youth_rows) else 0
    at_youth = np.full((n_youths, n_slots), -1, dtype=np.int64)  # table met at each time
    at_table = np.full((int(offsets[-1]), n_slots), -1, dtype=np.int64)  # youth met at each time
    for edge in order:
        youth, table = youth_rows[edge], tables[edge]
        free_youth = np.flatnonzero(at_youth[youth] < 0)
        free_table = np.flatnonzero(at_table[table] < 0)
        if not len(free_youth) or not len(free_table):
            raise ValueError(f"more than {n_slots} meetings for one youth or one table")
        common = np.intersect1d(free_youth, free_table)
        colour = int(common[0]) if len(common) else int(free_youth[0])
        if not len(common):
            _swap_path(at_youth, at_table, table, colour, int(free_table[0]))
        at_youth[youth, colour] = table
        at_table[table, colour] = youth
    slots = np.empty(len(youth_rows), dtype=np.int64)
    for edge in range(len(youth_rows)):
        slots[edge] = int(np.flatnonzero(at_youth[youth_rows[edge]] == tables[edge])[0]) + 1
    return slots


def _swap_path(at_youth, at_table, table: int, busy: int, free: int) -> None:
    """Swap colours ``busy`` and ``free`` along the alternating path that starts at ``table``."""
    path, vertex, on_table, colour = [], table, True, busy
    while True:
        other = at_table[vertex, colour] if on_table else at_youth[vertex, colour]
        if other < 0:
            break
        path.append((other, vertex, colour) if on_table else (vertex, other, colour))
        vertex, on_table, colour = other, not on_table, free if colour == busy else busy
    for youth, tab, colour in path:
        at_youth[youth, colour] = at_table[tab, colour] = -1
    for youth, tab, colour in path:
        swapped = free if colour == busy else busy
        at_youth[youth, swapped], at_table[tab, swapped] = tab, youth


class _Program:
    """The integer program under construction: constraint rows added block by block (sparse
    triplets and row bounds) and columns added group by group (integrality, slack mask)."""

    def __init__(self, n_pairs: int):
        self.blocks: list[tuple[Rows, Rows, npt.NDArray[np.float64]]] = []
        self.lower: list[npt.NDArray[np.float64]] = []
        self.upper: list[npt.NDArray[np.float64]] = []
        self.n_rows, self.n_vars = 0, n_pairs
        self.integer, self.slack = [np.ones(n_pairs)], [np.zeros(n_pairs, bool)]

    def add(self, rows, cols, values, lo, hi) -> None:
        """Add ``len(lo)`` rows: entries ``values`` at (``rows`` counted from 0, ``cols``)."""
        self.blocks.append((rows + self.n_rows, cols, np.broadcast_to(values, rows.shape).astype(float)))
        self.lower.append(np.asarray(lo, dtype=float))
        self.upper.append(np.asarray(hi, dtype=float))
        self.n_rows += len(lo)

    def new_vars(self, count: int, is_integer: bool, is_slack: bool) -> Rows:
        """Add ``count`` columns and return their indexes."""
        start, self.n_vars = self.n_vars, self.n_vars + count
        self.integer.append(np.full(count, float(is_integer)))
        self.slack.append(np.full(count, is_slack))
        return np.arange(start, self.n_vars)

    def build(self):
        """Constraint matrix (CSR), row lower and upper bounds, integrality, slack mask."""
        rows, cols, values = (np.concatenate(part) for part in zip(*self.blocks, strict=True))
        matrix = sparse.csr_array((values, (rows, cols)), shape=(self.n_rows, self.n_vars))
        return (matrix, np.concatenate(self.lower), np.concatenate(self.upper),
                np.concatenate(self.integer), np.concatenate(self.slack))


def _model(instance: EventInstance, youth_rows: Rows, firm_rows: Rows, max_meetings: int, floors: bool):
    """Constraint matrix, row bounds, integrality and the slack mask of the program.

    Columns: one binary per reachable pair, then (with floors) one continuous ``h[firm, group]``
    in [0, 1] per firm under the mix floor and group of its pool (``h <= meetings with that
    group``, ``sum h >= 2``: at least two groups met), then one binary slack per floor subject.
    """
    n_youths, n_firms = instance.fit.shape
    program = _Program(len(youth_rows))
    pairs = np.arange(len(youth_rows))
    program.add(firm_rows, pairs, 1.0, np.full(n_firms, -np.inf), instance.capacity)
    program.add(youth_rows, pairs, 1.0, np.full(n_youths, -np.inf), np.full(n_youths, max_meetings))
    if floors:
        applies = applicable_floors(instance)
        _youth_floors(program, instance, applies, youth_rows, firm_rows)
        _firm_mix_floors(program, instance, applies, youth_rows, firm_rows)
    return program.build()


def _youth_floors(program: _Program, instance: EventInstance, applies, youth_rows: Rows,
                  firm_rows: Rows) -> None:
    """Coverage and non-traditional floors: each subject youth meets at least one firm (of a
    trade outside their band), or its slack is 1."""
    n_youths = instance.fit.shape[0]
    pairs = np.arange(len(youth_rows))
    for name, target in (("coverage", None), ("non_traditional", instance.outside_band)):
        subjects = np.flatnonzero(applies[name])
        local = np.full(n_youths, -1)
        local[subjects] = np.arange(len(subjects))
        chosen = local[youth_rows] >= 0
        if target is not None:
            chosen &= target[youth_rows, firm_rows]
        slacks = program.new_vars(len(subjects), True, True)
        program.add(np.concatenate([local[youth_rows[chosen]], np.arange(len(subjects))]),
                    np.concatenate([pairs[chosen], slacks]), 1.0, np.ones(len(subjects)),
                    np.full(len(subjects), np.inf))


def _firm_mix_floors(program: _Program, instance: EventInstance, applies, youth_rows: Rows,
                     firm_rows: Rows) -> None:
    """Mix floor: each subject firm meets at least two groups (``h[firm, group] <= meetings with
    that group``, ``sum h + 2 slack >= 2``)."""
    n_firms = instance.fit.shape[1]
    pairs = np.arange(len(youth_rows))
    codes = np.array([GROUP_CODES[g] for g in instance.groups], dtype=np.int64)
    under = applies["firm_mix"][firm_rows]
    keys, key_of_pair = np.unique(firm_rows[under] * 4 + codes[youth_rows[under]], return_inverse=True)
    h_vars = program.new_vars(len(keys), False, False)
    program.add(np.concatenate([np.arange(len(keys)), key_of_pair]),
                np.concatenate([h_vars, pairs[under]]),
                np.concatenate([np.ones(len(keys)), -np.ones(int(under.sum()))]),
                np.full(len(keys), -np.inf), np.zeros(len(keys)))
    mix_firms = np.flatnonzero(applies["firm_mix"])
    local = np.full(n_firms, -1)
    local[mix_firms] = np.arange(len(mix_firms))
    slacks = program.new_vars(len(mix_firms), True, True)
    program.add(np.concatenate([local[keys // 4], np.arange(len(mix_firms))]),
                np.concatenate([h_vars, slacks]),
                np.concatenate([np.ones(len(keys)), np.full(len(mix_firms), 2.0)]),
                np.full(len(mix_firms), 2.0), np.full(len(mix_firms), np.inf))


def _solve(cost, matrix, lower, upper, integrality, seconds, gap):
    result = milp(cost, constraints=LinearConstraint(matrix, lower, upper), integrality=integrality,
                  bounds=Bounds(0.0, 1.0),
                  options={"time_limit": max(seconds, 0.5), "mip_rel_gap": gap, "disp": False})
    return result.x, result.status == 0


def plan_meetings(
    instance: EventInstance,
    *,
    max_meetings: int = 2,
    time_limit_s: float = 30.0,
    floors: bool = True,
    mip_rel_gap: float = 1e-6,
) -> EventPlan:
    """Plan the event: maximise the total fit under the limits and the floors.

    Args:
        instance: the event (:func:`matching.events.inputs.build_instance`).
        max_meetings: meetings per youth at most, 1 to the event's number of slots.
        time_limit_s: wall-clock budget of the solver (both solves together).
        floors: apply the coverage and mix floors; False maximises the fit under the hard
            limits only.
        mip_rel_gap: relative optimality gap at which HiGHS stops.

    Raises:
        OutOfRange: ``max_meetings`` or ``time_limit_s`` out of range.
    """
    start = time.perf_counter()
    n_slots = instance.n_slots
    _check_plan_args(max_meetings, time_limit_s, n_slots)
    youth_rows, firm_rows = np.nonzero(instance.reachable)
    fit = instance.fit[youth_rows, firm_rows]
    greedy = greedy_meetings(instance, max_meetings, floors=floors)
    greedy_slots = assign_slots(*greedy, instance.seats, n_slots)
    greedy_checks = check_constraints(instance, *greedy, greedy_slots, max_meetings)
    greedy_total = float(instance.fit[greedy].sum())
    chosen, status, notes, bound = None, "optimal", [], np.inf
    if len(youth_rows):
        chosen, status, bound = _optimise(instance, youth_rows, firm_rows, fit, max_meetings, floors,
                                          mip_rel_gap, start + time_limit_s)
    kept = _greedy_kept(chosen, bool(len(youth_rows)), fit, greedy_total, greedy_checks, bound)
    if kept is not None:
        chosen, status = None, "greedy"
        notes.append(kept)
    if chosen is None:
        meeting_rows, slots, checks = greedy, greedy_slots, greedy_checks
    else:
        meeting_rows = (youth_rows[chosen], firm_rows[chosen])
        slots = assign_slots(*meeting_rows, instance.seats, n_slots)
        checks = check_constraints(instance, *meeting_rows, slots, max_meetings)
    if status == "time_limit":
        notes.append(Note("time_limit", (), f"time limit of {time_limit_s:g} s reached: best schedule "
                          "found so far, maybe not optimal", f"limite de {time_limit_s:g} s atteinte : "
                          "meilleur planning trouvé, peut-être pas optimal"))
    notes.extend(floor_notes(instance, checks, floors))
    meetings = _meetings(instance, meeting_rows, slots)
    return EventPlan(
        meetings=tuple(meetings), total_fit=float(sum(m.fit for m in meetings)),
        greedy_total_fit=greedy_total, constraints=checks, greedy_constraints=greedy_checks,
        notes=tuple(notes), status=status, n_slots=n_slots, max_meetings=max_meetings,
        seconds=time.perf_counter() - start)


def _check_plan_args(max_meetings: int, time_limit_s: float, n_slots: int) -> None:
    if not 1 <= max_meetings <= max(n_slots, 1):
        raise OutOfRange(
            f"max_meetings {max_meetings} out of range: give 1 to {n_slots}, the event's slots",
            field="max_meetings", message_fr=f"max_meetings {max_meetings} hors limites : "
            f"indiquez 1 à {n_slots}, le nombre de créneaux de l'événement")
    if not time_limit_s > 0:
        raise OutOfRange("time_limit_s must be positive", field="time_limit_s",
                         message_fr="time_limit_s doit être positif")


def _optimise(instance: EventInstance, youth_rows: Rows, firm_rows: Rows, fit, max_meetings: int,
              floors: bool, mip_rel_gap: float, deadline: float):
    """Solve the program before ``deadline`` (a ``time.perf_counter()`` value): first the fewest
    relaxed floors (when a floor applies), then the best fit with no more relaxations.

    Returns:
        ``(chosen pair indexes or None, status, bound on relaxed floors (inf: not solved))``.
    """
    status, bound = "optimal", np.inf
    matrix, lower, upper, integrality, slack = _model(instance, youth_rows, firm_rows, max_meetings, floors)
    if slack.any():
        values, optimal = _solve(slack.astype(float), matrix, lower, upper, integrality,
                                 (deadline - time.perf_counter()) / 2, 0.0)
        status = status if optimal else "time_limit"
        if values is not None:
            bound = round(float(values[slack].sum()))
        matrix = sparse.vstack([matrix, sparse.csr_array(slack.astype(float)[None, :])], format="csr")
        lower, upper = np.append(lower, -np.inf), np.append(upper, bound)
    cost = np.zeros(matrix.shape[1])
    cost[: len(fit)] = -fit
    values, optimal = _solve(cost, matrix, lower, upper, integrality,
                             deadline - time.perf_counter(), mip_rel_gap)
    status = status if optimal else "time_limit"
    chosen = None if values is None else np.flatnonzero(values[: len(fit)] > 0.5)
    return chosen, status, bound


def _greedy_kept(chosen, has_pairs: bool, fit, greedy_total: float, greedy_checks, bound) -> Note | None:
    """The note saying why the greedy baseline is the schedule, or None when the solver's is:
    the solver found nothing, or the baseline keeps as many floors with a higher fit."""
    greedy_unmet = sum(c.applicable - c.satisfied for c in greedy_checks if c.name in FLOORS)
    if chosen is None and has_pairs:
        return Note("solver_failed", (), "the solver found no schedule in time: greedy baseline kept",
                    "le solveur n'a trouvé aucun planning à temps : planning glouton conservé")
    if chosen is not None and greedy_total > float(fit[chosen].sum()) + 1e-9 and greedy_unmet <= bound:
        # after a time limit (or within the gap)
        return Note("greedy_kept", (), "the greedy baseline keeps as many floors with a higher fit "
                    "than the solver's best: kept", "le planning glouton tient autant de planchers "
                    "avec une meilleure adéquation que le solveur : conservé")
    return None


def _meetings(instance: EventInstance, meeting_rows: tuple[Rows, Rows], slots: Rows) -> list[Meeting]:
    """The meetings of the schedule, sorted by firm, slot and youth."""
    return sorted(
        (Meeting(str(instance.firm_ids[f]), int(s), str(instance.youth_ids[y]),
                 float(instance.fit[y, f]), float(instance.distances_km[y, f]))
         for y, f, s in zip(*meeting_rows, slots, strict=True)),
        key=lambda m: (m.firm_id, m.slot, m.youth_id))
