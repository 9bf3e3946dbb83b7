"""The recommender: trades and vacancies for youths, candidates for vacancies.

Composes the referential, an embedder, the trade searcher, vector indexes and the re-rankers.
Batch-first: every public method takes a list; one query is a list of one.
"""

from __future__ import annotations

import numpy as np

from matching.fairness.policies import (
    Balance,
    TradeMix,
    VacancyMix,
    rerank_trade_list,
    rerank_vacancy_list,
)
from matching.learn.tables import feature_tables
from matching.recommend import learned, ranking
from matching.recommend.candidates import shortlists
from matching.recommend.catalog import VacancyTable, YouthTable, vacancy_table, youth_table
from matching.recommend.items import (  # noqa: F401 (the item types are re-exported)
    TRADE_SKILLS,
    VACANCY_SKILLS,
    CandidateSuggestion,
    ItemBuilder,
    TradeSuggestion,
    VacancySuggestion,
    candidate_item,
)
from matching.recommend.learned import Ranker
from matching.recommend.lists import FETCH_MIN, ListResult
from matching.recommend.reach import vacancies_within_reach, youth_contract_bits
from matching.recommend.trade_rules import ASK_NEXT, THIN_NOTE, TradeRules
from matching.search.index import VectorIndex
from matching.types import Vacancy, Youth


class Recommender:
    """Suggest trades and vacancies for youths and candidates for vacancies.

    Args:
        referential: a loaded :class:`~matching.referential.loader.Referential`.
        embedder: an :class:`~matching.search.embeddings.Embedder` (youth and vacancy texts).
        trade_searcher: a fitted :class:`~matching.search.trade_search.TradeSearcher`.
    """

    def __init__(self, referential, embedder, trade_searcher):
        self.referential = referential
        self.embedder = embedder
        self.trade_searcher = trade_searcher
        self.codes = np.asarray(referential.codes)
        cards = referential.cards.loc[self.codes]
        self._domains = cards["code_domaine"].to_numpy()
        self._share_women = cards["share_women"].to_numpy(dtype=np.float64)
        self._bands = np.array([referential.band(s) for s in self._share_women], dtype=object)
        self._cards = cards
        self._items = ItemBuilder(referential, self.codes, cards, self._share_women, self._bands, embedder)
        self._rules = TradeRules(referential, self.codes, cards)
        self.vacancies: VacancyTable = vacancy_table([], self.codes)
        self.vacancy_index: VectorIndex | None = None
        self.youths: YouthTable = youth_table([])
        self.youth_index: VectorIndex | None = None
        self.youth_trade_scores = np.zeros((0, len(self.codes)), dtype=np.float16)

    # ----------------------------------------------------------------- encoding
    def encode_youths(self, youths: list[Youth]) -> np.ndarray:
        """Embed youths: the mean of their text embeddings, L2-normalised, ``(n, dim)``."""
        texts, weights, owners = self._query_texts(youths)
        vectors = self.embedder.encode_queries(texts)
        summed = np.zeros((len(youths), vectors.shape[1]), dtype=np.float32)
        positive = weights > 0  # negated clauses say what a youth does not want: not their vector
        np.add.at(summed, owners[positive], vectors[positive])
        return _normalise(summed)

    def youth_features(self, youths: list[Youth], text_features=None) -> tuple[np.ndarray, np.ndarray]:
        """Embed youths and score every card for them: the batch path of :meth:`encode_youths`
        and :meth:`trade_scores`.

        Each distinct text of the batch is encoded once and that vector feeds the trade searcher
        too, so a batch costs one encoding per distinct text instead of two per text. Same
        formulas; values equal up to float rounding (texts are encoded in other batches).

        Args:
            youths: the youths.
            text_features: ``f(distinct texts) -> (vectors, card scores)`` when the texts were
                already encoded and scored (a batch run does it once per distinct text of the
                run); default :meth:`text_features`.

        Returns:
            ``(vectors (n_youths, dim) float32 L2-normalised, trade_scores (n_youths, n_cards)
            float32 in [0, 1])``.
        """
        texts, weights, owners = self._query_texts(youths)
        distinct, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
        text_vectors, text_scores = (text_features or self.text_features)(distinct.tolist())
        summed = np.zeros((len(youths), self.embedder.dim), dtype=np.float32)
        positive = weights > 0
        np.add.at(summed, owners[positive], text_vectors[inverse[positive]])
        return _normalise(summed), self._combine_text_scores(youths, text_scores, inverse, weights, owners)

    def text_features(self, texts: list[str], text_batch: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """Encode texts and score every card for each: ``(vectors (n, dim) float32,
        scores (n, n_cards) float32 in [0, 1])``; ``text_batch`` bounds the card-score memory."""
        vectors = np.empty((len(texts), self.embedder.dim), dtype=np.float32)
        scores = np.empty((len(texts), len(self.codes)), dtype=np.float32)
        for start in range(0, len(texts), text_batch):
            part = list(texts[start : start + text_batch])
            vectors[start : start + len(part)] = self.embedder.encode_queries(part)
            scores[start : start + len(part)] = ranking.rescale(
                self.trade_searcher.score(part, query_vectors=vectors[start : start + len(part)]))
        return vectors, scores

    def _query_texts(self, youths: list[Youth]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Every youth's query texts in youth order, with their weights and owner rows."""
        from matching.search.texts import youth_query_texts

        texts, weights, owners = [], [], []
        for row, youth in enumerate(youths):
            for text, weight in youth_query_texts(youth, self.referential):
                texts.append(text)
                weights.append(weight)
                owners.append(row)
        return texts, np.asarray(weights, dtype=np.float32), np.asarray(owners, dtype=np.int64)

    def _combine_text_scores(self, youths, text_scores, inverse, weights, owners) -> np.ndarray:
        """Per youth: :func:`ranking.combine_texts` of its text rows; wished codes score 1."""
        result = np.zeros((len(youths), len(self.codes)), dtype=np.float32)
        bounds = np.searchsorted(owners, np.arange(len(youths) + 1))  # owners are sorted
        for row, youth in enumerate(youths):
            lo, hi = bounds[row], bounds[row + 1]
            result[row] = ranking.combine_texts(text_scores[inverse[lo:hi]], weights[lo:hi])
            for code in youth.wished_trades:
                if code in self.referential.cards.index:
                    result[row, np.searchsorted(self.codes, code)] = 1.0
        return result

    def encode_vacancies(self, vacancies: list[Vacancy], on_progress=None) -> np.ndarray:
        """Embed vacancies: title and description separately, combined, ``(n, dim)``."""
        from matching.search.texts import TITLE_WEIGHT, vacancy_texts

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
        return [self._trade_list(youth, scores[row], allowed, top_k, mix) for row, youth in enumerate(youths)]

    def _trade_list(self, youth: Youth, scores: np.ndarray, allowed: np.ndarray, top_k: int,
                    mix: TradeMix) -> ListResult:
        """One youth's trades: accessible cards only; policy picks from the plausible pool; a
        thin profile gets interest-centre and open trades and questions (docs/ACCESS.md)."""
        rules = self._rules
        wished = rules.wished(youth)
        row_scores = np.where(allowed & rules.accessible(youth, wished), scores, -np.inf).astype(np.float32)
        thin = rules.is_thin(youth, wished)
        centres, plausible, order, used = None, None, row_scores, mix
        if thin:
            order, centres = rules.thin_scores(youth, row_scores, self.vacancies)
            used = rules.thin_mix(mix)
        pool = ranking.top_k_order(order, min(used.pool_size, int(np.isfinite(order).sum())))
        pool = pool[np.isfinite(order[pool])]
        if not thin:
            plausible = rules.plausible(row_scores, wished)[pool]
        reranked = rerank_trade_list(
            pool.astype(np.int64), order[pool], self._bands[pool], self._domains[pool], top_k, used,
            youth.gender, self._share_women[pool], self._trade_vectors(pool, used), plausible=plausible,
        )
        counter = mix.policy == "counter_stereotype" and youth.gender in ("F", "M")
        self._items.prefetch(youth, [str(self.codes[p]) for p in reranked.ids], TRADE_SKILLS)
        items = [self._trade_item(youth, int(pos), float(row_scores[pos]), why, counter=counter)
                 for pos, why in zip(reranked.ids, reranked.why, strict=True)]
        rules.finish_items(items, reranked.ids, centres)
        notes = list(reranked.notes) + ([THIN_NOTE] if thin else [])
        return ListResult(items, mix.describe(), notes, list(ASK_NEXT) if thin else [])

    def search_trades(self, text: str, top_k: int = 10) -> list[TradeSuggestion]:
        """Relevance-only search of ROME cards for a free text (no mix policy)."""
        positions, scores = self.trade_searcher.search([text], top_k)
        found = [(int(pos), float(score)) for pos, score in zip(positions[0], scores[0], strict=False) if pos >= 0]
        self._items.prefetch(None, [str(self.codes[pos]) for pos, _ in found], TRADE_SKILLS, text)
        items = [self._trade_item(None, pos, score, "", text) for pos, score in found]
        self._rules.finish_items(items, [pos for pos, _ in found], None)
        return items

    def _trade_vectors(self, pool: np.ndarray, mix: TradeMix) -> np.ndarray | None:
        return self.trade_searcher.card_vectors(pool) if mix.diversity else None

    def _trade_item(self, youth: Youth | None, pos: int, score: float, why: str,
                    query: str | None = None, counter: bool = False) -> TradeSuggestion:
        return self._items.trade_item(youth, pos, score, why, query, counter)

    def card_skills(self) -> dict[str, list[str]]:
        """Skill labels of each card, core skills first: ``{code_rome: [label, ...]}``."""
        return self._items.card_skills()

    def use_skill_vectors(self, strings: list[str], vectors: np.ndarray) -> None:
        """Skills read in their card, encoded ahead (:meth:`SkillSense.use_vectors`)."""
        self._items.use_skill_vectors(strings, vectors)

    def youth_skills(self, youth: Youth, code_rome: str, limit: int = 5) -> list[str]:
        """Skills of a card that the youth's texts name in the same sense (the rule of reasons)."""
        return self._items.youth_skills(youth, code_rome, limit)

    def youth_skills_many(self, youths: list[Youth], code_rome: str, limit: int = 5) -> list[list[str]]:
        """:meth:`youth_skills` of several youths for one card (a shortlist), in one batch."""
        return self._items.youth_skills_many(youths, code_rome, limit)

    # ----------------------------------------------------------------- vacancies
    def suggest_vacancies(self, youths: list[Youth], top_k: int = 10, radius_km: float | None = None,
                          mix: VacancyMix | None = None, exposure: np.ndarray | None = None, *,
                          vectors: np.ndarray | None = None, trade_scores: np.ndarray | None = None,
                          ranker: Ranker | None = None, features: bool = False,
                          confirm_skills: bool = True) -> list[ListResult]:
        """Suggest open vacancies within each youth's reach (widened by 10 km steps if too few).

        Args:
            youths: the youths.
            top_k: vacancies per youth.
            radius_km: overrides each youth's ``mobility_km``.
            mix: employer cap, sector floors and exposure policy (default ``VacancyMix()``).
            exposure: how often each vacancy was already proposed, ``(n_vacancies,)``.
            vectors, trade_scores: the youths' :meth:`encode_youths` and :meth:`trade_scores`
                when already computed (batch path: :meth:`youth_features`).
            ranker: re-orders the top of the fusion before the mix constraints (:mod:`.learned`).
            features: give each list its items' features (``ListResult.features``, logged).
            confirm_skills: False cites the reasons' skills by stems alone, without the encoder's
                confirmation (ranking, scores and features are the same either way).
        """
        mix = mix or VacancyMix()
        table = self.vacancies
        if not len(table) or self.vacancy_index is None:
            return [ListResult([], mix.describe(), ["no_vacancies"]) for _ in youths]
        vectors = self.encode_youths(youths) if vectors is None else vectors
        trades = self.trade_scores(youths) if trade_scores is None else trade_scores
        plans, allowed = self._vacancies_within_reach(youths, radius_km, top_k)
        fetch = max(FETCH_MIN, top_k * 20)
        keys, semantic = self.vacancy_index.search(vectors, fetch, allowed=allowed)
        tables = feature_tables(self.referential) if ranker is not None or features else None
        results = []
        for qi, youth in enumerate(youths):
            found = keys[qi] >= 0
            rows = table.rows_of(keys[qi][found])
            radius, used, near, distance = plans[qi]
            distance = distance[np.searchsorted(near.positions, rows)]  # found rows are near
            parts = {
                "semantic": np.clip(semantic[qi][found], 0.0, 1.0),
                "trade": trades[qi, table.rome_pos[rows]],
                "distance": ranking.distance_score(distance, used),
                "contract": np.where(youth_contract_bits(youth) != 0, ranking.CONTRACT_WISHED,
                                     ranking.CONTRACT_ANY) * np.ones(len(rows)),
            }
            score = ranking.combine(parts, ranking.VACANCY_WEIGHTS)
            order = np.lexsort((table.keys[rows], -score))
            context = None if tables is None else learned.YouthContext.of(tables, self.codes, youth, trades[qi])
            relevance, learned_parts = None, dict[str, np.ndarray]()
            if ranker is not None and context is not None:  # the top of the fusion, by the learned score
                order, relevance, learned_parts = learned.rerank_top(ranker, context, table, rows, order, parts,
                                                                     distance, score)
            rows, score, distance = rows[order], score[order], distance[order]
            parts = {**{name: value[order] for name, value in parts.items()}, **learned_parts}
            reranked = rerank_vacancy_list(rows, score if relevance is None else relevance, table.employer[rows],
                                           table.family[rows], top_k, mix, None if exposure is None else exposure[rows])
            with self._items.skill_confirmation(confirm_skills):
                items = self._vacancy_items(youth, reranked, score, parts, distance, radius, used)
            notes = list(reranked.notes) + ([f"radius_widened_to_{used:g}_km"] if used > radius else [])
            logged = None if context is None else learned.shown_features(context, table, rows, parts, distance,
                                                                           reranked.positions)
            policy = {**mix.describe(), "radius_km": used, **({"ranker": ranker.version} if ranker else {})}
            results.append(ListResult(items, policy, notes, features=logged,
                                      model_version=None if ranker is None else ranker.version))
        return results

    def _vacancies_within_reach(self, youths: list[Youth], radius_km: float | None, top_k: int):
        """Each youth's eligible vacancies within the (widened) radius (:func:`vacancies_within_reach`)."""
        return vacancies_within_reach(self.vacancies, youths, radius_km, top_k)

    def _vacancy_items(self, youth, reranked, score, parts, distance, radius, used) -> list[VacancySuggestion]:
        """The shown items of a re-ranked list (``score``: the fusion score of each candidate)."""
        table, picked = self.vacancies, reranked.positions
        self._items.prefetch(youth, [table.vacancies[r].code_rome for r in reranked.ids.tolist()], VACANCY_SKILLS)
        shown = {name: value[picked].tolist() for name, value in parts.items()}
        values = np.asarray(score, dtype=np.float32)[picked].tolist()
        return [self._vacancy_item(youth, row, value, {n: round(p[j], 4) for n, p in shown.items()}, km, radius,
                                   used, why)
                for j, (row, value, why, km) in enumerate(zip(reranked.ids.tolist(), values, reranked.why,
                                                               distance[picked].tolist(), strict=True))]

    def _vacancy_item(self, youth, row, score, parts, distance, radius, used, why) -> VacancySuggestion:
        return self._items.vacancy_item(self.vacancies, youth, row, score, parts, distance, radius, used, why)

    # ----------------------------------------------------------------- candidates
    def find_candidates(self, vacancy_ids: list[str], top_k: int = 10,
                        balance: Balance | None = None) -> list[ListResult]:
        """Shortlist youths within reach of each vacancy, balanced by gender (and QPV).

        A youth is within reach when the vacancy lies within their ``mobility_km``, its contract
        is among their wishes (or they gave none), their diploma reaches its level and they are
        available when it starts.
        """
        return shortlists(self, vacancy_ids, top_k, balance or Balance())


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
