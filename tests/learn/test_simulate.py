"""The outcome simulator's latent model (``docs/SIMULATOR.md``) on pure draws, no engine."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from matching.learn import simulate as model
from matching.learn.simulation import Simulation, concat
from matching.types import CONTRACTS
from service.store.outcome_codes import DECLINE_REASONS, OUTCOME_STATUSES

N_FAMILIES, N_CONTRACTS = len(model.FAMILIES), len(CONTRACTS)


def _latent(n: int, seed: int = 0) -> model.LatentYouths:
    rng = np.random.default_rng(seed)
    revealed = rng.random((n, N_FAMILIES)) < 0.12
    ticked = rng.random((n, N_CONTRACTS)) < 0.3
    mobility = rng.choice([5.0, 10.0, 20.0, 30.0], n)
    return model.draw_youths(revealed, ticked, mobility, np.full(N_FAMILIES, 1 / N_FAMILIES),
                             np.full(N_CONTRACTS, 1 / N_CONTRACTS), np.random.default_rng(seed + 1))


def _shown(n_youths: int, n_vacancies: int, youth_rows: np.ndarray, rng: np.random.Generator,
           vacancy_family: np.ndarray, vacancy_contract: np.ndarray) -> model.Shown:
    """One list of 10 per youth of ``youth_rows``: random vacancies, distances, level gaps."""
    youth = np.repeat(youth_rows, 10)
    vacancy = rng.integers(0, n_vacancies, len(youth))
    return model.Shown(youth, vacancy, np.tile(np.arange(1, 11), len(youth_rows)),
                       rng.uniform(0.0, 40.0, len(youth)), vacancy_family[vacancy], vacancy_contract[vacancy],
                       rng.integers(0, 4, len(youth)))


def _play(preference: float, acceptance: float, *, seed: int = 3, n_youths: int = 3000,
          n_vacancies: int = 20000, days: int = 40):
    """Run the world ``days`` days on random lists; return (all shown pairs, events)."""
    latent = _latent(n_youths, seed)
    rng = np.random.default_rng(seed + 2)
    family, contract = rng.integers(0, N_FAMILIES, n_vacancies), rng.integers(0, N_CONTRACTS, n_vacancies)
    sim = Simulation(latent, np.ones(n_vacancies, dtype=np.int64), preference=preference,
                     acceptance=acceptance, rng=np.random.default_rng(seed + 4))
    shown_parts, events = [], []
    for day in range(days):
        events.append(sim.advance(day))
        visitors = sim.visitors(day, day % 7 < 5)
        shown = _shown(n_youths, n_vacancies, visitors, rng, family, contract)
        shown_parts.append(shown)
        events.append(sim.show(day, shown))
    shown = model.Shown(*(np.concatenate([getattr(s, f) for s in shown_parts])
                          for f in ("youth", "vacancy", "rank", "distance_km", "family", "contract", "level_gap")))
    return latent, shown, concat(events), sim


def _rows_with(events, statuses) -> np.ndarray:
    return np.unique(events.row[np.isin(np.array(events.status, dtype=object), list(statuses))])


def test_the_same_seed_draws_the_same_world_and_another_seed_another():
    a, b, c = _play(1.0, 1.0, seed=5, n_youths=300, days=15), _play(1.0, 1.0, seed=5, n_youths=300, days=15), \
        _play(1.0, 1.0, seed=6, n_youths=300, days=15)
    for field in ("families", "contract", "tolerance_km", "visit_interval"):
        assert np.array_equal(getattr(a[0], field), getattr(b[0], field))
    assert np.array_equal(a[2].row, b[2].row) and a[2].status == b[2].status and a[2].reason == b[2].reason
    assert not np.array_equal(a[0].tolerance_km, c[0].tolerance_km)


def test_preferences_are_revealed_only_in_part():
    n = 5000
    rng = np.random.default_rng(1)
    revealed = rng.random((n, N_FAMILIES)) < 0.12
    latent = model.draw_youths(revealed, rng.random((n, N_CONTRACTS)) < 0.3, np.full(n, 20.0),
                               np.full(N_FAMILIES, 1 / N_FAMILIES), np.full(N_CONTRACTS, 1 / N_CONTRACTS), rng)
    preferred = latent.families
    assert preferred.any(axis=1).all()  # everyone wants something
    hidden = preferred & ~revealed
    assert (hidden.sum(axis=1) >= 1).all() and (hidden.sum(axis=1) <= 2).all()  # 1 + Bernoulli(0.5) hidden
    assert hidden.sum(axis=1).mean() == pytest.approx(1.5, abs=0.03)
    kept = (preferred & revealed).sum() / revealed.sum()
    assert kept == pytest.approx(model.KEEP_REVEALED, abs=0.02)  # a wish is not always a wish
    ticked = rng.random((n, N_CONTRACTS)) < 0.3
    latent = model.draw_youths(revealed, ticked, np.full(n, 20.0), np.full(N_FAMILIES, 1 / N_FAMILIES),
                               np.full(N_CONTRACTS, 1 / N_CONTRACTS), rng)
    some = ticked.any(axis=1)
    assert ticked[np.flatnonzero(some), latent.contract[some]].all()  # the preferred contract was ticked
    assert ((latent.tolerance_km >= 3.0) & (latent.tolerance_km <= 100.0)).all()


def test_the_intercept_is_calibrated_to_the_documented_rate():
    rng = np.random.default_rng(2)
    terms = rng.normal(0.8, 1.5, 10_000)
    for strength in (0.3, 1.0):
        intercept = model.calibrated_intercept(terms, model.INTEREST_RATE, strength)
        assert model.sigmoid(intercept + strength * terms).mean() == pytest.approx(model.INTEREST_RATE, abs=1e-6)
    assert model.calibrated_intercept(terms, 0.2, 0.0) == pytest.approx(model.logit(0.2))
    assert model.calibrated_intercept(np.zeros(0), 0.2, 1.0) == pytest.approx(model.logit(0.2))


def test_at_strength_zero_every_pair_has_the_same_probabilities():
    latent = _latent(200)
    rng = np.random.default_rng(4)
    shown = _shown(200, 500, np.arange(200), rng, rng.integers(0, N_FAMILIES, 500), rng.integers(0, N_CONTRACTS, 500))
    interest = model.interest_probability(shown, latent, 0.0)
    assert np.allclose(interest, model.INTEREST_RATE)
    logits = model.accept_logits(shown.level_gap, shown.distance_km, rng.integers(0, 9, len(shown.rank)), 0.0)
    accept = model.accept_probability(logits, rng.random(len(logits)) < 0.5, 0.0)
    assert np.allclose(accept, model.ACCEPT_RATE)
    assert not np.allclose(model.interest_probability(shown, latent, 1.0), model.INTEREST_RATE)


def _positive_rate_by(flag: np.ndarray, positive: np.ndarray) -> tuple[float, float, float]:
    """Positive rate where ``flag`` and where not, and the chi-square p-value of independence."""
    table = np.array([[np.sum(flag & positive), np.sum(flag & ~positive)],
                      [np.sum(~flag & positive), np.sum(~flag & ~positive)]])
    return positive[flag].mean(), positive[~flag].mean(), stats.chi2_contingency(table)[1]


@pytest.fixture(scope="module")
def no_signal():
    return _play(0.0, 0.0)


@pytest.fixture(scope="module")
def full_signal():
    return _play(1.0, 1.0)


def test_without_strength_outcomes_do_not_depend_on_the_pair(no_signal):
    latent, shown, events, _ = no_signal
    assert len(shown.rank) > 100_000
    positive = np.zeros(len(shown.rank), dtype=bool)
    positive[_rows_with(events, ("contacted", "applied", "immersion", "hired"))] = True
    preferred = latent.families[shown.youth, shown.family]
    near = shown.distance_km < latent.tolerance_km[shown.youth]
    wanted_contract = latent.contract[shown.youth] == shown.contract
    for flag in (preferred, near, wanted_contract, shown.level_gap >= 2):
        _, _, p_value = _positive_rate_by(flag, positive)
        assert p_value > 0.001
    # employers: among contacts, acceptance does not depend on the level gap or the distance
    contacts = _rows_with(events, ("contacted", "applied"))
    accepted = np.isin(contacts, _rows_with(events, ("immersion", "hired")))
    for flag in (shown.level_gap[contacts] >= 2, shown.distance_km[contacts] < 10):
        assert _positive_rate_by(flag, accepted)[2] > 0.001
    # the rank still matters (position bias is not a pair attribute)
    top, low, p_value = _positive_rate_by(shown.rank <= 3, positive)
    assert top > 2 * low and p_value < 1e-6


def test_with_strength_preferred_families_and_suited_pairs_do_better(full_signal, no_signal):
    latent, shown, events, _ = full_signal
    positive = np.zeros(len(shown.rank), dtype=bool)
    positive[_rows_with(events, ("contacted", "applied", "immersion", "hired"))] = True
    preferred = latent.families[shown.youth, shown.family]
    yes, no, p_value = _positive_rate_by(preferred, positive)
    assert yes > 3 * no and p_value < 1e-12
    near = shown.distance_km < latent.tolerance_km[shown.youth]
    assert _positive_rate_by(near, positive)[0] > _positive_rate_by(near, positive)[1]
    hired = np.zeros(len(shown.rank), dtype=bool)
    hired[_rows_with(events, ("immersion", "hired"))] = True
    yes, no, p_value = _positive_rate_by(preferred, hired)
    assert yes > 2 * no and p_value < 1e-6
    contacts = _rows_with(events, ("contacted", "applied"))
    accepted = np.isin(contacts, _rows_with(events, ("immersion", "hired")))
    higher, lower, p_value = _positive_rate_by(shown.level_gap[contacts] >= 2, accepted)
    assert higher > lower and p_value < 0.01
    # the calibrated intercept keeps the number of contacts the same as without signal
    rate = len(contacts) / len(shown.rank)
    rate_none = len(_rows_with(no_signal[2], ("contacted", "applied"))) / len(no_signal[1].rank)
    assert rate == pytest.approx(rate_none, rel=0.05)


def test_outcomes_are_valid_rare_and_declines_carry_a_reason(full_signal):
    _, shown, events, sim = full_signal
    assert set(events.status) <= set(OUTCOME_STATUSES)
    for status, reason in zip(events.status, events.reason, strict=True):
        assert (reason in DECLINE_REASONS) if status == "declined" else reason is None
    hires = events.status.count("hired") / len(shown.rank)
    assert 0.0005 < hires < 0.03  # rare, as documented
    hired_rows = events.row[np.array(events.status) == "hired"]
    assert len(np.unique(shown.youth[hired_rows])) == len(hired_rows)  # nobody is hired twice
    assert sim.hired.sum() == len(hired_rows)


def test_a_pair_is_decided_once_and_a_hired_youth_stops_visiting():
    latent = _latent(50)
    sim = Simulation(latent, np.ones(100, dtype=np.int64), rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    shown = _shown(50, 100, np.arange(50), rng, rng.integers(0, N_FAMILIES, 100), rng.integers(0, N_CONTRACTS, 100))
    shown = model.Shown(shown.youth, shown.vacancy, np.ones_like(shown.rank), shown.distance_km, shown.family,
                        shown.contract, shown.level_gap)  # rank 1: looked at with probability 0.95
    for _ in range(30):
        sim.show(0, shown)
    assert len(sim._looked) == len(np.unique(shown.youth * 100 + shown.vacancy))  # all looked at once by now
    assert len(sim.show(0, shown)) == 0  # decided pairs bring nothing new
    sim.hired[:25] = True
    visits = np.concatenate([sim.visitors(day, True) for day in range(50)])
    assert visits.size and visits.min() >= 25
    assert sim.visitors(5, weekday=False).size == 0


def test_strengths_outside_zero_one_are_refused():
    with pytest.raises(ValueError, match="preference"):
        Simulation(_latent(3), np.ones(3, dtype=np.int64), preference=1.5, rng=np.random.default_rng(0))


def test_without_preference_strength_a_pair_shown_again_is_a_fresh_draw():
    latent = _latent(50)
    rng = np.random.default_rng(1)
    shown = _shown(50, 100, np.arange(50), rng, rng.integers(0, N_FAMILIES, 100), rng.integers(0, N_CONTRACTS, 100))
    forgetful = Simulation(latent, np.ones(100, dtype=np.int64), preference=0.0, rng=np.random.default_rng(0))
    counts = [len(forgetful.show(0, shown)) for _ in range(40)]
    assert np.mean(counts[20:]) == pytest.approx(np.mean(counts[:20]), rel=0.35) and min(counts[20:]) > 0
