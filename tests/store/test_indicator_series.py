"""Monthly indicator series: known answers month by month, suppression, erasure, range, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from store_factories import employer_fields
from test_indicators import outcome, siret, trade, vacancy, youth_with

from matching.errors import OutOfRange, UnknownId
from service.store import crud
from service.store.indicator_series import (
    CHARTS,
    CSV_COLUMNS,
    MAX_MONTHS,
    month_range,
    monthly_indicators,
    monthly_indicators_csv,
)
from service.store.indicators import COLUMNS, INDICATOR_NAMES, indicators

MARCH = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
APRIL = datetime(2026, 4, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def months(seeded):
    """ML-METZ: 5 F youths (March) with a non-traditional trade and a commerce vacancy at firm 1,
    all applied in March; 4 of them hired in April; 3 youths of no stated gender (March) with a
    traditional trade, 2 declined in April (transport)."""
    with seeded.begin() as session:
        crud.create_employer(session, employer_fields(siret(1)))
        for number in range(1, 6):
            _trade, offer = youth_with(
                session, f"Y-f{number}", "F", [trade(True), vacancy("commerce", siret(1), False)]
            )
            outcome(session, offer.id, "applied", MARCH)
            if number <= 4:
                outcome(session, offer.id, "hired", APRIL)
        for number in range(1, 4):
            (row,) = youth_with(session, f"Y-n{number}", None, [trade(False)])
            if number <= 2:
                outcome(session, row.id, "declined", APRIL, reason="transport_distance")
    return seeded


def series(sessions, **arguments) -> dict:
    arguments = {"mission_locale": "ML-METZ", "start": date(2026, 3, 1),
                 "end": date(2026, 4, 30), **arguments}
    with sessions.begin() as session:
        document = monthly_indicators(session, **arguments)
    assert document.pop("generated_at")
    return document


def line(document: dict, name: str, group: str) -> list:
    return document["series"][name]["values"][group]


def test_known_answers_month_by_month(months):
    document = series(months)
    assert document["months"] == ["2026-03", "2026-04"]
    assert document["period"] == {"from": "2026-03", "to": "2026-04"}
    assert document["groups"] == list(COLUMNS)
    assert list(document["series"]) == list(INDICATOR_NAMES)
    assert document["suppression_threshold"] == 5 and document["synthetic"] is False
    # 5 applications shown, 4 hires suppressed (and the total with them)
    assert line(document, "outcomes_applied", "F") == [5, 0]
    assert line(document, "outcomes_applied", "total") == [5, 0]
    assert line(document, "outcomes_hired", "F") == [0, None]
    assert line(document, "outcomes_hired", "total") == [0, None]
    assert document["series"]["outcomes_hired"]["suppressed"]["F"] == [False, True]
    # youths: F 5 shown; "not stated" is a group of its own: 3 hidden, secondary on M (0)
    assert line(document, "youths", "F") == [5, 0]
    assert line(document, "youths", "not_stated") == [None, 0]
    assert line(document, "youths", "M") == [None, 0]
    assert line(document, "youths", "total") == [8, 0]
    assert line(document, "take_up_outcomes_sector_commerce", "F") == [5, None]
    assert line(document, "suggestions_sector_commerce", "total") == [5, 0]
    assert line(document, "outcomes_declined_transport_distance", "not_stated") == [0, None]
    assert line(document, "firms", "F") == [None, 0]  # one firm: suppressed
    # shares: 5 of 5 F trades non-traditional; not_stated's 3 trades are hidden, so is its share
    assert line(document, "non_traditional_suggested_share", "F") == [1.0, None]
    assert line(document, "non_traditional_suggested_share", "not_stated") == [None, None]
    assert line(document, "non_traditional_take_up_share", "F") == [0.0, None]
    for name in CHARTS.values():
        assert set(name["indicators"]) <= set(INDICATOR_NAMES) and name["title"]


def test_each_month_is_the_indicators_of_that_month(months):
    document = series(months)
    for position, month in enumerate((date(2026, 3, 1), date(2026, 4, 1))):
        with months.begin() as session:
            alone = indicators(session, mission_locale="ML-METZ", start=month, end=month)
        for name, row in alone["indicators"].items():
            for group in COLUMNS:
                assert document["series"][name]["values"][group][position] == row["values"][group]
                hidden = document["series"][name]["suppressed"][group][position]
                assert hidden == (group in row["suppressed"])


def test_erasure_keeps_the_series_and_scope(months):
    before = series(months)
    with months.begin() as session:
        for youth_id in ("Y-f1", "Y-f2", "Y-n1"):
            crud.erase_youth(session, youth_id)
    assert series(months) == before
    nancy = series(months, mission_locale="ML-NANCY")
    assert all(value in (0, None) for row in nancy["series"].values()
               for values in row["values"].values() for value in values)
    assert series(months, mission_locale=None)["series"]["youths"]["values"]["total"] == [8, 0]
    with pytest.raises(UnknownId), months.begin() as session:
        monthly_indicators(session, mission_locale="ML-NOWHERE")


def test_synthetic_flag(months):
    with months.begin() as session:
        youth_with(session, "Y-synthetic", "M", [trade(False)], synthetic=True)
    assert series(months)["synthetic"] is True
    assert series(months, start=date(2026, 5, 1), end=date(2026, 5, 1))["synthetic"] is False


def test_month_range():
    assert month_range(date(2025, 11, 20), date(2026, 2, 1)) == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    default = month_range(None, None, today=date(2026, 4, 15))
    assert len(default) == 12 and default[0] == date(2025, 5, 1) and default[-1] == date(2026, 4, 1)
    with pytest.raises(OutOfRange) as after:
        month_range(date(2026, 5, 1), date(2026, 4, 30))
    assert after.value.field == "from"
    with pytest.raises(OutOfRange):
        month_range(date(2020, 1, 1), date(2020 + MAX_MONTHS // 12, 1, 1))


def test_csv_round_trip(months):
    document = series(months)
    rows = list(csv.DictReader(io.StringIO(monthly_indicators_csv(document))))
    assert len(rows) == 2 * len(INDICATOR_NAMES) * len(COLUMNS)
    assert tuple(rows[0]) == CSV_COLUMNS
    by_cell = {(r["month"], r["indicator"], r["group"]): r for r in rows}
    applied = by_cell[("2026-03", "outcomes_applied", "F")]
    assert (applied["mission_locale"], applied["value"], applied["suppressed"]) == ("ML-METZ", "5", "false")
    assert applied["label"] == "Candidatures envoyées"
    hired = by_cell[("2026-04", "outcomes_hired", "F")]
    assert (hired["value"], hired["suppressed"]) == ("", "true")
    assert by_cell[("2026-03", "non_traditional_suggested_share", "F")]["value"] == "1.0"
