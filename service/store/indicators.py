"""Activity and mixité indicators of a period, for one Mission Locale or all of them.

:func:`indicators` returns a JSON-ready document (``GET /v1/indicators``); :func:`indicators_csv`
flattens it (``format=csv``). Every figure sums the live rows (``suggestions``, ``outcomes``,
``youths``) and the anonymous counts of erased youths (``indicator_counts``) with the counting
rules of :mod:`service.store.erasure`: a youth counts once, in the month of its first
suggestion; a suggestion in the month it was made; an outcome in the month it was recorded, in
the group of its suggestion. Months are UTC calendar months, as in ``indicator_counts.period``.
The queries that read these rows are in :mod:`service.store.indicator_queries`; this module
turns their counts into indicators, suppresses small counts and renders the document.

Groups: the youth's gender group ``F``, ``M``, ``X`` or ``not_stated`` (``youths.gender`` NULL),
and ``total``.

Indicators (name: definition):

- ``youths``: youths whose first suggestion was made in the period.
- ``suggestions``, ``suggestions_trade``, ``suggestions_vacancy``: suggestions made in the
  period, all of them and by item kind.
- ``suggestions_sector_<family>`` for ``artisanat``, ``commerce``, ``liberal``, ``other``:
  suggestions carrying that sector family (vacancy suggestions do; trade suggestions carry none).
- ``outcomes_<status>`` for ``contacted``, ``applied``, ``immersion``, ``hired``,
  ``in_post_6_months`` (still in post after 6 months) and ``declined``: outcome rows recorded in
  the period with that status (``proposed`` is not counted).
- ``outcomes_declined_<reason>`` for each reason code of
  :data:`~service.store.outcome_codes.DECLINE_REASONS`: declines recorded in the period with
  that reason. Declines stored before the codes existed (free text) count in
  ``outcomes_declined`` only, so the reasons may sum to less.
- ``firms``: distinct employers (SIRET) of the vacancy suggestions made in the period. Erased
  youths contribute the SIRETs kept in ``indicator_counts`` (groups with ``suggestions > 0`` in
  the period): a firm suggested to a live youth and to an erased one counts once. The
  ``total`` is the number of distinct firms over all groups, not the sum of the groups.
- ``non_traditional_trade_suggestions``: trade suggestions flagged ``non_traditional`` (a trade
  atypical for the youth's gender group when suggested).
- ``non_traditional_suggested_share``: ``non_traditional_trade_suggestions`` /
  ``suggestions_trade``.
- ``take_up_outcomes``: outcome rows that show a take-up, i.e. status ``contacted``,
  ``applied``, ``immersion``, ``hired`` or ``in_post_6_months`` (not ``proposed``, not
  ``declined``), recorded in the period, on suggestions of any kind. One suggestion that goes
  contacted -> applied -> hired counts three steps.
- ``take_up_outcomes_sector_<family>``: the same, on suggestions carrying that sector family
  (vacancy suggestions).
- ``non_traditional_take_up_outcomes``: the same, on suggestions flagged ``non_traditional``
  (trade or vacancy; a NULL flag counts as not non-traditional, as in ``indicator_counts``).
- ``non_traditional_take_up_share``: ``non_traditional_take_up_outcomes`` /
  ``take_up_outcomes``: the share of take-ups that concern non-traditional suggestions; compare
  it with ``non_traditional_suggested_share``.

Statistical disclosure control, so that no young person can be singled out:

- primary: every count from 1 to 4 (under :data:`SUPPRESSION_THRESHOLD`) is replaced by
  ``null`` and its group listed in ``suppressed``; 0 stays 0.
- secondary: in each count row whose ``total`` is the sum of its groups (all counts but
  ``firms``), if exactly one group is suppressed while the total shows, the smallest other group
  (zeros included; ties: first in F, M, X, not_stated order) is suppressed too, so the hidden
  cell cannot be recovered by subtraction.
- a share is suppressed when its numerator or denominator is; a share with a zero denominator
  is ``null`` without being suppressed (undefined). Shares are rounded to 3 decimals.

Not handled: sums across rows (e.g. ``suggestions_trade`` + ``suggestions_vacancy`` =
``suggestions``, the sector families of vacancy suggestions, the take-up statuses) can still let
a reader bound or recover a suppressed cell of an event count; the only count of persons,
``youths``, has no such companion row.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from matching.types import SECTOR_FAMILIES
from service.store.columns import utcnow
from service.store.indicator_queries import (
    COLUMNS,
    GROUPS,
    OUTCOME_MEASURES,
    TOTAL,
    Key,
    Scope,
    any_synthetic,
    firm_counts,
    measures,
    monthly_firm_counts,
    monthly_measures,
)
from service.store.outcome_codes import (
    DECLINE_MEASURES,
    DECLINE_REASONS,
    TAKE_UP_STATUSES,
    declined_measure,
)
from service.store.youths import get_mission_locale

SUPPRESSION_THRESHOLD = 5
"""Counts from 1 to ``SUPPRESSION_THRESHOLD - 1`` are suppressed."""
TAKE_UP: tuple[str, ...] = TAKE_UP_STATUSES
CSV_COLUMNS: tuple[str, ...] = (
    "mission_locale",
    "from",
    "to",
    "indicator",
    "label",
    "group",
    "value",
    "suppressed",
)

_SECTOR_WORDS = {
    "artisanat": "secteur artisanat",
    "commerce": "secteur commerce",
    "liberal": "secteur professions libérales",
    "other": "autres secteurs",
}
LABELS_FR: dict[str, str] = {
    "youths": "Jeunes ayant reçu des suggestions (au mois de leur première suggestion)",
    "suggestions": "Suggestions faites",
    "suggestions_trade": "Suggestions de métiers",
    "suggestions_vacancy": "Suggestions d'offres",
    "suggestions_sector_artisanat": "Suggestions du secteur artisanat",
    "suggestions_sector_commerce": "Suggestions du secteur commerce",
    "suggestions_sector_liberal": "Suggestions du secteur professions libérales",
    "suggestions_sector_other": "Suggestions des autres secteurs",
    "outcomes_contacted": "Mises en relation (contact pris)",
    "outcomes_applied": "Candidatures envoyées",
    "outcomes_immersion": "Immersions",
    "outcomes_hired": "Embauches",
    "outcomes_in_post_6_months": "Toujours en poste après 6 mois",
    "outcomes_declined": "Suggestions déclinées",
    **{
        f"outcomes_{declined_measure(code)}": f"Suggestions déclinées : {label}"
        for code, label in DECLINE_REASONS.items()
    },
    "firms": "Entreprises concernées par des offres suggérées",
    "non_traditional_trade_suggestions": "Suggestions de métiers non traditionnels pour le genre",
    "non_traditional_suggested_share": "Part des métiers non traditionnels parmi les métiers suggérés",
    "take_up_outcomes": "Suites positives (contact, candidature, immersion, embauche, en poste à 6 mois)",
    **{
        f"take_up_outcomes_sector_{family}": f"Suites positives, {label}"
        for family, label in _SECTOR_WORDS.items()
    },
    "non_traditional_take_up_outcomes": "Suites positives sur des suggestions non traditionnelles",
    "non_traditional_take_up_share": "Part des suites positives portant sur des suggestions non traditionnelles",
}
"""French label of each indicator, in document order."""
INDICATOR_NAMES: tuple[str, ...] = tuple(LABELS_FR)
SHARES: dict[str, tuple[str, str]] = {
    "non_traditional_suggested_share": (
        "non_traditional_trade_suggestions",
        "suggestions_trade",
    ),
    "non_traditional_take_up_share": ("non_traditional_take_up_outcomes", "take_up_outcomes"),
}
"""Each share: (numerator, denominator) count rows."""
NOT_ADDITIVE: frozenset[str] = frozenset({"firms"})
"""Count rows whose total is not the sum of their groups (no secondary suppression)."""


def _sum(
    by_key: Mapping[Key, Counter[str]], measures: Iterable[str], **match: Any
) -> dict[str, int]:
    """Sum ``measures`` over the keys matching ``match`` (item_kind, family, non_traditional)."""
    names = tuple(measures)
    row = dict.fromkeys(COLUMNS, 0)
    for (group, item_kind, family, non_traditional), counts in by_key.items():
        fields = {"item_kind": item_kind, "family": family, "non_traditional": non_traditional}
        if all(fields[name] == value for name, value in match.items()):
            value = sum(counts[name] for name in names)
            row[group] += value
            row[TOTAL] += value
    return row


def _counts(
    by_key: Mapping[Key, Counter[str]], youths: Counter[str], firms: dict[str, int]
) -> dict[str, dict[str, int]]:
    """Return the raw (unsuppressed) count rows, by indicator name."""
    rows: dict[str, dict[str, int]] = {}
    rows["youths"] = {group: youths[group] for group in GROUPS}
    rows["youths"][TOTAL] = sum(youths[group] for group in GROUPS)
    rows["suggestions"] = _sum(by_key, ["suggestions"])
    rows["suggestions_trade"] = _sum(by_key, ["suggestions"], item_kind="trade")
    rows["suggestions_vacancy"] = _sum(by_key, ["suggestions"], item_kind="vacancy")
    for family in SECTOR_FAMILIES:
        rows[f"suggestions_sector_{family}"] = _sum(by_key, ["suggestions"], family=family)
    for status in OUTCOME_MEASURES:
        rows[f"outcomes_{status}"] = _sum(by_key, [status])
    for measure in DECLINE_MEASURES:
        rows[f"outcomes_{measure}"] = _sum(by_key, [measure])
    rows["firms"] = firms
    rows["non_traditional_trade_suggestions"] = _sum(
        by_key, ["suggestions"], item_kind="trade", non_traditional=True
    )
    rows["take_up_outcomes"] = _sum(by_key, TAKE_UP)
    for family in SECTOR_FAMILIES:
        rows[f"take_up_outcomes_sector_{family}"] = _sum(by_key, TAKE_UP, family=family)
    rows["non_traditional_take_up_outcomes"] = _sum(by_key, TAKE_UP, non_traditional=True)
    return rows


def _suppress(name: str, row: Mapping[str, int]) -> tuple[dict[str, int | None], list[str]]:
    """Apply primary and (for additive rows) secondary suppression to one count row."""
    hidden = {column for column in COLUMNS if 0 < row[column] < SUPPRESSION_THRESHOLD}
    hidden_groups = [group for group in GROUPS if group in hidden]
    if name not in NOT_ADDITIVE and TOTAL not in hidden and len(hidden_groups) == 1:
        others = [group for group in GROUPS if group not in hidden]
        hidden.add(min(others, key=lambda group: row[group]))
    values = {column: None if column in hidden else row[column] for column in COLUMNS}
    return values, [column for column in COLUMNS if column in hidden]


def _share(
    numerator: Mapping[str, Any], denominator: Mapping[str, Any]
) -> tuple[dict[str, float | None], list[str]]:
    values: dict[str, float | None] = {}
    suppressed = []
    for column in COLUMNS:
        top, bottom = numerator["values"][column], denominator["values"][column]
        if column in numerator["suppressed"] or column in denominator["suppressed"]:
            values[column] = None
            suppressed.append(column)
        else:
            values[column] = round(top / bottom, 3) if bottom else None
    return values, suppressed


def indicators(
    session: Session,
    *,
    mission_locale: str | None,
    start: date | None,
    end: date | None,
) -> dict[str, Any]:
    """Return the indicators document of a period for a Mission Locale (None: all of them).

    Args:
        mission_locale: a Mission Locale code; None for national figures (admin).
        start, end: any day of the first and last months (inclusive); None: open bound.

    Returns:
        ``{"period": {"from": "YYYY-MM"|None, "to": ...}, "mission_locale", "generated_at",
        "suppression_threshold", "synthetic", "groups": [...], "indicators": {name: {"label",
        "kind": "count"|"share", "values": {group: int|float|None}, "suppressed": [group,
        ...]}}}``; see the module docstring for definitions and suppression.

    Raises:
        UnknownId: unknown Mission Locale. ValueError: ``start`` after ``end``'s month.
    """
    scope = Scope(mission_locale, start, end)
    if scope.first is not None and scope.last is not None and scope.first > scope.last:
        raise ValueError(f"period: from {scope.first} is after to {scope.last}")
    if mission_locale is not None:
        get_mission_locale(session, mission_locale)
    return {
        "period": {"from": scope.first, "to": scope.last},
        "mission_locale": mission_locale,
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "suppression_threshold": SUPPRESSION_THRESHOLD,
        "synthetic": any_synthetic(session, scope),
        "groups": list(COLUMNS),
        "indicators": indicator_rows(session, scope),
    }


def indicator_rows(session: Session, scope: Scope) -> dict[str, dict[str, Any]]:
    """Return the suppressed rows of a scope: ``{name: {"label", "kind", "values",
    "suppressed"}}`` in :data:`INDICATOR_NAMES` order (the ``indicators`` of the document)."""
    by_key, youths = measures(session, scope)
    return _rows_of(by_key, youths, firm_counts(session, scope))


def monthly_indicator_rows(session: Session, scope: Scope, months: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """:func:`indicator_rows` of each month (``YYYY-MM``) of ``months``, the months of
    ``scope``: the same rows as one scope a month, read in one query per kind of row."""
    per_month = monthly_measures(session, scope)
    firms = monthly_firm_counts(session, scope)
    return {month: _rows_of(*per_month[month], firms[month]) for month in months}


def _rows_of(by_key, youths, firms) -> dict[str, dict[str, Any]]:
    """The suppressed rows of counted measures (:func:`indicator_rows`)."""
    counts = _counts(by_key, youths, firms)
    rows: dict[str, dict[str, Any]] = {}
    for name, row in counts.items():
        counted, suppressed = _suppress(name, row)
        rows[name] = {"values": counted, "suppressed": suppressed}
    for name, (numerator, denominator) in SHARES.items():
        shares, suppressed = _share(rows[numerator], rows[denominator])
        rows[name] = {"values": shares, "suppressed": suppressed}
    return {
        name: {
            "label": LABELS_FR[name],
            "kind": "share" if name in SHARES else "count",
            **rows[name],
        }
        for name in INDICATOR_NAMES
    }


def indicators_csv(document: Mapping[str, Any]) -> str:
    """Flatten an :func:`indicators` document to CSV, one row per indicator and group.

    Columns :data:`CSV_COLUMNS`: ``mission_locale`` (empty: all), ``from`` and ``to``
    (``YYYY-MM``, empty: open), ``indicator``, ``label`` (French), ``group`` (F, M, X,
    not_stated, total), ``value`` (integer count or share with 3 decimals; empty when suppressed
    or undefined) and ``suppressed`` (``true``/``false``). Comma-separated, UTF-8, ``\\r\\n``
    line ends, a header line.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    period = document["period"]
    for name, row in document["indicators"].items():
        for group in document["groups"]:
            value = row["values"][group]
            writer.writerow(
                [
                    document["mission_locale"] or "",
                    period["from"] or "",
                    period["to"] or "",
                    name,
                    row["label"],
                    group,
                    "" if value is None else value,
                    "true" if group in row["suppressed"] else "false",
                ]
            )
    return out.getvalue()


__all__ = [
    "COLUMNS",
    "CSV_COLUMNS",
    "GROUPS",
    "INDICATOR_NAMES",
    "SUPPRESSION_THRESHOLD",
    "indicator_rows",
    "monthly_indicator_rows",
    "indicators",
    "indicators_csv",
]
