"""Search: texts to embed, embedders, lexical features, trade search and the vector index.

Entry points: :func:`make_embedder` (:mod:`~matching.search.embeddings`), :class:`TradeSearcher`
(free text -> ROME cards, :mod:`~matching.search.trade_search`, with its array helpers in
:mod:`~matching.search.trade_scores`, its fitting steps in :mod:`~matching.search.trade_fit` and
its saved files in :mod:`~matching.search.trade_files`), :class:`VectorIndex` and
:func:`exact_search` (:mod:`~matching.search.index`, with its canonical scoring and exact oracle in
:mod:`~matching.search.exact` and its snapshot files in :mod:`~matching.search.index_files`), the
texts of trades, youths and vacancies (:mod:`~matching.search.texts`) and French normalisation
(:mod:`~matching.search.lexical`).
"""

from matching.search.embeddings import Embedder, make_embedder
from matching.search.index import VectorIndex, exact_search
from matching.search.trade_search import TradeSearcher

__all__ = ["Embedder", "TradeSearcher", "VectorIndex", "exact_search", "make_embedder"]
