"""Mix policies (validated parameters) and their application to one ranked list.

The re-ranking itself lives in :mod:`matching.fairness.rerank` (pure functions); this module holds the
per-request parameters, checks them and names what was applied in every output.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from matching.errors import OutOfRange
from matching.fairness import rerank as diversity
from matching.types import SECTOR_FAMILIES

TRADE_POLICIES = ("balanced", "counter_stereotype", "off")
BALANCE_POLICIES = ("pool", "parity", "off")
SHORTLIST_ALGORITHMS = ("det_greedy", "det_cons", "det_relaxed")
_FAMILY_NAMES = np.asarray(SECTOR_FAMILIES, dtype=str)


def _check(condition: bool, field_name: str, message: str, message_fr: str) -> None:
    if not condition:
        raise OutOfRange(message, field=field_name, message_fr=message_fr)


@dataclass(frozen=True)
class TradeMix:
    """Gender-mix and domain-mix policy for trade suggestions (see :func:`diversity.rerank_trades`)."""

    policy: str = "balanced"
    floor: float = 0.2
    min_non_traditional: int = 2
    max_per_domain: int = 3
    diversity: float = 0.2  # MMR lambda, chosen by measurement (benchmarks/RESULTS.md)
    pool_size: int = 50

    def __post_init__(self):
        _check(self.policy in TRADE_POLICIES, "mix", f"unknown mix policy '{self.policy}': use balanced, counter_stereotype or off",
               f"politique de mixité « {self.policy} » inconnue : utilisez balanced, counter_stereotype ou off")
        _check(0.0 <= self.floor <= 1 / 3, "floor", f"floor {self.floor} out of range: give a share between 0 and 0.33",
               f"plancher {self.floor} hors limites : indiquez une part entre 0 et 0,33")
        _check(0 <= self.min_non_traditional <= 10, "min_non_traditional",
               f"min-non-traditional {self.min_non_traditional} out of range: give 0 to 10",
               f"min-non-traditional {self.min_non_traditional} hors limites : indiquez 0 à 10")
        _check(0 <= self.max_per_domain <= 50, "max_per_domain",
               f"max-per-domain {self.max_per_domain} out of range: give 0 (no cap) to 50",
               f"max-per-domain {self.max_per_domain} hors limites : indiquez 0 (sans limite) à 50")
        _check(0.0 <= self.diversity <= 1.0, "diversity", f"diversity {self.diversity} out of range: give 0 to 1",
               f"diversity {self.diversity} hors limites : indiquez une valeur entre 0 et 1")
        _check(10 <= self.pool_size <= 500, "pool_size", f"pool size {self.pool_size} out of range: give 10 to 500",
               f"taille du vivier {self.pool_size} hors limites : indiquez 10 à 500")

    def describe(self) -> dict:
        return {"mix": self.policy, **{k: v for k, v in asdict(self).items() if k != "policy"}}


@dataclass(frozen=True)
class VacancyMix:
    """Employer cap, sector-family floors and congestion-aware exposure for vacancy lists."""

    max_per_employer: int = 1
    family_floors: dict[str, float] = field(default_factory=dict)
    exposure_weight: float = 0.5
    seed: int = 0

    def __post_init__(self):
        _check(0 <= self.max_per_employer <= 50, "max_per_employer",
               f"max-per-employer {self.max_per_employer} out of range: give 0 (no cap) to 50",
               f"max-per-employer {self.max_per_employer} hors limites : indiquez 0 (sans limite) à 50")
        for family, share in self.family_floors.items():
            _check(family in SECTOR_FAMILIES, "family_floors", f"unknown sector family '{family}': use {', '.join(SECTOR_FAMILIES)}",
                   f"famille de secteur « {family} » inconnue : utilisez {', '.join(SECTOR_FAMILIES)}")
            _check(0.0 <= share <= 1.0, "family_floors", f"floor for '{family}' must lie between 0 and 1",
                   f"le plancher de « {family} » doit être entre 0 et 1")
        _check(sum(self.family_floors.values()) <= 1.0, "family_floors", "sector floors add up to more than 1",
               "la somme des planchers par secteur dépasse 1")
        _check(0.0 <= self.exposure_weight <= 10.0, "exposure_weight", "exposure weight must lie between 0 and 10",
               "le poids d'exposition doit être entre 0 et 10")

    def describe(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Balance:
    """Balance policy of candidate shortlists (Geyik et al., KDD 2019)."""

    policy: str = "pool"
    algorithm: str = "det_relaxed"
    with_qpv: bool = False
    qualified_top: int = 100

    def __post_init__(self):
        _check(self.policy in BALANCE_POLICIES, "balance", f"unknown balance policy '{self.policy}': use pool, parity or off",
               f"politique d'équilibre « {self.policy} » inconnue : utilisez pool, parity ou off")
        _check(self.algorithm in SHORTLIST_ALGORITHMS, "algorithm",
               f"unknown algorithm '{self.algorithm}': use det_greedy, det_cons or det_relaxed",
               f"algorithme « {self.algorithm} » inconnu : utilisez det_greedy, det_cons ou det_relaxed")
        _check(1 <= self.qualified_top <= 10_000, "qualified_top", "qualified-top must lie between 1 and 10000",
               "qualified-top doit être entre 1 et 10000")

    def describe(self) -> dict:
        return {"balance": self.policy, "algorithm": self.algorithm, "with_qpv": self.with_qpv,
                "qualified_top": self.qualified_top}


def rerank_trade_list(ids, scores, bands, domains, top_k, mix: TradeMix, youth_gender, share_women, vectors,
                      plausible=None):
    """Apply a :class:`TradeMix` to one relevance-ordered pool of cards (``plausible``: bool
    mask of the cards a policy may move into the list, see :mod:`matching.recommend.plausible`)."""
    return diversity.rerank_trades(
        ids, scores, bands, domains, top_k, policy=mix.policy, floor=mix.floor,
        youth_gender=youth_gender, min_non_traditional=mix.min_non_traditional,
        share_women=share_women, max_per_domain=mix.max_per_domain,
        diversity=mix.diversity, embeddings=vectors, pool_size=mix.pool_size, plausible=plausible,
    )


def rerank_vacancy_list(ids, scores, employers, families, top_k, mix: VacancyMix, exposure):
    """Apply a :class:`VacancyMix` to one relevance-ordered list of vacancies."""
    return diversity.rerank_vacancies(
        ids, scores, employers, _FAMILY_NAMES[families], top_k,
        max_per_employer=mix.max_per_employer, family_floors=mix.family_floors or None,
        exposure_counts=exposure, exposure_weight=mix.exposure_weight, seed=mix.seed,
    )


def candidate_target(groups, balance: Balance) -> dict[str, float] | None:
    """The group shares a shortlist aims at: among qualified candidates (``pool``, the
    ``qualified_top`` most relevant within reach) or equal over the groups present (``parity``)."""
    if balance.policy == "off" or not len(groups):
        return None
    if balance.policy == "pool":
        return diversity.target_from_pool(groups[: balance.qualified_top])
    return diversity.parity(groups)


def rerank_candidate_list(ids, scores, genders, qpv, top_k, balance: Balance):
    """Apply a :class:`Balance` to one relevance-ordered list of candidates.

    Returns:
        The :class:`~matching.fairness.greedy.Reranked` list and the target shares applied.
    """
    groups = genders if not balance.with_qpv else np.array([f"{g}|{q}" for g, q in zip(genders, qpv, strict=False)], dtype=object)
    target = candidate_target(groups, balance)
    reranked = diversity.shortlist(ids, scores, groups, top_k, algorithm=balance.algorithm, target=target)
    return reranked, target
