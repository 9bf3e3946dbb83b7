"""The recommender: trades and vacancies for youths, candidates for vacancies.

Composes the referential, an embedder, the trade searcher, vector indexes and the re-rankers.
Batch-first: every public method takes a list; one query is a list of one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matching import ranking
from matching.catalog import VacancyTable, YouthTable, vacancy_table, youth_table
from matching.geo import haversine_km
from matching.index import VectorIndex
from matching.mix import (
    Balance,
    TradeMix,
    VacancyMix,
    rerank_candidate_list,
    rerank_trade_list,
    rerank_vacancy_list,
)
from matching.types import Vacancy, Youth

FETCH_MIN = 200
"""Vector-search candidates fetched per query before the full score is computed."""


@dataclass
class TradeSuggestion:
    code_rome: str
    label: str
    score: float
    reasons: list[str]
    share_women: float | None
    band: str
    domain: str
    transition_eco: bool
    transition_num: bool
    regulated: bool
    cadre: bool
    median_salary: float | None
    median_salary_year: str | None
    tension: float | None
    tension_year: int | None
    moved_by: str | None = None


@dataclass
class VacancySuggestion:
    vacancy_id: str
    title: str
    code_rome: str
    employer: dict
    distance_km: float
    contract: str
    score: float
    score_parts: dict[str, float]
    reasons: list[str]
    moved_by: str | None = None


@dataclass
class CandidateSuggestion:
    youth_id: str
    score: float
    score_parts: dict[str, float]
    reasons: list[str]
    distance_km: float
    moved_by: str | None = None


@dataclass
class ListResult:
    """One ranked list with what was applied to it."""

    items: list
    policy: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _nan_to_none(value):
    """None for missing values (None, NaN, pandas NA), the value otherwise."""
    return None if pd.isna(value) else value


class Recommender:
    """Suggest trades and vacancies for youths and candidates for vacancies.

    Args:
        referential: a loaded :class:`~matching.referential.Referential`.
        embedder: an :class:`~matching.embeddings.Embedder` (youth and vacancy texts).
        trade_searcher: a fitted :class:`~matching.trade_search.TradeSearcher`.
    """

    def __init__(self, referential, embedder, trade_searcher):
        self.referential = referential
        self.embedder = embedder
        self.trade_searcher = trade_searcher
        self.codes = np.asarray(referential.codes)
        cards = referential.cards.loc[self.codes]
        self._labels = cards["label"].to_numpy()
        self._domains = cards["code_domaine"].to_numpy()
        self._share_women = cards["share_women"].to_numpy(dtype=np.float64)
        self._bands = np.array([referential.band(s) for s in self._share_women], dtype=object)
        self._cards = cards
        self._skills: dict[str, list[str]] | None = None
        self._common: frozenset[str] = frozenset()
        self._mobility: dict[str, set[str]] | None = None
        self._card_cache: list[dict] | None = None
        self.vacancies: VacancyTable = vacancy_table([], self.codes)
        self.vacancy_index: VectorIndex | None = None
        self.youths: YouthTable = youth_table([])
        self.youth_index: VectorIndex | None = None
        self.youth_trade_scores = np.zeros((0, len(self.codes)), dtype=np.float16)

    # ----------------------------------------------------------------- encoding
    def encode_youths(self, youths: list[Youth]) -> np.ndarray:
        """Embed youths: the mean of their text embeddings, L2-normalised, ``(n, dim)``."""
        texts, _weights, owners = self._query_texts(youths)
        vectors = self.embedder.encode_queries(texts)
        summed = np.zeros((len(youths), vectors.shape[1]), dtype=np.float32)
        np.add.at(summed, owners, vectors)
        return _normalise(summed)

    def youth_features(self, youths: list[Youth], text_batch: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """Embed youths and score every card for them: the batch path of :meth:`encode_youths`
        and :meth:`trade_scores`.

        Each distinct text of the batch is encoded once and that vector feeds the trade searcher
        too, so a batch costs one encoding per distinct text instead of two per text. Same
        formulas; values equal up to float rounding (texts are encoded in other batches).

        Args:
            youths: the youths.
            text_batch: distinct texts scored at once (bounds the memory of the card scores).

        Returns:
            ``(vectors (n_youths, dim) float32 L2-normalised, trade_scores (n_youths, n_cards)
            float32 in [0, 1])``.
        """
        texts, weights, owners = self._query_texts(youths)
        distinct, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
        dim, n_cards = self.embedder.dim, len(self.codes)
        text_vectors = np.empty((len(distinct), dim), dtype=np.float32)
        text_scores = np.empty((len(distinct), n_cards), dtype=np.float32)
        for start in range(0, len(distinct), text_batch):
            part = distinct[start : start + text_batch].tolist()
            vectors = self.embedder.encode_queries(part)
            text_vectors[start : start + len(part)] = vectors
            text_scores[start : start + len(part)] = ranking.rescale(
                self.trade_searcher.score(part, query_vectors=vectors))
        summed = np.zeros((len(youths), dim), dtype=np.float32)
        np.add.at(summed, owners, text_vectors[inverse])
        return _normalise(summed), self._combine_text_scores(youths, text_scores, inverse, weights, owners)

    def _query_texts(self, youths: list[Youth]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Every youth's query texts in youth order, with their weights and owner rows."""
        from matching.text import youth_query_texts

        texts, weights, owners = [], [], []
        for row, youth in enumerate(youths):
            for text, weight in youth_query_texts(youth, self.referential):
                texts.append(text)
                weights.append(weight)
                owners.append(row)
        return texts, np.asarray(weights, dtype=np.float32), np.asarray(owners, dtype=np.int64)

    def _combine_text_scores(self, youths, text_scores, inverse, weights, owners) -> np.ndarray:
        """Per youth: 0.6 x best + 0.4 x mean of its weighted text rows; wished codes score 1."""
        result = np.zeros((len(youths), len(self.codes)), dtype=np.float32)
        bounds = np.searchsorted(owners, np.arange(len(youths) + 1))  # owners are sorted
        for row, youth in enumerate(youths):
            lo, hi = bounds[row], bounds[row + 1]
            if hi > lo:
                mine = text_scores[inverse[lo:hi]] * weights[lo:hi, None]
                result[row] = 0.6 * mine.max(axis=0) + 0.4 * mine.mean(axis=0)
            for code in youth.wished_trades:
                if code in self.referential.cards.index:
                    result[row, np.searchsorted(self.codes, code)] = 1.0
        return result

    def encode_vacancies(self, vacancies: list[Vacancy], on_progress=None) -> np.ndarray:
        """Embed vacancies: title and description separately, combined, ``(n, dim)``."""
        from matching.text import TITLE_WEIGHT, vacancy_texts

        pairs = [vacancy_texts(v) for v in vacancies]
        titles = self.embedder.encode_documents([p[0] for p in pairs], on_progress=on_progress)
        descriptions = self.embedder.encode_documents([p[1] for p in pairs])
        return _normalise(TITLE_WEIGHT * titles + (1.0 - TITLE_WEIGHT) * descriptions)

    def trade_scores(self, youths: list[Youth]) -> np.ndarray:
        """Relevance of every card for every youth, ``(n_youths, n_cards)`` float32 in [0, 1].

        A weighted blend of the best and the mean score over the youth's texts; cards named by
        ROME code in the wishes come first. Gender plays no part.
        """
        texts, weights, owners = self._query_texts(youths)
        text_scores = ranking.rescale(self.trade_searcher.score(texts))
        return self._combine_text_scores(youths, text_scores, np.arange(len(texts)), weights, owners)

    # ----------------------------------------------------------------- loading
    def load_vacancies(self, vacancies: list[Vacancy], vectors: np.ndarray | None = None,
                       factory: str = "Flat", on_progress=None) -> Recommender:
        """Index vacancies (encoding them unless ``vectors`` is given)."""
        if vectors is None:
            vectors = self.encode_vacancies(vacancies, on_progress=on_progress)
        self.vacancies = vacancy_table(vacancies, self.codes)
        self.vacancy_index = VectorIndex(vectors.shape[1], factory=factory)
        if len(vacancies):
            self.vacancy_index.add(self.vacancies.keys, vectors)
        return self

    def load_youths(self, youths: list[Youth], vectors: np.ndarray | None = None,
                    trade_scores: np.ndarray | None = None) -> Recommender:
        """Index youths for candidate search (encoding them unless given)."""
        if vectors is None:
            vectors = self.encode_youths(youths)
        if trade_scores is None:
            trade_scores = self.trade_scores(youths)
        self.youths = youth_table(youths)
        self.youth_index = VectorIndex(vectors.shape[1])
        if len(youths):
            self.youth_index.add(self.youths.keys, vectors)
        self.youth_trade_scores = np.asarray(trade_scores, dtype=np.float16)
        return self

    # ----------------------------------------------------------------- trades
    def suggest_trades(self, youths: list[Youth], top_k: int = 10, mix: TradeMix | None = None,
                       transition: str | None = None, *,
                       scores: np.ndarray | None = None) -> list[ListResult]:
        """Suggest ROME cards for each youth, with reasons and mixité data.

        Args:
            youths: the youths.
            top_k: cards per youth.
            mix: the mixité policy (default ``TradeMix()``: balanced).
            transition: keep only cards flagged ``"eco"`` or ``"num"`` (ecological/digital).
            scores: the youths' :meth:`trade_scores` when already computed (batch path).
        """
        mix = mix or TradeMix()
        scores = self.trade_scores(youths) if scores is None else scores
        allowed = np.ones(len(self.codes), dtype=bool)
        if transition:
            allowed = self._cards[f"transition_{transition}"].to_numpy(dtype=bool)
        results = []
        for row, youth in enumerate(youths):
            row_scores = np.where(allowed, scores[row], -np.inf).astype(np.float32)
            pool = ranking.top_k_order(row_scores, min(mix.pool_size, int(allowed.sum())))
            pool = pool[np.isfinite(row_scores[pool])]
            reranked = rerank_trade_list(
                pool.astype(np.int64), row_scores[pool], self._bands[pool], self._domains[pool],
                top_k, mix, youth.gender, self._share_women[pool], self._trade_vectors(pool, mix),
            )
            counter = mix.policy == "counter_stereotype" and youth.gender in ("F", "M")
            items = [self._trade_item(youth, pos, score, why, counter=counter)
                     for pos, score, why in zip(reranked.ids, reranked.scores, reranked.why, strict=False)]
            results.append(ListResult(items, mix.describe(), list(reranked.notes)))
        return results

    def search_trades(self, text: str, top_k: int = 10) -> list[TradeSuggestion]:
        """Relevance-only search of ROME cards for a free text (no mix policy)."""
        positions, scores = self.trade_searcher.search([text], top_k)
        query = ranking.stems(text)
        return [self._trade_item(None, int(pos), float(score), "", query)
                for pos, score in zip(positions[0], scores[0], strict=False) if pos >= 0]

    def _trade_vectors(self, pool: np.ndarray, mix: TradeMix) -> np.ndarray | None:
        if not mix.diversity:
            return None
        return self.trade_searcher.card_vectors(pool)

    def _trade_item(self, youth: Youth | None, pos: int, score: float, why: str,
                    query: frozenset[str] | None = None, counter: bool = False) -> TradeSuggestion:
        code = str(self.codes[pos])
        card = self._card_fields()[pos]
        reasons = self._trade_reasons(youth, code, query)
        if why:
            token = "counter_stereotype" if why == "mixite" and counter else why
            reasons.insert(0, ranking.moved_reason(token))
        share = _nan_to_none(float(self._share_women[pos]))
        reasons.append(ranking.share_women_reason(share))
        return TradeSuggestion(
            code_rome=code, score=round(float(score), 4), reasons=reasons,
            share_women=None if share is None else round(share, 3), band=str(self._bands[pos]),
            moved_by=why or None, **card,
        )

    def _card_fields(self) -> list[dict]:
        """What a trade suggestion says of each card, in card order (read from the frame once:
        a pandas row lookup per suggested card cost more than the re-ranking)."""
        if self._card_cache is None:
            columns = ("label", "domaine_label", "transition_eco", "transition_num", "regulated",
                       "cadre", "median_salary", "median_salary_year", "tension", "tension_year")
            self._card_cache = [
                dict(label=str(label), domain=str(domain), transition_eco=bool(eco),
                     transition_num=bool(num), regulated=bool(regulated), cadre=bool(cadre),
                     median_salary=_nan_to_none(float(salary)), median_salary_year=_nan_to_none(year),
                     tension=_nan_to_none(float(tension)),
                     tension_year=None if pd.isna(tension_year) else int(tension_year))
                for label, domain, eco, num, regulated, cadre, salary, year, tension, tension_year
                in zip(*(self._cards[c].tolist() for c in columns), strict=True)
            ]
        return self._card_cache

    def _trade_reasons(self, youth: Youth | None, code: str, query: set[str] | None) -> list[str]:
        skills, mobility = self._card_skills(), self._card_mobility()
        reasons: list[str] = []
        if youth is not None:
            wished_codes = {w for w in youth.wished_trades if w in self.referential.cards.index}
            if code in wished_codes:
                reasons.append("métier souhaité")
            else:
                near = sorted(c for c in wished_codes if code in mobility.get(c, ()))
                if near:
                    label = self.referential.cards.at[near[0], "label"]
                    reasons.append(f"proche d'un métier souhaité : « {label} »")
            query = ranking.stems(" ".join([*youth.experiences, youth.interests, *youth.wished_trades]))
        matched = ranking.matching_labels(query or set(), skills.get(code, []))
        if matched:
            reasons.append("compétences : " + ", ".join(m.lower() for m in matched))
        return reasons

    def card_skills(self) -> dict[str, list[str]]:
        """Skill labels of each card, core skills first: ``{code_rome: [label, ...]}``."""
        return self._card_skills()

    def _card_skills(self) -> dict[str, list[str]]:
        if self._skills is None:
            skills = self.referential.skills.sort_values(["code_rome", "core"], ascending=[True, False])
            self._skills = skills.groupby("code_rome")["label"].apply(list).to_dict()
            self._common = ranking.common_stems(self._skills)
        return self._skills

    def _card_mobility(self) -> dict[str, set[str]]:
        if self._mobility is None:
            mob = self.referential.mobility
            self._mobility = mob.groupby("code_rome")["code_rome_target"].apply(set).to_dict()
        return self._mobility

    # ----------------------------------------------------------------- vacancies
    def suggest_vacancies(self, youths: list[Youth], top_k: int = 10, radius_km: float | None = None,
                          mix: VacancyMix | None = None, exposure: np.ndarray | None = None, *,
                          vectors: np.ndarray | None = None,
                          trade_scores: np.ndarray | None = None) -> list[ListResult]:
        """Suggest open vacancies within each youth's reach (widened by 10 km steps if too few).

        Args:
            youths: the youths.
            top_k: vacancies per youth.
            radius_km: overrides each youth's ``mobility_km``.
            mix: employer cap, sector floors and exposure policy (default ``VacancyMix()``).
            exposure: how often each vacancy was already proposed, ``(n_vacancies,)``.
            vectors, trade_scores: the youths' :meth:`encode_youths` and :meth:`trade_scores`
                when already computed (batch path: :meth:`youth_features`).
        """
        mix = mix or VacancyMix()
        table = self.vacancies
        if not len(table) or self.vacancy_index is None:
            return [ListResult([], mix.describe(), ["no_vacancies"]) for _ in youths]
        vectors = self.encode_youths(youths) if vectors is None else vectors
        trades = self.trade_scores(youths) if trade_scores is None else trade_scores
        plans, allowed = [], []
        by_place: dict[tuple[float, float], np.ndarray] = {}  # youths of a commune share distances
        for youth in youths:
            radius = radius_km if radius_km is not None else youth.mobility_km
            place = (youth.location.lat, youth.location.lon)
            if place not in by_place:
                by_place[place] = haversine_km(place[0], place[1], table.lat, table.lon)
            eligible, distance = ranking.vacancy_eligibility(
                table, *place, _bits(youth), _rank(youth), _ordinal(youth), distance=by_place[place])
            used = ranking.widened_radius(distance, eligible, radius, top_k)
            mask = eligible & (distance <= used)
            plans.append((radius, used, distance))
            allowed.append(table.keys[mask])
        fetch = max(FETCH_MIN, top_k * 20)
        keys, semantic = self.vacancy_index.search(vectors, fetch, allowed=allowed)
        results = []
        for qi, youth in enumerate(youths):
            found = keys[qi] >= 0
            rows = table.rows_of(keys[qi][found])
            radius, used, distance = plans[qi]
            parts = {
                "semantic": np.clip(semantic[qi][found], 0.0, 1.0),
                "trade": trades[qi, table.rome_pos[rows]],
                "distance": ranking.distance_score(distance[rows], used),
                "contract": np.where(_bits(youth) != 0, ranking.CONTRACT_WISHED, ranking.CONTRACT_ANY)
                * np.ones(len(rows)),
            }
            score = ranking.combine(parts, ranking.VACANCY_WEIGHTS)
            order = np.lexsort((table.keys[rows], -score))
            rows, score = rows[order], score[order]
            parts = {name: value[order] for name, value in parts.items()}
            reranked = rerank_vacancy_list(rows, score, table.employer[rows], table.family[rows],
                                           top_k, mix, None if exposure is None else exposure[rows])
            position = {int(r): i for i, r in enumerate(rows)}
            items = []
            for row, value, why in zip(reranked.ids, reranked.scores, reranked.why, strict=False):
                i = position[int(row)]
                items.append(self._vacancy_item(youth, int(row), float(value),
                                                {n: round(float(p[i]), 4) for n, p in parts.items()},
                                                float(distance[row]), radius, used, why))
            notes = list(reranked.notes) + ([f"radius_widened_to_{used:g}_km"] if used > radius else [])
            results.append(ListResult(items, {**mix.describe(), "radius_km": used}, notes))
        return results

    def _vacancy_item(self, youth, row, score, parts, distance, radius, used, why) -> VacancySuggestion:
        vacancy = self.vacancies.vacancies[row]
        reasons = []
        if why:
            reasons.append(ranking.moved_reason(why))
        card_pos = int(self.vacancies.rome_pos[row])
        label = self._labels[card_pos]
        if vacancy.code_rome in youth.wished_trades:
            reasons.append(f"métier souhaité : « {label} »")
        elif parts["trade"] >= 0.7:
            reasons.append(f"métier proche de votre profil : « {label} »")
        query = ranking.stems(" ".join([*youth.experiences, youth.interests, *youth.wished_trades]))
        matched = ranking.matching_labels(query, self._card_skills().get(vacancy.code_rome, []), limit=2)
        if matched:
            reasons.append("compétences : " + ", ".join(m.lower() for m in matched))
        reasons.append(ranking.distance_reason(distance))
        if used > radius and distance > radius:
            reasons.append(f"rayon élargi à {used:.0f} km : peu d'offres à moins de {radius:.0f} km")
        if vacancy.contract in youth.contracts:
            reasons.append(f"contrat souhaité : {vacancy.contract}")
        share = _nan_to_none(float(self._share_women[card_pos]))
        reasons.append(ranking.share_women_reason(share))
        return VacancySuggestion(
            vacancy_id=vacancy.id, title=vacancy.title, code_rome=vacancy.code_rome,
            employer={"name": vacancy.employer.name, "sector_family": vacancy.employer.sector_family},
            distance_km=round(distance, 1), contract=vacancy.contract, score=round(score, 4),
            score_parts=parts, reasons=reasons, moved_by=why or None,
        )

    # ----------------------------------------------------------------- candidates
    def find_candidates(self, vacancy_ids: list[str], top_k: int = 10,
                        balance: Balance | None = None) -> list[ListResult]:
        """Shortlist youths within reach of each vacancy, balanced by gender (and QPV).

        A youth is within reach when the vacancy lies within their ``mobility_km``, its contract
        is among their wishes (or they gave none), their diploma reaches its level and they are
        available when it starts.
        """
        from matching.errors import UnknownId

        balance = balance or Balance()
        table, youths = self.vacancies, self.youths
        missing = [v for v in vacancy_ids if v not in table.rows]
        if missing:
            raise UnknownId(f"unknown vacancy id '{missing[0]}': see the loaded vacancies",
                            field="vacancy", message_fr=f"offre inconnue « {missing[0]} »")
        rows = [table.rows[v] for v in vacancy_ids]
        if not len(youths) or self.youth_index is None:
            return [ListResult([], balance.describe(), ["no_youths"]) for _ in rows]
        vectors = self.vacancy_index.vectors(table.keys[rows])
        plans, allowed = [], []
        for row in rows:
            distance = haversine_km(table.lat[row], table.lon[row], youths.lat, youths.lon)
            ok = (distance <= youths.mobility_km) & (youths.level_rank >= table.level_rank[row])
            ok &= (youths.contracts == 0) | ((youths.contracts & table.contract_bit[row]) != 0)
            if table.start[row]:
                ok &= (youths.available == 0) | (youths.available <= table.start[row])
            plans.append(distance)
            allowed.append(youths.keys[ok])
        fetch = max(FETCH_MIN, top_k * 20)
        keys, semantic = self.youth_index.search(vectors, fetch, allowed=allowed)
        results = []
        for qi, row in enumerate(rows):
            found = keys[qi] >= 0
            cand = youths.rows_of(keys[qi][found])
            distance = plans[qi][cand]
            parts = {
                "semantic": np.clip(semantic[qi][found], 0.0, 1.0),
                "trade": self.youth_trade_scores[cand, table.rome_pos[row]].astype(np.float32),
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
                reasons = [ranking.moved_reason(why)] if why else []
                if parts["trade"][i] >= 0.7:
                    reasons.append("profil proche du métier de l'offre")
                reasons.append(ranking.distance_reason(float(distance[i])))
                items.append(CandidateSuggestion(
                    youth_id=youths.youths[int(c)].id, score=round(float(value), 4),
                    score_parts={n: round(float(p[i]), 4) for n, p in parts.items()},
                    reasons=reasons, distance_km=round(float(distance[i]), 1), moved_by=why or None))
            policy = {**balance.describe(), "target": _rounded(target)}
            results.append(ListResult(items, policy, list(reranked.notes)))
        return results


def _rounded(shares: dict[str, float] | None) -> dict[str, float] | None:
    return None if shares is None else {str(g): round(float(p), 4) for g, p in sorted(shares.items())}


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _bits(youth: Youth) -> int:
    from matching.catalog import contract_bits

    return contract_bits(youth.contracts)


def _rank(youth: Youth) -> int:
    from matching.types import diploma_rank

    return diploma_rank(youth.diploma_level)


def _ordinal(youth: Youth) -> int:
    return youth.available_from.toordinal() if youth.available_from else 0
