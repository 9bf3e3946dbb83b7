"""Model registry (save never activates; activate / rollback history), the CLI over it, and the
per-Mission-Locale provider on a real store."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from benchmarks.learn.synthetic_log import synthetic_log
from matching.errors import UnknownId
from matching.learn import registry
from matching.learn.features import VACANCY_FEATURES
from matching.learn.ranker import RankerParams
from matching.learn.training import train

SMALL = RankerParams(num_boost_round=10, min_data_in_leaf=10, num_threads=1)


@pytest.fixture(scope="module")
def two_models():
    frame = synthetic_log(60, signal="tension", seed=5)
    first = train(frame, VACANCY_FEATURES, params=SMALL, now=pd.Timestamp("2026-03-01T00:00Z"))
    second = train(frame.assign(label=3 - frame["label"]), VACANCY_FEATURES, params=SMALL,
                   now=pd.Timestamp("2026-03-02T00:00Z"))
    return first, second


def test_save_never_activates_and_leaves_no_temporary_file(two_models, tmp_path: Path):
    first, _ = two_models
    folder = registry.save(tmp_path, first)
    assert registry.active_version(tmp_path) is None and registry.load_active(tmp_path) is None
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "model.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.manifest["version"]]
    with pytest.raises(FileExistsError):
        registry.save(tmp_path, first)


def test_activate_then_rollback_walks_the_history_back_to_the_fusion(two_models, tmp_path: Path):
    first, second = two_models
    a, b = first.manifest["version"], second.manifest["version"]
    registry.save(tmp_path, first)
    registry.save(tmp_path, second)
    assert [m["version"] for m in registry.manifests(tmp_path)] == [a, b]
    assert registry.activate(tmp_path, a) is None
    assert registry.activate(tmp_path, b) == a
    assert registry.activate(tmp_path, b) == b  # re-activating the active one adds no step
    assert registry.load_active(tmp_path).version == b
    assert registry.rollback(tmp_path) == a and registry.active_version(tmp_path) == a
    assert registry.rollback(tmp_path) is None and registry.load_active(tmp_path) is None
    with pytest.raises(UnknownId):
        registry.rollback(tmp_path)
    with pytest.raises(UnknownId):
        registry.activate(tmp_path, "19990101T000000Z-deadbeef")
    assert not list(tmp_path.glob(".*"))


def test_cli_train_stores_without_activating_and_rollback_restores(tmp_path: Path, monkeypatch):
    from service.cli.app import app
    from service.config import get_settings
    from service.store.suggestion_log import write_parquet

    monkeypatch.setenv("PASSERELLE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    log = write_parquet(synthetic_log(80, signal="tension", seed=6), tmp_path / "log.parquet")
    runner = CliRunner()
    try:
        real_only = runner.invoke(app, ["ranker", "train", "--input", str(log)])
        assert real_only.exit_code == 2 and "entraînement impossible" in real_only.stderr  # all rows simulated
        trained = runner.invoke(app, ["ranker", "train", "--input", str(log), "--include-simulated", "--json"])
        assert trained.exit_code == 0, trained.output
        version = json.loads(trained.stdout)["version"]
        assert json.loads(trained.stdout)["simulated_rows"] == json.loads(trained.stdout)["rows"]
        listed = json.loads(runner.invoke(app, ["ranker", "list", "--json"]).stdout)
        assert listed["active"] is None and [v["version"] for v in listed["versions"]] == [version]
        assert runner.invoke(app, ["ranker", "activate", version]).exit_code == 0
        assert json.loads(runner.invoke(app, ["ranker", "list", "--json"]).stdout)["active"] == version
        unknown = runner.invoke(app, ["ranker", "activate", "nope"])
        assert unknown.exit_code == 2 and "inconnue" in unknown.stderr
        assert runner.invoke(app, ["ranker", "rollback"]).exit_code == 0
        assert json.loads(runner.invoke(app, ["ranker", "list", "--json"]).stdout)["active"] is None
        both = runner.invoke(app, ["ranker", "train", "--input", str(log), "--from-store"])
        assert both.exit_code == 2
        evaluated = runner.invoke(app, ["ranker", "evaluate", "--split-date", "2026-02-14", "--input", str(log), "--json"])
        assert evaluated.exit_code == 0, evaluated.output
        document = json.loads(evaluated.stdout)
        assert {"fusion", "learned", "ratio_ndcg_at_10", "p_value", "mixite", "exposure"} <= set(document)
        assert document["model_version"] not in {v["version"] for v in listed["versions"]}  # its own model
        assert json.loads(runner.invoke(app, ["ranker", "list", "--json"]).stdout)["versions"] == listed["versions"]
    finally:
        get_settings.cache_clear()


def test_provider_serves_the_active_ranker_only_above_the_threshold(two_models, tmp_path: Path):
    from service.live.ranker_provider import (
        ActiveRankerProvider,
        evaluation_context,
        labelled_lists,
    )
    from service.store import crud
    from service.store.db import make_engine, session_factory, upgrade
    from service.store.suggestion_log import read_log
    from service.store.youths import add_outcome, add_suggestions

    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        crud.create_mission_locale(session, "ML-A", "A", departements=["57"])
        crud.create_mission_locale(session, "ML-B", "B", departements=["54"])
        crud.create_employer(session, {"siret": "12345678900011", "name": "Boulangerie", "naf": "1071C",
                                       "sector_family": "artisanat", "size_band": "3-5", "commune_insee": "57463",
                                       "postcode": "57000", "lat": 49.119, "lon": 6.176})
        crud.create_vacancy(session, {"id": "V-0", "employer_siret": "12345678900011", "title": "Apprenti boulanger",
                                      "description": "Pain.", "code_rome": "D1102", "contract": "apprentissage",
                                      "level_required": "none", "start_date": date(2026, 9, 1),
                                      "end_date": date(2026, 12, 31)})
        for ml, commune, lists in (("ML-A", "57463", 3), ("ML-B", "54395", 1)):
            youth = crud.create_youth(session, {"id": f"Y-{ml}", "mission_locale": ml, "commune_insee": commune,
                                                "mobility_km": 10, "interests": "cuisine",
                                                "gender": "F" if ml == "ML-A" else "M"}, mission_locale=ml)
            for n in range(lists):
                rows = add_suggestions(session, youth, [{"item_kind": "vacancy", "item_id": f"V-{n}", "score": 0.5,
                                                         "employer_siret": "12345678900011"}],
                                       policy={}, engine_version="t")
                add_outcome(session, rows[0].id, "contacted")
            add_suggestions(session, youth, [{"item_kind": "vacancy", "item_id": "V-x", "score": 0.5}],
                            policy={}, engine_version="t")  # no outcome: not labelled
            simulated = add_suggestions(session, youth, [{"item_kind": "vacancy", "item_id": "V-0", "score": 0.5}],
                                        policy={}, engine_version="t", simulated=True)
            add_outcome(session, simulated[0].id, "hired")  # simulated outcomes never count
        assert labelled_lists(session) == {"ML-A": 3, "ML-B": 1}
        log = read_log(session, item_kind="vacancy")
        context = evaluation_context(session, log, pd.Series({"D1102": 0.31}))
        first_a = context[(context["youth_id"] == "Y-ML-A") & (context["item_id"] == "V-0") & ~context["simulated"]].iloc[0]
        assert (first_a["youth_gender"], first_a["share_women"], first_a["employer_id"]) == ("F", 0.31, "12345678900011")
        unknown = context[context["item_id"] == "V-x"]  # a vacancy id the store does not hold
        assert unknown["share_women"].isna().all() and (unknown["employer_id"] == "").all()
        assert set(context["youth_gender"]) == {"F", "M"}
    first, _ = two_models
    root = tmp_path / "ranker"
    registry.save(root, first)
    provider = ActiveRankerProvider(root, sessions, min_lists=2)
    assert provider("ML-A") is None  # nothing active: the fusion
    registry.activate(root, first.manifest["version"])
    assert provider("ML-A").version == first.manifest["version"]
    assert provider("ML-B") is None and provider(None) is None
    registry.rollback(root)
    assert provider("ML-A") is None
    engine.dispose()


@pytest.mark.parametrize("command", ["train", "list", "activate", "rollback", "evaluate"])
def test_every_ranker_command_has_help_ending_with_an_example(command):
    from service.cli.app import app

    result = CliRunner().invoke(app, ["ranker", command, "--help"])
    assert result.exit_code == 0 and f"Example: passerelle ranker {command}" in result.output


def test_provider_serves_the_fusion_when_the_active_model_cannot_be_read(two_models, tmp_path: Path):
    from service.live.ranker_provider import ActiveRankerProvider

    first, _ = two_models
    registry.save(tmp_path, first)
    registry.activate(tmp_path, first.manifest["version"])
    (tmp_path / first.manifest["version"] / "model.txt").write_text("not a model", encoding="utf-8")
    assert ActiveRankerProvider(tmp_path, read_sessions=None, min_lists=0)("ML-A") is None
