"""The recommender: trades and vacancies for youths, candidates for vacancies.

Entry point: :class:`Recommender` (``suggest_trades``, ``suggest_vacancies``,
``find_candidates``). Its column tables (:mod:`~matching.recommend.catalog`), eligibility and
reasons (:mod:`~matching.recommend.ranking`), who is within reach of whom
(:mod:`~matching.recommend.reach`), items (:mod:`~matching.recommend.items`) and copy-on-write
updates (:mod:`~matching.recommend.updates`) sit beside it.
"""

from matching.recommend.recommender import ListResult, Recommender

__all__ = ["ListResult", "Recommender"]
