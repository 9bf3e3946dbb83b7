"""``passerelle outcomes simulate`` end to end on a copy of the small demo home (real engine,
real store): rows logged as served and flagged simulated, dated on their simulated days, left
out of the indicators, and the same seed writes the same rows."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from matching.learn.features import VACANCY_FEATURES
from service.cli import common as cli_common
from service.cli.app import app
from service.config import get_settings
from service.store.outcome_codes import DECLINE_REASONS

STORE = "passerelle.sqlite3"
START, DAYS = date(2026, 3, 2), 8
ARGS = ["outcomes", "simulate", "--youths", "25", "--days", str(DAYS), "--seed", "5",
        "--start", START.isoformat(), "--json"]


def _copy_home(source, target):
    """Copy a data home whose SQLite store this process holds open: the store through SQLite's
    backup API, never by opening and closing its files here (closing any descriptor of a file
    drops every POSIX lock this process holds on it, SQLite's included: another connection
    then deleted the live store's ``-shm`` and the session's later CLI tests failed with
    "disk I/O error")."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(f"{STORE}*"))
    if (source / STORE).exists():
        with contextlib.closing(sqlite3.connect(source / STORE)) as live, \
                contextlib.closing(sqlite3.connect(target / STORE)) as copy:
            live.backup(copy)


def _run_in_copy(source, target, monkeypatch, args):
    _copy_home(source, target)
    monkeypatch.setenv("PASSERELLE_HOME", str(target))
    monkeypatch.delenv("PASSERELLE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    monkeypatch.setattr(cli_common, "_WORKSPACE", None)
    try:
        result = CliRunner().invoke(app, args)
        workspace = cli_common.workspace()
        return result, workspace
    finally:
        get_settings.cache_clear()


def _rows(workspace):
    from service.store.models import Outcome, Suggestion

    _, _, read_sessions = workspace.store()
    with read_sessions() as session:
        suggestions = session.execute(select(
            Suggestion.id, Suggestion.youth_id, Suggestion.item_kind, Suggestion.item_id, Suggestion.rank,
            Suggestion.created_at, Suggestion.simulated, Suggestion.features, Suggestion.list_id,
            Suggestion.propensity)
            .where(Suggestion.simulated).order_by(Suggestion.id)).all()
        outcomes = session.execute(select(
            Outcome.suggestion_id, Outcome.status, Outcome.reason, Outcome.created_at, Suggestion.simulated)
            .join(Suggestion, Suggestion.id == Outcome.suggestion_id).order_by(Outcome.id)).all()
    return suggestions, outcomes


def _indicators(workspace):
    from service.store.indicators import indicators

    _, _, read_sessions = workspace.store()
    with read_sessions() as session:
        document = indicators(session, mission_locale=None, start=None, end=None)
    return document["indicators"]


@pytest.fixture(scope="module")
def runs(engine_home, tmp_path_factory):
    """Two runs with the same seed on two copies of the demo home, and the indicators before."""
    source = engine_home.home
    monkeypatch = pytest.MonkeyPatch()
    try:
        before = _indicators(engine_home)
        root = tmp_path_factory.mktemp("simulated")
        first = _run_in_copy(source, root / "a", monkeypatch, ARGS)
        second = _run_in_copy(source, root / "b", monkeypatch, ARGS)
    finally:
        monkeypatch.undo()
    return before, first, second


def test_a_run_logs_served_lists_and_outcomes_flagged_simulated(runs):
    _, (result, workspace), _ = runs
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    suggestions, outcomes = _rows(workspace)
    assert summary["simulated"] is True and summary["lists"] > 0
    assert summary["rows"] == len(suggestions) > 0
    assert sum(summary["outcomes"].values()) == len(outcomes)
    assert {row.item_kind for row in suggestions} == {"vacancy"}  # trade lists are not served
    assert all(row.simulated for row in suggestions) and all(row.simulated for row in outcomes)
    assert all(set(row.features) == set(VACANCY_FEATURES) for row in suggestions)  # logged as served
    assert len({row.list_id for row in suggestions}) == summary["lists"]
    first = datetime.combine(START, datetime.min.time(), UTC)
    for row in suggestions:
        moment = row.created_at.replace(tzinfo=UTC)
        assert first <= moment < first + timedelta(days=DAYS) and moment.weekday() < 5  # no visits at weekends
    served = {row.id: row.created_at for row in suggestions}
    for row in outcomes:
        assert row.created_at >= served[row.suggestion_id]
        assert row.created_at.replace(tzinfo=UTC) < first + timedelta(days=DAYS)
        assert (row.reason in DECLINE_REASONS) if row.status == "declined" else row.reason is None


def test_explored_lists_log_their_propensities(runs):
    """The simulator's serving policy explores a share of the lists (RandTop-n): their items log
    1 / (list length) and the rank they were shown at; the others log none."""
    _, (result, workspace), _ = runs
    summary = json.loads(result.stdout)
    suggestions, _ = _rows(workspace)
    by_list: dict[str, list] = {}
    for row in suggestions:
        by_list.setdefault(row.list_id, []).append(row)
    explored = [rows for rows in by_list.values() if rows[0].propensity is not None]
    assert summary["exploration"] == 0.25 and len(explored) == summary["explored_lists"] > 0
    for rows in by_list.values():
        assert len({row.propensity for row in rows}) == 1  # a whole list is explored or not
    for rows in explored:
        assert [row.propensity for row in rows] == pytest.approx([1 / len(rows)] * len(rows))
        assert sorted(row.features["rank_shown"] for row in rows) == list(range(1, len(rows) + 1))


def test_the_same_seed_writes_the_same_rows(runs):
    _, (_, first), (result, second) = runs
    assert result.exit_code == 0, result.output

    def comparable(workspace):
        suggestions, outcomes = _rows(workspace)
        position = {row.id: i for i, row in enumerate(suggestions)}
        return ([(r.youth_id, r.item_id, r.rank, r.created_at, r.list_id) for r in suggestions],
                [(position[o.suggestion_id], o.status, o.reason, o.created_at) for o in outcomes])

    assert comparable(first) == comparable(second)


def test_simulated_rows_stay_out_of_the_indicators(runs):
    from sqlalchemy import update

    from service.store.indicators import indicators
    from service.store.models import Suggestion

    before, (_, workspace), _ = runs
    assert _indicators(workspace) == before
    _, sessions, _ = workspace.store()
    with sessions() as session:  # the same rows unflagged would count: the check can fail
        session.execute(update(Suggestion).values(simulated=False))
        counted = indicators(session, mission_locale=None, start=None, end=None)["indicators"]
        session.rollback()
    assert counted != before


def test_too_many_youths_is_one_french_error(engine_home, tmp_path, monkeypatch):
    result, _ = _run_in_copy(engine_home.home, tmp_path / "home", monkeypatch,
                             ["outcomes", "simulate", "--youths", "200000", "--days", "1"])
    assert result.exit_code == 2
    assert "jeunes de démonstration" in result.output and "(en:" in result.output


def test_the_command_has_help_ending_with_an_example():
    result = CliRunner().invoke(app, ["outcomes", "simulate", "--help"])
    assert result.exit_code == 0
    assert "Example: passerelle outcomes simulate" in result.output
    assert "--preference-strength" in result.output and "--acceptance-strength" in result.output
