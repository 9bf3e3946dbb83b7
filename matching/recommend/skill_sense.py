"""Skills named in reasons only in the youth's sense: stems find a card's skills, the embedder
confirms them.

A skill found by stems is cited when the cosine between one of the youth's texts and the skill
read in its card ("Brodeur / Brodeuse : Techniques de restauration") reaches
:data:`SKILL_CONFIRM`; below :data:`SKILL_SURE` the same check must also pass with the shared
words masked on both sides, so a homonym ("restauration" of a cook and of an embroiderer) or a
shared root ("brasserie" and "brassage") names no skill. Thresholds chosen on
``benchmarks/quality/word_sense.csv`` (USE).

Cost: the skills read in their card are encoded once per model and data home
(:func:`in_card_strings`, given by :meth:`SkillSense.use_vectors`; otherwise once per process
and kept); a youth's list costs at most two encoder calls for its own texts and the masked
checks (:meth:`SkillSense.prefetch`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from matching.recommend import ranking

SKILL_CONFIRM = 0.26
"""Least cosine between the youth's texts and "card label : skill label", whole and with their
shared words masked, for a skill found by stems to be cited."""
SKILL_SURE = 0.45
"""Cosine from which a skill is cited without the masked check (no homonym of the development
set comes near: the highest is 0.41)."""
SKILL_CANDIDATES = 1
"""Skills found by stems per skill cited, checked by the embedder best first (1: a skill the
check rejects is not replaced by the next one; each candidate costs an encoding on a cold
process, measured in benchmarks/load/RESULTS_load.md)."""
MAX_CHECKED = 20
"""Distinct cards of one list whose skills are checked and named (the rest name none)."""
_VECTOR_CACHE = 16384
"""Youths' texts whose vectors are kept, and as many masked skills (each about 32 MB with USE)."""
_CITED_CACHE = 4096
"""Cited skills kept per (card, youth texts) by :meth:`SkillSense.prefetch` (replaced when full)."""


def read_in_card(card_label: str, skill: str) -> str:
    """A skill read in its card: the string encoded for the check ("card label : skill label")."""
    return f"{card_label} : {skill}"


def in_card_strings(referential) -> list[str]:
    """Every skill of the referential read in its card ("card label : skill label"), in the
    order of ``referential.skills``: the strings :meth:`SkillSense.use_vectors` takes vectors of."""
    labels = referential.cards["label"]
    skills = referential.skills
    return list(dict.fromkeys(read_in_card(labels.at[code], label)
                              for code, label in zip(skills["code_rome"], skills["label"], strict=True)))


def _kept(labels: list[str], oks: list[bool], limit: int) -> list[str]:
    """The first ``limit`` labels the check confirmed, in their order."""
    return [label for label, ok in zip(labels, oks, strict=True) if ok][:limit]


class SkillSense:
    """Cited skills of cards for a youth's texts.

    Args:
        embedder: confirms the skills found by stems (None: stems alone, no confirmation).
        card_label: a card's label from its ROME code.
        skill_index: a card's skills indexed by stem (:class:`~matching.recommend.ranking.LabelIndex`).
    """

    def __init__(self, embedder, card_label: Callable[[str], str],
                 skill_index: Callable[[str], ranking.LabelIndex]) -> None:
        self.embedder = embedder
        self._card_label = card_label
        self.skill_index = skill_index
        self._vectors: dict[str, np.ndarray] = {}
        self._masked_skills: dict[str, np.ndarray] = {}
        self._cited: dict[tuple, list[str]] = {}
        self._skills_in_card: dict[str, np.ndarray] = {}
        self._known_rows: dict[str, int] = {}
        self._known: np.ndarray | None = None

    def use_vectors(self, strings: list[str], vectors: np.ndarray) -> None:
        """Take the vectors of skills read in their card, encoded ahead (row ``i`` is
        ``strings[i]``, from :func:`in_card_strings`): a list then encodes no skill of the
        referential, only the youth's texts and the masked checks."""
        if len(strings) != len(vectors):
            raise ValueError(f"{len(strings)} strings but {len(vectors)} vectors")
        self._known_rows = {text: row for row, text in enumerate(strings)}
        self._known = vectors

    def cited(self, code: str, query: frozenset[str], texts: tuple[str, ...], limit: int) -> list[str]:
        """Up to ``limit`` skills of a card that share stems with ``query`` and that the
        embedder confirms for ``texts``, best stem match first."""
        ready = self._cited.get((code, query, texts, limit))
        return list(ready) if ready is not None else self.cited_many([code], query, texts, limit)[0]

    def prefetch(self, codes: list[str], query: frozenset[str], texts: tuple[str, ...], limit: int) -> None:
        """Confirm the skills of the cards of one list in one batch, so that the items built
        next find their cited skills ready (:meth:`cited`). Only the first :data:`MAX_CHECKED`
        distinct cards of a list name skills: the check's cost grows with the list, and a list of
        96 would cost seconds on a cold process."""
        if self.embedder is None or not codes:
            return
        unique = list(dict.fromkeys(codes))
        checked = unique[:MAX_CHECKED]
        found = self.cited_many(checked, query, texts, limit) + [[] for _ in unique[MAX_CHECKED:]]
        self._remember({(code, query, texts, limit): labels for code, labels in zip(unique, found, strict=True)})

    def prefetch_youths(self, code: str, queries: list[tuple[frozenset[str], tuple[str, ...]]],
                        limit: int) -> None:
        """Confirm one card's skills for several youths, ``(query, texts)`` each, in one batch
        (a shortlist's candidates), so that :meth:`cited` finds them ready."""
        if self.embedder is None:
            return
        todo = list(dict.fromkeys((query, texts) for query, texts in queries
                                  if texts and (code, query, texts, limit) not in self._cited))
        if not todo:
            return
        index = self.skill_index(code)
        found = [index.best(query, limit * SKILL_CANDIDATES) for query, _ in todo]
        confirmed = self.sense_confirmed_for(
            [([(code, labels)], texts, query) for (query, texts), labels in zip(todo, found, strict=True)], limit)
        self._remember({(code, query, texts, limit): _kept(labels, oks, limit)
                        for (query, texts), labels, (oks,) in zip(todo, found, confirmed, strict=True)})

    def _remember(self, cited: dict[tuple, list[str]]) -> None:
        """Keep cited skills for :meth:`cited` (a full memo is replaced, never cleared, so a
        concurrent reader keeps the one it holds)."""
        memo = self._cited if len(self._cited) < _CITED_CACHE else {}
        memo.update(cited)
        self._cited = memo

    def cited_many(self, codes: list[str], query: frozenset[str], texts: tuple[str, ...],
                   limit: int) -> list[list[str]]:
        """:meth:`cited` for several cards at once: the encoder is called at most twice
        for the whole list, not twice per card."""
        found = [self.skill_index(code).best(query, limit * SKILL_CANDIDATES) for code in codes]
        if self.embedder is None:
            return [labels[:limit] for labels in found]
        if not texts:
            return [[] for _ in codes]
        confirmed = self.sense_confirmed_many(list(zip(codes, found, strict=True)), texts, query, limit)
        return [_kept(labels, oks, limit) for labels, oks in zip(found, confirmed, strict=True)]

    def sense_confirmed_many(self, cards: list[tuple[str, list[str]]], texts: tuple[str, ...],
                             query: frozenset[str], limit: int | None = None) -> list[list[bool]]:
        """Per ``(code, labels)``: whether the youth's ``texts`` use the words they share with
        each skill label of card ``code`` in the skill's sense, the skill read in its card
        ("Brodeur / Brodeuse : Techniques de restauration").

        The cosine of the texts and the skill must reach :data:`SKILL_CONFIRM`. Below
        :data:`SKILL_SURE`, and when the texts say something besides the shared words, the cosine
        with the shared words masked on both sides must reach it too: what surrounds
        "restauration" in a cook's text is not what surrounds it in an embroiderer's skill,
        though the word alone pulls the two together. At most three encoder calls for all the
        cards, for the texts not seen yet (skills in their card recur: cached). With ``limit``,
        a card's doubtful skills are checked only while they could still be among its first
        ``limit`` cited (the others are answered False: they would not be cited).
        """
        return self.sense_confirmed_for([(cards, texts, query)], limit)[0]

    def sense_confirmed_for(self, checks: list[tuple[list[tuple[str, list[str]]], tuple[str, ...], frozenset[str]]],
                            limit: int | None = None) -> list[list[list[bool]]]:
        """:meth:`sense_confirmed_many` for several youths at once, ``checks`` holding
        ``(cards, texts, query)`` per youth (a shortlist's candidates): the same answers, with
        three encoder calls for all of them instead of three per youth."""
        self._encoded([text for _, texts, _ in checks for text in texts])  # one call, then cached
        plans = [self._plan(cards, texts, query, limit) for cards, texts, query in checks]
        doubtful = [d for _, found in plans for d in found]
        if doubtful:
            masked_texts = [t for _, _, masked in doubtful for t in masked]
            texts_v, skills_v = self._encoded_pair(masked_texts, [bare for _, bare, _ in doubtful])
            vectors = dict(zip(masked_texts, texts_v, strict=True))
            bares = iter(skills_v)
        out = []
        for (cards, _, _), (answers, found) in zip(checks, plans, strict=True):
            for i, _, masked in found:  # in the order of ``doubtful``, so of ``bares``
                best = (np.stack([vectors[t] for t in masked]) @ next(bares)).max()
                answers[i] = float(best) >= SKILL_CONFIRM
            per_card, start = [], 0
            for _, labels in cards:
                per_card.append(answers[start:start + len(labels)])
                start += len(labels)
            out.append(per_card)
        return out

    def _plan(self, cards: list[tuple[str, list[str]]], texts: tuple[str, ...], query: frozenset[str],
              limit: int | None) -> tuple[list[bool], list[tuple[int, str, list[str]]]]:
        """One youth's check before its masked encodings: the answers of the whole cosine, and
        the doubtful skills ``(index, masked skill, masked texts)`` whose masked check decides."""
        pairs = [(code, label) for code, labels in cards for label in labels]
        if not pairs:
            return [], []
        strings = [read_in_card(self._card_label(code), label) for code, label in pairs]
        similarity = (self._encoded(list(texts)) @ self._in_card(strings).T).max(axis=0)
        worth = self._worth_checking(cards, similarity, limit)
        checked = set(worth)
        answers = [bool(value >= SKILL_CONFIRM) and (i in checked or value >= SKILL_SURE)
                   for i, value in enumerate(similarity)]
        doubtful = []
        for i in worth:
            label, value = pairs[i][1], similarity[i]
            if SKILL_CONFIRM <= value < SKILL_SURE:
                shared = query & ranking.stems(label)
                masked = [ranking.masked(text, shared) for text in texts]
                if any(ranking.stems(text) for text in masked):  # else the shared words are all they say
                    doubtful.append((i, ranking.masked(strings[i], shared), masked))
        return answers, doubtful

    @staticmethod
    def _worth_checking(cards: list[tuple[str, list[str]]], similarity: np.ndarray,
                        limit: int | None) -> list[int]:
        """Indices (into the flattened labels) of the skills whose masked check may change what
        is cited: per card, in order, while fewer than ``limit`` skills are sure or pending."""
        out, start = [], 0
        for _, labels in cards:
            taken = 0
            for i in range(start, start + len(labels)):
                if limit is not None and taken >= limit:
                    break
                if similarity[i] >= SKILL_CONFIRM:
                    taken += 1
                    out.append(i)
            start += len(labels)
        return out

    def _in_card(self, strings: list[str]) -> np.ndarray:
        """``(len(strings), dim)`` vectors of skills read in their card ("card : skill"): the
        vectors encoded ahead (:meth:`use_vectors`), else each encoded once per process and
        kept (float16; at most one per skill of the referential, about 90 MB with USE)."""
        known, rows = self._known, self._known_rows
        if known is not None and all(t in rows for t in strings):
            return known[[rows[t] for t in strings]].astype(np.float32)
        kept = self._skills_in_card
        missing = list(dict.fromkeys(t for t in strings if t not in kept and t not in rows))
        if missing:
            fresh = self.embedder.encode_queries(missing).astype(np.float16)
            kept.update(zip(missing, fresh, strict=True))
        return np.stack([kept[t] if known is None or t not in rows else known[rows[t]]
                         for t in strings]).astype(np.float32)

    def _encoded_pair(self, texts: list[str], skills: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_encoded` of masked texts and of masked skills, the strings missing from both
        caches encoded in one encoder call (each call streams the model's weights once)."""
        new_texts = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        new_skills = [t for t in dict.fromkeys(skills) if t not in self._masked_skills]
        missing = list(dict.fromkeys(new_texts + new_skills))
        if missing:
            fresh = dict(zip(missing, self.embedder.encode_queries(missing), strict=True))
            self._keep(fresh, new_texts, "_vectors")
            self._keep(fresh, new_skills, "_masked_skills")
        return self._encoded(texts), self._encoded(skills, "_masked_skills")

    def _keep(self, fresh: dict[str, np.ndarray], texts: list[str], name: str) -> None:
        """Put ``fresh`` vectors of ``texts`` in cache ``self.<name>`` (a full cache is replaced,
        never cleared, so a concurrent reader keeps the one it holds)."""
        cache = getattr(self, name)
        if len(cache) + len(texts) > _VECTOR_CACHE:
            cache = {}
            setattr(self, name, cache)
        cache.update((t, fresh[t]) for t in texts)

    def _encoded(self, texts: list[str], name: str = "_vectors") -> np.ndarray:
        """``(len(texts), dim)`` query vectors, each text encoded once (bounded cache
        ``self.<name>``: youths' texts, or masked skills, which recur across youths and so are
        kept apart from the texts that churn; a full cache is replaced, never cleared, so a
        concurrent reader keeps the one it holds)."""
        cache = getattr(self, name)
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        fresh = dict(zip(missing, self.embedder.encode_queries(missing), strict=True)) if missing else {}
        self._keep(fresh, missing, name)
        return np.stack([fresh[t] if t in fresh else cache[t] for t in texts]).astype(np.float32)

