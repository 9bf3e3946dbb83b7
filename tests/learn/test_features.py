"""Features of the suggestion log and the learned ranker's hook (issue #15)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from matching.learn import features as feats
from matching.learn.labels import DEFAULT_GRADES, grades_from, label_of
from matching.learn.tables import feature_tables, mobility_csr, tension_table
from matching.recommend import learned, ranking
from matching.referential.geo import haversine_km

pytestmark = pytest.mark.model


def _youths(engine, n=5):
    return [y for y in engine.youths.youths if y.mission_locale == "ML-METZ"][:n]


def test_tension_known_answer_local_value_else_national():
    raw = pd.DataFrame({
        "fap": ["A1", "B1", "A1", "A1"], "Tension ": ["0.5", "-1.0", "0.1", "0.3"],
        "niveau_geo": ["nat", "nat", "dep", "dep"], "niveau_fap": ["fap 225"] * 4, "dep": ["", "", "57", "54"],
    })
    table, deps = tension_table(pd.Series(["A1", "A1,B1", "", "Z9"]), raw)
    assert deps == ("54", "57")
    np.testing.assert_allclose(table[0], [0.3, 0.1, 0.5], rtol=1e-6)
    # B1 has no département rows: its national -1.0 stands in, averaged with A1's local value
    np.testing.assert_allclose(table[1], [(0.3 - 1.0) / 2, (0.1 - 1.0) / 2, (0.5 - 1.0) / 2], rtol=1e-6)
    assert not table[2].any() and not table[3].any()  # no FAP, unknown FAP: 0


def test_mobility_csr_and_close_cards_known_answer():
    codes = np.array(["A", "B", "C", "D"])
    links = pd.DataFrame({"code_rome": ["A", "A", "C", "X"], "code_rome_target": ["B", "D", "A", "A"]})
    ptr, targets = mobility_csr(codes, links)
    assert ptr.tolist() == [0, 2, 2, 3, 3] and targets.tolist() == [1, 3, 0]
    # top cards: the 4 cards all count (TOP_CARDS >= 4); the wished card alone otherwise
    close = feats.close_cards(ptr, targets, np.array([0.0, 0.0, 1.0, 0.0]), wished=[0])
    assert close.tolist() == [True, True, False, True]


def test_matrix_columns_and_dict_round_trip():
    n = 3
    m = feats.matrix(semantic=np.full(n, 0.5), trade=np.full(n, 0.25), distance_km=np.array([1.0, 2, 3]),
                     distance=np.full(n, 0.9), contract=np.full(n, 1.0), level_gap=np.array([-3.0, 0, 2]),
                     family=np.array([0, 1, 3]), tension=np.full(n, 0.1), hires_log=np.zeros(n),
                     beginners=np.ones(n), close_trade=np.array([True, False, True]),
                     rank_shown=np.array([1.0, 2, 3]))
    col = feats.COLUMN
    assert m.shape == (n, len(feats.VACANCY_FEATURES)) and m.dtype == np.float32
    assert m[:, col["family_artisanat"]].tolist() == [1, 0, 0]
    assert m[:, col["family_other"]].tolist() == [0, 0, 1]
    assert m[:, col["rank_shown"]].tolist() == [1, 2, 3]
    np.testing.assert_array_equal(feats.from_dicts(feats.as_dicts(m)), m)


def test_labels_grade_the_best_outcome_and_can_be_overridden():
    assert label_of([]) == 0 and label_of(["declined"]) == 0
    assert label_of(["contacted", "immersion", "declined"]) == 2
    assert label_of(["applied", "in_post_6_months"]) == 3
    grades = grades_from("hired=5, applied=2")
    assert grades["hired"] == 5 and grades["applied"] == 2 and grades["immersion"] == DEFAULT_GRADES["immersion"]
    with pytest.raises(ValueError):
        grades_from("promoted=2")


def test_logged_features_equal_those_recomputed_for_the_same_pairs(engine):
    """Train/serve parity: a list's logged features are :func:`candidate_features` of its pairs."""
    youth = _youths(engine, 1)[0]
    result = engine.suggest_vacancies([youth], 10, features=True)[0]
    assert result.features.shape == (len(result.items), len(feats.VACANCY_FEATURES))
    tables = feature_tables(engine.referential)
    table = engine.vacancies
    rows = np.array([table.rows[item.vacancy_id] for item in result.items])
    trade_row = engine.trade_scores([youth])[0]
    context = learned.YouthContext.of(tables, engine.codes, youth, trade_row)
    # the parts recomputed from scratch: vectors, trade scores, haversine distances
    vector = engine.encode_youths([youth])[0]
    km = haversine_km(youth.location.lat, youth.location.lon, table.lat[rows], table.lon[rows])
    parts = {
        "semantic": np.clip(engine.vacancy_index.vectors(table.keys[rows]) @ vector, 0.0, 1.0),
        "trade": trade_row[table.rome_pos[rows]],
        "distance": ranking.distance_score(km, result.policy["radius_km"]),
        "contract": np.full(rows.size, ranking.CONTRACT_WISHED if youth.contracts else ranking.CONTRACT_ANY),
    }
    again = learned.candidate_features(context, table, rows, parts, km,
                                       rank_shown=np.arange(1, len(rows) + 1))
    np.testing.assert_allclose(result.features, again, rtol=0, atol=1e-5)  # float32 dot products
    exact = [feats.COLUMN[n] for n in feats.VACANCY_FEATURES if n != "semantic"]
    np.testing.assert_array_equal(result.features[:, exact], again[:, exact])
    assert result.features[:, feats.COLUMN["rank_shown"]].tolist() == list(range(1, len(rows) + 1))


class _ByColumn:
    """A ranker preferring a high value of one feature (a known answer for the hook)."""

    def __init__(self, name: str):
        self.column, self.version = feats.COLUMN[name], f"test-{name}"
        self.seen: list[np.ndarray] = []

    def score(self, features: np.ndarray) -> np.ndarray:
        self.seen.append(features)
        return features[:, self.column].astype(np.float64)


def test_ranker_reorders_the_top_before_the_mix_constraints(engine):
    from matching.fairness.policies import VacancyMix

    youth = _youths(engine, 1)[0]
    off = VacancyMix(max_per_employer=0)
    ranker = _ByColumn("distance_km")  # farthest first: the opposite of the fusion's taste
    result = engine.suggest_vacancies([youth], 10, mix=off, ranker=ranker)[0]
    fusion = engine.suggest_vacancies([youth], 10, mix=off)[0]
    km = [item.distance_km for item in result.items]
    assert km == sorted(km, reverse=True) and km != [item.distance_km for item in fusion.items]
    assert all("learned" in item.score_parts for item in result.items)
    assert result.model_version == "test-distance_km" and result.policy["ranker"] == "test-distance_km"
    assert ranker.seen[0].shape[0] <= learned.RERANK_TOP
    assert (ranker.seen[0][:, feats.COLUMN["rank_shown"]] == feats.RANK_AT_INFERENCE).all()
    capped = engine.suggest_vacancies([youth], 10, ranker=ranker)[0]  # one per employer: still applied
    employers = [engine.vacancies.vacancies[engine.vacancies.rows[i.vacancy_id]].employer.siret
                 for i in capped.items]
    assert len(set(employers)) == len(employers)


def test_features_for_100_candidates_take_well_under_a_few_ms(engine):
    youth = _youths(engine, 1)[0]
    tables = feature_tables(engine.referential)
    table = engine.vacancies
    rows = np.arange(min(100, len(table)))
    parts = {name: np.full(rows.size, 0.5) for name in ("semantic", "trade", "distance", "contract")}
    trade_row = engine.trade_scores([youth])[0]
    best = float("inf")
    for _ in range(20):
        start = time.perf_counter()
        context = learned.YouthContext.of(tables, engine.codes, youth, trade_row)
        learned.candidate_features(context, table, rows, parts, np.ones(rows.size))
        best = min(best, time.perf_counter() - start)
    assert best < 0.005, best


def test_a_ranker_with_no_candidate_within_reach_is_not_called(engine, referential):
    from matching.profiles import parse_youth

    youth, _ = parse_youth({"postcode": "97200", "wished_trades": ["D1102"], "mobility_km": 1}, referential)
    ranker = _ByColumn("semantic")
    result = engine.suggest_vacancies([youth], 10, ranker=ranker)[0]
    assert result.items == [] and ranker.seen == [] and result.features.shape == (0, len(feats.VACANCY_FEATURES))


def test_skills_by_stems_alone_change_no_ranking_score_or_feature(engine):
    """``confirm_skills=False`` (the outcome simulator's switch) skips the encoder's
    confirmation of cited skills only: the same items, scores and logged features; the
    engine's own confirmation is back afterwards."""
    youths = _youths(engine, 3)
    confirmed = engine.suggest_vacancies(youths, 10, features=True)
    stems = engine.suggest_vacancies(youths, 10, features=True, confirm_skills=False)
    for a, b in zip(confirmed, stems, strict=True):
        assert [i.vacancy_id for i in a.items] == [i.vacancy_id for i in b.items]
        assert [i.score for i in a.items] == [i.score for i in b.items]
        np.testing.assert_array_equal(a.features, b.features)
    assert engine._items._sense.embedder is not None  # restored after the list
