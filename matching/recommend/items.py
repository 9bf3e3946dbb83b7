"""Suggestion items and their French reasons: what the recommender says of each trade, vacancy
and candidate it returns.

Built for :class:`~matching.recommend.recommender.Recommender`. What depends only on a card (its fields,
its share of women, its skills indexed by stem) is read once; what depends only on a youth (the
stems of their texts, their wished codes) once per youth, not once per item.

A skill is cited only when the youth's words meet it in the same sense: a stem shared with the
skill label finds it, and the embedder confirms it (:mod:`~matching.recommend.skill_sense`), so a
homonym ("restauration" of a cook and of an embroiderer) or a shared root ("brasserie" and
"brassage") names no skill. Negated clauses ("pas dans un bureau") give no stem.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matching.recommend import ranking
from matching.recommend.skill_sense import SkillSense
from matching.search.texts import youth_query_texts
from matching.types import Youth


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
    access: str | None = None
    """What access to the trade requires (referential access text), "non renseigné" when it
    says nothing; set by the recommender (issue #12)."""


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


TRADE_SKILLS, VACANCY_SKILLS = 3, 2
"""Skill labels named in the reasons of a trade and of a vacancy."""
CLOSE_TRADE = 0.7
"""Trade score from which a vacancy's or a candidate's trade is said to be close."""


def nan_to_none(value):
    """None for missing values (None, NaN, pandas NA), the value otherwise."""
    return None if pd.isna(value) else value


@dataclass(frozen=True)
class YouthQuery:
    """What the reasons use of one youth."""

    youth: Youth
    stems: frozenset[str]
    """Stems of the experiences, interests and wished trades (negated clauses left out)."""
    wished: frozenset[str]
    """Wished ROME codes known to the referential."""
    texts: tuple[str, ...] = ()
    """The texts the stems come from, for the semantic check of the skills they find."""


class ItemBuilder:
    """Build trade and vacancy items for one referential (caches are filled on first use).

    Args:
        referential: the loaded referential.
        codes: the ROME codes in card order; cards: the card frame in that order.
        share_women: ``(n_cards,)`` float64 (NaN when unknown); bands: ``(n_cards,)`` band names.
        embedder: confirms the skills found by stems (None: stems alone, no confirmation).
    """

    def __init__(self, referential, codes: np.ndarray, cards: pd.DataFrame,
                 share_women: np.ndarray, bands: np.ndarray, embedder=None):
        self.referential = referential
        self.embedder = embedder
        self._codes = [str(code) for code in codes]
        self._cards = cards
        self._labels = cards["label"].to_numpy()
        self._shares = []
        for value in share_women:
            share = nan_to_none(float(value))
            self._shares.append((None if share is None else round(share, 3),
                                 ranking.share_women_reason(share)))
        self._bands = [str(band) for band in bands]
        self._fields: list[dict] | None = None
        self._skills: dict[str, list[str]] | None = None
        self._skill_index: dict[str, ranking.LabelIndex] = {}
        self._mobility: dict[str, set[str]] | None = None
        self._last: YouthQuery | None = None
        self._sense = SkillSense(embedder, self._card_label, self.skill_index)

    # ----------------------------------------------------------------- per card
    def card_fields(self) -> list[dict]:
        """What a trade suggestion says of each card, in card order (read from the frame once:
        a pandas row lookup per suggested card cost more than the re-ranking)."""
        if self._fields is None:
            columns = ("label", "domaine_label", "transition_eco", "transition_num", "regulated",
                       "cadre", "median_salary", "median_salary_year", "tension", "tension_year")
            self._fields = [
                dict(label=str(label), domain=str(domain), transition_eco=bool(eco),
                     transition_num=bool(num), regulated=bool(regulated), cadre=bool(cadre),
                     median_salary=nan_to_none(float(salary)), median_salary_year=nan_to_none(year),
                     tension=nan_to_none(float(tension)),
                     tension_year=None if pd.isna(tension_year) else int(tension_year))
                for label, domain, eco, num, regulated, cadre, salary, year, tension, tension_year
                in zip(*(self._cards[c].tolist() for c in columns), strict=True)
            ]
        return self._fields

    def card_skills(self) -> dict[str, list[str]]:
        """Skill labels of each card, core skills first: ``{code_rome: [label, ...]}``."""
        if self._skills is None:
            skills = self.referential.skills.sort_values(["code_rome", "core"], ascending=[True, False])
            self._skills = skills.groupby("code_rome")["label"].apply(list).to_dict()
        return self._skills

    def skill_index(self, code: str) -> ranking.LabelIndex:
        """The skill labels of a card indexed by stem (built on first use)."""
        index = self._skill_index.get(code)
        if index is None:
            index = self._skill_index[code] = ranking.LabelIndex(self.card_skills().get(code, []))
        return index

    def card_mobility(self) -> dict[str, set[str]]:
        """Cards a youth can move to from each card: ``{code_rome: {code_rome, ...}}``."""
        if self._mobility is None:
            mob = self.referential.mobility
            self._mobility = mob.groupby("code_rome")["code_rome_target"].apply(set).to_dict()
        return self._mobility

    # ----------------------------------------------------------------- per youth
    def youth_query(self, youth: Youth) -> YouthQuery:
        """The youth's stems and known wishes (kept for the last youth: items come youth by
        youth; a :class:`Youth` is frozen, so the same object has the same answer)."""
        last = self._last
        if last is not None and last.youth is youth:
            return last
        cards = self.referential.cards.index
        texts = tuple(text for text, weight in youth_query_texts(youth, self.referential) if weight > 0)
        last = YouthQuery(youth, ranking.stems(" ".join(texts)),
                          frozenset(w for w in youth.wished_trades if w in cards), texts)
        self._last = last
        return last

    # ----------------------------------------------------------------- skills cited
    def cited_skills(self, code: str, query: frozenset[str], texts: tuple[str, ...],
                     limit: int) -> list[str]:
        """Up to ``limit`` skills of a card that the youth's ``texts`` name in the same sense
        (:mod:`~matching.recommend.skill_sense`), best stem match first."""
        return self._sense.cited(code, query, texts, limit)

    def use_skill_vectors(self, strings: list[str], vectors: np.ndarray) -> None:
        """Skills read in their card, encoded ahead (:meth:`SkillSense.use_vectors`)."""
        self._sense.use_vectors(strings, vectors)

    def youth_skills(self, youth: Youth, code: str, limit: int) -> list[str]:
        """Up to ``limit`` skills of a card that the youth's texts name (:meth:`cited_skills`)."""
        known = self.youth_query(youth)
        return self.cited_skills(code, known.stems, known.texts, limit)

    def youth_skills_many(self, youths: list[Youth], code: str, limit: int) -> list[list[str]]:
        """:meth:`youth_skills` of several youths for one card, confirmed in one batch."""
        queries = [(known.stems, known.texts) for known in map(self.youth_query, youths)]
        self._sense.prefetch_youths(code, queries, limit)
        return [self.cited_skills(code, stems, texts, limit) for stems, texts in queries]

    @contextmanager
    def skill_confirmation(self, confirm: bool) -> Iterator[None]:
        """Within the block, skills are confirmed by the embedder (``confirm``, the default of
        every list) or cited by stems alone (no encoder call; the outcome simulator, which logs
        no reason)."""
        if confirm:
            yield
            return
        embedder, self._sense.embedder = self._sense.embedder, None
        try:
            yield
        finally:
            self._sense.embedder = embedder

    def prefetch(self, youth: Youth | None, codes: list[str], limit: int, query: str | None = None) -> None:
        """Confirm the skills of one list's cards in one batch (:meth:`SkillSense.prefetch`)."""
        if youth is not None:
            known = self.youth_query(youth)
            self._sense.prefetch(codes, known.stems, known.texts, limit)
        elif query:
            self._sense.prefetch(codes, ranking.stems(query), (query,), limit)

    def _card_label(self, code: str) -> str:
        return self.referential.card_labels[code]

    # ----------------------------------------------------------------- items
    def trade_item(self, youth: Youth | None, pos: int, score: float, why: str,
                   query: str | None = None, counter: bool = False) -> TradeSuggestion:
        """A suggested card with its reasons; ``query``: the text of a free-text search (used
        when ``youth`` is None)."""
        code = self._codes[pos]
        reasons = self.trade_reasons(youth, code, query)
        if why:
            token = "counter_stereotype" if why == "mixite" and counter else why
            reasons.insert(0, ranking.moved_reason(token))
        share, share_reason = self._shares[pos]
        reasons.append(share_reason)
        return TradeSuggestion(
            code_rome=code, score=round(float(score), 4), reasons=reasons, share_women=share,
            band=self._bands[pos], moved_by=why or None, **self.card_fields()[pos],
        )

    def trade_reasons(self, youth: Youth | None, code: str, query: str | None) -> list[str]:
        """Wish, mobility and skill reasons of a card (before the moved and share reasons)."""
        reasons: list[str] = []
        texts: tuple[str, ...] = (query,) if query else ()
        query_stems = ranking.stems(query) if query else frozenset()
        if youth is not None:
            known = self.youth_query(youth)
            if code in known.wished:
                reasons.append("métier souhaité")
            elif known.wished:
                mobility = self.card_mobility()
                near = sorted(c for c in known.wished if code in mobility.get(c, ()))
                if near:
                    label = self.referential.cards.at[near[0], "label"]
                    reasons.append(f"proche d'un métier souhaité : « {label} »")
            query_stems, texts = known.stems, known.texts
        matched = self.cited_skills(code, query_stems, texts, TRADE_SKILLS)
        if matched:
            reasons.append("compétences : " + ", ".join(m.lower() for m in matched))
        return reasons

    def vacancy_item(self, table, youth: Youth, row: int, score: float, parts: dict[str, float],
                     distance: float, radius: float, used: float, why: str) -> VacancySuggestion:
        """A suggested vacancy (row of ``table``) with its reasons; ``radius`` asked, ``used``
        after widening."""
        vacancy = table.vacancies[row]
        reasons = []
        if why:
            reasons.append(ranking.moved_reason(why))
        card_pos = int(table.rome_pos[row])
        label = self._labels[card_pos]
        if vacancy.code_rome in youth.wished_trades:
            reasons.append(f"métier souhaité : « {label} »")
        elif parts["trade"] >= CLOSE_TRADE:
            reasons.append(f"métier proche de votre profil : « {label} »")
        known = self.youth_query(youth)
        matched = self.cited_skills(vacancy.code_rome, known.stems, known.texts, VACANCY_SKILLS)
        if matched:
            reasons.append("compétences : " + ", ".join(m.lower() for m in matched))
        distance = ranking.shown_km(distance)  # once: the reason and distance_km say the same
        reasons.append(ranking.distance_reason(distance))
        if used > radius and distance > radius:
            reasons.append(f"rayon élargi à {used:.0f} km : peu d'offres à moins de {radius:.0f} km")
        if vacancy.contract in youth.contracts:
            reasons.append(f"contrat souhaité : {vacancy.contract}")
        reasons.append(self._shares[card_pos][1])
        return VacancySuggestion(
            vacancy_id=vacancy.id, title=vacancy.title, code_rome=vacancy.code_rome,
            employer={"name": vacancy.employer.name, "sector_family": vacancy.employer.sector_family},
            distance_km=distance, contract=vacancy.contract, score=round(score, 4),
            score_parts=parts, reasons=reasons, moved_by=why or None,
        )


def candidate_item(youth_id: str, score: float, parts: dict[str, np.ndarray], i: int,
                   distance: float, why: str) -> CandidateSuggestion:
    """A shortlisted youth: ``parts`` are the score parts of the whole list, ``i`` its place."""
    reasons = [ranking.moved_reason(why)] if why else []
    if parts["trade"][i] >= CLOSE_TRADE:
        reasons.append("profil proche du métier de l'offre")
    distance = ranking.shown_km(distance)
    reasons.append(ranking.distance_reason(distance))
    return CandidateSuggestion(
        youth_id=youth_id, score=round(score, 4),
        score_parts={n: round(float(p[i]), 4) for n, p in parts.items()},
        reasons=reasons, distance_km=distance, moved_by=why or None)
