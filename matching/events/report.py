"""Job-dating planner, checks and baselines: which floors apply, how a schedule meets each
constraint, what to tell the organiser, and the greedy baselines the integer program is
measured against (:mod:`matching.events.plan`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.events.inputs import EventInstance

FLOORS = ("coverage", "firm_mix", "non_traditional")
GROUP_CODES = {"F": 0, "M": 1, "X": 2, "not_stated": 3}
Rows = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ConstraintCheck:
    """How many of the subjects a constraint applies to satisfy it, and which do not."""

    name: str
    satisfied: int
    applicable: int
    failing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Note:
    """Something the organiser should know: a floor left out or relaxed, a time limit hit."""

    code: str
    subjects: tuple[str, ...]
    message: str
    message_fr: str


def applicable_floors(instance: EventInstance) -> dict[str, npt.NDArray[np.bool_]]:
    """Which subjects each floor applies to: youths (coverage, non_traditional), firms (firm_mix)."""
    reach = instance.reachable
    codes = np.array([GROUP_CODES[g] for g in instance.groups], dtype=np.int64)
    pools = np.zeros((reach.shape[1], len(GROUP_CODES)), dtype=bool)
    youth_rows, firm_rows = np.nonzero(reach)
    pools[firm_rows, codes[youth_rows]] = True
    return {
        "coverage": reach.any(axis=1),
        "firm_mix": (pools.sum(axis=1) >= 2) & (instance.capacity >= 2),
        "non_traditional": instance.open_to_non_traditional & (reach & instance.outside_band).any(axis=1),
    }



def greedy_meetings(instance: EventInstance, max_meetings: int, *, floors: bool = True) -> tuple[Rows, Rows]:
    """Baseline: serve the floors first, then fill by decreasing fit while there is room.

    With ``floors``: each firm under the mix floor takes its best-fitting youth, then the best
    one of another gender group; each youth under the non-traditional floor (fewest options
    first) takes the best firm outside the band of their wishes; each youth still without a
    meeting (fewest options first) the best firm within reach. Without: fill by fit alone.

    Returns:
        ``(youth_rows, firm_rows)`` of the chosen meetings, shape ``(n_meetings,)`` each.
    """
    youth_rows, firm_rows = np.nonzero(instance.reachable)
    order = np.lexsort((firm_rows, youth_rows, -instance.fit[youth_rows, firm_rows]))
    room_firm = instance.capacity.copy()
    room_youth = np.full(len(instance.youth_ids), max_meetings)
    taken = np.zeros(len(youth_rows), dtype=bool)

    def take(candidates, count: int = 1) -> None:
        for pair in order[candidates[order]]:
            youth, firm = youth_rows[pair], firm_rows[pair]
            if not taken[pair] and room_firm[firm] > 0 and room_youth[youth] > 0:
                taken[pair], count = True, count - 1
                room_firm[firm] -= 1
                room_youth[youth] -= 1
                if not count:
                    return

    if floors:
        applies = applicable_floors(instance)
        codes = np.array([GROUP_CODES[g] for g in instance.groups], dtype=np.int64)[youth_rows]
        for firm in np.flatnonzero(applies["firm_mix"]):
            at_firm = firm_rows == firm
            take(at_firm)
            take(at_firm & ~np.isin(codes, codes[taken & at_firm]))
        outside = instance.outside_band[youth_rows, firm_rows]
        for name, allowed in (("non_traditional", outside), ("coverage", np.ones_like(outside))):
            options = np.bincount(youth_rows[allowed], minlength=len(room_youth))
            subjects = np.flatnonzero(applies[name])
            for youth in subjects[np.argsort(options[subjects], kind="stable")]:
                mine = (youth_rows == youth) & allowed
                if not (taken & mine).any():
                    take(mine)
    take(np.ones(len(order), dtype=bool), count=len(order))
    return youth_rows[taken], firm_rows[taken]


def check_constraints(
    instance: EventInstance, youth_rows: Rows, firm_rows: Rows, slots: Rows, max_meetings: int
) -> tuple[ConstraintCheck, ...]:
    """Count, for every constraint, the subjects that satisfy it among those it applies to."""
    n_youths, n_firms = instance.fit.shape
    youth_ids, firm_ids = instance.youth_ids, instance.firm_ids
    per_firm = np.bincount(firm_rows, minlength=n_firms)
    per_youth = np.bincount(youth_rows, minlength=n_youths)
    width = int(slots.max(initial=0)) + 1
    firm_slot, firm_slot_count = np.unique(firm_rows * width + slots, return_counts=True)
    crowded = np.unique(firm_slot[firm_slot_count > instance.seats[firm_slot // width]] // width)
    youth_slot, youth_slot_count = np.unique(youth_rows * width + slots, return_counts=True)
    doubled = np.unique(youth_slot[youth_slot_count > 1] // width)
    too_far = ~instance.reachable[youth_rows, firm_rows]
    floors = applicable_floors(instance)
    groups_met = np.zeros((n_firms, len(GROUP_CODES)), dtype=bool)
    codes = np.array([GROUP_CODES[g] for g in instance.groups], dtype=np.int64)
    groups_met[firm_rows, codes[youth_rows]] = True
    outside_met = np.zeros(n_youths, dtype=bool)
    np.logical_or.at(outside_met, youth_rows, instance.outside_band[youth_rows, firm_rows])
    met = {
        "coverage": per_youth >= 1,
        "firm_mix": groups_met.sum(axis=1) >= 2,
        "non_traditional": outside_met,
    }

    def check(name, ok, applies, ids):
        return ConstraintCheck(name, int((ok & applies).sum()), int(applies.sum()),
                               tuple(str(i) for i in ids[applies & ~ok]))

    every_firm, every_youth = np.ones(n_firms, bool), np.ones(n_youths, bool)
    return (
        check("firm_capacity", per_firm <= instance.capacity, every_firm, firm_ids),
        check("seats_per_slot", ~np.isin(np.arange(n_firms), crowded), every_firm, firm_ids),
        check("meetings_per_youth", per_youth <= max_meetings, every_youth, youth_ids),
        check("distance", ~too_far, np.ones(len(youth_rows), bool), youth_ids[youth_rows]),
        check("one_place_per_slot", ~np.isin(np.arange(n_youths), doubled), per_youth > 0, youth_ids),
        *(check(name, met[name], floors[name], firm_ids if name == "firm_mix" else youth_ids)
          for name in FLOORS),
    )


_LEFT_OUT = {
    "coverage": ("no firm within the mobility radius of these youths",
                 "aucune entreprise dans le rayon de mobilité de ces jeunes"),
    "firm_mix": ("mix floor not applied to these firms: their reachable pool holds one gender "
                 "group, or they have one seat", "plancher de mixité non appliqué à ces entreprises : "
                 "les jeunes à leur portée sont d'un seul groupe de genre, ou elles n'ont qu'une place"),
    "non_traditional": ("these youths agreed to a non-traditional meeting but no firm within reach "
                        "lies outside the gender band of their wishes (or their wishes have none)",
                        "ces jeunes acceptaient une rencontre hors de la tendance de genre de leurs "
                        "souhaits, mais aucune entreprise à leur portée ne l'est (ou leurs souhaits "
                        "n'en ont pas)"),
}
_RELAXED = {
    "coverage": ("no meeting for these youths: not enough seats within their reach",
                 "aucune rencontre pour ces jeunes : pas assez de places à leur portée"),
    "firm_mix": ("mix floor relaxed for these firms: it could not be met together with the others",
                 "plancher de mixité levé pour ces entreprises : impossible à tenir avec les autres"),
    "non_traditional": ("non-traditional meeting relaxed for these youths: not enough seats",
                        "rencontre hors tendance de genre levée pour ces jeunes : pas assez de places"),
}


def floor_notes(instance: EventInstance, checks, floors: bool) -> list[Note]:
    """Name the floors left out up front (impossible) and those relaxed by the solver."""
    applies = applicable_floors(instance)
    open_youths = instance.open_to_non_traditional
    left_out = {
        "coverage": ~applies["coverage"],
        "firm_mix": ~applies["firm_mix"],
        "non_traditional": open_youths & ~applies["non_traditional"],
    }
    notes = []
    for name in FLOORS:
        ids = instance.firm_ids if name == "firm_mix" else instance.youth_ids
        if left_out[name].any():
            message, message_fr = _LEFT_OUT[name]
            notes.append(Note(f"{name}_not_applicable", tuple(str(i) for i in ids[left_out[name]]), message, message_fr))
    for check in checks:
        if check.name in FLOORS and check.failing:
            message, message_fr = _RELAXED[check.name]
            if not floors:
                message, message_fr = "floors not requested", "planchers non demandés"
            notes.append(Note(f"{check.name}_relaxed", check.failing, message, message_fr))
    return notes
