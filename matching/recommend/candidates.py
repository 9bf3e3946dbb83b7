"""Candidate shortlists for vacancies: the body of :meth:`Recommender.find_candidates`."""

from __future__ import annotations

import numpy as np

from matching.fairness.policies import Balance, rerank_candidate_list
from matching.recommend import ranking
from matching.recommend.items import candidate_item
from matching.recommend.lists import FETCH_MIN, ListResult
from matching.recommend.reach import youths_within_reach


def shortlists(engine, vacancy_ids: list[str], top_k: int, balance: Balance) -> list:
    """Shortlist youths within reach of each vacancy (see :meth:`Recommender.find_candidates`)."""
    from matching.errors import UnknownId

    table, youths = engine.vacancies, engine.youths
    missing = [v for v in vacancy_ids if v not in table.rows]
    if missing:
        raise UnknownId(f"unknown vacancy id '{missing[0]}': see the loaded vacancies",
                        field="vacancy", message_fr=f"offre inconnue « {missing[0]} »")
    rows = [table.rows[v] for v in vacancy_ids]
    if not len(youths) or engine.youth_index is None or engine.vacancy_index is None:
        return [ListResult([], balance.describe(), ["no_youths"]) for _ in rows]
    vectors = engine.vacancy_index.vectors(table.keys[rows])
    plans, allowed = youths_within_reach(table, youths, rows)
    fetch = max(FETCH_MIN, top_k * 20)
    keys, semantic = engine.youth_index.search(vectors, fetch, allowed=allowed)
    results = []
    for qi, row in enumerate(rows):
        found = keys[qi] >= 0
        cand = youths.rows_of(keys[qi][found])
        distance = plans[qi][cand]
        parts = {
            "semantic": np.clip(semantic[qi][found], 0.0, 1.0),
            "trade": engine.youth_trade_scores[cand, table.rome_pos[row]].astype(np.float32),
            "distance": np.clip(1.0 - distance / youths.mobility_km[cand], 0.0, 1.0),
            "contract": np.where(youths.contracts[cand] != 0, ranking.CONTRACT_WISHED, ranking.CONTRACT_ANY),
        }
        score = ranking.combine(parts, ranking.VACANCY_WEIGHTS)
        order = np.lexsort((youths.keys[cand], -score))
        cand, score, distance = cand[order], score[order], distance[order]
        parts = {name: value[order] for name, value in parts.items()}
        reranked, target = rerank_candidate_list(cand, score, youths.gender_group[cand],
                                                 youths.qpv_group[cand], top_k, balance)
        position = {int(c): i for i, c in enumerate(cand)}
        items = []
        for c, value, why in zip(reranked.ids, reranked.scores, reranked.why, strict=False):
            i = position[int(c)]
            items.append(candidate_item(youths.youths[int(c)].id, float(value), parts, i,
                                        float(distance[i]), why))
        policy = {**balance.describe(), "target": _rounded(target)}
        results.append(ListResult(items, policy, list(reranked.notes)))
    return results


def _rounded(shares: dict[str, float] | None) -> dict[str, float] | None:
    return None if shares is None else {str(g): round(float(p), 4) for g, p in sorted(shares.items())}
