"""The shortlist's own composition by gender group, next to the balance policy's target.

Computed on the server from the ranked youths' groups (:class:`service.api.shortlists.Shortlist`),
never per card: the page shows each group's share of the list, rounded to the nearest 10 %, and
masks the shares that could tell a pseudonymised youth's group (see docs/WEB.md, "Shortlist
composition"):

- a group's share shows when the group holds none of the candidates, or at least
  :data:`MIN_COUNT` of them with at least :data:`MIN_COUNT` others outside it (so neither
  "one or two of them" nor "all but one or two" is shown);
- if the masked groups together hold 1 or 2 candidates (the rest could be subtracted from the
  list's length), the smallest shown group that holds any is masked too, until they hold
  :data:`MIN_COUNT` or more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

GROUPS: tuple[str, ...] = ("F", "M", "X", "not_stated")
GROUP_LABELS = {"F": "Femmes", "M": "Hommes", "X": "Autre genre", "not_stated": "Non renseigné"}
MIN_COUNT = 3
"""The fewest candidates of a group (and outside it) whose share the page shows."""


def shown_groups(counts: dict[str, int]) -> set[str]:
    """The groups whose share may be shown (the rules of the module's docstring)."""
    total = sum(counts.values())
    shown = {g for g, n in counts.items() if n == 0 or (n >= MIN_COUNT and total - n >= MIN_COUNT)}
    while 0 < sum(n for g, n in counts.items() if g not in shown) < MIN_COUNT:
        holders = sorted((counts[g], GROUPS.index(g) if g in GROUPS else len(GROUPS), g)
                         for g in shown if counts[g])
        if not holders:
            break
        shown.discard(holders[0][2])
    return shown


def composition_rows(groups: Sequence[str], target: dict[str, float] | None) -> list[dict[str, Any]]:
    """One row per gender group: ``label``, ``share`` (percent of the list rounded to 10, or None
    when masked) and ``target`` (percent, or None without a target for that group)."""
    counts = Counter(groups)
    for_groups = {g: counts.get(g, 0) for g in GROUPS}
    shown = shown_groups(for_groups)
    total = len(groups)
    rows = []
    for group in GROUPS:
        share = None
        if group in shown and total:
            share = int(10 * for_groups[group] / total + 0.5) * 10  # half up
        wanted = (target or {}).get(group)
        rows.append({"group": group, "label": GROUP_LABELS[group], "share": share,
                     "target": None if wanted is None else round(100 * wanted)})
    return rows
