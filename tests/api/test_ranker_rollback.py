"""Activating and rolling back learned rankers through the served lists (issue #15): a rollback
restores exactly the list served before the activation it undoes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from api_fixtures import PROFILE_MARKER

from benchmarks.learn.synthetic_log import synthetic_log
from matching.learn import registry
from matching.learn.features import VACANCY_FEATURES
from matching.learn.ranker import RankerParams
from matching.learn.training import train
from service.live import learning
from service.live.ranker_provider import ActiveRankerProvider

pytestmark = pytest.mark.model
EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "youth.json").read_text())
SMALL = RankerParams(num_boost_round=20, min_data_in_leaf=10, num_threads=1)


def served(api, youth_id: str) -> tuple[list[str], dict]:
    response = api.client.get(f"/v1/youths/{youth_id}/suggestions", params={"top_k": 10},
                              headers=api.as_("adviser"))
    assert response.status_code == 200, response.text
    document = response.json()
    return [v["vacancy_id"] for v in document["vacancies"]], document


def test_rollback_restores_the_previous_lists_exactly(api, tmp_path):
    data = {k: v for k, v in EXAMPLE.items() if k not in ("available_from", "mission_locale")}
    body = {**data, "external_id": f"{EXAMPLE['external_id']}-{PROFILE_MARKER}rollback"}
    created = api.client.post("/v1/youths", json=body, headers=api.as_("adviser"))
    assert created.status_code == 201, created.text
    youth_id = created.json()["id"]
    # two models that order vacancies differently: by distance, and against it
    log = synthetic_log(150, signal="distance", seed=21)
    model_a = train(log, VACANCY_FEATURES, params=SMALL, now=pd.Timestamp("2026-03-01T00:00Z"))
    model_b = train(log.assign(label=3 - log["label"]), VACANCY_FEATURES, params=SMALL,
                    now=pd.Timestamp("2026-03-02T00:00Z"))
    root = tmp_path / "ranker"  # never the shared test home's registry
    for model in (model_a, model_b):
        registry.save(root, model)
    installed = learning._provider
    learning.set_ranker_provider(ActiveRankerProvider(root, api.workspace.store()[2], min_lists=0))
    try:
        fusion, _ = served(api, youth_id)
        registry.activate(root, model_a.manifest["version"])
        with_a, document = served(api, youth_id)
        assert document["vacancies"] and all("learned" in v["score_parts"] for v in document["vacancies"])
        registry.activate(root, model_b.manifest["version"])
        with_b, _ = served(api, youth_id)
        assert with_b != with_a  # B really serves
        assert registry.rollback(root) == model_a.manifest["version"]
        assert served(api, youth_id)[0] == with_a
        assert registry.rollback(root) is None
        back, document = served(api, youth_id)
        assert back == fusion and all("learned" not in v["score_parts"] for v in document["vacancies"])
    finally:
        learning.set_ranker_provider(installed)
