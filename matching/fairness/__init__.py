"""Mixité and mix: re-rankers, exposure, fair shortlists, policies and metrics (pure functions).

Entry points: the policies :class:`TradeMix`, :class:`VacancyMix` and :class:`Balance`
(:mod:`~matching.fairness.policies`), the re-rankers of :mod:`~matching.fairness.rerank` over the
greedy fill of :mod:`~matching.fairness.greedy`, vacancy exposure
(:mod:`~matching.fairness.exposure`), DetGreedy / DetCons / DetRelaxed shortlists
(:mod:`~matching.fairness.shortlist`) and the quality and fairness metrics
(:mod:`~matching.fairness.metrics`). Gender never enters relevance: these functions only measure
and balance lists that relevance has already ranked.
"""

from matching.fairness.policies import Balance, TradeMix, VacancyMix

__all__ = ["Balance", "TradeMix", "VacancyMix"]
