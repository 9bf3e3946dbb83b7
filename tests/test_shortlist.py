"""Candidate shortlists: DetGreedy, DetCons, DetRelaxed (Geyik et al. 2019) and targets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from matching.errors import PasserelleError
from matching.fairness.metrics import floor_share, infeasible_index
from matching.fairness.shortlist import (
    ALGORITHMS,
    fair_order,
    joint_groups,
    joint_target,
    parity,
    shortlist,
    target_from_pool,
)


def _scores(n: int) -> np.ndarray:
    return np.linspace(1.0, 0.1, n).astype(np.float32)


def _run(letters: str, target, top_k: int, algorithm: str) -> str:
    """Shortlist items named by their group letter, in relevance order; return group letters."""
    groups = np.array(list(letters))
    result = shortlist(
        np.arange(len(letters)),
        _scores(len(letters)),
        groups,
        top_k,
        algorithm=algorithm,
        target=target,
    )
    return "".join(groups[result.positions])


# ---------------------------------------------------------------- hand-computed fixtures

THREE = {"a": 0.45, "b": 0.35, "c": 0.2}


# relevance order b1 b2 c1 c2 a1 a2 c3 c4, k = 6.
# DetGreedy:
#  k'=1 floors (0,0,0), ceils (1,1,1): best head b1.
#  k'=2 floors a .9->0 b .7->0 c .4->0; below max: a (0<1), c (0<1): best c1 (pos 2 < a1 pos 4).
#  k'=3 floor a 1.35->1 > 0: a below min -> a1.
#  k'=4 floors (1,1,0) met; below max a (1<2), b (1<ceil 1.4=2): best b2 (pos 1).
#  k'=5 floor a 2.25->2 > 1 -> a2.
#  k'=6 floors (2,2,1) met; a and b queues empty; c (1 < ceil 1.2=2) -> c2.
# DetCons (below max, min ceil(p k')/p):
#  k'=1 a 1/.45=2.22, b 1/.35=2.86, c 1/.2=5 -> a1.  k'=2 b 2.86, c 5 -> b1.
#  k'=3 a 2/.45=4.44, b 2/.35=5.71, c 1/.2=5 -> a2.  k'=4 b 5.71, c 5 -> c1.
#  k'=5 a empty, b 5.71 -> b2.  k'=6 c 2/.2=10 -> c2.
# DetRelaxed (min ceil(ceil(p k')/p), then best head):
#  k'=1 a ceil 2.22=3, b ceil 2.86=3, c 5 -> {a, b}: best head b1.
#  k'=2 a 3, c 5 -> a1.  k'=3 a ceil 4.44=5, b 6, c 5 -> {a, c}: c1 (pos 2 < a2 pos 5).
#  k'=4 a 5, b 6 -> a2.  k'=5 b 6 -> b2.  k'=6 c 10 -> c2.
@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [("det_greedy", "bcabac"), ("det_cons", "abacbc"), ("det_relaxed", "bacabc")],
)
def test_three_algorithms_on_hand_computed_case(algorithm: str, expected: str) -> None:
    assert _run("bbccaacc", THREE, 6, algorithm) == expected


def test_two_groups_parity_alternates() -> None:
    # M M M M M M M F F F, parity: k'=1 none below min, both below max -> best M;
    # k'=2 floor(1)=1: F below min -> F; k'=3 floors met, both below ceil 2 -> best M; ...
    assert _run("MMMMMMMFFF", "parity", 6, "det_greedy") == "MFMFMF"


def test_empty_queue_never_credits_the_wrong_group() -> None:
    # AIF360's greedy path takes `next_group` from enumerate() over the below-minimum subset, so
    # it credits the wrong group; once a group's queue empties it also indexes past the end.
    # Relevance: A1 B1 B2 B3 B4 C1 C2 C3 C4, parity over A, B, C, k = 6:
    #  k'=1 ceils 1: best head A1 (A's queue is now empty).
    #  k'=2 floors 0; below max B, C -> B1.   k'=3 floor(1)=1: C below min -> C1.
    #  k'=4 floors 1 met; A empty; below max B (1<2), C (1<2) -> B2.
    #  k'=5 floors 1 met; below max C (1<2) -> C2.
    #  k'=6 floor 2: A below min but empty; B, C at 2 = ceil: fallback best head B3.
    letters = "ABBBBCCCC"
    groups = np.array(list(letters))
    result = shortlist(np.arange(9) + 100, _scores(9), groups, 6, target="parity")
    assert "".join(groups[result.positions]) == "ABCBCB"
    np.testing.assert_array_equal(result.ids, [100, 101, 105, 102, 106, 103])
    # every B and C prefix floor holds, only A (1 candidate) falls short at k' = 6
    for size in range(1, 7):
        prefix = groups[result.positions[:size]]
        for g in "BC":
            assert np.sum(prefix == g) >= floor_share(1 / 3, size)
    assert not result.feasible and "infeasible" in result.notes


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_group_without_candidates_is_skipped_and_noted(algorithm: str) -> None:
    result = shortlist(
        np.arange(4),
        _scores(4),
        np.array(["F", "M", "M", "F"]),
        4,
        algorithm=algorithm,
        target={"F": 0.4, "M": 0.4, "not_stated": 0.2},
    )
    assert "empty_group:not_stated" in result.notes
    assert sorted(result.ids.tolist()) == [0, 1, 2, 3]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_single_group_keeps_relevance_order(algorithm: str) -> None:
    result = shortlist(np.arange(5), _scores(5), np.array(["F"] * 5), 3, algorithm=algorithm)
    np.testing.assert_array_equal(result.ids, [0, 1, 2])
    assert not result.moved.any() and result.feasible


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_ties_keep_input_order(algorithm: str) -> None:
    scores = np.full(6, 0.5, dtype=np.float32)
    groups = np.array(["M", "M", "M", "F", "F", "F"])
    result = shortlist(np.arange(6), scores, groups, 6, algorithm=algorithm, target="parity")
    # within each group, input order; groups alternate from the best head (M at position 0)
    np.testing.assert_array_equal(result.ids, [0, 3, 1, 4, 2, 5])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_k_larger_than_pool_returns_a_permutation(algorithm: str) -> None:
    result = shortlist(
        np.arange(4), _scores(4), np.array(["F", "M", "M", "M"]), 10, algorithm=algorithm
    )
    assert sorted(result.ids.tolist()) == [0, 1, 2, 3]


def test_moved_candidates_say_why() -> None:
    result = shortlist(
        np.arange(4),
        _scores(4),
        np.array(["M", "M", "F", "F"]),
        4,
        target="parity",
        reason="mixite",
    )
    # M1 F1 M2 F2: F1 went from rank 3 to 2, M2 from 2 to 3 (pushed down: not moved)
    np.testing.assert_array_equal(result.ids, [0, 2, 1, 3])
    np.testing.assert_array_equal(result.moved, [False, True, False, False])
    np.testing.assert_array_equal(result.why, ["", "mixite", "", ""])


def test_targets() -> None:
    groups = np.array(["F", "M", "M", "not_stated"])
    assert target_from_pool(groups) == {"F": 0.25, "M": 0.5, "not_stated": 0.25}
    assert parity(groups) == pytest.approx({"F": 1 / 3, "M": 1 / 3, "not_stated": 1 / 3})
    # product of marginals: 0.5 * 0.2 = 0.1, 0.5 * 0.8 = 0.4
    assert joint_target({"F": 0.5, "M": 0.5}, {"qpv": 0.2, "other": 0.8}) == pytest.approx(
        {"F|qpv": 0.1, "F|other": 0.4, "M|qpv": 0.1, "M|other": 0.4}
    )
    np.testing.assert_array_equal(joint_groups(["F", "M"], ["qpv", "other"]), ["F|qpv", "M|other"])


def test_two_attributes_on_the_joint_group() -> None:
    # pool of 8: F|qpv x1, F|other x3, M|qpv x1, M|other x3 (joint pool target 1/8, 3/8, ...)
    gender = np.array(["M", "M", "M", "F", "F", "F", "M", "F"])
    qpv = np.array(["other", "other", "other", "other", "other", "other", "qpv", "qpv"])
    both = np.stack([gender, qpv], axis=1)
    result = shortlist(np.arange(8), _scores(8), both, 8, target="pool")
    joint = joint_groups(gender, qpv)[result.positions]
    target = target_from_pool(joint_groups(gender, qpv))
    assert result.feasible and infeasible_index(joint, target, 8) == 0
    # parity on two attributes: product of marginal parities over the 4 joint cells = 1/4 each
    four = shortlist(np.arange(8), _scores(8), both, 4, target="parity")
    assert sorted(joint_groups(gender, qpv)[four.positions].tolist()) == [
        "F|other",
        "F|qpv",
        "M|other",
        "M|qpv",
    ]


def test_no_target_keeps_relevance_order() -> None:
    result = shortlist(np.arange(4), _scores(4), np.array(["M", "M", "F", "F"]), 3, target=None)
    np.testing.assert_array_equal(result.ids, [0, 1, 2])
    assert result.feasible and not result.moved.any()


def test_qualified_mask_sets_the_pool_target() -> None:
    groups = np.array(["M", "M", "F", "F"])
    # only the two M are qualified: target M = 1, so the list stays in relevance order
    result = shortlist(
        np.arange(4), _scores(4), groups, 4, qualified_mask=np.array([True, True, False, False])
    )
    np.testing.assert_array_equal(result.ids, [0, 1, 2, 3])


def test_invalid_parameters() -> None:
    args = (np.arange(2), _scores(2), np.array(["F", "M"]), 2)
    with pytest.raises(PasserelleError):
        shortlist(*args, algorithm="det_const_sort")
    with pytest.raises(PasserelleError):
        shortlist(*args, target="equal")
    with pytest.raises(PasserelleError):
        shortlist(*args, target={"F": 0.8, "M": 0.8})


# ---------------------------------------------------------------- properties


@st.composite
def candidates(draw, max_groups: int = 4, max_n: int = 30):
    n = draw(st.integers(1, max_n))
    labels = draw(st.integers(1, max_groups))
    groups = np.array(draw(st.lists(st.sampled_from("ABCD"[:labels]), min_size=n, max_size=n)))
    # few distinct values so ties are common
    scores = np.sort(
        np.array(draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), dtype=np.float32)
    )[::-1]
    top_k = draw(st.integers(1, n + 3))
    return np.arange(n, dtype=np.int64) * 7, scores.copy(), groups, top_k


@st.composite
def shares(draw, labels: str):
    weights = [draw(st.integers(1, 10)) for _ in labels]
    return {g: w / sum(weights) for g, w in zip(labels, weights, strict=True)}


@settings(max_examples=100, deadline=None)
@given(candidates(), st.sampled_from(ALGORITHMS), st.sampled_from(["pool", "parity"]))
def test_property_subset_order_and_determinism(case, algorithm, target) -> None:
    ids, scores, groups, top_k = case
    result = shortlist(ids, scores, groups, top_k, algorithm=algorithm, target=target)
    out = result.ids.tolist()
    assert len(out) == min(top_k, ids.size) == len(set(out))
    assert set(out) <= set(ids.tolist())
    if top_k >= ids.size:
        assert sorted(out) == sorted(ids.tolist())
    for g in np.unique(groups):  # within a group, relevance (input) order
        mine = result.positions[groups[result.positions] == g]
        assert np.all(np.diff(mine) > 0)
    again = shortlist(ids, scores, groups, top_k, algorithm=algorithm, target=target)
    np.testing.assert_array_equal(result.ids, again.ids)
    assert np.array_equal(result.moved, result.why != "")


@settings(max_examples=100, deadline=None)
@given(st.data(), st.integers(1, 3), st.integers(1, 15), st.sampled_from(ALGORITHMS))
def test_property_feasible_up_to_three_groups(data, n_groups, top_k, algorithm) -> None:
    # Geyik et al.: all three algorithms are feasible for <= 3 groups given enough candidates
    # (here every group holds at least top_k), so InfeasibleIndex@k = 0.
    labels = "ABC"[:n_groups]
    target = data.draw(shares(labels))
    order = data.draw(st.permutations(list(labels * top_k)))
    groups = np.array(order)
    result = shortlist(
        np.arange(groups.size),
        _scores(groups.size),
        groups,
        top_k,
        algorithm=algorithm,
        target=target,
    )
    assert infeasible_index(groups[result.positions], target, top_k) == 0
    assert result.feasible


@settings(max_examples=100, deadline=None)
@given(candidates(max_groups=2), st.sampled_from(ALGORITHMS), st.data())
def test_property_two_groups_feasible_whenever_the_pool_allows(case, algorithm, data) -> None:
    # two groups: at most one is ever below its minimum, so each floor floor(p k') holds as long
    # as its group has floor(p k) candidates.
    ids, scores, groups, top_k = case
    target = data.draw(shares("AB"))
    size = min(top_k, ids.size)
    assume(all(np.sum(groups == g) >= floor_share(p, size) for g, p in target.items()))
    result = shortlist(ids, scores, groups, top_k, algorithm=algorithm, target=target)
    assert infeasible_index(groups[result.positions], target, size) == 0


@settings(max_examples=100, deadline=None)
@given(candidates(max_groups=2), st.data())
def test_property_det_greedy_keeps_a_list_that_already_meets_the_floors(case, data) -> None:
    # with two groups whose shares sum to 1, exceeding one group's ceiling means the other is
    # under its floor, so a relevance list meeting every prefix floor is left as it is.
    # (DetCons/DetRelaxed may still reorder it: they look ahead to the next floor.)
    ids, scores, groups, top_k = case
    target = data.draw(shares("AB"))
    assume(infeasible_index(groups, target, top_k) == 0)
    result = shortlist(ids, scores, groups, top_k, target=target)
    np.testing.assert_array_equal(result.ids, ids[: min(top_k, ids.size)])
    assert not result.moved.any()


def test_fair_order_matches_shortlist_positions() -> None:
    groups = np.array(list("bbccaacc"))
    picks = fair_order(groups, np.arange(8), THREE, 6, algorithm="det_cons")
    assert "".join(groups[picks]) == "abacbc"


@pytest.mark.parametrize(
    ("algorithm", "feasible"), [("det_greedy", False), ("det_cons", True), ("det_relaxed", True)]
)
def test_det_greedy_can_fail_with_four_groups(algorithm: str, feasible: bool) -> None:
    # The paper: DetGreedy is not guaranteed feasible with 4 or more groups. Target A, B 1/3,
    # C, D 1/6; relevance C D B D B A B C C D A A; k = 3.
    # DetGreedy: k'=1 all floors 0, best head C; k'=2 floors 0, below max A, B, D -> best D;
    # k'=3 floor(1/3 * 3) = 1 for both A and B: only one slot left -> B, A stays short.
    # DetCons: k'=1 due A = B = 1/(1/3) = 3 < C = D = 6 -> best of A, B: B; k'=2 A due 3 -> A.
    target = {"A": 1 / 3, "B": 1 / 3, "C": 1 / 6, "D": 1 / 6}
    result = _run("CDBDBABCCDAA", target, 3, algorithm)
    assert (infeasible_index(np.array(list(result)), target, 3) == 0) is feasible
    if algorithm == "det_greedy":
        assert result == "CDB"
