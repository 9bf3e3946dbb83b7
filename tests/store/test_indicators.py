"""Indicators: known answers, small-count suppression, erasure, period, scope and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from store_factories import employer_fields, youth_profile

from matching.errors import UnknownId
from service.store import crud
from service.store.indicators import (
    COLUMNS,
    CSV_COLUMNS,
    INDICATOR_NAMES,
    _suppress,
    indicators,
    indicators_csv,
)
from service.store.models import Outcome

MARCH = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
APRIL = datetime(2026, 4, 2, 14, 0, tzinfo=UTC)


def siret(number: int) -> str:
    return f"9876543210{number:04d}"


def trade(non_traditional: bool) -> dict:
    return {
        "item_kind": "trade",
        "item_id": "F1703",
        "score": 0.7,
        "non_traditional": non_traditional,
    }


def vacancy(family: str, employer: str, non_traditional: bool) -> dict:
    return {
        "item_kind": "vacancy",
        "item_id": "V-1",
        "score": 0.9,
        "sector_family": family,
        "employer_siret": employer,
        "non_traditional": non_traditional,
    }


def youth_with(session, youth_id, gender, items, *, mission_locale="ML-METZ", synthetic=False):
    """A youth and its suggestions, all made in March 2026; returns the suggestions."""
    profile = youth_profile(youth_id, gender=gender, external_id=f"D-{youth_id}")
    youth = crud.create_youth(session, profile, mission_locale=mission_locale, synthetic=synthetic)
    rows = crud.add_suggestions(
        session, youth, items, policy={"mix": "balance"}, engine_version="t"
    )
    for row in rows:
        row.created_at = MARCH
    return rows


def outcome(session, suggestion_id: int, status: str, at: datetime, reason=None) -> None:
    if status == "declined" and reason is None:
        reason = "employer_declined"
    crud.add_outcome(session, suggestion_id, status, reason).created_at = at


@pytest.fixture
def history(seeded):
    """ML-METZ, March 2026 (hires recorded in April):

    - 6 F youths: a non-traditional trade, and a non-traditional artisanat vacancy at firms 1..6,
      contacted in March and hired in April;
    - 5 M youths: a traditional trade, and a commerce vacancy at firm 1, contacted in March,
      2 of them declined in March;
    - 2 X youths: a non-traditional trade.
    """
    with seeded.begin() as session:
        for number in range(1, 7):
            crud.create_employer(session, employer_fields(siret(number)))
        for number in range(1, 7):
            _trade, offer = youth_with(
                session,
                f"Y-f{number}",
                "F",
                [trade(True), vacancy("artisanat", siret(number), True)],
            )
            outcome(session, offer.id, "contacted", MARCH)
            outcome(session, offer.id, "hired", APRIL)
        for number in range(1, 6):
            _trade, offer = youth_with(
                session, f"Y-m{number}", "M", [trade(False), vacancy("commerce", siret(1), False)]
            )
            outcome(session, offer.id, "contacted", MARCH)
            if number <= 2:
                outcome(session, offer.id, "declined", MARCH)
        for number in range(1, 3):
            youth_with(session, f"Y-x{number}", "X", [trade(True)])
    return seeded


def figures(sessions, **scope) -> dict:
    """The document without ``generated_at``; defaults: ML-METZ, open period."""
    arguments = {"mission_locale": "ML-METZ", "start": None, "end": None, **scope}
    with sessions.begin() as session:
        document = indicators(session, **arguments)
    assert document.pop("generated_at")
    return document


def values(document: dict, name: str) -> list:
    """A row's values in F, M, X, not_stated, total order."""
    return [document["indicators"][name]["values"][column] for column in COLUMNS]


def suppressed(document: dict, name: str) -> list[str]:
    return document["indicators"][name]["suppressed"]


def test_known_answers_with_primary_and_secondary_suppression(history):
    document = figures(history)
    assert document["period"] == {"from": None, "to": None}
    assert document["mission_locale"] == "ML-METZ"
    assert document["suppression_threshold"] == 5
    assert document["synthetic"] is False
    assert document["groups"] == ["F", "M", "X", "not_stated", "total"]
    assert list(document["indicators"]) == list(INDICATOR_NAMES)
    # youths: X = 2 is suppressed; not_stated (0, the smallest other) too, since the total shows
    assert values(document, "youths") == [6, 5, None, None, 13]
    assert suppressed(document, "youths") == ["X", "not_stated"]
    assert values(document, "suggestions") == [12, 10, None, None, 24]
    assert values(document, "suggestions_trade") == [6, 5, None, None, 13]
    assert values(document, "suggestions_vacancy") == [6, 5, 0, 0, 11]
    assert suppressed(document, "suggestions_vacancy") == []
    assert values(document, "suggestions_sector_artisanat") == [6, 0, 0, 0, 6]
    assert values(document, "suggestions_sector_commerce") == [0, 5, 0, 0, 5]
    assert values(document, "suggestions_sector_liberal") == [0, 0, 0, 0, 0]
    assert values(document, "outcomes_contacted") == [6, 5, 0, 0, 11]
    assert values(document, "outcomes_hired") == [6, 0, 0, 0, 6]
    assert values(document, "outcomes_immersion") == [0, 0, 0, 0, 0]
    # declined: 2 M, total 2: both under 5
    assert values(document, "outcomes_declined") == [0, None, 0, 0, None]
    assert suppressed(document, "outcomes_declined") == ["M", "total"]
    # the 2 declines carry the reason employer_declined: suppressed as the status row is
    assert values(document, "outcomes_declined_employer_declined") == [0, None, 0, 0, None]
    assert values(document, "outcomes_declined_employer_no_reply") == [0, 0, 0, 0, 0]
    assert values(document, "outcomes_applied") == [0, 0, 0, 0, 0]
    # take-up by sector family of the suggested vacancy (trades carry none)
    assert values(document, "take_up_outcomes_sector_artisanat") == [12, 0, 0, 0, 12]
    assert values(document, "take_up_outcomes_sector_commerce") == [0, 5, 0, 0, 5]
    # firms: M saw one firm (suppressed, no secondary: the total is a distinct count)
    assert values(document, "firms") == [6, None, 0, 0, 6]
    assert suppressed(document, "firms") == ["M"]
    # non-traditional trades: F 6, X 2 (suppressed), secondary on M (0, first of the ties)
    assert values(document, "non_traditional_trade_suggestions") == [6, None, None, 0, 8]
    assert suppressed(document, "non_traditional_trade_suggestions") == ["M", "X"]
    # shares: suppressed where a count is; not_stated's denominator is suppressed
    assert values(document, "non_traditional_suggested_share") == [1.0, None, None, None, 0.615]
    assert suppressed(document, "non_traditional_suggested_share") == ["M", "X", "not_stated"]
    assert values(document, "take_up_outcomes") == [12, 5, 0, 0, 17]
    assert values(document, "non_traditional_take_up_outcomes") == [12, 0, 0, 0, 12]
    # X and not_stated have no take-up at all: undefined, not suppressed
    assert values(document, "non_traditional_take_up_share") == [1.0, 0.0, None, None, 0.706]
    assert suppressed(document, "non_traditional_take_up_share") == []
    for name in INDICATOR_NAMES:
        row = document["indicators"][name]
        assert row["label"] and row["kind"] in ("count", "share")
        for column in COLUMNS:
            value = row["values"][column]
            assert value is None or isinstance(value, int | float)
            if column in row["suppressed"]:
                assert value is None
            elif row["kind"] == "count":
                assert value == 0 or value >= 5


def test_applied_is_a_take_up_and_declines_count_by_reason(history):
    with history.begin() as session:
        offers = [youth_with(session, f"Y-a{number}", "F", [vacancy("other", siret(1), False)])[0]
                  for number in range(1, 6)]
        for offer in offers:
            outcome(session, offer.id, "applied", APRIL)
            outcome(session, offer.id, "declined", APRIL, reason="qualification_missing")
        # a decline stored before the codes (free text) counts in outcomes_declined only
        session.add(Outcome(suggestion_id=offers[0].id, status="declined", reason="loin",
                            created_at=APRIL))
    april = figures(history, start=date(2026, 4, 1), end=date(2026, 4, 30))
    assert values(april, "outcomes_applied") == [5, 0, 0, 0, 5]
    assert values(april, "take_up_outcomes") == [11, 0, 0, 0, 11]  # 6 hires + 5 applications
    assert values(april, "take_up_outcomes_sector_other") == [5, 0, 0, 0, 5]
    assert values(april, "outcomes_declined") == [6, 0, 0, 0, 6]
    assert values(april, "outcomes_declined_qualification_missing") == [5, 0, 0, 0, 5]
    with history.begin() as session:
        for number in range(1, 6):
            crud.erase_youth(session, f"Y-a{number}")
    assert figures(history, start=date(2026, 4, 1), end=date(2026, 4, 30)) == april


def test_secondary_suppression_picks_the_smallest_other_group():
    row = {"F": 3, "M": 20, "X": 7, "not_stated": 9, "total": 39}
    assert _suppress("youths", row) == (
        {"F": None, "M": 20, "X": None, "not_stated": 9, "total": 39},
        ["F", "X"],
    )
    two = {"F": 3, "M": 20, "X": 2, "not_stated": 9, "total": 34}
    assert _suppress("youths", two)[1] == ["F", "X"]  # two hidden cells: nothing more
    small_total = {"F": 3, "M": 0, "X": 0, "not_stated": 0, "total": 3}
    assert _suppress("youths", small_total)[1] == ["F", "total"]
    assert _suppress("firms", row)[1] == ["F"]


def test_erasure_keeps_every_figure(history):
    periods = [
        {},
        {"start": date(2026, 3, 1), "end": date(2026, 3, 31)},
        {"start": date(2026, 4, 1), "end": date(2026, 4, 30)},
    ]
    before = [figures(history, **period) for period in periods]
    with history.begin() as session:
        for youth_id in ("Y-f1", "Y-f2", "Y-m1", "Y-x1"):
            crud.erase_youth(session, youth_id)
    assert [figures(history, **period) for period in periods] == before
    with history.begin() as session:
        for youth_id in ("Y-f3", "Y-f4", "Y-f5", "Y-f6", "Y-m2", "Y-m3", "Y-m4", "Y-m5", "Y-x2"):
            crud.erase_youth(session, youth_id)
    assert [figures(history, **period) for period in periods] == before


def test_period_filters_by_month_of_each_event(history):
    march = figures(history, start=date(2026, 3, 15), end=date(2026, 3, 1))
    assert march["period"] == {"from": "2026-03", "to": "2026-03"}
    assert values(march, "youths") == [6, 5, None, None, 13]
    assert values(march, "outcomes_contacted") == [6, 5, 0, 0, 11]
    assert values(march, "outcomes_hired") == [0, 0, 0, 0, 0]
    # April: hires of March suggestions, in the group of their suggestion; nothing else
    april = figures(history, start=date(2026, 4, 1), end=None)
    assert april["period"] == {"from": "2026-04", "to": None}
    assert values(april, "youths") == [0, 0, 0, 0, 0]
    assert values(april, "suggestions") == [0, 0, 0, 0, 0]
    assert values(april, "firms") == [0, 0, 0, 0, 0]
    assert values(april, "outcomes_hired") == [6, 0, 0, 0, 6]
    assert values(april, "non_traditional_take_up_share") == [1.0, None, None, None, 1.0]
    february = figures(history, start=None, end=date(2026, 2, 28))
    assert february["period"] == {"from": None, "to": "2026-02"}
    assert all(value in (0, None) for name in INDICATOR_NAMES for value in values(february, name))
    with pytest.raises(ValueError), history.begin() as session:
        indicators(session, mission_locale=None, start=date(2026, 4, 1), end=date(2026, 3, 31))


def test_month_bounds_are_utc_months(history):
    with history.begin() as session:
        (late,) = youth_with(session, "Y-late", "F", [trade(False)])
        late.created_at = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
        (early,) = youth_with(session, "Y-early", "F", [trade(False)])
        early.created_at = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
    march = figures(history, start=date(2026, 3, 1), end=date(2026, 3, 1))
    april = figures(history, start=date(2026, 4, 1), end=date(2026, 4, 1))
    assert values(march, "youths")[0] == 7
    assert values(april, "youths") == [None, 0, 0, 0, None]  # 1 F: the total (1) hides too


def test_scope_by_mission_locale_and_national(history):
    with history.begin() as session:
        for number in range(1, 6):
            offers = youth_with(
                session,
                f"Y-n{number}",
                None,
                [vacancy("liberal", siret(1), False)],
                mission_locale="ML-NANCY",
            )
            outcome(session, offers[0].id, "immersion", MARCH)
    metz = figures(history)
    nancy = figures(history, mission_locale="ML-NANCY")
    national = figures(history, mission_locale=None)
    assert values(metz, "youths") == [6, 5, None, None, 13]
    assert values(nancy, "youths") == [0, 0, 0, 5, 5]
    assert values(nancy, "outcomes_immersion") == [0, 0, 0, 5, 5]
    assert values(nancy, "firms") == [0, 0, 0, None, None]
    assert national["mission_locale"] is None
    # X alone is under 5: M (5, first of the smallest) hides too
    assert values(national, "youths") == [6, None, None, 5, 18]
    assert suppressed(national, "youths") == ["M", "X"]
    assert values(national, "suggestions_sector_liberal") == [0, 0, 0, 5, 5]
    assert values(national, "firms") == [6, None, 0, None, 6]  # firm 1 counts once in total
    with history.begin() as session:
        crud.erase_youth(session, "Y-n1")
    assert figures(history, mission_locale="ML-NANCY") == nancy
    assert figures(history) == metz
    with pytest.raises(UnknownId), history.begin() as session:
        indicators(session, mission_locale="ML-NOWHERE", start=None, end=None)


def test_synthetic_flag(history):
    assert figures(history)["synthetic"] is False
    with history.begin() as session:
        youth_with(session, "Y-synthetic", "M", [trade(False)], synthetic=True)
    assert figures(history)["synthetic"] is True
    assert figures(history, start=date(2026, 5, 1))["synthetic"] is False
    assert figures(history, mission_locale="ML-NANCY")["synthetic"] is False


def parse(value: str) -> int | float | None:
    if value == "":
        return None
    return float(value) if "." in value else int(value)


def test_csv_round_trip(history):
    with history.begin() as session:
        document = indicators(
            session, mission_locale="ML-METZ", start=date(2026, 3, 1), end=date(2026, 4, 30)
        )
    text = indicators_csv(document)
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    rows = list(reader)
    assert len(rows) == len(INDICATOR_NAMES) * len(COLUMNS)
    rebuilt: dict[str, dict] = {}
    for row in rows:
        assert (row["mission_locale"], row["from"], row["to"]) == ("ML-METZ", "2026-03", "2026-04")
        entry = rebuilt.setdefault(
            row["indicator"], {"label": row["label"], "values": {}, "suppressed": []}
        )
        entry["values"][row["group"]] = parse(row["value"])
        if row["suppressed"] == "true":
            entry["suppressed"].append(row["group"])
        else:
            assert row["suppressed"] == "false"
    expected = {
        name: {key: row[key] for key in ("label", "values", "suppressed")}
        for name, row in document["indicators"].items()
    }
    assert rebuilt == expected
    assert "Jeunes ayant reçu des suggestions" in text
    national = dict(document, mission_locale=None, period={"from": None, "to": None})
    first = next(csv.DictReader(io.StringIO(indicators_csv(national))))
    assert (first["mission_locale"], first["from"], first["to"]) == ("", "", "")
