"""The suggestion log through the API (issue #15): what a served list logs, what it does not,
the exposure fed back and the learned ranker's hook."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from api_fixtures import PROFILE_MARKER
from sqlalchemy import func, select

from matching.learn import features as feats
from matching.learn.tables import feature_tables
from matching.profiles import parse_youth
from matching.recommend import learned, ranking
from matching.recommend.updates import indexed_features
from matching.referential.geo import haversine_km
from service.live.learning import exposure_cache, set_ranker_provider
from service.store.models import Suggestion
from service.store.models import Youth as StoredYouth
from service.store.suggestion_log import read_log

pytestmark = pytest.mark.model
EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "youth.json").read_text())


def create(api, tag: str) -> dict:
    data = {k: v for k, v in EXAMPLE.items() if k not in ("available_from", "mission_locale")}
    body = {**data, "external_id": f"{EXAMPLE['external_id']}-{PROFILE_MARKER}log-{tag}"}
    response = api.client.post("/v1/youths", json=body, headers=api.as_("adviser"))
    assert response.status_code == 201, response.text
    return response.json()


def served(api, youth_id: str, **params) -> dict:
    response = api.client.get(f"/v1/youths/{youth_id}/suggestions", params={"top_k": 5, **params},
                              headers=api.as_("adviser"))
    assert response.status_code == 200, response.text
    return response.json()


def log_of(api, youth_id: str):
    _, _, read_sessions = api.workspace.store()
    with read_sessions() as session:
        frame = read_log(session)
    return frame[frame["youth_id"] == youth_id]


def test_a_served_list_logs_the_features_the_engine_computes_for_its_pairs(api):
    youth_id = create(api, "parity")["id"]
    api.client.app.state.exposure = None  # a fresh cache: no exposure left by other tests
    document = served(api, youth_id)
    log = log_of(api, youth_id)
    vacancies = log[log["item_kind"] == "vacancy"]
    assert vacancies["item_id"].tolist() == [v["vacancy_id"] for v in document["vacancies"]]
    assert vacancies["suggestion_id"].tolist() == [v["suggestion_id"] for v in document["vacancies"]]
    assert vacancies["rank"].tolist() == list(range(1, len(vacancies) + 1))
    assert vacancies["list_id"].nunique() == 1 and vacancies["model_version"].isna().all()
    trades = log[log["item_kind"] == "trade"]
    assert trades["trade"].tolist() == pytest.approx([t["score"] for t in document["trades"]])
    # recomputed from scratch by the engine for the same (youth, vacancy) pairs
    engine = api.client.app.state.live.read().recommender
    with api.workspace.store()[2]() as session:
        stored = session.get(StoredYouth, youth_id)
        youth = parse_youth(stored.profile, engine.referential)[0]
    vectors, trade_scores = indexed_features(engine, [youth_id])
    table = engine.vacancies
    rows = np.array([table.rows[v] for v in vacancies["item_id"]])
    km = haversine_km(youth.location.lat, youth.location.lon, table.lat[rows], table.lon[rows])
    parts = {"semantic": np.clip(engine.vacancy_index.vectors(table.keys[rows]) @ vectors[0], 0, 1),
             "trade": trade_scores[0, table.rome_pos[rows]],
             "distance": ranking.distance_score(km, document["policy"]["vacancies"]["radius_km"]),
             "contract": np.full(rows.size, ranking.CONTRACT_WISHED if youth.contracts else ranking.CONTRACT_ANY)}
    context = learned.YouthContext.of(feature_tables(engine.referential), engine.codes, youth, trade_scores[0])
    expected = learned.candidate_features(context, table, rows, parts, km,
                                          rank_shown=np.arange(1, rows.size + 1))
    logged = vacancies[list(feats.VACANCY_FEATURES)].to_numpy(dtype=np.float32)
    np.testing.assert_allclose(logged, expected, rtol=0, atol=1e-5)
    exact = [feats.COLUMN[n] for n in feats.VACANCY_FEATURES if n != "semantic"]
    np.testing.assert_array_equal(logged[:, exact], expected[:, exact])


def test_suggestions_for_an_unstored_profile_log_nothing(api):
    _, _, read_sessions = api.workspace.store()

    def count():
        with read_sessions() as session:
            return session.scalar(select(func.count()).select_from(Suggestion))

    before = count()
    data = {k: v for k, v in EXAMPLE.items() if k not in ("available_from", "mission_locale", "external_id")}
    response = api.client.post("/v1/suggestions", json=data, headers=api.as_("adviser"))
    assert response.status_code == 200, response.text
    assert response.json()["vacancies"] and count() == before


def test_exposure_read_from_the_log_changes_the_next_youths_list(api):
    """Known answer: the second youth's list is the engine's list with exposure 1 on the first
    youth's vacancies; the first youth's own shows never count for them."""
    first, second = create(api, "exp-a")["id"], create(api, "exp-b")["id"]
    state = api.client.app.state
    state.exposure = None
    shown_first = [v["vacancy_id"] for v in served(api, first)["vacancies"]]
    exposure_cache(state).invalidate()
    assert [v["vacancy_id"] for v in served(api, first)["vacancies"]] == shown_first  # own shows
    exposure_cache(state).invalidate()
    shown_second = [v["vacancy_id"] for v in served(api, second)["vacancies"]]
    engine = state.live.read().recommender
    counts = np.zeros(len(engine.vacancies), dtype=np.int64)
    counts[[engine.vacancies.rows[v] for v in shown_first]] = 1
    with api.workspace.store()[2]() as session:
        profile = session.get(StoredYouth, second).profile
    youth = parse_youth(profile, engine.referential)[0]
    vectors, trade_scores = indexed_features(engine, [second])
    expected = engine.suggest_vacancies([youth], 5, exposure=counts, vectors=vectors, trade_scores=trade_scores)[0]
    assert shown_second == [item.vacancy_id for item in expected.items]
    assert shown_second != shown_first  # congestion spread the places
    state.exposure = None


class _Farthest:
    version = "test-farthest"

    def score(self, features: np.ndarray) -> np.ndarray:
        return features[:, feats.COLUMN["distance_km"]].astype(np.float64)


def test_the_ranker_provider_orders_the_list_and_its_version_is_logged(api):
    youth_id = create(api, "ranker")["id"]
    api.client.app.state.exposure = None
    asked = []
    set_ranker_provider(lambda ml: asked.append(ml) or _Farthest())
    try:
        document = served(api, youth_id, top_k=10)
    finally:
        set_ranker_provider(None)
    assert asked == ["ML-METZ"]
    items = document["vacancies"]
    assert all("learned" in v["score_parts"] for v in items)
    assert document["policy"]["vacancies"]["ranker"] == "test-farthest"
    log = log_of(api, youth_id)
    assert set(log.loc[log["item_kind"] == "vacancy", "model_version"]) == {"test-farthest"}
    assert log.loc[log["item_kind"] == "trade", "model_version"].isna().all()
    api.client.app.state.exposure = None


def test_an_explored_list_is_the_same_list_shuffled_with_its_propensities_logged(api, monkeypatch):
    import dataclasses

    youth_id = create(api, "explore")["id"]
    api.client.app.state.exposure = None
    plain = served(api, youth_id, top_k=10)["vacancies"]
    assert log_of(api, youth_id)["propensity"].isna().all()  # exploration is off by default
    workspace = api.client.app.state.workspace
    monkeypatch.setattr(workspace, "settings", dataclasses.replace(workspace.settings, exploration=1.0))
    shown = served(api, youth_id, top_k=10)["vacancies"]
    assert sorted(v["vacancy_id"] for v in shown) == sorted(v["vacancy_id"] for v in plain)  # own shows left out
    log = log_of(api, youth_id)
    explored = log[(log["item_kind"] == "vacancy") & log["propensity"].notna()]
    assert explored["item_id"].tolist() == [v["vacancy_id"] for v in shown]  # logged in the order shown
    assert explored["propensity"].tolist() == pytest.approx([1 / len(shown)] * len(shown))
    assert explored["rank_shown"].tolist() == list(range(1, len(shown) + 1))
    by_id = {v["vacancy_id"]: v["score"] for v in plain}
    assert [v["score"] for v in shown] == pytest.approx([by_id[v["vacancy_id"]] for v in shown])
