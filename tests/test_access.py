"""Accessible trades, the plausible pool and thin profiles as pure functions (issue #12).

Known-answer cases over small arrays and the real referential, and hypothesis properties of
``rerank_trades`` with ``eligible`` and ``plausible`` masks: every pick eligible, every pick a
policy moved in plausible, no list filled with implausible picks, a note when a floor is unmet.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.fairness.rerank import rerank_trades
from matching.recommend import access, plausible, thin

# ---------------------------------------------------------------- access rules, hand-made cards


def _requirements(n: int = 6) -> access.CardRequirements:
    """Card 0 cadre, 1 night work, 2 driving, 3 minimum age 17, 4 and 5 open to all."""
    cadre = np.zeros(n, dtype=bool)
    cadre[0] = True
    night = np.zeros(n, dtype=bool)
    night[1] = True
    driving = np.zeros(n, dtype=bool)
    driving[2] = True
    ages = np.array([0, 0, 18, 17, 0, 0][:n], dtype=np.int64)
    return access.CardRequirements(cadre, night, driving, ages, [access.NOT_STATED] * n)


def test_graduate_cards_need_level_6_or_a_wish() -> None:
    req, none = _requirements(), np.zeros(6, dtype=bool)
    for level in ("none", "3", "4", "5", None):
        assert not access.accessible(req, age=20, diploma_level=level, wished=none)[0]
    for level in ("6", "7", "8"):
        assert access.accessible(req, age=20, diploma_level=level, wished=none)[0]
    wished = none.copy()
    wished[0] = True
    assert access.accessible(req, age=20, diploma_level="none", wished=wished)[0]


def test_minors_get_no_night_work_driving_or_older_minimum_age() -> None:
    req, none = _requirements(), np.zeros(6, dtype=bool)
    np.testing.assert_array_equal(access.accessible(req, age=16, diploma_level="7", wished=none),
                                  [True, False, False, False, True, True])
    np.testing.assert_array_equal(access.accessible(req, age=17, diploma_level="7", wished=none),
                                  [True, False, False, True, True, True])
    np.testing.assert_array_equal(access.accessible(req, age=18, diploma_level="7", wished=none), [True] * 6)
    # an unknown age applies no age rule
    np.testing.assert_array_equal(access.accessible(req, age=None, diploma_level="7", wished=none), [True] * 6)


def test_access_texts_are_read_not_guessed() -> None:
    assert access.needs_licence("Cependant le permis C ou C1 est obligatoire ainsi qu'une FIMO.")
    assert access.needs_licence("Cet emploi est accessible avec un permis B, obligatoire pour la conduite.")
    assert not access.needs_licence("Le permis B peut être un prérequis dans certaines entreprises.")
    assert not access.needs_licence("Le permis B est vivement conseillé.")
    assert access.min_age("Pour être Matelot, il faut : - Avoir 17 ans et ... - Ou avoir18 ans + 5 ans") == 17
    assert access.min_age("Cet emploi est accessible avec un CAP.") == 0
    assert access.requirement_text("Le métier s'exerce en équipe.") == access.NOT_STATED
    assert "CAP" in access.requirement_text("Il travaille en équipe. Cet emploi est accessible avec un CAP.")


def test_first_diploma_named_by_access_texts() -> None:
    assert access.first_diploma("Cet emploi est accessible avec un CAP Boulanger.") == 3
    assert access.first_diploma("Ce métier est accessible avec un diplôme de niveau Bac+2 (BTS/DUT).") == 5
    assert access.first_diploma("Cet emploi est accessible avec un diplôme de niveau Bac+3 à Bac+5.") == 6
    assert access.first_diploma("Cet emploi est accessible avec un Master en droit.") == 7
    assert access.first_diploma("Cet emploi est accessible sans diplôme ni expérience.") == 0


def test_referential_requirements(referential) -> None:
    cards = referential.cards
    req = access.card_requirements(cards)
    pos = {code: i for i, code in enumerate(cards.index)}
    assert req.cadre[pos["K1405"]]  # Préfet / Préfète
    assert req.driving[pos["N4101"]] and req.min_age[pos["N4101"]] == 18  # poids lourd
    assert cards.at["A1204", "night_work"] and req.night_work[pos["A1204"]]
    # bakery: night work by derogation for minors (Code du travail R3163-1)
    assert cards.at["D1102", "night_work"] and not req.night_work[pos["D1102"]]
    assert "ENA" in req.text[pos["K1405"]]
    assert 0 < sum(t == access.NOT_STATED for t in req.text) < 100


def test_free_text_wishes_name_cards(referential) -> None:
    matcher = access.WishMatcher(referential, referential.codes)
    codes = set(referential.codes[matcher.mask(["boulangère", "D1106"])])
    assert {"D1102", "D1106"} <= codes
    assert not matcher.mask(["je sais pas"]).any()


# ---------------------------------------------------------------- plausible pool


def test_plausible_pool_needs_closeness_and_the_relevance_floor() -> None:
    close = np.eye(6, dtype=bool)
    close[0, 3] = close[3, 0] = True  # 3 is close to the best card 0
    close[0, 4] = close[4, 0] = True  # 4 too, but scores under the floor
    scores = np.array([1.0, 0.9, -np.inf, 0.5, 0.2, 0.6])
    got = plausible.plausible(scores, close, anchors=1, floor=0.35)
    np.testing.assert_array_equal(got, [True, False, False, True, False, False])
    # a wished card (score 1) does not set the floor: the best unwished card does
    wished = np.array([False, False, False, False, False, True])
    scores = np.array([0.4, 0.1, 0.1, 0.1, 0.1, 1.0])
    got = plausible.plausible(scores, close, wished=wished, anchors=2, floor=0.35)
    assert got[0] and got[5] and not got[1]


def test_neighbours_are_symmetric_with_mobility_links(referential) -> None:
    close = plausible.neighbours(referential, referential.codes)
    assert (close == close.T).all() and close.diagonal().all()
    pos = {code: i for i, code in enumerate(referential.codes)}
    link = referential.mobility.iloc[0]
    assert close[pos[link["code_rome"]], pos[link["code_rome_target"]]]
    assert 5 < close.sum(axis=1).mean() < 60


# ---------------------------------------------------------------- thin profiles


@pytest.mark.parametrize("texts", [["je sais pas"], ["bof"], ["rien de spécial, je cherche un travail"],
                                   ["je veux un boulot", ""]])
def test_thin_profiles(texts) -> None:
    assert thin.is_thin(texts, wishes_known=False)
    assert not thin.is_thin(texts, wishes_known=True)


def test_profiles_with_words_are_not_thin() -> None:
    assert not thin.is_thin(["Les animaux, les chevaux, la nature"], wishes_known=False)
    assert not thin.is_thin(["Stage en boulangerie", "la cuisine"], wishes_known=False)


def test_thin_profiles_draw_from_named_interest_centres(referential) -> None:
    cards = thin.centre_cards(referential, referential.codes, thin.informative_words(["les animaux"]))
    assert cards.sum() > 5
    assert "A1501" in set(referential.codes[cards]) or any(c.startswith("A15") for c in referential.codes[cards])
    opened = thin.openness(referential, referential.codes)
    cadre = referential.cards["cadre"].to_numpy(dtype=bool)
    assert (opened[cadre] == 0).all() and opened.max() > 1.0


# ---------------------------------------------------------------- re-ranker invariants


@st.composite
def _lists(draw):
    n = draw(st.integers(3, 40))
    scores = np.sort(np.asarray(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)), dtype=np.float32))[::-1]
    bands = np.asarray(draw(st.lists(st.sampled_from(["male", "mixed", "female"]), min_size=n, max_size=n)))
    shares = np.where(bands == "male", 0.2, np.where(bands == "female", 0.8, 0.5))
    domains = np.asarray(draw(st.lists(st.sampled_from(["A", "B", "C", "D"]), min_size=n, max_size=n)))
    eligible = np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    plaus = np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    top_k = draw(st.integers(1, 12))
    policy = draw(st.sampled_from(["balanced", "counter_stereotype", "off"]))
    gender = draw(st.sampled_from(["F", "M", "X", None]))
    cap = draw(st.sampled_from([0, 1, 3]))
    return scores, bands, shares, domains, eligible, plaus, top_k, policy, gender, cap


@settings(max_examples=300, deadline=None)
@given(_lists())
def test_rerank_picks_are_accessible_and_policy_picks_plausible(case) -> None:
    scores, bands, shares, domains, eligible, plaus, top_k, policy, gender, cap = case
    n = scores.size
    result = rerank_trades(np.arange(n), scores, bands, domains, top_k, policy=policy, youth_gender=gender,
                           share_women=shares, max_per_domain=cap, eligible=eligible, plausible=plaus,
                           pool_size=10)
    picks = result.ids
    assert eligible[picks].all(), "every pick is accessible"
    # the relevance-only top-k of the eligible items, and the plausible ones: nothing else
    order = [i for i in np.argsort(-scores, kind="stable") if eligible[i]]
    top = set(order[:top_k])
    assert all(int(i) in top or plaus[i] for i in picks), "an implausible pick outside the relevance top-k"
    assert len(picks) == min(top_k, int(eligible.sum())), "the list is as long as the eligible items allow"
    for pick, why in zip(picks, result.why, strict=True):
        if why in ("mixite", "balance", "domain_cap", "diversity"):
            assert plaus[pick] or int(pick) in top
        if why == "mixite":  # labelled "pour la mixité" only where the youth's gender is rare
            assert (gender == "F" and shares[pick] < 0.4) or (gender == "M" and shares[pick] > 0.6)
    if not result.feasible:
        assert any(note.startswith("floor_unmet:") for note in result.notes)


def test_an_unmet_floor_is_noted_not_filled() -> None:
    # two female trades exist but neither is plausible nor in the relevance top 5
    bands = np.array(["male"] * 8 + ["female"] * 2)
    plaus = np.array([True] * 8 + [False] * 2)
    result = rerank_trades(np.arange(10), np.linspace(1, 0.1, 10, dtype=np.float32), bands,
                           np.array(list("ABCDEFGHIJ")), 5, youth_gender="F", plausible=plaus)
    assert not set(result.ids.tolist()) & {8, 9}
    assert "floor_unmet:female" in result.notes and not result.feasible
