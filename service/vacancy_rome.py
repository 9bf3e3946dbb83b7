"""Vacancy title and description -> ROME 4.0 codes for the service: one function for the CLI
(``passerelle trades infer``) and the API (``POST /v1/vacancies`` without ``code_rome``).

A thin wrapper over :func:`matching.search.titles.infer_rome` on the loaded engine's trade
searcher: positions become ``{"code_rome", "label", "score"}`` dicts, best first. Scores are those
of :func:`~matching.search.titles.vacancy_scores` rounded to 4 decimals (about 1 for a title that
is an appellation word for word, 0.5 to 0.7 for a good match, under 0.3 for noise).
"""

from __future__ import annotations

from collections.abc import Sequence

from matching.search.titles import card_parents, infer_rome

BATCH = 512  # vacancies scored at once: bounds the (batch, n_cards) score arrays


def infer_codes(
    engine, titles: Sequence[str], descriptions: Sequence[str | None] | None = None, top_k: int = 5
) -> list[list[dict]]:
    """Best ROME cards for each vacancy, in input order: one list of ``top_k`` dicts per title.

    Args:
        engine: a :class:`~matching.recommend.recommender.Recommender` (its ``trade_searcher``
            and ``referential``).
        titles: raw vacancy titles.
        descriptions: raw descriptions (None, or one per title, each possibly None or empty).
        top_k: cards per vacancy.

    Raises:
        PasserelleError: an empty title; ValueError: ``top_k`` < 1 or descriptions not one per title.
    """
    searcher = engine.trade_searcher
    parents = card_parents(engine.referential, searcher.codes_)
    labels = engine.referential.cards["label"].reindex(searcher.codes_).fillna("").to_numpy()
    if descriptions is not None and len(descriptions) != len(titles):
        raise ValueError(f"{len(descriptions)} descriptions for {len(titles)} titles: give one per title")
    results: list[list[dict]] = []
    for start in range(0, len(titles), BATCH):
        chunk = list(titles[start : start + BATCH])
        texts = None if descriptions is None else list(descriptions[start : start + BATCH])
        positions, scores = infer_rome(searcher, chunk, texts, top_k=top_k, parents=parents)
        for row_positions, row_scores in zip(positions, scores, strict=True):
            results.append([
                {"code_rome": str(searcher.codes_[p]), "label": str(labels[p]), "score": round(float(s), 4)}
                for p, s in zip(row_positions, row_scores, strict=True)
            ])
    return results


def infer_code(engine, title: str, description: str | None = None) -> str:
    """The best ROME code for one vacancy (see :func:`infer_codes`)."""
    return infer_codes(engine, [title], [description], top_k=1)[0][0]["code_rome"]
