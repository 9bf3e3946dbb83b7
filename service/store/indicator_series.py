"""Month-by-month indicators for charts (the ``/indicateurs`` page of issue #14), and their CSV.

:func:`monthly_indicators` computes, for each UTC calendar month of a period, the rows that
``GET /v1/indicators`` gives for that month alone (:func:`service.store.indicators.indicator_rows`:
same definitions, same live and anonymous counts, same primary and secondary suppression, month
by month), and lays them out as series: for each indicator and group, one value a month.
:data:`CHARTS` names the indicators each chart of the page draws. ``synthetic`` is flagged as the
indicators flag it (a counted row of a synthetic youth or Mission Locale in the period).

Suppression works within a month: a month's cell hides what ``/v1/indicators`` for that month
would hide. Summing months can reveal nothing that a query of one month does not already show,
but a reader who also has the figures of the whole period may bound a hidden month by
subtraction; the same holds for ``/v1/indicators`` over adjoining periods.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from matching.errors import OutOfRange
from matching.types import SECTOR_FAMILIES
from service.store.columns import utcnow
from service.store.indicator_queries import COLUMNS, Scope, any_synthetic
from service.store.indicators import SUPPRESSION_THRESHOLD, monthly_indicator_rows
from service.store.outcome_codes import COUNTED_STATUSES, DECLINE_MEASURES
from service.store.youths import get_mission_locale

MAX_MONTHS = 36
"""Longest series (months)."""
DEFAULT_MONTHS = 12
"""Months shown when no start is given: the 12 months up to ``end``."""

CHARTS: dict[str, dict[str, Any]] = {
    "youths": {"title": "Jeunes accompagnés", "indicators": ["youths"]},
    "suggestions_by_sector": {
        "title": "Suggestions d'offres par famille de secteur",
        "indicators": [f"suggestions_sector_{family}" for family in SECTOR_FAMILIES],
    },
    "take_up_by_sector": {
        "title": "Suites positives par famille de secteur",
        "indicators": [f"take_up_outcomes_sector_{family}" for family in SECTOR_FAMILIES],
    },
    "outcomes": {
        "title": "Suites données aux suggestions",
        "indicators": [f"outcomes_{status}" for status in COUNTED_STATUSES],
    },
    "declined_reasons": {
        "title": "Motifs des refus",
        "indicators": [f"outcomes_{measure}" for measure in DECLINE_MEASURES],
    },
    "non_traditional": {
        "title": "Métiers non traditionnels : part parmi les suggestions et parmi les suites "
        "positives, par genre",
        "indicators": ["non_traditional_suggested_share", "non_traditional_take_up_share"],
    },
    "firms": {"title": "Entreprises concernées", "indicators": ["firms"]},
}
"""Each chart of the indicators page: its French title and the indicators (series) it draws."""

CSV_COLUMNS: tuple[str, ...] = (
    "mission_locale",
    "month",
    "indicator",
    "label",
    "group",
    "value",
    "suppressed",
)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_of(index: int) -> date:
    year, month = divmod(index, 12)
    return date(year, month + 1, 1)


def month_range(start: date | None, end: date | None, *, today: date | None = None) -> list[date]:
    """Return the first day of each month from ``start``'s to ``end``'s, inclusive.

    ``end`` None: the current UTC month (``today``); ``start`` None: :data:`DEFAULT_MONTHS`
    months up to ``end``.

    Raises:
        OutOfRange: ``start`` after ``end``'s month (field ``from``), or more than
            :data:`MAX_MONTHS` months.
    """
    last = _month_index(end or today or utcnow().date())
    first = _month_index(start) if start is not None else last - DEFAULT_MONTHS + 1
    if first > last:
        raise OutOfRange(
            f"from: {_month_of(first):%Y-%m} is after to {_month_of(last):%Y-%m}",
            field="from",
            message_fr=f"from : {_month_of(first):%Y-%m} est après to {_month_of(last):%Y-%m}",
        )
    if last - first + 1 > MAX_MONTHS:
        raise OutOfRange(
            f"from: at most {MAX_MONTHS} months a series, got {last - first + 1}",
            field="from",
            message_fr=f"from : {MAX_MONTHS} mois au plus par série, demandé {last - first + 1}",
        )
    return [_month_of(index) for index in range(first, last + 1)]


def monthly_indicators(
    session: Session,
    *,
    mission_locale: str | None,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Return the indicators of each month of a period, as series for charts.

    Args:
        mission_locale: a Mission Locale code; None for all of them (admin).
        start, end: any day of the first and last months; see :func:`month_range`.
        today: the day that stands for "now" when ``end`` is None (tests).

    Returns:
        ``{"mission_locale", "period": {"from": "YYYY-MM", "to": "YYYY-MM"}, "months":
        ["YYYY-MM", ...], "generated_at", "suppression_threshold", "synthetic", "groups": [F, M,
        X, not_stated, total], "charts": CHARTS, "series": {name: {"label", "kind":
        "count"|"share", "values": {group: [value a month]}, "suppressed": {group: [bool a
        month]}}}}``. A value is an int (count), a float (share, 3 decimals) or None
        (suppressed, or a share with nothing to divide); ``series`` has every indicator of
        ``GET /v1/indicators`` in its order.

    Raises:
        UnknownId: unknown Mission Locale. OutOfRange: see :func:`month_range`.
    """
    months = month_range(start, end, today=today)
    if mission_locale is not None:
        get_mission_locale(session, mission_locale)
    whole = Scope(mission_locale, months[0], months[-1])
    by_month = monthly_indicator_rows(session, whole, [f"{month:%Y-%m}" for month in months])
    series: dict[str, dict[str, Any]] = {}
    for rows in by_month.values():
        for name, row in rows.items():
            entry = series.setdefault(name, {
                "label": row["label"],
                "kind": row["kind"],
                "values": {column: [] for column in COLUMNS},
                "suppressed": {column: [] for column in COLUMNS},
            })
            for column in COLUMNS:
                entry["values"][column].append(row["values"][column])
                entry["suppressed"][column].append(column in row["suppressed"])
    return {
        "mission_locale": mission_locale,
        "period": {"from": whole.first, "to": whole.last},
        "months": [f"{month:%Y-%m}" for month in months],
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "suppression_threshold": SUPPRESSION_THRESHOLD,
        "synthetic": any_synthetic(session, whole),
        "groups": list(COLUMNS),
        "charts": CHARTS,
        "series": series,
    }


def monthly_indicators_csv(document: Mapping[str, Any]) -> str:
    """Flatten a :func:`monthly_indicators` document to CSV: one row per month, indicator, group.

    Columns :data:`CSV_COLUMNS`: ``mission_locale`` (empty: all), ``month`` (``YYYY-MM``),
    ``indicator``, ``label`` (French), ``group``, ``value`` (empty when suppressed or
    undefined) and ``suppressed`` (``true``/``false``); the format of ``GET /v1/indicators``'s
    CSV (comma-separated, UTF-8, ``\\r\\n``, a header line).
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for position, month in enumerate(document["months"]):
        for name, row in document["series"].items():
            for group in document["groups"]:
                value = row["values"][group][position]
                hidden = row["suppressed"][group][position]
                writer.writerow([
                    document["mission_locale"] or "",
                    month,
                    name,
                    row["label"],
                    group,
                    "" if value is None else value,
                    "true" if hidden else "false",
                ])
    return out.getvalue()


__all__ = [
    "CHARTS",
    "CSV_COLUMNS",
    "MAX_MONTHS",
    "month_range",
    "monthly_indicators",
    "monthly_indicators_csv",
]
