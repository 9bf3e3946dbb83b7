"""Trade and vacancy re-rankers: hand-computed lists first, then hypothesis properties."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.errors import PasserelleError
from matching.fairness.exposure import exposure_of
from matching.fairness.greedy import NOT_MOVED, Tokens, greedy_fill, mmr_values
from matching.fairness.metrics import floor_share
from matching.fairness.rerank import (
    gender_band,
    penalise_exposure,
    record_exposure,
    rerank_trades,
    rerank_vacancies,
    rerank_vacancy_batch,
)


def _scores(n: int) -> np.ndarray:
    return np.linspace(1.0, 0.1, n).astype(np.float32)


def _distinct(n: int) -> np.ndarray:
    return np.array([f"D{i}" for i in range(n)])


# ---------------------------------------------------------------- trades, hand-computed


def test_gender_band_thresholds() -> None:
    shares = [0.1, 0.40, 0.5, 0.60, 0.61, float("nan")]
    np.testing.assert_array_equal(
        gender_band(shares), ["male", "mixed", "mixed", "mixed", "female", "unknown"]
    )
    np.testing.assert_array_equal(gender_band([0.35, 0.65], low=0.3, high=0.7), ["mixed"] * 2)
    with pytest.raises(PasserelleError):
        gender_band([0.5], low=0.7, high=0.3)


def test_balanced_reserves_the_last_slots_for_missing_bands() -> None:
    bands = np.array(["male"] * 7 + ["mixed", "female", "female"])
    # k=5, f=0.2: floor(0.2 * 5) = 1 of each band. Picks 0, 1, 2 (male) by relevance; then the
    # unmet floors (mixed, female) = 2 = slots left: take the best mixed (7), best female (8).
    result = rerank_trades(np.arange(10), _scores(10), bands, _distinct(10), 5)
    np.testing.assert_array_equal(result.ids, [0, 1, 2, 7, 8])
    # gender not stated: the floor picks balance the list, none is "for mixité" (issue #12)
    np.testing.assert_array_equal(result.why, ["", "", "", "balance", "balance"])
    assert result.feasible and result.notes == ()
    # a man: the female trade is non-traditional for him, the mixed one is not
    result = rerank_trades(np.arange(10), _scores(10), bands, _distinct(10), 5, youth_gender="M")
    np.testing.assert_array_equal(result.why, ["", "", "", "balance", "mixite"])


def test_balanced_is_infeasible_when_the_pool_lacks_a_band() -> None:
    # the only female trade ranks 8th, outside a pool of the 6 most relevant
    bands = np.array(["male"] * 3 + ["mixed"] * 4 + ["female"])
    result = rerank_trades(np.arange(8), _scores(8), bands, _distinct(8), 5, pool_size=6)
    np.testing.assert_array_equal(result.ids, [0, 1, 2, 3, 4])
    assert not result.feasible and result.notes == ("floor_unmet:female",)


def test_counter_stereotype_for_a_young_woman() -> None:
    shares = np.array([0.9, 0.8, 0.7, 0.5, 0.3, 0.2, 0.1])
    bands = gender_band(shares)
    # F: non-traditional = share_women < 0.40 -> positions 4, 5, 6; m = 2, k = 4:
    # slots 1-2 by relevance (0, 1); unmet 2 = slots left -> 4 then 5.
    result = rerank_trades(
        np.arange(7),
        _scores(7),
        bands,
        _distinct(7),
        4,
        policy="counter_stereotype",
        youth_gender="F",
        share_women=shares,
    )
    np.testing.assert_array_equal(result.ids, [0, 1, 4, 5])
    np.testing.assert_array_equal(result.moved, [False, False, True, True])
    # M: non-traditional = share_women > 0.60 -> 0, 1, 2 already in the top 4: unchanged
    same = rerank_trades(
        np.arange(7),
        _scores(7),
        bands,
        _distinct(7),
        4,
        policy="counter_stereotype",
        youth_gender="M",
        share_women=shares,
    )
    np.testing.assert_array_equal(same.ids, [0, 1, 2, 3])
    # without share_women the bands decide: for F, the "male" band (4, 5, 6) again
    banded = rerank_trades(
        np.arange(7),
        _scores(7),
        bands,
        _distinct(7),
        4,
        policy="counter_stereotype",
        youth_gender="F",
    )
    np.testing.assert_array_equal(banded.ids, [0, 1, 4, 5])


@pytest.mark.parametrize("gender", ["X", None])
def test_counter_stereotype_falls_back_to_balanced(gender) -> None:
    bands = np.array(["male"] * 7 + ["mixed", "female", "female"])
    result = rerank_trades(
        np.arange(10),
        _scores(10),
        bands,
        _distinct(10),
        5,
        policy="counter_stereotype",
        youth_gender=gender,
    )
    np.testing.assert_array_equal(result.ids, [0, 1, 2, 7, 8])
    assert "counter_stereotype_fallback_balanced" in result.notes


def test_domain_cap() -> None:
    domains = np.array(["A", "A", "A", "A", "B", "B"])
    bands = np.array(["mixed"] * 6)
    # at most 3 per domain: the 4th A (3) gives way to the best B (4)
    result = rerank_trades(np.arange(6), _scores(6), bands, domains, 4, policy="off")
    np.testing.assert_array_equal(result.ids, [0, 1, 2, 4])
    np.testing.assert_array_equal(result.why, ["", "", "", "domain_cap"])
    # one domain only and a cap of 1: relaxed, and said so
    relaxed = rerank_trades(
        np.arange(6), _scores(6), bands, np.array(["A"] * 6), 3, policy="off", max_per_domain=1
    )
    np.testing.assert_array_equal(relaxed.ids, [0, 1, 2])
    assert "domain_cap_relaxed" in relaxed.notes


def test_mmr_prefers_a_different_trade() -> None:
    near = np.array([0.995, math.sqrt(1 - 0.995**2)])
    embeddings = np.array([[1.0, 0.0], near, [0.0, 1.0]], dtype=np.float32)
    scores = np.array([1.0, 0.9, 0.8], dtype=np.float32)
    # relevance min-max scaled: 1, 0.5, 0; lambda 0.5. Pick 1: 0.5 * 1 -> trade 0.
    # Pick 2: trade 1: 0.5 * 0.5 - 0.5 * 0.995 = -0.2475; trade 2: 0 - 0.5 * 0 = 0 -> trade 2.
    result = rerank_trades(
        np.arange(3),
        scores,
        np.array(["mixed"] * 3),
        _distinct(3),
        2,
        policy="off",
        diversity=0.5,
        embeddings=embeddings,
    )
    np.testing.assert_array_equal(result.ids, [0, 2])
    np.testing.assert_array_equal(result.why, ["", "diversity"])
    with pytest.raises(PasserelleError):
        rerank_trades(np.arange(3), scores, np.array(["mixed"] * 3), _distinct(3), 2, diversity=0.5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"policy": "parity"},
        {"floor": 0.5},
        {"diversity": 1.5},
        {"max_per_domain": -1},
        {"min_non_traditional": -1},
    ],
)
def test_invalid_trade_parameters(kwargs) -> None:
    with pytest.raises(PasserelleError):
        rerank_trades(
            np.arange(2), _scores(2), np.array(["male", "female"]), _distinct(2), 2, **kwargs
        )


# ---------------------------------------------------------------- vacancies, hand-computed


def test_one_vacancy_per_employer_and_sector_floor() -> None:
    employers = np.array([1, 1, 2, 2, 3, 3])
    families = np.array(["other"] * 5 + ["artisanat"])
    # cap 1: 0 (emp 1), 2 (emp 2), then floor(0.34 * 3) = 1 artisanat reserved for the last
    # slot -> 5 (emp 3) instead of 4.
    result = rerank_vacancies(
        np.arange(6), _scores(6), employers, families, 3, family_floors={"artisanat": 0.34}
    )
    np.testing.assert_array_equal(result.ids, [0, 2, 5])
    np.testing.assert_array_equal(result.why, ["", "employer_cap", "sector_mix"])


def test_exposure_penalty_and_batch_spreading() -> None:
    # w = 0.5, count 10: factor 1 + 0.5 ln 11 = 2.19895 -> 0.9 / 2.19895 = 0.40928
    assert penalise_exposure([0.9, -0.9], [10, 10], 0.5) == pytest.approx(
        [0.9 / (1 + 0.5 * math.log(11)), -0.9 * (1 + 0.5 * math.log(11))]
    )
    ids, scores = np.array([10, 20]), np.array([0.9, 0.8], dtype=np.float32)
    one = (ids, scores, np.array([1, 2]), np.array(["other", "other"]))
    # youth 1 gets 10; then 10 has count 1: 0.9 / (1 + 0.5 ln 2) = 0.66836 < 0.8 -> youth 2 gets 20
    results, counts = rerank_vacancy_batch([one, one], 1, catalogue_ids=[20, 10, 30])
    assert [r.ids.tolist() for r in results] == [[10], [20]]
    assert results[1].why.tolist() == ["exposure"]
    np.testing.assert_array_equal(counts, [1, 1, 0])
    np.testing.assert_array_equal(exposure_of([20, 10, 30], counts, [10, 99]), [1, 0])
    np.testing.assert_array_equal(record_exposure([20, 10], [0, 0], [10, 10, 5]), [0, 2])


def test_seeded_tie_break_is_deterministic() -> None:
    scores = np.full(20, 0.5, dtype=np.float32)
    args = (np.arange(20), scores, np.arange(20), np.array(["other"] * 20), 5)
    first = rerank_vacancies(*args, exposure_counts=np.zeros(20), seed=3)
    again = rerank_vacancies(*args, exposure_counts=np.zeros(20), seed=3)
    other = rerank_vacancies(*args, exposure_counts=np.zeros(20), seed=4)
    np.testing.assert_array_equal(first.ids, again.ids)
    assert first.ids.tolist() != other.ids.tolist()


def test_invalid_vacancy_parameters() -> None:
    args = (np.arange(2), _scores(2), np.arange(2), np.array(["other"] * 2), 2)
    with pytest.raises(PasserelleError):
        rerank_vacancies(*args, family_floors={"artisanat": 0.6, "commerce": 0.6})
    with pytest.raises(PasserelleError):
        rerank_vacancies(*args, max_per_employer=-1)


# ---------------------------------------------------------------- properties


@st.composite
def trade_lists(draw):
    n = draw(st.integers(1, 25))
    shares = draw(
        st.lists(
            st.one_of(st.sampled_from([0.1, 0.4, 0.5, 0.6, 0.9, float("nan")]), st.floats(0, 1)),
            min_size=n,
            max_size=n,
        )
    )
    domains = np.array(draw(st.lists(st.sampled_from("ABC"), min_size=n, max_size=n)))
    scores = np.sort(
        np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), dtype=np.float32)
    )[::-1].copy()
    return np.arange(n, dtype=np.int64) + 1000, scores, np.array(shares), domains


TRADE_OPTIONS = st.fixed_dictionaries(
    {
        "top_k": st.integers(1, 27),
        "policy": st.sampled_from(["balanced", "counter_stereotype", "off"]),
        "floor": st.sampled_from([0.0, 0.1, 0.2, 1 / 3]),
        "youth_gender": st.sampled_from(["F", "M", "X", None]),
        "min_non_traditional": st.integers(0, 4),
        "max_per_domain": st.integers(0, 3),
    }
)


def _check_subset(result, ids, top_k) -> None:
    out = result.ids.tolist()
    assert len(out) == min(top_k, ids.size) == len(set(out))
    assert set(out) <= set(ids.tolist())
    if top_k >= ids.size:
        assert sorted(out) == sorted(ids.tolist())
    assert np.array_equal(result.moved, result.why != "")


@settings(max_examples=100, deadline=None)
@given(trade_lists(), TRADE_OPTIONS)
def test_property_trades(case, options) -> None:
    ids, scores, shares, domains = case
    bands = gender_band(shares)
    top_k = options.pop("top_k")
    result = rerank_trades(ids, scores, bands, domains, top_k, share_women=shares, **options)
    _check_subset(result, ids, top_k)
    assert np.all(np.diff(result.positions) > 0)  # relevance order, so within each band too
    again = rerank_trades(ids, scores, bands, domains, top_k, share_women=shares, **options)
    np.testing.assert_array_equal(result.ids, again.ids)
    size, shown = min(top_k, ids.size), bands[result.positions]
    policy, gender = options["policy"], options["youth_gender"]
    if policy == "balanced" or (policy == "counter_stereotype" and gender not in ("F", "M")):
        for band in ("male", "mixed", "female"):
            wanted = min(floor_share(options["floor"], size), int(np.sum(bands == band)))
            assert np.sum(shown == band) >= wanted
    elif policy == "counter_stereotype":
        flags = shares < 0.40 if gender == "F" else shares > 0.60
        wanted = min(options["min_non_traditional"], size, int(flags.sum()))
        assert flags[result.positions].sum() >= wanted
    cap = options["max_per_domain"]
    if cap and "domain_cap_relaxed" not in result.notes:
        assert max(Counter(domains[result.positions].tolist()).values()) <= cap
    if (
        cap
        and policy == "off"
        and sum(min(c, cap) for c in Counter(domains.tolist()).values()) >= size
    ):
        assert "domain_cap_relaxed" not in result.notes


@settings(max_examples=100, deadline=None)
@given(trade_lists(), TRADE_OPTIONS)
def test_property_trades_unchanged_when_constraints_already_hold(case, options) -> None:
    ids, scores, shares, domains = case
    bands = gender_band(shares)
    top_k = options.pop("top_k")
    size = min(top_k, ids.size)
    head_bands, head_domains = bands[:size], domains[:size]
    floors_hold = all(
        np.sum(head_bands == b) >= floor_share(options["floor"], size)
        for b in ("male", "mixed", "female")
    )
    cap = options["max_per_domain"]
    cap_holds = not cap or max(Counter(head_domains.tolist()).values()) <= cap
    options["policy"] = "off" if not floors_hold else "balanced"
    if not cap_holds:
        options["max_per_domain"] = 0
    result = rerank_trades(ids, scores, bands, domains, top_k, share_women=shares, **options)
    np.testing.assert_array_equal(result.ids, ids[:size])
    assert not result.moved.any()


@settings(max_examples=50, deadline=None)
@given(trade_lists(), st.integers(1, 10), st.sampled_from([0.3, 0.7, 1.0]), st.integers(0, 99))
def test_property_trades_with_mmr(case, top_k, diversity, seed) -> None:
    ids, scores, shares, domains = case
    bands = gender_band(shares)
    vectors = np.random.default_rng(seed).normal(size=(ids.size, 4)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    kwargs = {"diversity": diversity, "embeddings": vectors, "max_per_domain": 0}
    result = rerank_trades(ids, scores, bands, domains, top_k, **kwargs)
    _check_subset(result, ids, top_k)
    np.testing.assert_array_equal(
        result.ids, rerank_trades(ids, scores, bands, domains, top_k, **kwargs).ids
    )
    size, shown = min(top_k, ids.size), bands[result.positions]
    for band in ("male", "mixed", "female"):
        assert np.sum(shown == band) >= min(floor_share(0.2, size), int(np.sum(bands == band)))


@st.composite
def vacancy_lists(draw):
    n = draw(st.integers(1, 25))
    scores = np.sort(
        np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), dtype=np.float32)
    )[::-1].copy()
    employers = np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)))
    families = np.array(
        draw(
            st.lists(
                st.sampled_from(["artisanat", "commerce", "liberal", "other"]),
                min_size=n,
                max_size=n,
            )
        )
    )
    counts = np.array(draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)))
    return np.arange(n, dtype=np.int64) + 500, scores, employers, families, counts


VACANCY_OPTIONS = st.fixed_dictionaries(
    {
        "top_k": st.integers(1, 27),
        "max_per_employer": st.integers(0, 2),
        "family_floors": st.sampled_from(
            [None, {"artisanat": 0.2}, {"artisanat": 0.2, "liberal": 0.3}]
        ),
        "seed": st.integers(0, 5),
    }
)


@settings(max_examples=100, deadline=None)
@given(vacancy_lists(), VACANCY_OPTIONS, st.booleans())
def test_property_vacancies(case, options, with_exposure) -> None:
    ids, scores, employers, families, counts = case
    top_k = options.pop("top_k")
    exposure = counts if with_exposure else None
    result = rerank_vacancies(
        ids, scores, employers, families, top_k, exposure_counts=exposure, **options
    )
    _check_subset(result, ids, top_k)
    again = rerank_vacancies(
        ids, scores, employers, families, top_k, exposure_counts=exposure, **options
    )
    np.testing.assert_array_equal(result.ids, again.ids)
    size = min(top_k, ids.size)
    for family, share in (options["family_floors"] or {}).items():
        wanted = min(floor_share(share, size), int(np.sum(families == family)))
        assert np.sum(families[result.positions] == family) >= wanted
    cap = options["max_per_employer"]
    if cap and "employer_cap_relaxed" not in result.notes:
        assert max(Counter(employers[result.positions].tolist()).values()) <= cap
    head = slice(0, size)
    floors_hold = all(
        np.sum(families[head] == family) >= floor_share(share, size)
        for family, share in (options["family_floors"] or {}).items()
    )
    cap_holds = not cap or max(Counter(employers[head].tolist()).values()) <= cap
    if not with_exposure and floors_hold and cap_holds:
        np.testing.assert_array_equal(result.ids, ids[:size])
        assert not result.moved.any()


def test_batch_of_one_matches_a_single_call() -> None:
    ids, scores = np.arange(6) + 40, _scores(6)
    employers, families = np.array([1, 1, 2, 3, 3, 4]), np.array(["other"] * 4 + ["liberal"] * 2)
    counts = np.array([5, 0, 2, 0, 0, 1])
    single = rerank_vacancies(
        ids,
        scores,
        employers,
        families,
        3,
        exposure_counts=counts,
        family_floors={"liberal": 0.34},
        seed=9,
    )
    batch, updated = rerank_vacancy_batch(
        [(ids, scores, employers, families)],
        3,
        catalogue_ids=ids,
        exposure_counts=counts,
        family_floors={"liberal": 0.34},
        seed=9,
    )
    np.testing.assert_array_equal(batch[0].ids, single.ids)
    np.testing.assert_array_equal(updated - counts, np.isin(ids, single.ids).astype(int))


@pytest.mark.parametrize("top_k", [0, 3])
def test_empty_inputs_and_zero_k(top_k) -> None:
    empty = np.array([], dtype=str)
    trades = rerank_trades(
        np.array([], dtype=np.int64), np.array([], dtype=np.float32), empty, empty, top_k
    )
    assert trades.ids.size == 0 and trades.feasible
    vacancies = rerank_vacancies(
        np.arange(3), _scores(3), np.arange(3), np.array(["other"] * 3), 0 if top_k == 0 else 3
    )
    assert vacancies.ids.size == (0 if top_k == 0 else 3)


# ---------------------------------------------------------------- greedy fill vs its oracle


def _oracle_greedy_fill(
    preference: np.ndarray,
    size: int,
    *,
    floor_labels: np.ndarray,
    floors: Mapping[str, int],
    cap_labels: np.ndarray,
    cap: int,
    rel_rank: np.ndarray,
    tokens: Tokens,
    mmr: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The array version of :func:`greedy_fill` (the code before it became plain Python)."""
    remaining = np.ones(preference.size, dtype=bool)
    have: Counter[str] = Counter()
    capped: set[str] = set()
    cap_count: Counter[str] = Counter()
    picks: list[int] = []
    reasons: list[str] = []
    notes: list[str] = []
    for slot in range(size):
        unmet = [g for g, f in floors.items() if have[g] < f]
        reserved = sum(floors[g] - have[g] for g in unmet) >= size - slot
        blocked = np.isin(cap_labels, list(capped)) if capped else np.zeros_like(remaining)
        free = remaining & ~blocked
        pool = remaining & np.isin(floor_labels, unmet) if reserved else remaining
        allowed = pool & ~blocked
        if not allowed.any():
            allowed = pool
            notes.append(f"{tokens.cap}_relaxed")
        choice = _oracle_best(allowed, preference, mmr, picks)
        base = _oracle_best(free, preference, None, picks) if free.any() else choice
        if reserved and choice != base:
            reason = tokens.floor
        elif mmr is not None and choice != base:
            reason = tokens.diversity
        elif np.any(remaining & blocked & (rel_rank < rel_rank[choice])):
            reason = tokens.cap
        elif np.any(remaining & (rel_rank < rel_rank[choice])):
            reason = tokens.preference
        else:
            reason = NOT_MOVED
        picks.append(choice)
        reasons.append(reason)
        remaining[choice] = False
        have[str(floor_labels[choice])] += 1
        cap_count[str(cap_labels[choice])] += 1
        if cap > 0 and cap_count[str(cap_labels[choice])] >= cap:
            capped.add(str(cap_labels[choice]))
    return np.asarray(picks, dtype=np.int64), np.asarray(reasons, dtype=object), tuple(notes)


def _oracle_best(
    allowed: np.ndarray,
    preference: np.ndarray,
    mmr: tuple[np.ndarray, np.ndarray, float] | None,
    chosen: list[int],
) -> int:
    """Return the allowed item with the best MMR value (ties: preference) or preference."""
    candidates = np.flatnonzero(allowed)
    if mmr is None:
        return int(candidates[np.argmin(preference[candidates])])
    values = mmr_values(mmr[0], mmr[1], chosen, mmr[2])[candidates]
    return int(candidates[np.lexsort((preference[candidates], -values))[0]])


@st.composite
def fill_cases(draw):
    n = draw(st.integers(1, 30))
    size = draw(st.integers(0, n))
    preference = np.array(draw(st.permutations(range(n))), dtype=np.int64)
    if draw(st.booleans()):  # preference with ties (resolved by position)
        preference = np.array(draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)))
    rel_rank = np.array(draw(st.lists(st.integers(0, n), min_size=n, max_size=n)), dtype=np.int64)
    floor_labels = np.array(draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n)))
    wanted = draw(st.dictionaries(st.sampled_from("abcd"), st.integers(0, 4)))
    available = Counter(floor_labels.tolist())
    floors, total = {}, 0
    for group, count in wanted.items():  # lowered to what exists, sum <= size
        floors[group] = min(count, available.get(group, 0), size - total)
        total += floors[group]
    cap_labels = np.array(draw(st.lists(st.sampled_from("XYZW"), min_size=n, max_size=n)))
    cap = draw(st.integers(0, 3))
    mmr = None
    if draw(st.booleans()):
        rng = np.random.default_rng(draw(st.integers(0, 99)))
        vectors = rng.normal(size=(n, 3)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        if draw(st.booleans()):  # repeated vectors: ties in the MMR values
            vectors = vectors[rng.integers(0, max(1, n // 3), n)]
        relevance = np.round(rng.random(n), draw(st.sampled_from([1, 8])))
        if draw(st.booleans()):  # NaN values rank last (as in a lexsort)
            relevance[rng.random(n) < 0.3] = np.nan
        mmr = (relevance, vectors @ vectors.T, draw(st.sampled_from([0.0, 0.2, 0.5, 1.0])))
    return preference, size, floor_labels, floors, cap_labels, cap, rel_rank, mmr


@settings(max_examples=300, deadline=None)
@given(fill_cases())
def test_property_greedy_fill_matches_the_array_oracle(case) -> None:
    preference, size, floor_labels, floors, cap_labels, cap, rel_rank, mmr = case
    kwargs = dict(floor_labels=floor_labels, floors=floors, cap_labels=cap_labels, cap=cap,
                  rel_rank=rel_rank, tokens=Tokens(), mmr=mmr)
    picks, reasons, notes = greedy_fill(preference, size, **kwargs)
    want_picks, want_reasons, want_notes = _oracle_greedy_fill(preference, size, **kwargs)
    assert picks.tolist() == want_picks.tolist()
    assert reasons.tolist() == want_reasons.tolist()
    assert notes == want_notes


@settings(max_examples=100, deadline=None)
@given(vacancy_lists(), VACANCY_OPTIONS, st.booleans())
def test_property_vacancies_same_with_int_or_str_employers(case, options, with_exposure) -> None:
    """Integer employer ids are grouped as they are, not as str: the same groups."""
    ids, scores, employers, families, counts = case
    top_k = options.pop("top_k")
    exposure = counts if with_exposure else None
    kwargs = dict(exposure_counts=exposure, **options)
    got = rerank_vacancies(ids, scores, employers, families.astype(object), top_k, **kwargs)
    want = rerank_vacancies(ids, scores, employers.astype(str), families, top_k, **kwargs)
    assert got.ids.tolist() == want.ids.tolist() and got.why.tolist() == want.why.tolist()
    assert got.notes == want.notes and got.feasible == want.feasible
