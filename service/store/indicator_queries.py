"""What the indicators read from the store: live rows and anonymous counts of a period.

Each function sums the live rows (``suggestions``, ``outcomes``, ``youths``) and the anonymous
counts of erased youths (``indicator_counts``) of a :class:`Scope` (a Mission Locale or all of
them, a range of UTC calendar months). The definitions of the indicators, and what is done with
these counts, are in :mod:`service.store.indicators`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from matching.types import GENDERS, NOT_STATED
from service.store.models import IndicatorCount, MissionLocale, Outcome, Suggestion, Youth
from service.store.outcome_codes import (
    COUNTED_STATUSES,
    DECLINE_MEASURES,
    DECLINE_REASONS,
    declined_measure,
)

GROUPS: tuple[str, ...] = (*GENDERS, NOT_STATED)
TOTAL = "total"
COLUMNS: tuple[str, ...] = (*GROUPS, TOTAL)
OUTCOME_MEASURES: tuple[str, ...] = COUNTED_STATUSES
"""Outcome statuses counted (``proposed`` is not); declines are counted by reason too."""

Key = tuple[str, str, str, bool]
"""(gender group, item kind, sector family or '', non-traditional)."""

# Group by raw columns and normalise in Python: an expression with a bound parameter would not
# match itself in GROUP BY on PostgreSQL (two parameters).
_KIND_COLUMNS = (Suggestion.item_kind, Suggestion.sector_family, Suggestion.non_traditional)
_ANONYMOUS_KEY = (
    IndicatorCount.gender_group,
    IndicatorCount.item_kind,
    IndicatorCount.sector_family,
    IndicatorCount.non_traditional,
)


class month_of(FunctionElement[str]):  # noqa: N801 (an SQL function)
    """``YYYY-MM`` of a UTC timestamp column, rendered inline (no bound parameter, so that
    GROUP BY matches the selected expression on PostgreSQL)."""

    type = String()
    inherit_cache = True


@compiles(month_of)
def _month_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"  # naive UTC text on SQLite


@compiles(month_of, "postgresql")
def _month_postgresql(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM')"


Measures = dict[str, tuple[dict[Key, Counter[str]], Counter[str]]]
"""Counts by month (``YYYY-MM``; ``""`` for a whole period): (by group key, youths by group)."""


def _by_month(column: Any, monthly: bool) -> list[Any]:
    """The month of ``column`` as a leading select and GROUP BY term when ``monthly``."""
    return [month_of(column)] if monthly else []


def _new_measures() -> Measures:
    return defaultdict(lambda: (defaultdict(Counter), Counter()))  # type: ignore[arg-type,return-value]


@dataclass(frozen=True)
class Scope:
    """A Mission Locale (None: all of them) and the first and last months (None: open)."""

    mission_locale: str | None
    start: date | None
    end: date | None

    @property
    def first(self) -> str | None:
        return f"{self.start.year:04d}-{self.start.month:02d}" if self.start else None

    @property
    def last(self) -> str | None:
        return f"{self.end.year:04d}-{self.end.month:02d}" if self.end else None

    def moments(self, column: Any) -> list[ColumnElement[bool]]:
        """Conditions keeping timestamps of ``column`` in the period's months."""
        conditions = []
        if self.start is not None:
            conditions.append(column >= datetime(self.start.year, self.start.month, 1, tzinfo=UTC))
        if self.end is not None:
            year, month = divmod(self.end.year * 12 + self.end.month, 12)  # the next month
            conditions.append(column < datetime(year, month + 1, 1, tzinfo=UTC))
        return conditions

    def periods(self) -> list[ColumnElement[bool]]:
        """Conditions keeping ``indicator_counts`` rows of the period (``YYYY-MM`` sorts)."""
        conditions = []
        if self.first is not None:
            conditions.append(IndicatorCount.period >= self.first)
        if self.last is not None:
            conditions.append(IndicatorCount.period <= self.last)
        if self.mission_locale is not None:
            conditions.append(IndicatorCount.mission_locale == self.mission_locale)
        return conditions

    def suggestions(self) -> list[ColumnElement[bool]]:
        """Conditions keeping suggestions of the Mission Locale (any period), real ones only:
        what ``passerelle outcomes simulate`` writes (``simulated``) is never counted."""
        real = Suggestion.simulated.is_(False)
        if self.mission_locale is None:
            return [real]
        return [real, Suggestion.mission_locale == self.mission_locale]


def _group(gender: str | None) -> str:
    return gender or NOT_STATED


def _key(gender_group: str, item_kind: str, family: str | None, non_traditional: Any) -> Key:
    return (gender_group, item_kind, family or "", bool(non_traditional))


def _gender_group_sql() -> ColumnElement[str]:
    """``youths.gender`` with NULL as ``not_stated`` (only inside subqueries: see firm_counts)."""
    return case((Youth.gender.is_(None), literal(NOT_STATED, String(10))), else_=Youth.gender)


def measures(session: Session, scope: Scope) -> tuple[dict[Key, Counter[str]], Counter[str]]:
    """Return suggestion and outcome counts by group key, and youth counts by gender group."""
    return monthly_measures(session, scope, monthly=False)[""]


def monthly_measures(session: Session, scope: Scope, *, monthly: bool = True) -> Measures:
    """:func:`measures` of each month of the scope in one query per kind of row (months with
    nothing counted are absent); ``monthly=False``: the whole scope under the key ``""``."""
    out = _new_measures()
    _add_live_suggestions(session, scope, out, monthly)
    _add_live_outcomes(session, scope, out, monthly)
    _add_live_youths(session, scope, out, monthly)
    _add_anonymous(session, scope, out, monthly)
    if not monthly:
        out[""]  # noqa: B018 (a whole period has its entry even when empty)
    return out


def _rows(session: Session, statement: Any, monthly: bool) -> Any:
    """Rows of ``statement`` as ``(month, *rest)`` (month ``""`` when not ``monthly``)."""
    for row in session.execute(statement):
        yield (row[0], *row[1:]) if monthly else ("", *row)


def _add_live_suggestions(session: Session, scope: Scope, out: Measures, monthly: bool) -> None:
    """Count the live suggestions made in the period."""
    month = _by_month(Suggestion.created_at, monthly)
    statement = (
        select(*month, Youth.gender, *_KIND_COLUMNS, func.count())
        .select_from(Suggestion)
        .join(Youth, Youth.id == Suggestion.youth_id)
        .where(*scope.suggestions(), *scope.moments(Suggestion.created_at))
        .group_by(*month, Youth.gender, *_KIND_COLUMNS)
    )
    for at, gender, item_kind, family, non_traditional, count in _rows(session, statement, monthly):
        out[at][0][_key(_group(gender), item_kind, family, non_traditional)]["suggestions"] += count


def _add_live_outcomes(session: Session, scope: Scope, out: Measures, monthly: bool) -> None:
    """Count the live outcomes recorded in the period, in the group of their suggestion, by
    status, and the declines by reason code too (others: no reason). One query: grouped by
    status and reason (a reason is a code for a decline, an optional note otherwise)."""
    month = _by_month(Outcome.created_at, monthly)
    statement = (
        select(*month, Youth.gender, *_KIND_COLUMNS, Outcome.status, Outcome.reason, func.count())
        .select_from(Outcome)
        .join(Suggestion, Suggestion.id == Outcome.suggestion_id)
        .join(Youth, Youth.id == Suggestion.youth_id)
        .where(
            Outcome.status.in_(OUTCOME_MEASURES),
            *scope.suggestions(),
            *scope.moments(Outcome.created_at),
        )
        .group_by(*month, Youth.gender, *_KIND_COLUMNS, Outcome.status, Outcome.reason)
    )
    for at, gender, item_kind, family, non_traditional, status, reason, count in _rows(
        session, statement, monthly
    ):
        counts = out[at][0][_key(_group(gender), item_kind, family, non_traditional)]
        counts[status] += count
        if status == "declined" and reason in DECLINE_REASONS:
            counts[declined_measure(str(reason))] += count


def _add_live_youths(session: Session, scope: Scope, out: Measures, monthly: bool) -> None:
    """Count the live youths whose first suggestion was made in the period (in its month)."""
    first = (
        select(Suggestion.youth_id, func.min(Suggestion.created_at).label("first_at"))
        .where(*scope.suggestions())
        .group_by(Suggestion.youth_id)
        .subquery()
    )
    month = _by_month(first.c.first_at, monthly)
    statement = (
        select(*month, Youth.gender, func.count())
        .select_from(first)
        .join(Youth, Youth.id == first.c.youth_id)
        .where(*scope.moments(first.c.first_at))
        .group_by(*month, Youth.gender)
    )
    for at, gender, count in _rows(session, statement, monthly):
        out[at][1][_group(gender)] += count


def _add_anonymous(session: Session, scope: Scope, out: Measures, monthly: bool) -> None:
    """Add the anonymous counts that erased youths left in ``indicator_counts``."""
    names = ("suggestions", *OUTCOME_MEASURES, *DECLINE_MEASURES)
    sums = [
        func.coalesce(func.sum(getattr(IndicatorCount, name)), 0) for name in ("youths", *names)
    ]
    month = [IndicatorCount.period] if monthly else []
    statement = (
        select(*month, *_ANONYMOUS_KEY, *sums)
        .where(*scope.periods())
        .group_by(*month, *_ANONYMOUS_KEY)
    )
    for at, gender_group, item_kind, family, non_traditional, n_youths, *counts in _rows(
        session, statement, monthly
    ):
        by_key, youths = out[at]
        youths[gender_group] += int(n_youths)
        key = _key(gender_group, item_kind, family, non_traditional)
        for name, count in zip(names, counts, strict=True):
            by_key[key][name] += int(count)


def firm_counts(session: Session, scope: Scope) -> dict[str, int]:
    """Distinct SIRETs of vacancy suggestions by gender group and in total (live ∪ anonymous)."""
    return monthly_firm_counts(session, scope, monthly=False)[""]


def monthly_firm_counts(
    session: Session, scope: Scope, *, monthly: bool = True
) -> dict[str, dict[str, int]]:
    """:func:`firm_counts` of each month of the scope (months with none absent), in two
    queries; ``monthly=False``: the whole scope under the key ``""``."""
    live = (
        select(
            *([month_of(Suggestion.created_at).label("month")] if monthly else []),
            _gender_group_sql().label("gender_group"),
            Suggestion.employer_siret.label("siret"),
        )
        .join(Youth, Youth.id == Suggestion.youth_id)
        .where(
            Suggestion.item_kind == "vacancy",
            Suggestion.employer_siret.is_not(None),
            Suggestion.employer_siret != "",
            *scope.suggestions(),
            *scope.moments(Suggestion.created_at),
        )
    )
    anonymous = select(
        *([IndicatorCount.period.label("month")] if monthly else []),
        IndicatorCount.gender_group.label("gender_group"),
        IndicatorCount.employer_siret.label("siret"),
    ).where(
        IndicatorCount.item_kind == "vacancy",
        IndicatorCount.employer_siret != "",
        IndicatorCount.suggestions > 0,
        *scope.periods(),
    )
    sirets: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    if not monthly:
        sirets[""]  # noqa: B018 (a whole period has its entry even when empty)
    # one pass over the distinct (month, group, SIRET) rows, counted here: counting them in SQL
    # took two passes over the union (by group, then in total)
    for at, gender_group, siret in _rows(session, union(live, anonymous), monthly):
        sirets[at][gender_group].add(siret)
        sirets[at][TOTAL].add(siret)
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    for at, by_group in sirets.items():
        out[at] = {group: len(by_group.get(group, ())) for group in COLUMNS}
    return out


def any_synthetic(session: Session, scope: Scope) -> bool:
    """Tell whether a counted row comes from a synthetic youth or a synthetic Mission Locale.

    Erased youths leave no synthetic flag: their counts are synthetic only through their
    Mission Locale.
    """
    live_suggestion = (
        select(Suggestion.id)
        .join(Youth, Youth.id == Suggestion.youth_id)
        .where(Youth.synthetic, *scope.suggestions(), *scope.moments(Suggestion.created_at))
    )
    live_outcome = (
        select(Outcome.id)
        .join(Suggestion, Suggestion.id == Outcome.suggestion_id)
        .join(Youth, Youth.id == Suggestion.youth_id)
        .where(Youth.synthetic, *scope.suggestions(), *scope.moments(Outcome.created_at))
    )
    anonymous = (
        select(IndicatorCount.id)
        .join(MissionLocale, MissionLocale.code == IndicatorCount.mission_locale)
        .where(MissionLocale.synthetic, *scope.periods())
    )
    statement = select(or_(exists(live_suggestion), exists(live_outcome), exists(anonymous)))
    return bool(session.scalar(statement))
