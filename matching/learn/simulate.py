"""The outcome simulator's latent model (evaluation only): ``docs/SIMULATOR.md`` in code.

Pure numpy, seeded, vectorised. :func:`draw_youths` draws each youth's hidden preferences;
:class:`Simulation` holds the simulated world's state (who was hired, how many candidates each
vacancy saw, the answers still to come) and, day by day, draws who visits
(:meth:`Simulation.visitors`), what follows a shown list (:meth:`Simulation.show`) and the
employers' later answers (:meth:`Simulation.advance`). It never sees the engine: the caller
passes the shown pairs' attributes. The parameters are the module constants below, as the
document states them; they are not tuned to suit a ranker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching.types import DIPLOMA_LEVELS

MODEL_VERSION = 2
FAMILIES: tuple[str, ...] = tuple("ABCDEFGHIJKLMN")
"""Trade families: the ROME *grands domaines* (first letter of a ROME code)."""

# Hidden preferences
KEEP_REVEALED = 0.8
HIDDEN_EXTRA = 0.5  # hidden families: 1 + Bernoulli(HIDDEN_EXTRA)
TOLERANCE_SIGMA = 0.4
TOLERANCE_KM = (3.0, 100.0)
VISIT_INTERVAL_DAYS = (7.0, 10.0)
# Funnel
LOOK_SCALE, LOOK_POWER = 0.95, 0.7
INTEREST_RATE = 0.10
INTEREST_FAMILY, FAMILY_REF = 2.0, 0.3
INTEREST_CONTRACT, CONTRACT_REF = 0.8, 0.4
INTEREST_DISTANCE, DISTANCE_RATIO_REF, DISTANCE_RATIO_CAP = 1.0, 0.5, 3.0
APPLIED_SHARE = 0.5
YOUTH_SAYS_NO = 0.05
ANSWER_DELAY = (2, 10)
ACCEPT_RATE = 0.20
ACCEPT_LEVEL, LEVEL_CAP, LEVEL_REF = 0.7, 3, 1.0
ACCEPT_DISTANCE, DISTANCE_CAP_KM, DISTANCE_REF_KM = 0.05, 60.0, 10.0
ACCEPT_CONGESTION = 0.8
ACCEPT_FILLED = 3.0
IMMERSION_SHARE = 0.7
IMMERSION_DAYS = (10, 20)
IMMERSION_HIRE = 0.4
IN_POST_DAYS, IN_POST_RATE = 182, 0.75
# Decline reasons: fixed tables (used with probability 1 - strength) and the rules' constants
YOUTH_REASONS = {"youth_declined": 0.6, "transport_distance": 0.2, "hours_conditions": 0.2}
EMPLOYER_REASONS = {"employer_no_reply": 0.45, "employer_declined": 0.35,
                    "qualification_missing": 0.08, "position_filled": 0.07, "transport_distance": 0.05}
IMMERSION_REASONS = {"employer_declined": 0.5, "youth_declined": 0.3, "hours_conditions": 0.2}
RULE_QUALIFICATION, RULE_FAR_KM, RULE_FAR = 0.4, 20.0, 0.3
RULE_NO_REPLY = 0.55

ANSWER, IMMERSION_END, IN_POST = 0, 1, 2  # kinds of pending events


def logit(p: float) -> float:
    """``ln(p / (1 - p))``."""
    return float(np.log(p / (1.0 - p)))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-z))


def family_of(codes_rome: Sequence[str]) -> np.ndarray:
    """The trade family (index in :data:`FAMILIES`) of each ROME code, int64 ``(n,)``."""
    return np.array([FAMILIES.index(code[0]) for code in codes_rome], dtype=np.int64)


def level_position(levels: Sequence[str | None]) -> np.ndarray:
    """Each diploma token's position in :data:`DIPLOMA_LEVELS` (None and "none": 0), int64."""
    return np.array([DIPLOMA_LEVELS.index(level) if level in DIPLOMA_LEVELS else 0 for level in levels],
                    dtype=np.int64)


@dataclass(frozen=True)
class LatentYouths:
    """Hidden preferences of ``n`` youths (never shown to the engine)."""

    families: np.ndarray  # bool (n, len(FAMILIES)): preferred trade families
    contract: np.ndarray  # int64 (n,): preferred contract, index in CONTRACTS
    tolerance_km: np.ndarray  # float64 (n,)
    visit_interval: np.ndarray  # float64 (n,): mean days between visits


def _gumbel_top(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise order of a draw without replacement with probability proportional to ``weights``
    (Gumbel top-k), int64 ``(n, k)``; zero weights come last."""
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=weights.shape)
    return np.argsort(-keys, axis=1, kind="stable")


def draw_youths(revealed: np.ndarray, ticked: np.ndarray, mobility_km: np.ndarray,
                family_shares: np.ndarray, contract_shares: np.ndarray,
                rng: np.random.Generator) -> LatentYouths:
    """Draw each youth's hidden preferences.

    Args:
        revealed: bool ``(n, len(FAMILIES))``: families of the youth's wished trades.
        ticked: bool ``(n, len(CONTRACTS))``: contracts the youth ticked.
        mobility_km: the declared mobility, ``(n,)``.
        family_shares, contract_shares: the open vacancies' shares, ``(len(FAMILIES),)`` and
            ``(len(CONTRACTS),)``.
        rng: the preferences' generator.
    """
    n = len(mobility_km)
    revealed = np.asarray(revealed, dtype=bool)
    families = revealed & (rng.random(revealed.shape) < KEEP_REVEALED)
    n_hidden = 1 + (rng.random(n) < HIDDEN_EXTRA)
    weights = np.where(revealed, 0.0, np.broadcast_to(family_shares, families.shape))  # never named
    order = _gumbel_top(weights, rng)
    for k in range(2):
        take = (n_hidden > k) & (weights[np.arange(n), order[:, k]] > 0)
        families[np.flatnonzero(take), order[take, k]] = True
    ticked = np.asarray(ticked, dtype=bool)
    uniform_pick = np.argmax(np.where(ticked, rng.random(ticked.shape), -1.0), axis=1)
    share_pick = _gumbel_top(np.broadcast_to(contract_shares, ticked.shape).copy(), rng)[:, 0]
    contract = np.where(ticked.any(axis=1), uniform_pick, share_pick).astype(np.int64)
    tolerance = np.asarray(mobility_km, dtype=np.float64) * np.exp(rng.normal(0.0, TOLERANCE_SIGMA, n))
    interval = rng.uniform(*VISIT_INTERVAL_DAYS, n)
    return LatentYouths(families, contract, np.clip(tolerance, *TOLERANCE_KM), interval)


@dataclass(frozen=True)
class Shown:
    """Shown pairs, one row each, ``(m,)`` arrays aligned."""

    youth: np.ndarray  # int64: row in LatentYouths
    vacancy: np.ndarray  # int64: the caller's vacancy position
    rank: np.ndarray  # int64: 1-based rank in its list
    distance_km: np.ndarray  # float64
    family: np.ndarray  # int64: index in FAMILIES
    contract: np.ndarray  # int64: index in CONTRACTS
    level_gap: np.ndarray  # int64 >= 0: youth's level position minus the vacancy's


@dataclass(frozen=True)
class Events:
    """Outcomes drawn, one row each: the shown row (global, in order of :meth:`Simulation.show`
    calls), the day, the status and the reason (None unless ``declined``)."""

    row: np.ndarray  # int64
    day: np.ndarray  # int64
    status: list[str]
    reason: list[str | None]

    def __len__(self) -> int:
        return len(self.row)


def look_probability(rank: np.ndarray) -> np.ndarray:
    """Position bias: ``0.95 x rank^-0.7``."""
    return LOOK_SCALE * np.asarray(rank, dtype=np.float64) ** -LOOK_POWER


def calibrated_intercept(pair: np.ndarray, rate: float, strength: float) -> float:
    """The intercept ``a`` with ``mean(sigmoid(a + strength x pair)) = rate`` over the pairs given
    (``logit(rate)`` at strength 0 or for no pair): the strength changes who responds, not how
    many respond."""
    terms = strength * np.asarray(pair, dtype=np.float64)
    if not terms.size or not np.any(terms):
        return logit(rate)
    low, high = -30.0, 30.0
    for _ in range(60):  # bisection: the mean is increasing in the intercept
        middle = 0.5 * (low + high)
        low, high = (middle, high) if sigmoid(middle + terms).mean() < rate else (low, middle)
    return 0.5 * (low + high)


def interest_terms(shown: Shown, latent: LatentYouths) -> np.ndarray:
    """The youth side's pair terms of each shown pair, ``(m,)``."""
    preferred = latent.families[shown.youth, shown.family].astype(np.float64)
    contract = (latent.contract[shown.youth] == shown.contract).astype(np.float64)
    ratio = np.minimum(shown.distance_km / latent.tolerance_km[shown.youth], DISTANCE_RATIO_CAP)
    return (INTEREST_FAMILY * (preferred - FAMILY_REF) + INTEREST_CONTRACT * (contract - CONTRACT_REF)
            - INTEREST_DISTANCE * (ratio - DISTANCE_RATIO_REF))


def interest_probability(shown: Shown, latent: LatentYouths, strength: float,
                         intercept: float | None = None) -> np.ndarray:
    """P(interested | looked at) of each shown pair, ``(m,)``; the intercept calibrated over
    these pairs unless given."""
    terms = interest_terms(shown, latent)
    if intercept is None:
        intercept = calibrated_intercept(terms, INTEREST_RATE, strength)
    return sigmoid(intercept + strength * terms)


def accept_terms(level_gap: np.ndarray, distance_km: np.ndarray, seen_before: np.ndarray) -> np.ndarray:
    """The employer side's pair terms (level, distance, congestion), ``(m,)``."""
    return (ACCEPT_LEVEL * (np.minimum(level_gap, LEVEL_CAP) - LEVEL_REF)
            - ACCEPT_DISTANCE * (np.minimum(distance_km, DISTANCE_CAP_KM) - DISTANCE_REF_KM)
            - ACCEPT_CONGESTION * (np.log1p(seen_before) - np.log(2.0)))


def accept_logits(level_gap: np.ndarray, distance_km: np.ndarray, seen_before: np.ndarray,
                  strength: float) -> np.ndarray:
    """Logit of P(accept) of each contact before the filled term, intercept calibrated over the
    contacts given (the day's), ``(m,)``."""
    terms = accept_terms(level_gap, distance_km, seen_before)
    return calibrated_intercept(terms, ACCEPT_RATE, strength) + strength * terms


def accept_probability(logits: np.ndarray, filled: np.ndarray, strength: float) -> np.ndarray:
    """P(the employer accepts a candidate to an immersion or a hire), ``(m,)``: the contact's
    logit, lowered when the vacancy is filled by the time it answers."""
    return sigmoid(np.asarray(logits) - strength * ACCEPT_FILLED * np.asarray(filled, dtype=np.float64))


def _from_table(table: dict[str, float], n: int, rng: np.random.Generator) -> np.ndarray:
    names = np.array(list(table), dtype=object)
    return names[rng.choice(len(names), size=n, p=np.array(list(table.values())))]


def youth_reasons(far: np.ndarray, other_contract: np.ndarray, strength: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Reasons of youths' declines: by rule with probability ``strength``, else the fixed table."""
    n = len(far)
    rule = np.where(far, "transport_distance", np.where(other_contract, "hours_conditions", "youth_declined"))
    by_rule = rng.random(n) < strength
    return np.where(by_rule, rule.astype(object), _from_table(YOUTH_REASONS, n, rng))


def employer_reasons(filled: np.ndarray, level_gap: np.ndarray, distance_km: np.ndarray, strength: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Reasons of employers' refusals: by rule with probability ``strength``, else the fixed table."""
    n = len(filled)
    u = rng.random((n, 3))
    rule = np.where(u[:, 0] < RULE_NO_REPLY, "employer_no_reply", "employer_declined").astype(object)
    rule = np.where((distance_km > RULE_FAR_KM) & (u[:, 1] < RULE_FAR), "transport_distance", rule)
    rule = np.where((level_gap == 0) & (u[:, 2] < RULE_QUALIFICATION), "qualification_missing", rule)
    rule = np.where(filled, "position_filled", rule)
    by_rule = rng.random(n) < strength
    return np.where(by_rule, rule, _from_table(EMPLOYER_REASONS, n, rng))
